"""Keyboard-only dialogs of the draw ceremony: a witness signing in, an on-the-spot recusal."""
from __future__ import annotations

import unicodedata

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, OptionList
from textual.widgets.option_list import Option


class EntropyInput(Input):
    """An Input that keeps every space a witness types, the full-width one (U+3000) too.

    Textual's Input inserts only characters Python calls printable, and U+3000 (what a
    Chinese input method types for a space) is not: "掷骰　3　5　6" would silently lose its
    spaces and give another seed than the witness read out."""

    def on_key(self, event: events.Key) -> None:
        c = event.character
        if c and len(c) == 1 and c != " " and unicodedata.category(c) == "Zs":
            event.stop()
            event.prevent_default()
            self.insert_text_at_cursor(c)


class WitnessModal(ModalScreen[tuple[str, str, str | None] | None]):
    """A witness, at the terminal, signs in with their own account and password, and gives
    their entropy when asked (typed masked: nobody reads it before all have given theirs).

    Dismisses (account, password, entropy or None); Escape gives None. Enter moves to the
    next box and submits from the last. The password is checked by the domain, not here."""

    BINDINGS = [
        Binding("escape", "cancel", "取消", id="ceremony.witness_modal.cancel",
                tooltip="不签到，返回"),
    ]

    def __init__(self, title: str, prompt: str, *, account: str = "",
                 entropy: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.prompt = prompt
        self.account = account
        self.ask_entropy = entropy

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title", markup=False)
            yield Label(self.prompt, markup=False)  # may name a witness
            yield Input(self.account, placeholder="见证人账号", id="wm-account")
            yield Input(placeholder="本人密码", password=True, id="wm-password")
            if self.ask_entropy:
                # Whole lines are kept as typed: spaces, full-width spaces, punctuation.
                yield EntropyInput(placeholder="随机数（掷骰结果、数字或一句话）",
                                   password=True, id="wm-entropy")
            yield Label("", classes="error", id="wm-error")
            yield Label("Enter 转到下一栏并在最后一栏提交；Esc 取消。", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#wm-password" if self.account else "#wm-account", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        order = ["wm-account", "wm-password"] + (["wm-entropy"] if self.ask_entropy else [])
        values = {i: self.query_one(f"#{i}", Input).value for i in order}
        for i in order:
            if not values[i].strip():
                self.query_one("#wm-error", Label).update("请填写全部栏目。")
                self.query_one(f"#{i}", Input).focus()
                return
        self.dismiss((values["wm-account"].strip(), values["wm-password"],
                      values.get("wm-entropy")))

    def action_cancel(self) -> None:
        self.dismiss(None)


class RecusalModal(ModalScreen[tuple[str, str] | None]):
    """An inspector of a team declares a conflict: choose the inspector, give the reason."""

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
            yield Label(f"现场申报回避：检查对象 {self.uscc}", classes="title", markup=False)
            yield Label("选择申报回避的执法人员（↑↓ 或数字键），再按 Enter：")
            yield OptionList(
                *[Option(Text(f"{n + 1}. {m['cert_no']} {m['name']}"), id=m["cert_no"])
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
