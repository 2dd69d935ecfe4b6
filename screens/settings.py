"""Settings (administrator): the bureau's name, region, slip URL, printer, quorum, windows."""
from __future__ import annotations

from textual import on
from textual.binding import Binding
from textual.widgets import DataTable

from kiosk import settings
from kiosk.errors import UserError
from screens.base import AdminTableScreen


class SettingsScreen(AdminTableScreen):
    """One row per setting; Enter changes the selected one (validated, audited)."""

    BINDINGS = [
        # The table keeps Enter for itself (RowSelected below), which hides a screen binding
        # on Enter from the footer: E is listed, and Enter works too.
        Binding("e", "edit", "修改", key_display="E/Enter", id="settings.edit",
                tooltip="修改所选设置项"),
        Binding("escape", "back", "返回", id="settings.back", tooltip="返回主页"),
    ]

    PREFIX = "settings"
    CAPTION = "本局设置（修改均记入审计日志）"
    COLUMNS = ("设置项", "当前值", "说明")

    def fetch(self) -> list[settings.SettingRow]:
        return settings.rows()

    def cells(self, r: settings.SettingRow) -> tuple[str, ...]:
        return (r.label, r.value or "（空）", r.hint)

    def row_key(self, r: settings.SettingRow) -> str:
        return r.key

    @on(DataTable.RowSelected, "#settings-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        # The table takes Enter before the screen's binding (listed in the footer) sees it.
        event.stop()
        self.action_edit()

    def action_edit(self) -> None:
        if not self.allowed or not self.rows:
            return
        from screens.dialogs import InputModal

        row = self.selected_row()
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
