"""Settings (administrator): the bureau's name, region, slip URL, printer, quorum, windows."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from kiosk import access, settings
from kiosk.errors import UserError
from screens.widgets.plain_table import PlainTable


class SettingsScreen(Screen[None]):
    """One row per setting; Enter changes the selected one (validated, audited)."""

    BINDINGS = [
        # The table keeps Enter for itself (RowSelected below), which hides a screen binding
        # on Enter from the footer: E is listed, and Enter works too.
        Binding("e", "edit", "修改", key_display="E/Enter", id="settings.edit",
                tooltip="修改所选设置项"),
        Binding("escape", "back", "返回", id="settings.back", tooltip="返回主页"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[settings.SettingRow] = []

    @property
    def user(self):
        return getattr(self.app, "user", None)

    @property
    def allowed(self) -> bool:
        return self.user is not None and access.may_manage_accounts(self.user.role)

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        yield Static("本局设置（修改均记入审计日志）", id="settings-caption", classes="caption")
        yield PlainTable(id="settings-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="settings-note", classes="note")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#settings-table", DataTable)
        table.add_columns("设置项", "当前值", "说明")
        self.reload()

    def reload(self, keep: int = 0) -> None:
        table = self.query_one("#settings-table", DataTable)
        table.clear()
        if not self.allowed:
            self.note(access.MAY_NOT_MANAGE, error=True)
            return
        self.rows = settings.rows()
        for r in self.rows:
            table.add_row(r.label, r.value or "（空）", r.hint, key=r.key)
        table.move_cursor(row=min(keep, len(self.rows) - 1))
        table.focus()

    def note(self, text: str, *, error: bool = False) -> None:
        box = self.query_one("#settings-note", Static)
        box.update(text)
        box.set_class(error, "error")

    @on(DataTable.RowSelected, "#settings-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        # The table takes Enter before the screen's binding (listed in the footer) sees it.
        event.stop()
        self.action_edit()

    def action_edit(self) -> None:
        if not self.allowed or not self.rows:
            return
        from screens.dialogs import InputModal

        row = self.query_one("#settings-table", DataTable).cursor_row
        r = self.rows[row]

        def done(value: str | None) -> None:
            if value is None:
                return
            try:
                stored = settings.change(r.key, value, self.user.username, role=self.user.role)
            except UserError as e:
                self.note(str(e), error=True)
                return
            self.note(f"{r.label}已设为：{stored or '（空）'}")
            self.reload(keep=row)

        self.app.push_screen(InputModal(f"修改：{r.label}", r.hint, value=r.value), done)

    def action_back(self) -> None:
        self.app.pop_screen()
