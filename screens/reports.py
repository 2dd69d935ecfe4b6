"""The lead office's review: submitted reports to approve, return or finalise; open rectifications."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from db.models import User
from kiosk import reports
from kiosk.errors import UserError
from screens.report import PromptModal, ReportScreen, confirm

REVIEW_ROLES = ("reviewer", "leader", "admin")


class ReviewScreen(Screen[None]):
    """Reports waiting for review (top) and rectification orders not yet closed (bottom)."""

    DEFAULT_CSS = """
    ReviewScreen .caption { height: 1; padding: 0 1; text-style: bold; background: $boost; }
    ReviewScreen #review-table { height: 1fr; }
    ReviewScreen #rect-table { height: 7; }
    ReviewScreen #review-message { height: auto; max-height: 2; padding: 0 1; }
    ReviewScreen #review-message.error { color: $error; text-style: bold; }
    """
    BINDINGS = [
        Binding("o", "open", "查看", id="review.open", tooltip="查看所选报告全文"),
        Binding("y", "approve", "通过", id="review.approve", tooltip="审核通过所选报告"),
        Binding("n", "reject", "退回", id="review.reject", tooltip="退回所选报告并写明理由"),
        Binding("f", "finalise", "定稿", id="review.finalise",
                tooltip="将审核通过的报告定为最终报告"),
        Binding("c", "close_rect", "整改销号", id="review.close_rect",
                tooltip="记录所选整改已落实"),
        Binding("escape", "back", "返回", id="review.back", tooltip="返回主页"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._report_ids: list[int] = []
        self._rect_ids: list[int] = []

    @property
    def user(self) -> User | None:
        return getattr(self.app, "user", None)

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        yield Static("待审核 / 待定稿的检查报告（Enter 或 o 查看）", classes="caption")
        yield DataTable(id="review-table", cursor_type="row", zebra_stripes=True)
        yield Static("未销号的整改（c 销号）", classes="caption")
        yield DataTable(id="rect-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="review-message")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#review-table", DataTable).add_columns(
            "任务编号", "被检查单位", "状态", "处理结果", "提交人", "提交时间")
        self.query_one("#rect-table", DataTable).add_columns(
            "任务编号", "被检查单位", "整改期限", "状态")
        if self.user is None or self.user.role not in REVIEW_ROLES:
            self.app.require_login(self._logged_in, prompt="审核报告：请审核人登录")
        else:
            self.refresh_tables(say_empty=True)

    def _logged_in(self, user: User | None) -> None:
        if user is None or user.role not in REVIEW_ROLES:
            self._say("只有审核人、局领导或管理员可以审核报告。", error=True)
            return
        self.refresh_tables(say_empty=True)

    def on_screen_resume(self) -> None:
        if self.user is not None and self.user.role in REVIEW_ROLES:
            self.refresh_tables()

    def refresh_tables(self, say_empty: bool = False) -> None:
        table = self.query_one("#review-table", DataTable)
        row = table.cursor_row
        table.clear()
        self._report_ids = []
        for r in reports.reports_for_review(self.user):
            a = r.assignment
            table.add_row(a.task_code, a.target.name, reports.STATES[r.state], r.finding or "—",
                          r.submitted_by, f"{r.submitted_at:%m-%d %H:%M}" if r.submitted_at else "")
            self._report_ids.append(r.id)
        if self._report_ids:
            table.move_cursor(row=min(row, len(self._report_ids) - 1))
        rt = self.query_one("#rect-table", DataTable)
        rt.clear()
        self._rect_ids = []
        import datetime as dt

        today = dt.date.today()
        for rect in reports.rectifications(self.user):
            a = rect.report.assignment
            days = (rect.deadline - today).days
            state = f"已超期 {-days} 天" if days < 0 else f"剩 {days} 天"
            rt.add_row(a.task_code, a.target.name, rect.deadline.isoformat(), state)
            self._rect_ids.append(rect.id)
        if say_empty and not self._report_ids and not self._rect_ids:
            self._say("暂无待审核的报告。")
        table.focus()

    def _say(self, text: str, error: bool = False) -> None:
        msg = self.query_one("#review-message", Static)
        msg.update(text)
        msg.set_class(error, "error")

    def _selected(self):
        table = self.query_one("#review-table", DataTable)
        if not self._report_ids:
            self._say("没有可操作的报告。", error=True)
            return None
        return reports.get(self._report_ids[table.cursor_row])

    @on(DataTable.RowSelected, "#review-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        report = self._selected()
        if report is not None:
            self.app.push_screen(ReportScreen(report.id))

    def _act(self, fn, ok_text: str) -> None:
        try:
            fn()
        except UserError as e:
            self._say(str(e), error=True)
            return
        self.refresh_tables()
        self._say(ok_text)

    def action_approve(self) -> None:
        self._review(approve=True)

    def action_reject(self) -> None:
        self._review(approve=False)

    def _review(self, approve: bool) -> None:
        report = self._selected()
        if report is None:
            return
        code = report.assignment.task_code
        prompt, ok_text = (("审核意见（可不填，回车通过）", f"{code} 审核通过，可按 f 定稿。") if approve
                           else ("退回理由（必填）", f"{code} 已退回检查组修改。"))

        def done(note: str | None) -> None:
            if note is not None:
                self._act(lambda: reports.review(report, self.user, note, approve), ok_text)

        self.app.push_screen(PromptModal(prompt), done)

    def action_finalise(self) -> None:
        report = self._selected()
        if report is None:
            return

        def done(ok: bool) -> None:
            if ok:
                self._act(lambda: reports.finalise(report, self.user),
                          f"{report.assignment.task_code} 已定稿，纳入上报局党组汇总。")

        confirm(self, f"将 {report.assignment.task_code} 定为最终报告？定稿后不能修改。", done)

    def action_close_rect(self) -> None:
        rt = self.query_one("#rect-table", DataTable)
        if not self._rect_ids:
            self._say("没有未销号的整改。", error=True)
            return
        rect = reports.get_rectification(self._rect_ids[rt.cursor_row])

        def done(note: str | None) -> None:
            if note is None:
                return
            self._act(lambda: reports.close_rectification(rect, self.user, note),
                      "整改已销号。")

        self.app.push_screen(PromptModal("整改落实情况（必填）"), done)

    def action_back(self) -> None:
        self.app.pop_screen()
