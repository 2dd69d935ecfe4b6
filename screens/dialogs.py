"""Modal dialogs, all usable with arrow keys, Enter and Escape: confirm, message, import, export."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Static, TextArea

from kiosk.errors import UserError


class ConfirmModal(ModalScreen[bool]):
    """A yes/no question: Left/Right choose, Enter answers, Escape means no."""

    BINDINGS = [
        Binding("left", "app.focus_previous", "上一项", show=False, id="confirm.left",
                tooltip="选择左边的按钮"),
        Binding("right", "app.focus_next", "下一项", show=False, id="confirm.right",
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
            yield Static(self.question, classes="dialog-body")
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
            yield Static(self.title_text, classes="dialog-title")
            yield TextArea(self.text, read_only=True, soft_wrap=True, show_cursor=False,
                           id="message-text")
        yield Footer(compact=True)

    def action_close(self) -> None:
        self.dismiss(None)


def default_export_path(kind: str, today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    return f"~/{kind}-{today.isoformat()}.xlsx"


class _FileModal(ModalScreen):
    """Shared body: a path Input, a status line, and a read-only text for the outcome."""

    BINDINGS = [
        Binding("escape", "close", "关闭", key_display="Esc", id="file.close",
                tooltip="关闭对话框，回到名录"),
    ]
    heading = ""
    hint = ""

    def __init__(self, kind: str, kind_label: str, actor: str, path: str = "") -> None:
        super().__init__()
        self.kind, self.kind_label, self.actor = kind, kind_label, actor
        self.initial_path = path
        self.busy = False
        self.result = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-tall"):
            yield Static(self.heading.format(label=self.kind_label), classes="dialog-title")
            yield Static(self.hint, classes="dialog-hint")
            yield Input(self.initial_path, placeholder="文件路径", id="file-path", compact=True)
            yield Static("", id="file-status")
            yield TextArea("", read_only=True, soft_wrap=True, id="file-problems")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#file-problems", TextArea).display = False
        self.query_one("#file-path", Input).focus()

    def status(self, text: str, error: bool = False) -> None:
        s = self.query_one("#file-status", Static)
        s.set_class(error, "error")
        s.update(text)

    @on(Input.Submitted, "#file-path")
    def _submitted(self, event: Input.Submitted) -> None:
        if self.busy:
            return
        raw = event.value.strip()
        if not raw:
            self.status("请输入文件路径。", error=True)
            return
        self.busy = True
        self.status("正在处理，请稍候……")
        self.run_file(str(Path(raw).expanduser()))

    def run_file(self, path: str) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def action_close(self) -> None:
        if self.busy:
            self.notify("正在处理，请等待完成。", severity="warning")
            return
        self.dismiss(self.result)


class ImportModal(_FileModal):
    """Import a CSV/XLSX list; a rejected file lists every bad line, nothing left out."""

    heading = "导入{label}"
    hint = "CSV（UTF-8 或 GB18030）或 XLSX 文件，按回车开始导入。\n文件中任何一行有错误，整个文件都不导入。"

    @work(thread=True, exclusive=True, group="import")
    def run_file(self, path: str) -> None:
        from kiosk import registry

        try:
            role = getattr(self.app.user, "role", "")
            res = registry.import_file(self.kind, path, self.actor, role=role)
        except registry.ImportRejected as e:
            problems = list(getattr(e, "problems", []) or [])
            self.app.call_from_thread(self._rejected, str(e), problems)
        except UserError as e:
            self.app.call_from_thread(self._rejected, str(e), [])
        except OSError as e:
            self.app.call_from_thread(self._rejected, f"无法读取文件：{e.strerror or e}", [])
        else:
            self.app.call_from_thread(self._done, res)

    def _done(self, res) -> None:
        self.busy = False
        self.result = res
        self.status(f"导入完成：共 {res.rows} 行，新增 {res.inserted} 条，更新 {res.updated} 条。"
                    "按 Esc 返回。")

    def _rejected(self, message: str, problems: list) -> None:
        self.busy = False
        self.status(f"{message}（未导入任何记录）" if problems else message, error=True)
        if problems:
            text = "\n".join(f"第 {line} 行：{reason}" for line, reason in problems)
            area = self.query_one("#file-problems", TextArea)
            area.load_text(text)
            area.display = True


class ExportModal(_FileModal):
    """Export a list to CSV or XLSX (by the file's extension)."""

    heading = "导出{label}"
    hint = "以 .xlsx 结尾导出 Excel，以 .csv 结尾导出 CSV。\n按回车开始导出。"

    @work(thread=True, exclusive=True, group="export")
    def run_file(self, path: str) -> None:
        from kiosk import registry

        try:
            n = registry.export_file(self.kind, path, self.actor)
        except UserError as e:
            self.app.call_from_thread(self._failed, str(e))
        except OSError as e:
            self.app.call_from_thread(self._failed, f"无法写入文件：{e.strerror or e}")
        else:
            self.app.call_from_thread(self._done, n, path)

    def _done(self, n: int, path: str) -> None:
        self.busy = False
        self.result = n
        self.status(f"已导出 {n} 条到 {path}。按 Esc 返回。")

    def _failed(self, message: str) -> None:
        self.busy = False
        self.status(message, error=True)
