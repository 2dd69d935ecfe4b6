"""The kiosk application: starts at the login screen, holds the signed-in user, logs out."""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen

if TYPE_CHECKING:  # the row kiosk.auth.login returns; screens never query it
    from db.models import User


DemoAccounts = list[tuple[str, str, str]]


@runtime_checkable
class GuardsAppActions(Protocol):
    """A screen that must not be left by accident (the draw ceremony) vetoes app-level keys."""

    def blocks_app_action(self, action: str) -> bool: ...


class KioskApp(App[None], inherit_bindings=False):
    """One terminal of the bureau's kiosk. `user` is whoever is signed in (None at the login
    screen); the header's subtitle follows it."""

    CSS_PATH = Path(__file__).with_name("kiosk.tcss")
    ENABLE_COMMAND_PALETTE = False  # a kiosk: no hidden command surface
    TITLE = "双随机抽查终端"

    # No app-wide quit key: a kiosk is left by logging out; only the login screen quits.
    BINDINGS: list[Binding] = []

    # bindings=True: keys that depend on who is signed in are re-checked when that changes.
    user: reactive[User | None] = reactive(None, init=False, bindings=True)

    def __init__(self, demo_accounts: DemoAccounts | None = None,
                 open_payload: str | None = None, *, user: User | None = None,
                 start: Screen | None = None) -> None:
        super().__init__()
        self.demo_accounts: DemoAccounts = list(demo_accounts or [])
        self.open_payload = open_payload
        self.bureau_name = ""
        self.idle_limit = 0
        self._last_input = time.monotonic()
        self._first_user = user
        self._start = start

    def watch_user(self, user: User | None) -> None:
        self.sub_title = user_label(user) if user is not None else ""
        if user is not None:  # the idle lock as set now (本局设置 idle_lock_seconds)
            from kiosk import settings

            self._last_input = time.monotonic()
            try:
                self.idle_limit = max(0, settings.get_int("idle_lock_seconds"))
            except ValueError:
                self.idle_limit = 0

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)):
            self._last_input = time.monotonic()
        await super().on_event(event)

    def lock_if_idle(self, now: float | None = None) -> bool:
        """Lock a shared terminal left alone for idle_lock_seconds: a LockScreen over every
        screen (an open draw or a report draft stays underneath). True if it locked now."""
        from screens.lock import LockScreen

        if self.user is None or self.idle_limit <= 0 or isinstance(self.screen, LockScreen):
            return False
        if (now if now is not None else time.monotonic()) - self._last_input < self.idle_limit:
            return False
        self.push_screen(LockScreen())
        return True

    def unlocked(self, user: User) -> None:
        """A log-in on the lock screen: the same user goes back to where they were; anyone
        else ends that session (its screens popped) and starts at home."""
        from screens.home import HomeScreen
        from screens.lock import LockScreen, is_same_user

        if is_same_user(user, self.user):
            self._last_input = time.monotonic()
            if isinstance(self.screen, LockScreen):
                self.pop_screen()
            return
        self.user = user
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(HomeScreen())

    def on_mount(self) -> None:
        from kiosk import settings
        from screens.login import LoginScreen

        self.bureau_name = settings.get("bureau_name")
        self.title = self.bureau_name or self.TITLE
        self.set_interval(1, self.lock_if_idle)
        if self._first_user is None:
            self.push_screen(LoginScreen(self.demo_accounts))
        else:  # already signed in (tests): home takes the login screen's place in the stack
            from screens.home import HomeScreen

            self.user = self._first_user
            self.push_screen(HomeScreen())
        if self._start is not None:
            self.push_screen(self._start)
        if self.open_payload:
            self._open_scanned(self.open_payload)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if any(isinstance(s, GuardsAppActions) and s.blocks_app_action(action)
               for s in self.screen_stack):
            return False
        return super().check_action(action, parameters)

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
        # Imported here: home pulls in every screen of the menu, which the login screen (the
        # cold-start path, ~0.6 s) does not need.
        from screens.home import HomeScreen

        self.user = user
        self.switch_screen(HomeScreen())

    def action_logout(self) -> None:
        """Drop the user and every screen they opened, back to the login screen."""
        from screens.login import LoginScreen

        self.user = None
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(LoginScreen(self.demo_accounts))

    def require_login(self, callback: Callable[[User | None], None], *, prompt: str = "",
                      switch_user: bool = True) -> None:
        """Ask someone to log in over the current screen (e.g. an inspector after scanning a slip).

        The callback gets the User, or None when they pressed Escape. With switch_user the
        app's `user` becomes that person.
        """
        from screens.dialogs import LoginModal

        def done(user: User | None) -> None:
            if user is not None and switch_user:
                self.user = user
            callback(user)

        self.push_screen(LoginModal(prompt=prompt), done)


def user_label(user: User) -> str:
    from kiosk.auth import ROLES

    return f"{user.display_name}（{ROLES.get(user.role, user.role)}）"


def make_app(demo_accounts: DemoAccounts | None = None, open_payload: str | None = None, *,
             user: User | None = None, start: Screen | None = None) -> KioskApp:
    """The kiosk on whatever store the models are already bound to (tests bind it first).

    demo_accounts: shown on the login screen of a demo store. open_payload: a scanned slip to
    open at once (`kiosk open`). user: already signed in (tests), so the app starts at home.
    start: a screen pushed on top at start (tests of one screen, e.g. the task picker)."""
    return KioskApp(demo_accounts, open_payload, user=user, start=start)


def run(db_url: str | None, demo_accounts: DemoAccounts | None = None,
        open_payload: str | None = None) -> None:
    """Open the store (SQLite path or postgresql:// URL; None: the default) and run the kiosk."""
    from db.connection import connect, database

    if database.obj is None or database.obj.is_closed():  # the CLI has usually opened it
        connect(db_url)
    make_app(demo_accounts, open_payload).run()
