"""The year's plan (Art. 7, 18) with its compliance per item; a leader approves it here."""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from kiosk import access, compliance, plans
from kiosk.errors import UserError
from screens.base import SignedIn
from screens.widgets.plain_table import PlainTable
from screens.workers import store_worker

RED = "bold red"


def _cell(text: object, bad: bool) -> Text:
    return Text(str(text), style=RED if bad else "")


class PlanScreen(SignedIn, Screen[None]):
    """Items with rounds required, planned, drawn, approved and late (red when short); the
    highlighted item's rounds below, late ones red; its problems as sentences."""

    BINDINGS = [
        Binding("y", "year", "年度", id="plan.year", tooltip="查看另一年度的计划"),
        Binding("n", "make", "编制", id="plan.make",
                tooltip="按事项清单编制本年度计划（已有的任务不变）"),
        Binding("a", "approve", "批准", id="plan.approve", tooltip="局领导批准待批准的任务"),
        Binding("i", "add", "增加", id="plan.add", tooltip="为所选事项增加一轮（须说明理由）"),
        Binding("m", "move", "调月", id="plan.move",
                tooltip="把所选任务调到另一月份（须说明理由）"),
        Binding("c", "cancel_round", "取消", id="plan.cancel",
                tooltip="取消所选任务（须说明理由）"),
        Binding("escape", "back", "返回", id="plan.back", tooltip="返回主页"),
    ]

    def __init__(self, year: int | None = None) -> None:
        super().__init__()
        self.year = year or plans.this_year()
        self.view: list[compliance.ItemCompliance] = []

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        yield Static("", id="plan-caption", classes="caption", markup=False)
        yield PlainTable(id="plan-items", cursor_type="row", zebra_stripes=True)
        yield PlainTable(id="plan-rounds", cursor_type="row", zebra_stripes=True)
        yield Static("", id="plan-note", classes="note", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#plan-items", DataTable).add_columns(
            "事项", "应抽", "计划", "已抽", "批准", "逾期", "情况", "名称")
        self.query_one("#plan-rounds", DataTable).add_columns(
            "任务编号", "月份", "状态", "批准", "摇号日期", "说明")
        self.reload()

    def reload(self) -> None:
        self.query_one("#plan-caption", Static).update(f"{self.year} 年度抽查计划（加载中）")
        self._load(self.year)

    @store_worker(group="plan")
    def _load(self, year: int) -> None:
        view = compliance.year_view(year)
        self.app.call_from_thread(self.show, year, view)

    def show(self, year: int, view: list[compliance.ItemCompliance]) -> None:
        self.view = view
        table = self.query_one("#plan-items", DataTable)
        keep = table.cursor_row
        table.clear()
        for v in view:
            table.add_row(v.code, str(v.required), _cell(v.planned, v.planned < v.required),
                          str(v.done), _cell(v.approved, v.approved < v.planned),
                          _cell(v.late, v.late > 0), _cell("合规" if v.ok else "不合规", not v.ok),
                          v.name, key=v.code)
        short = sum(not v.ok for v in view)
        pending = sum(v.planned - v.approved for v in view)
        self.query_one("#plan-caption", Static).update(
            f"{year} 年度抽查计划：{len(view)} 个事项，{short} 个不合规，{pending} 个任务待批准")
        if view:
            table.move_cursor(row=min(max(keep, 0), len(view) - 1))
        self._show_rounds()
        table.focus()

    def current(self) -> compliance.ItemCompliance | None:
        if not self.view:
            return None
        row = self.query_one("#plan-items", DataTable).cursor_row
        return self.view[min(row, len(self.view) - 1)]

    @on(DataTable.RowHighlighted, "#plan-items")
    def _item_moved(self, event: DataTable.RowHighlighted) -> None:
        self._show_rounds()

    def _show_rounds(self) -> None:
        rounds = self.query_one("#plan-rounds", DataTable)
        rounds.clear()
        v = self.current()
        note = self.query_one("#plan-note", Static)
        if v is None:
            self.note("本年度还没有抽查计划：按 n 按事项清单编制。")
            return
        for r in v.rounds:
            rounds.add_row(_cell(r.code, r.late), _cell(f"{r.month} 月", r.late), r.state_label,
                           _cell("已批准" if r.approved else "待批准", not r.approved),
                           r.drawn_on, r.note.splitlines()[-1] if r.note else "", key=r.code)
        strata = "；".join(
            f"{s.name} {s.set_bp / 100:g}%（下限 {s.minimum_bp / 100:g}%"
            + (f"，实抽 {s.achieved_bp / 100:g}%" if s.achieved_bp is not None else "") + "）"
            for s in v.strata)
        text = f"{v.code} 分层：{strata}"
        if v.problems:
            text += "\n" + "；".join(v.problems)
        note.update(text)
        note.set_class(bool(v.problems), "error")

    def note(self, text: str, *, error: bool = False) -> None:
        box = self.query_one("#plan-note", Static)
        box.update(text)
        box.set_class(error, "error")

    def _act(self, action, ok: str) -> None:
        try:
            action()
        except UserError as e:
            self.note(str(e), error=True)
            return
        self.notify(ok, markup=False)
        self.reload()

    def _may(self, check, refusal: str) -> bool:
        if self.user is None or not check(self.user.role):
            self.note(refusal, error=True)
            return False
        return True

    def selected_round(self) -> str | None:
        v = self.current()
        if v is None or not v.rounds:
            return None
        row = self.query_one("#plan-rounds", DataTable).cursor_row
        return v.rounds[min(row, len(v.rounds) - 1)].code

    def action_year(self) -> None:
        from screens.dialogs import InputModal

        def done(value: str | None) -> None:
            if value is None:
                return
            if not value.strip().isdigit() or not 2000 <= int(value) <= 2100:
                self.note(f"年度“{value}”不正确，应为四位年份。", error=True)
                return
            self.year = int(value)
            self.reload()

        self.app.push_screen(InputModal("查看年度", value=str(self.year)), done)

    def action_make(self) -> None:
        if self._may(access.may_plan, access.MAY_NOT_PLAN):
            u = self.user
            self._act(lambda: plans.make_plan(self.year, u.username, role=u.role),
                      f"{self.year} 年度计划已编制，待局领导批准。")

    def action_approve(self) -> None:
        if not self._may(access.may_approve_plan, access.MAY_NOT_APPROVE_PLAN):
            return
        from screens.dialogs import ConfirmModal

        u = self.user

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._act(lambda: plans.approve(self.year, u.username, role=u.role),
                          f"{self.year} 年度计划已批准。")

        self.app.push_screen(ConfirmModal(f"批准 {self.year} 年度抽查计划中全部待批准的任务？"
                                          "批准后即可摇号（第十八条）。"), confirmed)

    def _reasoned(self, title: str, then) -> None:
        from screens.dialogs import InputModal

        self.app.push_screen(InputModal(title, "调整计划须说明理由", required=True,
                                        empty_message="请填写理由。"),
                             lambda reason: reason is not None and then(reason))

    def _month_then_reason(self, title: str, then) -> None:
        from screens.dialogs import InputModal

        def got(month: str | None) -> None:
            if month is None:
                return
            if not month.strip().isdigit():
                self.note(f"月份“{month}”不正确，应为 1 至 12。", error=True)
                return
            self._reasoned(f"{title}：理由", lambda reason: then(int(month), reason))

        self.app.push_screen(InputModal(f"{title}：月份（1-12）"), got)

    def action_add(self) -> None:
        v = self.current()
        if v is None or not self._may(access.may_plan, access.MAY_NOT_PLAN):
            return
        u = self.user
        self._month_then_reason(f"为 {v.code} 增加一轮", lambda month, reason: self._act(
            lambda: plans.add_round(self.year, v.code, month, reason, u.username, role=u.role),
            f"已为 {v.code} 增加一轮，待局领导批准。"))

    def action_move(self) -> None:
        code = self.selected_round()
        if code is None or not self._may(access.may_plan, access.MAY_NOT_PLAN):
            return
        u = self.user
        self._month_then_reason(f"调整 {code}", lambda month, reason: self._act(
            lambda: plans.move_round(code, month, reason, u.username, role=u.role),
            f"任务 {code} 已调至 {month} 月，待局领导重新批准。"))

    def action_cancel_round(self) -> None:
        code = self.selected_round()
        if code is None or not self._may(access.may_plan, access.MAY_NOT_PLAN):
            return
        u = self.user
        self._reasoned(f"取消任务 {code}", lambda reason: self._act(
            lambda: plans.cancel_round(code, reason, u.username, role=u.role),
            f"任务 {code} 已取消。"))

    def action_back(self) -> None:
        self.app.pop_screen()
