"""Scan a task slip (or type its task code) to open that task's inspection report."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static

from db.models import Assignment, User
from kiosk import reports
from kiosk.errors import UserError


class ScanScreen(Screen[None]):
    """One input that takes what a USB/Bluetooth scanner types (the payload, then Enter)."""

    AUTO_FOCUS = "#payload"
    DEFAULT_CSS = """
    ScanScreen #scan-box { padding: 1 2; height: auto; }
    ScanScreen #scan-title { text-style: bold; margin-bottom: 1; }
    ScanScreen #payload { margin: 1 0; }
    ScanScreen #scan-message { height: auto; }
    ScanScreen #scan-message.error { color: $error; text-style: bold; }
    """
    BINDINGS = [
        Binding("escape", "back", "返回", id="scan.back", tooltip="返回主页"),
    ]

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        with Vertical(id="scan-box"):
            yield Static("扫码填报检查报告", id="scan-title")
            yield Static("请用扫码枪扫描任务单上的二维码；没有扫码枪时，输入任务编号"
                         "（如 2026-07-0013）后按回车。")
            yield Input(placeholder="扫码或输入任务编号", id="payload")
            yield Static("", id="scan-message")
        yield Footer()

    def _say(self, text: str, error: bool = False) -> None:
        msg = self.query_one("#scan-message", Static)
        msg.update(text)
        msg.set_class(error, "error")

    @on(Input.Submitted, "#payload")
    def _scanned(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        event.input.value = ""  # ready for the next scan whatever happens
        if not text:
            return
        try:
            assignment = reports.check_payload(text)
        except UserError as e:
            self._say(str(e), error=True)
            return
        user = getattr(self.app, "user", None)
        if user is not None and reports.is_member(assignment, user):
            self._open(assignment, user)
            return
        self._say(f"任务 {assignment.task_code}：请检查组成员登录。")
        self.app.require_login(
            lambda u: self._logged_in(assignment, u),
            prompt=f"任务 {assignment.task_code}：请检查组成员登录")

    def _logged_in(self, assignment: Assignment, user: User | None) -> None:
        if user is None:
            self._say("已取消登录。", error=True)
            self.query_one("#payload", Input).focus()
            return
        self._open(assignment, user)

    def _open(self, assignment: Assignment, user: User) -> None:
        from screens.report import ReportScreen

        try:
            report = reports.open_report(assignment, user)
        except UserError as e:
            self._say(str(e), error=True)
            self.query_one("#payload", Input).focus()
            return
        self._say(f"已打开任务 {assignment.task_code} 的检查报告。")
        self.app.push_screen(ReportScreen(report.id))

    def action_back(self) -> None:
        self.app.pop_screen()
