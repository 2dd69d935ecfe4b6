"""The home menu: every key of the key table with its full Chinese label."""
from __future__ import annotations

from textual.widgets import Static


class MenuPanel(Static):
    DEFAULT_CSS = """
    MenuPanel {
        width: 1fr;
        height: auto;
        padding: 0 1;
        border: round $primary;
        border-title-color: $text;
    }
    """

    def __init__(self, entries: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(self.lines(entries), **kwargs)

    @staticmethod
    def lines(entries: list[tuple[str, str]]) -> str:
        return "\n".join(f"[b]{k:>2}[/b]  {label}" for k, label in entries)

    def show(self, entries: list[tuple[str, str]]) -> None:
        self.update(self.lines(entries))

    def on_mount(self) -> None:
        self.border_title = "功能（按键）"
