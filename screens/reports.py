"""The lead office's review: reports to approve, return or finalise; open rectifications."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from kiosk import access, reports
from kiosk.errors import UserError
from screens.base import SignedIn
from screens.report import PromptModal, ReportScreen, confirm
from screens.widgets.plain_table import PlainTable


class ReviewReportScreen(ReportScreen):
    """A report opened from the review queue: the reviewer's keys (通过, 退回, 定稿) in the
    footer instead of the team's (the team's editing keys hide: the form is read-only)."""

    BINDINGS = [
        Binding("y", "review('approve')", "通过", id="review_report.approve",
                tooltip="审核通过此报告"),
        Binding("n", "review('reject')", "退回", id="review_report.reject",
                tooltip="退回此报告并写明理由"),
        Binding("f", "review('finalise')", "定稿", id="review_report.finalise",
                tooltip="将审核通过的报告定为最终报告"),
    ]

    def __init__(self, view: reports.ReportView, queue: ReviewScreen) -> None:
        super().__init__(view)
        self._queue = queue

    def action_review(self, what: str) -> None:
        # The queue's cursor is still on this report: act there, where the result shows.
        self.app.pop_screen()
        {"approve": self._queue.action_approve, "reject": self._queue.action_reject,
         "finalise": self._queue.action_finalise}[what]()


class ReviewScreen(SignedIn, Screen[None]):
    """Reports waiting for review (top) and rectification orders not yet closed (bottom)."""

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
        self._rows: list[reports.ReviewRow] = []
        self._rects: list[reports.RectificationRow] = []

    def _may_review(self, user) -> bool:
        return user is not None and access.may_review(user.role)

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        yield Static("待审核 / 待定稿的检查报告（Enter 或 o 查看）", classes="caption")
        yield PlainTable(id="review-table", cursor_type="row", zebra_stripes=True)
        yield Static("未销号的整改（c 销号）", classes="caption")
        yield PlainTable(id="rect-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="review-message", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#review-table", DataTable).add_columns(
            "任务编号", "被检查单位", "状态", "处理结果", "提交人", "提交时间")
        self.query_one("#rect-table", DataTable).add_columns(
            "任务编号", "被检查单位", "整改期限", "状态")
        if not self._may_review(self.user):
            self.app.require_login(self._logged_in, prompt="审核报告：请审核人登录")
        else:
            self.refresh_tables(say_empty=True)

    def _logged_in(self, user) -> None:
        if not self._may_review(user):
            self._say("只有审核人、局领导或管理员可以审核报告。", error=True)
            return
        self.refresh_tables(say_empty=True)

    def on_screen_resume(self) -> None:
        if self._may_review(self.user):
            self.refresh_tables()

    def refresh_tables(self, say_empty: bool = False) -> None:
        table = self.query_one("#review-table", DataTable)
        row = table.cursor_row
        table.clear()
        self._rows = reports.review_queue(self.user)
        for r in self._rows:
            table.add_row(*r.cells())
        if self._rows:
            table.move_cursor(row=min(row, len(self._rows) - 1))
        rt = self.query_one("#rect-table", DataTable)
        rt.clear()
        self._rects = reports.open_rectifications(self.user)
        for rect in self._rects:
            rt.add_row(*rect.cells())
        if say_empty and not self._rows and not self._rects:
            self._say(reports.nothing_to_review_text(self.user))
        table.focus()

    def _say(self, text: str, error: bool = False) -> None:
        msg = self.query_one("#review-message", Static)
        msg.update(text)
        msg.set_class(error, "error")

    def _selected(self) -> reports.ReviewRow | None:
        table = self.query_one("#review-table", DataTable)
        if not self._rows:
            self._say("没有可操作的报告。", error=True)
            return None
        return self._rows[table.cursor_row]

    @on(DataTable.RowSelected, "#review-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        row = self._selected()
        if row is None:
            return
        try:
            view = reports.report_view(row.report_id, self.user)
        except UserError as e:
            self._say(str(e), error=True)
            return
        self.app.push_screen(ReviewReportScreen(view, self))

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
        row = self._selected()
        if row is None:
            return
        code = row.task_code
        if approve:
            prompt, ok_text = "审核意见（可不填，回车通过）", f"{code} 审核通过，可按 f 定稿。"
        else:
            prompt, ok_text = "退回理由（必填）", f"{code} 已退回检查组修改。"

        def done(note: str | None) -> None:
            if note is not None:
                self._act(lambda: reports.review(row.report_id, self.user, note, approve),
                          ok_text)

        self.app.push_screen(PromptModal(prompt), done)

    def action_finalise(self) -> None:
        row = self._selected()
        if row is None:
            return

        def done(ok: bool) -> None:
            if ok:
                self._act(lambda: self._finalise(row),
                          f"{row.task_code} 已定稿，纳入上报局党组汇总。")

        confirm(self, f"将 {row.task_code} 定为最终报告？定稿后不能修改。", done)

    def _finalise(self, row: reports.ReviewRow) -> None:
        report = reports.finalise(row.report_id, self.user)
        # Said after _act's line: the reviewer sees where the archived PDF went (Art. 9).
        self.call_after_refresh(self._say, f"{row.task_code} 已定稿。"
                                f"{reports.status_of(report).archive}")

    def action_close_rect(self) -> None:
        rt = self.query_one("#rect-table", DataTable)
        if not self._rects:
            self._say("没有未销号的整改。", error=True)
            return
        rect_id = self._rects[rt.cursor_row].rect_id

        def done(note: str | None) -> None:
            if note is None:
                return
            self._act(lambda: reports.close_rectification(rect_id, self.user, note),
                      "整改已销号。")

        self.app.push_screen(PromptModal("整改落实情况（必填）"), done)

    def action_back(self) -> None:
        self.app.pop_screen()
