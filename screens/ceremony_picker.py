"""Choosing the planned task to draw (Art. 18: only tasks of the approved plan), and
declaring the beacon's source before the pool is frozen."""
from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from kiosk import access, plans
from kiosk.draw import steps
from kiosk.errors import UserError
from screens.dialogs import InputModal
from screens.widgets.plain_table import PlainTable


def _user(app) -> tuple[str, str]:
    """(username, role) of whoever is logged in; least privilege when nobody is."""
    user = getattr(app, "user", None)
    if user is None:
        return "?", "witness"
    return user.username, user.role


class TaskPickerScreen(Screen):
    """The year's planned tasks; Enter opens (or resumes) the task's draw."""

    BINDINGS = [
        Binding("enter", "start", "开始/继续/查看", id="ceremony.picker.start",
                tooltip="冻结所选任务的抽取范围并开始摇号；有未完成的摇号则继续；"
                        "已封存的只读查看，可重印任务单和摇号记录", priority=True),
        Binding("f5", "reload", "刷新", id="ceremony.picker.reload", tooltip="重新读取计划任务"),
        Binding("escape", "back", "返回", id="ceremony.picker.back", tooltip="返回上一屏"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.tasks: list[dict] = []
        self.opening = False

    def compose(self) -> ComposeResult:
        yield Static("摇号：选择计划内的抽查任务", id="picker-title")
        yield Static("只有列入抽查计划的任务才能摇号（第十八条）。↑↓ 选择，Enter 开始；"
                     "已封存的任务 Enter 只读查看，可重印任务单和摇号记录。", id="picker-hint")
        yield PlainTable(id="tasks", cursor_type="row", zebra_stripes=True)
        yield Static("", id="picker-msg", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#tasks", DataTable)
        # 状态 before the item's long name, so it is on screen at 80 columns.
        table.add_columns("任务编号", "状态", "月份", "事项")
        self.action_reload()
        table.focus()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        table = self.query_one("#tasks", DataTable)
        year = plans.this_year()
        self.tasks = sorted(plans.list_tasks(), key=lambda t: (t["year"] != year, -t["year"]))
        table.clear()
        for t in self.tasks:
            table.add_row(t["code"], t["state_label"], f"{t['month']}月",
                          f"{t['item_code']} {t['item']}", key=t["code"])
        if not self.tasks:
            self._say("本年度没有计划任务。请先制定抽查计划。")

    def _say(self, text: str, error: bool = False) -> None:
        msg = self.query_one("#picker-msg", Static)
        msg.update(text)
        msg.set_class(error, "error")

    def action_start(self) -> None:
        if not self.tasks or self.opening:
            return
        task = self.tasks[self.query_one("#tasks", DataTable).cursor_row]
        role = _user(self.app)[1]
        if not access.may_run_draw(role):
            self._say(access.MAY_NOT_RUN_DRAW, error=True)
            return
        if task["state"] == "drawn":  # sealed: reopen read-only, with its reprint keys
            self._reopen_sealed(task["code"])
            return
        if task["state"] == "drawing":  # resume: the source was declared when it was opened
            self._begin(task["code"], "")
            return

        def declared(source: str | None) -> None:
            if source is not None:
                self._begin(task["code"], source)

        self.app.push_screen(InputModal(
            "声明公开信标来源",
            "如使用公开信标（冻结范围后才公布的数值，如某日福彩开奖号码），请写明来源，"
            "它将印在预抽签表上；不使用请直接按 Enter。",
            placeholder="公开信标来源（可留空）"), declared)

    def _reopen_sealed(self, code: str) -> None:
        from kiosk.draw.view import sealed_draw

        draw_id = sealed_draw(code)
        if draw_id is None:
            self._say(f"任务 {code} 没有封存的摇号结果。", error=True)
            return
        self._opened(draw_id, "")

    def _begin(self, code: str, beacon_source: str) -> None:
        self.opening = True
        self._say(f"正在冻结任务 {code} 的抽取范围……")
        username, role = _user(self.app)
        self._open(code, username, role, beacon_source)

    @work(thread=True, exclusive=True, group="prepare")
    def _open(self, code: str, username: str, role: str, beacon_source: str) -> None:
        # Freezing a province-sized pool takes seconds: off the UI thread, so the screen lives.
        from screens.workers import store_connection

        with store_connection():
            try:
                draw = steps.prepare(code, username, role=role, beacon_source=beacon_source)
            except UserError as e:
                self.app.call_from_thread(self._opened, None, str(e))
            else:
                self.app.call_from_thread(self._opened, draw.id, "")

    def _opened(self, draw_id: int | None, error: str) -> None:
        self.opening = False
        if draw_id is None:
            self._say(error, error=True)
            return
        self._say("")
        from screens.ceremony import CeremonyScreen  # it imports this module

        self.app.push_screen(CeremonyScreen(draw_id))

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
