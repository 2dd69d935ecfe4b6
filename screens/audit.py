"""Audit screen (Art. 14, 18): the leader and the auditor read the trail, filter it, page
through it, and run `audit verify` with a progress bar; the chain head is always shown."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, ProgressBar, Static

from kiosk import access
from kiosk.audit import query
from kiosk.audit.chain import head_text
from kiosk.audit.check import verify_for
from kiosk.errors import UserError
from screens.base import SignedIn
from screens.widgets.plain_table import PlainTable
from screens.workers import store_worker

PAGE_SIZE = 14  # rows that fit between the filters and the footer at 80x24

FILTERS = [("audit-actor", "操作人"), ("audit-action", "动作前缀"), ("audit-subject", "对象"),
           ("audit-since", "起始日期"), ("audit-until", "截止日期")]


class AuditScreen(SignedIn, Screen[None]):
    """The audit trail, newest first, PAGE_SIZE events a page (keyset paging by sequence)."""

    BINDINGS = [
        Binding("n", "older", "下一页", id="audit.older", tooltip="更早的审计记录"),
        Binding("p", "newer", "上一页", id="audit.newer", tooltip="更新的审计记录"),
        Binding("slash", "filter", "筛选", id="audit.filter",
                tooltip="按操作人、动作、对象、日期筛选（回车应用）"),
        Binding("v", "verify", "核验", id="audit.verify",
                tooltip="核验审计链、所涉记录与文件（可能需要几秒）"),
        Binding("r", "reload", "刷新", id="audit.reload", tooltip="回到最新一页，刷新链头"),
        Binding("escape", "back", "返回", id="audit.back", tooltip="离开筛选框，或返回主页"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filter = query.EventFilter()
        self.page: query.Page | None = None

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        yield Static("", id="audit-head", markup=False)
        with Horizontal(id="audit-filters"):
            for wid, label in FILTERS:
                yield Input(placeholder=label, id=wid, compact=True)
        yield PlainTable(id="audit-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="audit-status", markup=False)  # echoes filters
        yield ProgressBar(total=100, show_eta=False, id="audit-progress")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#audit-table", DataTable)
        table.add_columns("序号", "时间", "操作人", "动作", "对象", "内容")
        self.with_user(lambda u: self.action_reload(), "查看审计日志：请登录")

    # ------------------------------------------------------------ reading

    def _allowed(self) -> bool:
        if self.user is not None and access.may_read_audit(self.user.role):
            return True
        self._status(access.MAY_NOT_READ_AUDIT, error=True)
        return False

    def _status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#audit-status", Static)
        status.update(text)
        status.set_class(error, "error")

    def _load(self, **where: int) -> None:
        if not self._allowed():
            return
        try:
            page = query.page(self.user, self.filter, size=PAGE_SIZE, **where)
        except UserError as e:
            self._status(str(e), error=True)
            return
        if not page.rows and where:
            self._status("没有更多记录。")
            return
        self.page = page
        table = self.query_one("#audit-table", DataTable)
        table.clear()
        for r in page.rows:
            table.add_row(str(r.seq), r.at[5:16], r.actor, r.action, r.subject[:16],
                          r.detail[:40], key=str(r.seq))
        self.query_one("#audit-head", Static).update(f"审计链头 {head_text()}")
        if page.rows:
            span = f"第 {page.rows[-1].seq}–{page.rows[0].seq} 条"
            more = "（n 更早）" if page.has_older else "（已到最早）"
            self._status(f"{span}{more}" + ("，p 更新" if page.has_newer else ""))
        else:
            self._status("没有符合条件的审计记录。")
        table.focus()

    def action_reload(self) -> None:
        self._load()

    def action_older(self) -> None:
        if self.page and self.page.rows and self.page.has_older:
            self._load(older_than=self.page.rows[-1].seq)

    def action_newer(self) -> None:
        if self.page and self.page.rows and self.page.has_newer:
            self._load(newer_than=self.page.rows[0].seq)

    def action_filter(self) -> None:
        self.query_one("#audit-actor", Input).focus()

    @on(Input.Submitted)
    def apply_filter(self) -> None:
        values = {wid: self.query_one(f"#{wid}", Input).value for wid, _ in FILTERS}
        try:
            self.filter = query.EventFilter(
                actor=values["audit-actor"], action=values["audit-action"],
                subject=values["audit-subject"],
                since=query.parse_date(values["audit-since"], "起始日期"),
                until=query.parse_date(values["audit-until"], "截止日期"))
        except UserError as e:
            self._status(str(e), error=True)
            return
        self._load()

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.query_one("#audit-table", DataTable).focus()
            return
        self.app.pop_screen()

    # ------------------------------------------------------------ verifying

    def action_verify(self) -> None:
        if not self._allowed():
            return
        self.query_one("#audit-progress", ProgressBar).update(total=100, progress=0)
        self._status("正在核验审计链……")
        self._verify(self.user)

    @store_worker(group="audit-verify")
    def _verify(self, user) -> None:
        bar = self.query_one("#audit-progress", ProgressBar)

        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(bar.update, total=max(total, 1), progress=done)

        try:
            verdict = verify_for(user, progress=progress)
        except UserError as e:
            self.app.call_from_thread(self._status, str(e), error=True)
            return
        self.app.call_from_thread(self._show_verdict, verdict.ok, verdict.message)

    def _show_verdict(self, ok: bool, message: str) -> None:
        bar = self.query_one("#audit-progress", ProgressBar)
        bar.update(total=100, progress=100)
        self._status(("核验通过：" if ok else "核验不通过：") + message, error=not ok)
        self.query_one("#audit-head", Static).update(f"审计链头 {head_text()}")
