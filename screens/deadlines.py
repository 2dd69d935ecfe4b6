"""Report deadlines (Art. 9: 5 working days): what is due soon and what is overdue."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from kiosk import reports
from screens.base import SignedIn
from screens.widgets.plain_table import PlainTable

VIEWS = ("rows", "inspector", "office")
VIEW_CAPTIONS = {
    "rows": "待完成的检查报告（按期限排序）",
    "inspector": "按检查人员汇总",
    "office": "按股室汇总",
}


class DeadlinesScreen(SignedIn, Screen[None]):
    """The deadline list a user needs (own teams, own office, or all), with summaries."""

    BINDINGS = [
        Binding("t", "toggle", "切换汇总", id="deadlines.toggle",
                tooltip="在明细、按人员汇总、按股室汇总之间切换"),
        Binding("r", "reload", "刷新", id="deadlines.reload", tooltip="重新计算期限"),
        Binding("escape", "back", "返回", id="deadlines.back", tooltip="返回主页"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view = "rows"
        self.rows: list[reports.DeadlineRow] = []

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        yield Static("", id="deadlines-caption")
        yield PlainTable(id="deadlines-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="deadlines-note", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.with_user(lambda u: self.action_reload(), "查看报告期限：请登录")

    def action_reload(self) -> None:
        self.rows = reports.visible_deadlines(self.user)
        self._fill_table()

    def action_toggle(self) -> None:
        self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
        self._fill_table()

    def _fill_table(self) -> None:
        table = self.query_one("#deadlines-table", DataTable)
        table.clear(columns=True)
        self.query_one("#deadlines-caption", Static).update(VIEW_CAPTIONS[self.view])
        if self.view == "rows":
            table.add_columns("任务编号", "被检查单位", "检查人员", "股室", "期限", "状态")
            for r in self.rows:
                table.add_row(r.task_code, r.target_name, "、".join(r.inspectors), r.office,
                              r.due_text, r.status_text)
        else:
            name = "检查人员" if self.view == "inspector" else "股室"
            table.add_columns(name, "待完成", "已逾期", "两天内到期", "未录入期限")
            for s in reports.summarise(self.rows, by=self.view):
                table.add_row(s.name, str(s.total), str(s.overdue), str(s.due_soon),
                              str(s.unknown))
        overdue = sum(r.overdue for r in self.rows)
        note = self.query_one("#deadlines-note", Static)
        if self.user is None:
            note.update("请登录后查看。")
        else:
            # A role without a need for names (operator, witness) is told what this lists.
            note.update(reports.deadlines_overview(self.user)
                        or reports.deadlines_note(self.rows))
        note.set_class(overdue > 0, "error")
        table.focus()

    def action_back(self) -> None:
        self.app.pop_screen()
