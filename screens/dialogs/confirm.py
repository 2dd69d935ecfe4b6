"""A yes/no question answered with the arrow keys and Enter, or Y / N / Escape."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static


class ConfirmModal(ModalScreen[bool]):
    """A yes/no question: Left/Right choose, Enter answers, Escape means no."""

    BINDINGS = [
        Binding("left,up", "app.focus_previous", "上一项", show=False, id="confirm.left",
                tooltip="选择左边的按钮"),
        Binding("right,down", "app.focus_next", "下一项", show=False, id="confirm.right",
                tooltip="选择右边的按钮"),
        Binding("y", "answer(True)", "是", key_display="Y", id="confirm.yes", tooltip="确定"),
        Binding("n,escape", "answer(False)", "否", key_display="N/Esc", id="confirm.no",
                tooltip="取消"),
    ]

    def __init__(self, question: str, yes: str = "确定", no: str = "取消",
                 default: bool = False) -> None:
        super().__init__()
        self.question = question
        self.yes, self.no, self.default = yes, no, default

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="dialog-body", markup=False)  # names a user, a file
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.yes, id="confirm-yes", variant="primary")
                yield Button(self.no, id="confirm-no")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#confirm-yes" if self.default else "#confirm-no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)
