"""我的任务: an inspector's own tasks with each report's state and due date; Enter opens one."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from kiosk import reports
from kiosk.errors import UserError
from screens.base import SignedIn
from screens.widgets.plain_table import PlainTable


class MyTasksScreen(SignedIn, Screen[None]):
    """The tasks of the signed-in inspector's teams (sealed draws only), open ones first."""

    BINDINGS = [
        Binding("enter", "open", "填报", id="my_tasks.open", tooltip="打开所选任务的检查报告"),
        Binding("r", "reload", "刷新", id="my_tasks.reload", tooltip="重新读取任务和期限"),
        Binding("escape", "back", "返回", id="my_tasks.back", tooltip="返回主页"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[reports.MyTaskRow] = []

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        yield Static("我的检查任务（报告期限：检查结束后 5 个工作日，第九条）",
                     id="my-tasks-caption")
        yield PlainTable(id="my-tasks-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="my-tasks-note", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#my-tasks-table", DataTable).add_columns(
            "任务编号", "被检查单位", "事项", "报告", "期限")
        self.action_reload()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        table = self.query_one("#my-tasks-table", DataTable)
        row = table.cursor_row
        table.clear()
        self.rows = reports.my_tasks(self.user)
        for r in self.rows:
            table.add_row(*r.cells())
        if self.rows:
            table.move_cursor(row=min(row, len(self.rows) - 1))
        overdue = sum(r.overdue for r in self.rows)
        if self.user is None or self.user.inspector_id is None:
            text = "此列表属于检查人员：您的账户未关联执法人员名录，没有检查任务。"
        elif not self.rows:
            text = "您目前没有已封存摇号的检查任务。"
        else:
            text = f"共 {len(self.rows)} 项任务，其中报告已逾期 {overdue} 项。Enter 打开报告。"
        note = self.query_one("#my-tasks-note", Static)
        note.update(text)
        note.set_class(overdue > 0, "error")
        table.focus()

    @on(DataTable.RowSelected, "#my-tasks-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        from screens.report import ReportScreen

        if not self.rows:
            return
        row = self.rows[self.query_one("#my-tasks-table", DataTable).cursor_row]
        try:
            view = reports.open_my_task(row.task_code, self.user)
        except UserError as e:
            self.query_one("#my-tasks-note", Static).update(str(e))
            return
        self.app.push_screen(ReportScreen(view))

    def action_back(self) -> None:
        self.app.pop_screen()
