"""The inspection report form (Art. 9): saves as you type, attaches evidence, prints, submits."""
from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.lazy import Lazy
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, Label, Select, Static, TextArea

from kiosk import reports
from kiosk.errors import UserError
from screens.base import SignedIn
from screens.dialogs import ConfirmModal, InputModal

AUTOSAVE_SECONDS = 1.0
ABOVE_FOLD = 5  # fields that fit the first screen at 80x24

# (field, kind); kinds: line (Input), text (TextArea), choice (Select). Order is Tab order.
FORM = [
    ("inspection_start", "line"),
    ("inspection_end", "line"),
    ("method", "choice"),
    ("inspectors_present", "line"),
    ("unit", "line"),
    ("content_checked", "text"),
    ("onsite_record", "text"),
    ("evaluation", "text"),
    ("finding", "choice"),
    ("rectify_deadline", "line"),
    ("opinion", "text"),
]
CHOICES = {"method": reports.METHODS, "finding": reports.FINDINGS}
PLACEHOLDERS = {
    "inspection_start": "2026-07-03 09:30",
    "inspection_end": "2026-07-03 11:30",
    "rectify_deadline": "责令整改时填写，如 2026-07-31",
}


class PromptModal(InputModal):
    """One line of text (a file path, a review note): the kiosk's one input dialog, under the
    name the report screens know it by. Enter gives the text, Escape gives None."""

    def __init__(self, title: str, placeholder: str = "", value: str = "") -> None:
        super().__init__(title, value=value, placeholder=placeholder)


def confirm(screen: Screen, question: str, callback) -> None:
    """Ask yes/no with the app's ConfirmModal."""
    screen.app.push_screen(ConfirmModal(question), lambda ok: callback(bool(ok)))


class ReportScreen(SignedIn, Screen[None]):
    """One assignment's report (a reports.ReportView). Editable by its team while a draft;
    read-only otherwise."""

    class Saved(Message):
        """Posted after each save reached the service (autosave, leaving a field, Ctrl+S)."""

        def __init__(self, complete: bool) -> None:
            super().__init__()
            self.complete = complete  # nothing typed is left unsaved

    BINDINGS = [
        Binding("ctrl+s", "save", "保存", priority=True, id="report.save",
                tooltip="立即保存草稿（输入时也会自动保存）"),
        Binding("f3", "attach", "附证据", priority=True, id="report.attach",
                tooltip="按路径添加照片、录像或扫描件作为证据"),
        Binding("f4", "print", "打印", priority=True, id="report.print",
                tooltip="生成报告 PDF（配置了打印机时直接打印）"),
        Binding("f5", "submit", "提交", priority=True, id="report.submit",
                tooltip="提交报告给牵头股室审核（提交后不能修改）"),
        Binding("f6", "withdraw", "撤回证据", priority=True, id="report.withdraw",
                tooltip="撤回误传的证据（提交前；文件留档并标注已撤回）"),
        Binding("escape", "back", "返回", id="report.back", tooltip="保存后返回上一画面"),
    ]

    def __init__(self, view: reports.ReportView) -> None:
        super().__init__()
        self.report_id = view.report_id
        self.ctx = view.context
        self._evidence = view.evidence
        self._may_edit = view.editable  # on the team (the service decided, for this user)
        self._status = view.status
        self._loading = True
        self._dirty = False
        # Per field, the text the form last loaded or saved: only fields the user has changed
        # since are sent, and with this base the service refuses to overwrite a field a
        # teammate changed meanwhile on another terminal.
        self._base: dict[str, str] = dict(view.values)
        self._timer: Timer | None = None
        self.saved_at: dt.datetime | None = None

    @property
    def editable(self) -> bool:
        return self._may_edit and self._status.state == "draft"

    # Keys that only change a draft: shown to its team, hidden from reviewers and readers.
    EDIT_ACTIONS = frozenset({"save", "attach", "submit", "withdraw"})

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in self.EDIT_ACTIONS:
            return self.editable
        return True

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        c = self.ctx
        yield Header(icon="")
        yield Static(f"检查报告 {c.task_code} · {c.target_name}\n"
                     f"{c.item_code} {c.item_name} · 检查组：{'、'.join(n for n, _ in c.team)}",
                     id="report-info", markup=False)  # the firm's name as imported
        values = self._base
        with VerticalScroll(id="report-form"):
            # Labels ride in the border titles (half the widgets), and the fields below the
            # fold mount just after the first frame, so the form shows at once after a scan.
            rest: list = []
            for i, (name, kind) in enumerate(FORM):
                widgets = [self._widget(name, kind, values[name])]
                if kind == "choice":
                    widgets.insert(0, Label(reports.FIELD_LABELS[name], classes="choice-label"))
                if i < ABOVE_FOLD:
                    yield from widgets
                else:
                    rest.extend(widgets)
            yield Lazy(Vertical(*rest, id="form-rest"))
            yield Static("", id="evidence")
        yield Static("", id="report-status", markup=False)
        yield Static("", id="report-error", markup=False)
        yield Footer()

    def _widget(self, name: str, kind: str, value: str):
        if kind == "choice":
            options = [(o, o) for o in CHOICES[name]]
            return Select(options, value=value if value in CHOICES[name] else Select.NULL,
                          prompt="请选择", allow_blank=True, id=name,
                          disabled=not self.editable)
        if kind == "text":
            w = TextArea(value, id=name, soft_wrap=True, show_line_numbers=False,
                         read_only=not self.editable)
        else:
            w = Input(value, placeholder=PLACEHOLDERS.get(name, ""), id=name,
                      disabled=not self.editable)
        w.border_title = reports.FIELD_LABELS[name]
        return w

    def on_mount(self) -> None:
        self._show_evidence()
        self._show_status()
        if self.editable:
            self.query_one("#inspection_start", Input).focus()
        else:
            self.query_one("#report-form").focus()
        # Values set while composing post Changed events; ignore them, they are not edits.
        self.call_after_refresh(self._loaded)

    def _loaded(self) -> None:
        self._loading = False

    def _apply_mode(self) -> None:
        editable = self.editable
        for name, kind in FORM:
            w = self.query_one(f"#{name}")
            if kind == "text":
                w.read_only = not editable
            else:
                w.disabled = not editable

    # ------------------------------------------------------------ autosave

    def _raw(self) -> dict[str, str]:
        raw: dict[str, str] = {}
        for name, kind in FORM:
            found = self.query(f"#{name}")
            if not found:
                continue  # not mounted yet (below the fold)
            w = found.first()
            if kind == "text":
                raw[name] = w.text
            elif kind == "choice":
                raw[name] = "" if w.value is Select.NULL else str(w.value)
            else:
                raw[name] = w.value
        if raw.get("method") == "":
            raw.pop("method")  # a blank choice is not a method; keep what is saved
        return raw

    def _edits(self) -> dict[str, str]:
        """The fields the user changed since they were loaded or last saved."""
        return {n: v for n, v in self._raw().items() if v != self._base.get(n)}

    def _changed(self) -> None:
        if self._loading or not self.editable:
            return
        self._dirty = True
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(AUTOSAVE_SECONDS, self.save_now)

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        self._changed()

    @on(TextArea.Changed)
    def _text_changed(self, event: TextArea.Changed) -> None:
        self._changed()

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        self._changed()

    def on_descendant_blur(self, event) -> None:
        if self._dirty:
            self.save_now()

    def save_now(self) -> bool:
        """Save what the user changed; a field with an error (or changed meanwhile by a
        teammate) is kept on screen and named, the other fields are saved anyway.
        True when nothing typed is left unsaved."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if not self._dirty or not self.editable:
            return True
        edits = self._edits()
        try:
            result = reports.save_form(self.report_id, edits, self.user, base=self._base)
        except UserError as e:
            self._error(str(e))
            self.post_message(self.Saved(False))
            return False
        left = set(result.errors) | set(result.conflicts)
        for name, value in edits.items():
            if name not in left:
                self._base[name] = value
        self._dirty = bool(left)
        self.saved_at = dt.datetime.now()
        if result.status is not None:
            self._status = result.status
        self._error(result.message)
        self._show_status()
        self.post_message(self.Saved(not left))
        return not left

    # ------------------------------------------------------------ status

    def _error(self, text: str) -> None:
        self.query_one("#report-error", Static).update(text)

    def _show_status(self) -> None:
        parts = self._status.parts()
        if self.saved_at is not None:
            parts.insert(1, f"已保存 {self.saved_at:%H:%M:%S}")
        status = self.query_one("#report-status", Static)
        status.set_class(self._status.provisional, "provisional")
        status.update(" · ".join(parts))

    def _show_evidence(self) -> None:
        ev = self._evidence
        keys = "（F3 添加，F6 撤回）" if self.editable else ""
        lines = [f"证据材料 {len(ev)} 件{keys}"]
        for i, e in enumerate(ev, 1):
            name, sha = e.lines
            lines += [f"{i}. {name}", f"   {sha}"]
        self.query_one("#evidence", Static).update(Text("\n".join(lines)))

    # ------------------------------------------------------------ actions

    def action_save(self) -> None:
        self._dirty = self._dirty or self.editable
        self.save_now()

    def action_attach(self) -> None:
        if not self.editable:
            self._error("报告已提交或您不是检查组成员，不能添加证据。")
            return

        def done(path: str | None) -> None:
            if not path or not path.strip():
                return
            try:
                e, self._evidence = reports.add_evidence(self.report_id, path, self.user)
            except UserError as err:
                self._error(str(err))
                return
            self._error("")
            self._show_evidence()
            self.notify(f"已附上 {e.filename}（SHA-256 {e.sha256[:12]}…）", markup=False)

        self.app.push_screen(PromptModal("添加证据：输入文件路径", "/media/usb/现场照片1.jpg"),
                             done)

    def action_withdraw(self) -> None:
        if not self.editable:
            self._error("报告已提交或您不是检查组成员，不能撤回证据。")
            return
        if not self._evidence:
            self._error("还没有附上证据。")
            return

        def done(answer: str | None) -> None:
            number, _, reason = (answer or "").strip().partition(" ")
            if not number:
                return
            if not number.isdigit():
                self._error("请先写证据序号，再空一格写撤回理由，如：2 误传了其他单位的照片。")
                return
            try:
                e, self._evidence = reports.withdraw_evidence(
                    self.report_id, int(number), self.user, reason)
            except UserError as err:
                self._error(str(err))
                return
            self._error("")
            self._show_evidence()
            self.notify(f"已撤回 {e.filename}，文件留档并标注已撤回。", markup=False)

        self.app.push_screen(PromptModal("撤回证据：序号 空格 理由", "2 误传了其他单位的照片"),
                             done)

    def action_print(self) -> None:
        self.save_now()
        try:
            message = reports.print_report(self.report_id, self.user)
        except UserError as e:
            self._error(str(e))
            return
        self._error("")
        self.notify(message, timeout=10, markup=False)
        self.query_one("#report-status", Static).update(message)

    def action_submit(self) -> None:
        if not self.editable:
            self._error("报告不在草稿状态或您不是检查组成员，不能提交。")
            return
        if not self.save_now():
            return
        missing = reports.missing_fields(self.report_id)
        if missing:
            self._error(f"还需填写：{'、'.join(missing)}。")
            return

        def done(ok: bool) -> None:
            if not ok:
                return
            try:
                self._status = reports.submit_form(self.report_id, self.user)
            except UserError as e:
                self._error(str(e))
                return
            self._apply_mode()
            self._show_evidence()
            self.refresh_bindings()
            self._error("")
            self._show_status()
            self.query_one("#report-form").focus()
            self.notify("报告已提交，等待牵头股室审核。")

        confirm(self, "提交后报告不能再修改，确定提交给牵头股室审核吗？", done)

    def action_back(self) -> None:
        if self.save_now():
            self.app.pop_screen()
            return

        def done(leave: bool) -> None:
            if leave:
                self.app.pop_screen()

        confirm(self, "草稿有未保存的内容，仍要离开吗？", done)
