"""Cases (Art. 10): every finding followed to its end; overdue ones first and in red."""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from kiosk import access, cases
from kiosk.errors import UserError
from screens.base import SignedIn
from screens.widgets.plain_table import PlainTable

FILTERS = ("open", "overdue", "all")
FILTER_CAPTIONS = {"open": "未结案件", "overdue": "逾期案件", "all": "全部案件（含已结案）"}


DATE_FIELDS = ("date", "deadline", "start", "end")


class FieldsModal(ModalScreen[dict | None]):
    """A few fields, one line each (a step of a case, a sanction); Enter on the last (or
    Ctrl+S) gives them as a dict, Escape gives None. Up/Down move between the lines."""

    BINDINGS = [
        Binding("escape", "cancel", "取消", key_display="Esc", id="case_step.cancel",
                tooltip="不填写，返回上一画面"),
        Binding("ctrl+s", "done", "提交", id="case_step.done", tooltip="提交所填内容"),
        Binding("up", "app.focus_previous", "上一项", show=False, id="case_step.up",
                tooltip="移到上一项"),
        Binding("down", "app.focus_next", "下一项", show=False, id="case_step.down",
                tooltip="移到下一项"),
    ]

    def __init__(self, title: str, fields: tuple[tuple[str, str], ...]) -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="case-step"):
            yield Static(self.title_text, classes="dialog-title", markup=False)
            for name, label in self.fields:
                yield Static(label, classes="case-step-label")
                yield Input(id=f"case-{name}", compact=True,
                            placeholder="YYYY-MM-DD" if name in DATE_FIELDS else "")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        event.stop()
        inputs = list(self.query(Input))
        if event.input is inputs[-1]:
            self.action_done()
        else:
            inputs[inputs.index(event.input) + 1].focus()

    def action_done(self) -> None:
        self.dismiss({name: self.query_one(f"#case-{name}", Input).value
                      for name, _ in self.fields})

    def action_cancel(self) -> None:
        self.dismiss(None)


class CasesScreen(SignedIn, Screen[None]):
    """The cases the user may see (a reviewer their office's), with the next step of each."""

    BINDINGS = [
        Binding("s", "step(0)", "办理", id="cases.step",
                tooltip="办理所选案件的下一步（复查、处罚决定、缴纳、移送、结案）"),
        Binding("a", "step(1)", "复议诉讼", id="cases.alt_step",
                tooltip="所选处罚案件：记录申请复议或提起诉讼"),
        Binding("f", "filter", "筛选", id="cases.filter", tooltip="未结 / 逾期 / 全部 之间切换"),
        Binding("r", "reload", "刷新", id="cases.reload", tooltip="重新读取案件"),
        Binding("escape", "back", "返回", id="cases.back", tooltip="返回主页"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filter = "open"
        self.rows: list[cases.CaseRow] = []

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        yield Static("", id="cases-caption", markup=False)
        yield PlainTable(id="cases-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="cases-detail", markup=False)  # typed case notes
        yield Static("", id="cases-note", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("编号", "任务编号", "类别", "状态", "期限",
                                              "被检查单位")
        self.when_allowed(access.may_read_cases, access.MAY_NOT_READ_CASES,
                          "执法案件：请审核人或局领导登录", self.action_reload, self._say)

    def action_reload(self, keep: int | None = None) -> None:
        self.rows = cases.rows(self.user, open_only=self.filter != "all",
                               overdue_only=self.filter == "overdue")
        table = self.query_one(DataTable)
        table.clear()
        for r in self.rows:
            status = Text(r.status_text, style="bold red") if r.overdue else r.status_text
            table.add_row(str(r.id), r.task_code, r.kind, status, r.deadline_text or "—",
                          r.target_name, key=str(r.id))
        overdue = sum(r.overdue for r in self.rows)
        self.query_one("#cases-caption", Static).update(
            f"{FILTER_CAPTIONS[self.filter]}：共 {len(self.rows)} 件，逾期 {overdue} 件")
        if keep is not None:
            ids = [r.id for r in self.rows]
            if keep in ids:
                table.move_cursor(row=ids.index(keep))
        table.focus()
        self._show_detail()

    @on(DataTable.RowHighlighted)
    def _show_detail(self) -> None:
        row = self._current()
        detail = self.query_one("#cases-detail", Static)
        if row is None:
            detail.update("")
            return
        steps = "、".join(cases.STEPS[s].label for s in row.steps) or "无（已结案）"
        detail.update(f"{row.office}  {row.uscc}\n{row.detail or '尚无办理记录'}\n下一步：{steps}")

    def _current(self) -> cases.CaseRow | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row is None or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def action_filter(self) -> None:
        self.filter = FILTERS[(FILTERS.index(self.filter) + 1) % len(FILTERS)]
        self._say("")
        self.action_reload()

    def action_step(self, which: int) -> None:
        row = self._current()
        if row is None:
            self._say("请先选择一个案件。", error=True)
            return
        if which >= len(row.steps):
            self._say(f"案件当前为“{row.state_label}”，没有这一步可办理。", error=True)
            return
        step = cases.STEPS[row.steps[which]]

        def done(values: dict | None) -> None:
            if values is None:
                return
            try:
                case = cases.take_step(row.id, step.name, values, self.user)
            except UserError as e:
                self._say(str(e), error=True)
                return
            self._say(f"案件 {case.id}：{step.label}已记录，现为“{cases.state_label(case)}”。")
            self.action_reload(keep=case.id)

        self.app.push_screen(FieldsModal(f"{row.task_code} {row.kind}：{step.label}",
                                           step.fields), done)

    def _say(self, text: str, error: bool = False) -> None:
        note = self.query_one("#cases-note", Static)
        note.update(text)
        note.set_class(error, "error")

    def action_back(self) -> None:
        self.app.pop_screen()
