"""Login: the kiosk's first screen, with the demo accounts on a demo store."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from screens.dialogs.login import LoginModal  # noqa: F401 - its old home, still imported
from screens.widgets.login_form import LoginForm


class LoginScreen(Screen[None]):
    """Username and password; on success the app shows the home dashboard."""

    AUTO_FOCUS = "#username"
    BINDINGS = [
        Binding("tab", "app.focus_next", "下一栏", key_display="Tab", id="login.next",
                tooltip="在用户名和密码之间切换"),
        Binding("ctrl+q", "app.quit", "退出程序", key_display="Ctrl+Q", id="login.quit",
                tooltip="关闭终端程序"),
    ]

    def __init__(self, demo_accounts: list[tuple[str, str, str]] | None = None) -> None:
        super().__init__()
        self.demo_accounts = list(demo_accounts or [])

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        with Vertical(id="login-box"):
            yield Static("双随机、一公开 抽查终端 · 请登录", id="login-title")
            yield LoginForm()
            if self.demo_accounts:
                yield Static("演示账号（仅演示数据库）：", id="demo-caption")
                yield DataTable(id="demo-accounts", cursor_type="none", zebra_stripes=True,
                                show_cursor=False)
        yield Footer()

    def on_mount(self) -> None:
        if self.demo_accounts:
            table = self.query_one("#demo-accounts", DataTable)
            table.can_focus = False  # Tab stays between the two inputs
            table.add_columns("用户名", "密码", "角色")
            table.add_rows(self.demo_accounts)

    @on(LoginForm.LoggedIn)
    def _logged_in(self, event: LoginForm.LoggedIn) -> None:
        self.app.logged_in(event.user)
