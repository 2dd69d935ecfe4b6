"""Scan a task slip (or type its task code) to open that task's inspection report."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static

from kiosk import reports
from screens.base import SignedIn


class ScanScreen(SignedIn, Screen[None]):
    """One input that takes what a USB/Bluetooth scanner types (the payload, then Enter)."""

    AUTO_FOCUS = "#payload"
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
            yield Static("", id="scan-message", markup=False)  # shown as typed, never markup
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
        if text:
            self._show(text, reports.scan_slip(text, self.user))

    def _show(self, payload: str, result: reports.ScanResult) -> None:
        """Do what the scan service said: open the form, ask for a team member, or refuse."""
        from screens.report import ReportScreen

        self._say(result.message, error=result.refused)
        if result.report is not None:
            self.app.push_screen(ReportScreen(result.report))
        elif result.needs_login:
            # The person who signs in for this slip becomes the terminal's user only if the
            # slip opens for them: a refused inspector must not stay signed in (issue 11).
            self.app.require_login(lambda u: self._logged_in(payload, u),
                                   prompt=result.message, switch_user=False)
        else:
            self.query_one("#payload", Input).focus()

    def _logged_in(self, payload: str, user) -> None:
        if user is None:
            self._say("已取消登录。", error=True)
            self.query_one("#payload", Input).focus()
            return
        result = reports.scan_slip(payload, user, signed_in=True)
        if result.report is not None:
            self.app.user = user
        elif result.refused:
            self.notify(f"{user.display_name or user.username} 未保持登录。", markup=False)
        self._show(payload, result)

    def action_back(self) -> None:
        self.app.pop_screen()
