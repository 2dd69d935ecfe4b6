"""The one input dialog: a line of text (a reason, a review note, a value), or None on Escape."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Static


class DialogInput(Input):
    """An Input whose Enter is listed in the footer (the stock Input hides it)."""

    BINDINGS = [
        Binding("enter", "submit", "确定", key_display="Enter", id="dialog_input.submit",
                tooltip="确定输入的内容"),
    ]


class InputModal(ModalScreen[str | None]):
    """Ask for one line of text. Enter (in the box, or on 确定) gives it, Escape gives None.

    Up/Down move between the box and the buttons; Left/Right stay with the text cursor.
    With `required` an empty or blank answer is refused with `empty_message` and the dialog
    stays open (e.g. the reason for aborting a draw)."""

    BINDINGS = [
        Binding("escape", "cancel", "取消", key_display="Esc", id="input.cancel",
                tooltip="不填写，返回上一画面"),
        Binding("up", "app.focus_previous", "上一项", show=False, id="input.up",
                tooltip="移到上一项（输入框或按钮）"),
        Binding("down", "app.focus_next", "下一项", show=False, id="input.down",
                tooltip="移到下一项（输入框或按钮）"),
    ]

    def __init__(self, title: str, prompt: str = "", *, value: str = "",
                 placeholder: str = "", required: bool = False,
                 empty_message: str = "此项不能为空。", password: bool = False,
                 ok: str = "确定") -> None:
        super().__init__()
        self.title_text = title
        self.prompt = prompt
        self.initial = value
        self.placeholder = placeholder
        self.required = required
        self.empty_message = empty_message
        self.password = password
        self.ok = ok

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.title_text, classes="dialog-title", markup=False)
            if self.prompt:
                yield Static(self.prompt, classes="dialog-body", markup=False)
            yield DialogInput(self.initial, placeholder=self.placeholder,
                              password=self.password, id="dialog-input", compact=True)
            yield Static("", id="dialog-error", classes="dialog-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.ok, id="dialog-ok", variant="primary", compact=True)
                yield Button("取消", id="dialog-cancel", compact=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#dialog-input", Input).focus()

    @property
    def value(self) -> str:
        return self.query_one("#dialog-input", Input).value

    @on(Input.Submitted, "#dialog-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    @on(Button.Pressed, "#dialog-ok")
    def _ok(self, event: Button.Pressed) -> None:
        event.stop()
        self.submit()

    @on(Button.Pressed, "#dialog-cancel")
    def _cancel(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def submit(self) -> None:
        """Give the text back, unless it is required and blank."""
        if self.required and not self.value.strip():
            self.query_one("#dialog-error", Static).update(self.empty_message)
            self.query_one("#dialog-input", Input).focus()
            return
        self.dismiss(self.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
