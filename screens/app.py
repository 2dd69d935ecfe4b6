"""The kiosk application: starts at the login screen, holds the logged-in user, logs out."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.app import App
from textual.binding import Binding

from db.models import User

DemoAccounts = list[tuple[str, str, str]]


class KioskApp(App[None], inherit_bindings=False):
    """One terminal of the bureau's kiosk. `user` is whoever is logged in (None at the login screen)."""

    CSS_PATH = Path(__file__).with_name("kiosk.tcss")
    ENABLE_COMMAND_PALETTE = False  # a kiosk: no hidden command surface
    TITLE = "双随机抽查终端"

    # No app-wide quit key: a kiosk is left by logging out; only the login screen quits.
    BINDINGS: list[Binding] = []

    def __init__(self, demo_accounts: DemoAccounts | None = None,
                 open_payload: str | None = None) -> None:
        super().__init__()
        self.demo_accounts: DemoAccounts = list(demo_accounts or [])
        self.open_payload = open_payload
        self.user: User | None = None
        self.bureau_name = ""

    def on_mount(self) -> None:
        from kiosk import settings
        from screens.login import LoginScreen

        self.bureau_name = settings.get("bureau_name")
        self.title = self.bureau_name or self.TITLE
        self.push_screen(LoginScreen(self.demo_accounts))
        if self.open_payload:
            self._open_scanned(self.open_payload)

    def _open_scanned(self, payload: str) -> None:
        """`kiosk open PAYLOAD`: the scan screen, as if the slip had just been scanned."""
        from textual.widgets import Input

        from screens.scan import ScanScreen

        scan = ScanScreen()
        self.push_screen(scan)

        async def submit() -> None:
            box = scan.query_one("#payload", Input)
            box.value = payload
            await box.action_submit()

        self.call_after_refresh(submit)

    def logged_in(self, user: User) -> None:
        """Called by the login screen: the user is in; show the home dashboard."""
        from screens.home import HomeScreen

        self.user = user
        self.sub_title = user_label(user)
        self.switch_screen(HomeScreen())

    def action_logout(self) -> None:
        """Drop the user and every screen they opened, back to the login screen."""
        from screens.login import LoginScreen

        self.user = None
        self.sub_title = ""
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(LoginScreen(self.demo_accounts))

    def require_login(self, callback: Callable[[User | None], None], *, prompt: str = "",
                      switch_user: bool = True) -> None:
        """Ask someone to log in over the current screen (e.g. an inspector after scanning a slip).

        The callback gets the User, or None when they pressed Escape. With switch_user the
        app's `user` becomes that person.
        """
        from screens.login import LoginModal

        def done(user: User | None) -> None:
            if user is not None and switch_user:
                self.user = user
                self.sub_title = user_label(user)
            callback(user)

        self.push_screen(LoginModal(prompt=prompt), done)


def user_label(user: User) -> str:
    from kiosk.auth import ROLES

    return f"{user.display_name}（{ROLES.get(user.role, user.role)}）"


def make_app(demo_accounts: DemoAccounts | None = None,
             open_payload: str | None = None) -> KioskApp:
    """The app on whatever store the models are already bound to (tests bind it first)."""
    return KioskApp(demo_accounts, open_payload)


def run(db_url: str | None, demo_accounts: DemoAccounts | None = None,
        open_payload: str | None = None) -> None:
    """Open the store (SQLite path or postgresql:// URL; None: the default) and run the kiosk."""
    from db.connection import connect, database

    if database.obj is None or database.obj.is_closed():  # the CLI has usually opened it
        connect(db_url)
    make_app(demo_accounts, open_payload).run()
