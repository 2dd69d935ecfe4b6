"""The idle lock: covers every screen of a terminal left alone, showing no names."""
from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from screens.widgets.login_form import LoginForm

if TYPE_CHECKING:  # the row kiosk.auth.login returns; screens never query it
    from db.models import User


class LockScreen(ModalScreen[None]):
    """Pushed over everything after idle_lock_seconds. Opaque, without header or names: the
    screens underneath (an unfinished ceremony, a report draft) stay as they were. The same
    user's password unlocks; anyone else who logs in ends that session (KioskApp.new_session).
    """

    AUTO_FOCUS = "#username"
    BINDINGS = []  # no Escape: only a log-in leaves the lock

    def compose(self) -> ComposeResult:
        with Vertical(id="lock-box"):
            yield Static("终端已锁定", id="lock-title")
            yield Static("长时间无操作，终端已锁定。原用户输入用户名和密码解锁，"
                         "未完成的工作保持不变；其他人员登录将结束原用户的会话。",
                         id="lock-note", markup=False)
            yield LoginForm()

    @on(LoginForm.LoggedIn)
    def _logged_in(self, event: LoginForm.LoggedIn) -> None:
        event.stop()
        self.app.unlocked(event.user)


def is_same_user(a: User | None, b: User | None) -> bool:
    return a is not None and b is not None and a.id == b.id
