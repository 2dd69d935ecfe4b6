"""A message that may be long (it scrolls with the arrow keys); Enter or Escape closes it."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static, TextArea


class MessageModal(ModalScreen[None]):
    """A title and a text that may be long (it scrolls); Enter or Escape closes it."""

    BINDINGS = [
        Binding("escape,enter", "close", "关闭", key_display="Enter/Esc", id="message.close",
                tooltip="关闭此消息"),
    ]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-tall"):
            yield Static(self.title_text, classes="dialog-title", markup=False)
            yield TextArea(self.text, read_only=True, soft_wrap=True, show_cursor=False,
                           id="message-text")
        yield Footer(compact=True)

    def action_close(self) -> None:
        self.dismiss(None)
