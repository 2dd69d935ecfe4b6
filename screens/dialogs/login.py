"""The login dialog: someone signs in over the current screen (an inspector after a scan)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from screens.widgets.login_form import LoginForm

if TYPE_CHECKING:  # the row kiosk.auth.login returns; screens never query it
    from db.models import User  # noqa: F401 - named in the quoted result type below


class LoginModal(ModalScreen["User | None"]):
    """Ask someone to log in over the current screen; dismisses the User, or None on Escape."""

    AUTO_FOCUS = "#username"
    BINDINGS = [
        Binding("escape", "cancel", "取消", key_display="Esc", id="login_modal.cancel",
                tooltip="不登录，返回上一画面"),
        Binding("up", "app.focus_previous", "上一栏", show=False, id="login_modal.up",
                tooltip="回到用户名"),
        Binding("down", "app.focus_next", "下一栏", show=False, id="login_modal.down",
                tooltip="转到密码"),
    ]

    def __init__(self, prompt: str = "") -> None:
        super().__init__()
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        with Vertical(id="login-modal", classes="dialog"):
            yield Static(self.prompt or "请登录", classes="dialog-title", markup=False)
            yield LoginForm()
        yield Footer()

    @on(LoginForm.LoggedIn)
    def _logged_in(self, event: LoginForm.LoggedIn) -> None:
        event.stop()
        self.dismiss(event.user)

    def action_cancel(self) -> None:
        self.dismiss(None)
