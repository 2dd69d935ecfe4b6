"""File dialogs: choose a path, and import or export a registry list through one."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static, TextArea

from kiosk.errors import UserError
from screens.dialogs.input import DialogInput
from screens.workers import store_worker


def default_export_path(kind: str, today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    return f"~/{kind}-{today.isoformat()}.xlsx"


def check_path(raw: str, *, must_exist: bool, suffixes: tuple[str, ...] = ()) -> Path:
    """The typed path, with ~ expanded, or a UserError saying in one sentence what is wrong."""
    raw = raw.strip()
    if not raw:
        raise UserError("请输入文件路径。")
    path = Path(raw).expanduser()
    if suffixes and path.suffix.lower() not in suffixes:
        raise UserError(f"文件须为 {' 或 '.join(suffixes)} 格式。")
    if must_exist and not path.is_file():
        raise UserError(f"找不到文件：{path}")
    if not must_exist and not path.parent.is_dir():
        raise UserError(f"文件夹不存在：{path.parent}")
    return path


class FileModal(ModalScreen[Path | None]):
    """Ask for a file path: to open (`must_exist`) or to write. Enter gives the Path once it
    passes the checks (a wrong one is named in one sentence and the dialog stays), Escape
    gives None. Typed, not browsed: a kiosk reached over SSH has no file manager."""

    BINDINGS = [
        Binding("escape", "cancel", "取消", key_display="Esc", id="file_dialog.cancel",
                tooltip="不选择文件，返回上一画面"),
    ]

    def __init__(self, title: str, hint: str = "", *, path: str = "", must_exist: bool = True,
                 suffixes: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.title_text, self.hint = title, hint
        self.initial_path = path
        self.must_exist = must_exist
        self.suffixes = tuple(s.lower() for s in suffixes)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.title_text, classes="dialog-title", markup=False)
            if self.hint:
                yield Static(self.hint, classes="dialog-hint", markup=False)
            yield DialogInput(self.initial_path, placeholder="文件路径", id="file-path",
                              compact=True)
            yield Static("", id="file-status", markup=False)  # echoes the path
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#file-path", Input).focus()

    @on(Input.Submitted, "#file-path")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            path = check_path(event.value, must_exist=self.must_exist, suffixes=self.suffixes)
        except UserError as e:
            status = self.query_one("#file-status", Static)
            status.add_class("error")
            status.update(str(e))
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)


class _TransferModal(ModalScreen):
    """Shared body of import and export: a path Input, a status line, and a read-only text
    for the outcome; the work runs in a store worker so the dialog stays responsive."""

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
            yield Static(self.hint, classes="dialog-hint", markup=False)
            yield DialogInput(self.initial_path, placeholder="文件路径", id="file-path",
                              compact=True)
            yield Static("", id="file-status", markup=False)  # echoes the path
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


class ImportModal(_TransferModal):
    """Import a CSV/XLSX list; a rejected file lists every bad line, nothing left out."""

    heading = "导入{label}"
    hint = ("CSV（UTF-8 或 GB18030）或 XLSX 文件，按回车开始导入。\n"
            "文件中任何一行有错误，整个文件都不导入。")

    @store_worker(group="import")
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
        if problems:
            # One short line: the service's message quotes the first ten problems, which
            # filled the dialog and left no room for the list below (issue 11).
            lines = len({line for line, _ in problems})
            self.status(f"导入被拒绝，文件未做任何更改：共 {len(problems)} 处错误，涉及 {lines} 行"
                        "（未导入任何记录），见下方列表。", error=True)
        else:
            self.status(message, error=True)
        if problems:
            text = "\n".join(f"第 {line} 行：{reason}" for line, reason in problems)
            area = self.query_one("#file-problems", TextArea)
            area.load_text(text)
            area.display = True
            # Focused, so ↑↓ and PgUp/PgDn reach every bad line, not only those that fit.
            area.border_subtitle = f"共 {len(problems)} 处 · ↑↓ PgUp/PgDn 滚动"
            area.focus()


class ExportModal(_TransferModal):
    """Export a list to CSV or XLSX (by the file's extension)."""

    heading = "导出{label}"
    hint = "以 .xlsx 结尾导出 Excel，以 .csv 结尾导出 CSV。\n按回车开始导出。"

    @store_worker(group="export")
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
