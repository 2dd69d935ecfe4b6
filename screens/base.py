"""What the kiosk's screens share: the signed-in user, and the administrator's table screens."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from kiosk import access
from screens.widgets.plain_table import PlainTable


class SignedIn:
    """Mixin for a screen or dialog that acts for whoever is signed in at the terminal.

    `app.user` is read at each use, never copied: a log-in on the lock screen or a switch of
    user changes it under an open screen. The test apps that host a single screen have no
    `user` at all, hence getattr."""

    @property
    def user(self):
        return getattr(self.app, "user", None)  # type: ignore[attr-defined]

    def with_user(self, then: Callable[[Any], None], prompt: str) -> None:
        """then(user) with whoever is signed in; a screen opened with nobody signed in (`kiosk
        open`) asks for a log-in first, and then gets None if they press Escape."""
        if self.user is None:
            self.app.require_login(then, prompt=prompt)  # type: ignore[attr-defined]
        else:
            then(self.user)

    def when_allowed(self, may: Callable[[str | None], bool], refusal: str, prompt: str,
                     then: Callable[[], None], say: Callable[[str, bool], None]) -> None:
        """then() once someone whose role `may` allows is signed in (see with_user); anyone
        else is told the refusal by say(text, error)."""

        def check(user) -> None:
            if user is None or not may(user.role):
                say(refusal, True)
                return
            then()

        self.with_user(check, prompt)


class AdminTableScreen(SignedIn, Screen[None]):
    """A table only the administrator works on (accounts, settings): a caption, the table, a
    note line for results and refusals. Any other role sees the refusal and an empty table.

    A subclass names its `PREFIX` (the widgets' ids), `CAPTION` and `COLUMNS`, and says what
    its rows are (`fetch`), how each is shown (`cells`) and keyed (`row_key`)."""

    PREFIX: ClassVar[str]
    CAPTION: ClassVar[str]
    COLUMNS: ClassVar[tuple[str, ...]]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Any] = []

    @property
    def allowed(self) -> bool:
        return self.user is not None and access.may_manage_accounts(self.user.role)

    @property
    def table(self) -> DataTable:
        return self.query_one(f"#{self.PREFIX}-table", DataTable)

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        yield Static(self.CAPTION, id=f"{self.PREFIX}-caption", classes="caption")
        yield PlainTable(id=f"{self.PREFIX}-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id=f"{self.PREFIX}-note", classes="note", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.table.add_columns(*self.COLUMNS)
        self.reload()

    def fetch(self) -> list[Any]:
        raise NotImplementedError

    def cells(self, row: Any) -> tuple[str, ...]:
        raise NotImplementedError

    def row_key(self, row: Any) -> str:
        raise NotImplementedError

    def reload(self, keep: int = 0) -> None:
        table = self.table
        table.clear()
        if not self.allowed:
            self.note(access.MAY_NOT_MANAGE, error=True)
            return
        self.rows = self.fetch()
        for r in self.rows:
            table.add_row(*self.cells(r), key=self.row_key(r))
        table.move_cursor(row=min(keep, len(self.rows) - 1))
        table.focus()

    def note(self, text: str, *, error: bool = False) -> None:
        """One line under the table; shown as typed (values and names are never markup)."""
        box = self.query_one(f"#{self.PREFIX}-note", Static)
        box.update(text)
        box.set_class(error, "error")

    def selected_row(self) -> int:
        return self.table.cursor_row

    def action_back(self) -> None:
        self.app.pop_screen()
