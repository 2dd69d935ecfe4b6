"""我的任务: an inspector's own tasks of sealed draws, each with its report's state and due date."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from peewee import JOIN

from db.models import Assignment, AssignmentMember, Draw, Item, PlanTask, Report, Target, User
from kiosk import access
from kiosk.errors import UserError
from kiosk.reports import due
from kiosk.reports.form import STATES
from kiosk.reports.view import ReportView, view_of
from kiosk.reports.workflow import open_report

NAME_CELLS = 12  # characters of a firm's name: the row fits 80 columns


@dataclass(frozen=True)
class MyTaskRow:
    """One task of the inspector's teams, as the 我的任务 list shows it."""

    task_code: str
    target_name: str
    item_code: str
    report: str  # 未填报, or the report's state
    due_text: str  # the deadline and days left, or what it waits for
    overdue: bool

    def cells(self) -> tuple[str, ...]:
        name = self.target_name
        if len(name) > NAME_CELLS:
            name = name[:NAME_CELLS - 1] + "…"
        return (self.task_code, name, self.item_code, self.report, self.due_text)


def my_tasks(user: User | None, today: dt.date | None = None) -> list[MyTaskRow]:
    """The sealed draws' tasks whose team holds the user's directory entry: open ones first,
    the most urgent first; final reports last. Empty for anyone not linked to an inspector."""
    if user is None or not user.active or user.inspector_id is None:
        return []
    today = today or due.current_date()
    q = (Assignment.select(Assignment, Target, Draw, PlanTask, Item, Report)
         .join(AssignmentMember).switch(Assignment)
         .join(Target).switch(Assignment)
         .join(Draw).join(PlanTask).join(Item).switch(Assignment)
         .join(Report, JOIN.LEFT_OUTER, on=(Report.assignment == Assignment.id), attr="rep")
         .where((AssignmentMember.inspector == user.inspector_id) & (Draw.state == "sealed")))
    rows = []
    for a in q:
        rep = getattr(a, "rep", None)
        if rep is not None and rep.id is None:
            rep = None
        state = rep.state if rep else "none"
        if rep is None or rep.due_date is None:
            text, overdue = "检查结束后 5 个工作日内", False
        else:
            text = f"{rep.due_date:%Y-%m-%d}（{due.days_left_text(rep.due_date, today)}）"
            overdue = rep.due_date < today and state == "draft"
            if state != "draft":
                text = f"{rep.due_date:%Y-%m-%d}"
        rows.append(MyTaskRow(a.task_code, a.target.name, a.draw.task.item.code,
                              STATES.get(state, "未填报"), text, overdue))
    order = {"未填报": 0, STATES["draft"]: 0, STATES["submitted"]: 1, STATES["reviewed"]: 1,
             STATES["final"]: 2}
    rows.sort(key=lambda r: (order[r.report], not r.overdue, r.task_code))
    return rows


def open_my_task(task_code: str, user: User | None) -> ReportView:
    """The report form of one of the user's tasks (a refusal otherwise, logged)."""
    a = Assignment.get_or_none(Assignment.task_code == task_code)
    if a is None:
        raise UserError(f"没有任务 {task_code}。")
    member = access.is_team_member(a, user)
    return view_of(open_report(a, user, member=member), user, member)
