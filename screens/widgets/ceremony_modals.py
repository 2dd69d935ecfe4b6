"""Keyboard-only dialogs of the draw ceremony: a required reason, an on-the-spot recusal."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, OptionList
from textual.widgets.option_list import Option

_MODAL_CSS = """
{name} {{
    align: center middle;
}}
{name} > Vertical {{
    width: 72;
    max-width: 100%;
    height: auto;
    max-height: 100%;
    border: thick $warning;
    background: $surface;
    padding: 0 1;
}}
{name} .title {{
    text-style: bold;
    width: 100%;
}}
{name} .hint {{
    color: $text-muted;
}}
{name} .error {{
    color: $error;
}}
"""


class ReasonModal(ModalScreen[str | None]):
    """Asks for a required reason (e.g. why a draw is aborted); Escape cancels."""

    DEFAULT_CSS = _MODAL_CSS.format(name="ReasonModal")
    BINDINGS = [
        Binding("escape", "cancel", "取消", id="ceremony.reason.cancel", tooltip="不填写，返回"),
    ]

    def __init__(self, title: str, prompt: str) -> None:
        super().__init__()
        self.title_text = title
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title")
            yield Label(self.prompt)
            yield Input(placeholder="理由（必填）", id="reason")
            yield Label("", classes="error", id="reason-error")
            yield Label("输入后按 Enter 提交，按 Esc 取消。", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    @on(Input.Submitted, "#reason")
    def _submitted(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self.query_one("#reason-error", Label).update("理由不能为空。")
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class RecusalModal(ModalScreen[tuple[str, str] | None]):
    """An inspector of a team declares a conflict: choose the inspector, give the reason."""

    DEFAULT_CSS = _MODAL_CSS.format(name="RecusalModal") + """
    RecusalModal OptionList { height: auto; max-height: 8; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "取消", id="ceremony.recusal.cancel", tooltip="不申报，返回"),
        *[Binding(str(n + 1), f"pick({n})", f"第{n + 1}人", show=False,
                  id=f"ceremony.recusal.pick{n + 1}", tooltip=f"选择检查组第 {n + 1} 名执法人员")
          for n in range(9)],
    ]

    def __init__(self, uscc: str, team: list[dict]) -> None:
        super().__init__()
        self.uscc = uscc
        self.team = team

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"现场申报回避：检查对象 {self.uscc}", classes="title")
            yield Label("选择申报回避的执法人员（↑↓ 或数字键），再按 Enter：")
            yield OptionList(
                *[Option(f"{n + 1}. {m['cert_no']} {m['name']}", id=m["cert_no"])
                  for n, m in enumerate(self.team)],
                id="recusal-who")
            yield Input(placeholder="回避理由（必填）", id="recusal-reason")
            yield Label("", classes="error", id="recusal-error")
            yield Label("理由输入后按 Enter 提交，替补由协议抽取；Esc 取消。", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        options = self.query_one("#recusal-who", OptionList)
        options.highlighted = 0
        options.focus()

    def action_pick(self, n: int) -> None:
        if 0 <= n < len(self.team):
            self.query_one("#recusal-who", OptionList).highlighted = n
            self.query_one("#recusal-reason", Input).focus()

    @on(OptionList.OptionSelected, "#recusal-who")
    def _chosen(self) -> None:
        self.query_one("#recusal-reason", Input).focus()

    @on(Input.Submitted, "#recusal-reason")
    def _submitted(self, event: Input.Submitted) -> None:
        options = self.query_one("#recusal-who", OptionList)
        if options.highlighted is None:
            self.query_one("#recusal-error", Label).update("请先选择执法人员。")
            options.focus()
            return
        if not event.value.strip():
            self.query_one("#recusal-error", Label).update("回避理由不能为空。")
            return
        cert = self.team[options.highlighted]["cert_no"]
        self.dismiss((cert, event.value))

    def action_cancel(self) -> None:
        self.dismiss(None)
