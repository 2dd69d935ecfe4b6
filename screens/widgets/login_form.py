"""Username/password form that checks credentials through kiosk.auth and says why it failed."""
from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Static

from kiosk.errors import UserError

if TYPE_CHECKING:  # the row kiosk.auth.login returns; screens never query it
    from db.models import User


class LoginInput(Input):
    """An Input whose Enter shows in the footer (the stock one hides it)."""

    BINDINGS = [
        Binding("enter", "submit", "确认", key_display="Enter", id="login.enter",
                tooltip="用户名处回车转到密码，密码处回车登录"),
    ]

    async def action_submit(self) -> None:
        # Handled here, not through Input.Submitted: focus must move before the next key
        # (people type fast, and a badge reader types faster).
        self.query_ancestor(LoginForm).entered(self)


class LoginForm(Vertical):
    """Enter in the username moves to the password; Enter in the password logs in."""

    DEFAULT_CSS = """
    LoginForm {
        height: auto;
        width: 100%;
    }
    LoginForm .login-row {
        height: 1;
        margin-bottom: 1;
    }
    LoginForm .login-label {
        width: 10;
        padding-right: 1;
        text-align: right;
    }
    LoginForm Input {
        width: 1fr;
        max-width: 40;
    }
    LoginForm #login-error {
        height: auto;
        min-height: 1;
        color: $error;
        text-style: bold;
        padding-left: 10;
    }
    """

    class LoggedIn(Message):
        def __init__(self, user: User) -> None:
            super().__init__()
            self.user = user

    def compose(self) -> ComposeResult:
        with Horizontal(classes="login-row"):
            yield Label("用户名", classes="login-label")
            yield LoginInput(placeholder="输入用户名后按回车", id="username", compact=True)
        with Horizontal(classes="login-row"):
            yield Label("密码", classes="login-label")
            yield LoginInput(placeholder="输入密码后按回车登录", password=True, id="password",
                        compact=True)
        yield Static("", id="login-error", markup=False)

    def focus_first(self) -> None:
        self.screen.set_focus(self.query_one("#username", Input))

    def entered(self, field: Input) -> None:
        if field.id == "username":
            self.screen.set_focus(self.query_one("#password", Input))
        else:
            self.submit()

    def submit(self) -> None:
        from kiosk.auth import login

        username = self.query_one("#username", Input).value.strip()
        password_input = self.query_one("#password", Input)
        error = self.query_one("#login-error", Static)
        if not username:
            error.update("请输入用户名。")
            self.focus_first()
            return
        try:
            user = login(username, password_input.value)
        except UserError as e:
            error.update(str(e))
            password_input.value = ""
            self.screen.set_focus(password_input)
            return
        error.update("")
        password_input.value = ""
        if user.must_change:  # reset by an administrator: a new password first
            from screens.password import ask_new_password

            def changed(who: User | None) -> None:
                if who is None:
                    error.update("未设置新密码，未登录。")
                    return
                self.post_message(self.LoggedIn(who))

            ask_new_password(self.app, user, changed)
            return
        self.post_message(self.LoggedIn(user))
