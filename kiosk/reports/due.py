"""What is due (Art. 9: a report within 5 working days; Art. 10: rectification deadlines):
the deadline rows and summaries, and the one days-left text every screen shows."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from peewee import JOIN

from db.models import (
    Assignment,
    AssignmentMember,
    Draw,
    Inspector,
    Item,
    PlanTask,
    Report,
    Target,
    User,
)
from kiosk import access

# Days ahead (inclusive) that the deadline summaries count as "due soon".
DUE_SOON_DAYS = 2


def current_date() -> dt.date:
    """Today, as every deadline computation here sees it (tests pin it by replacing this)."""
    return dt.date.today()


def days_text(days: int, late: str = "已逾期") -> str:
    """'剩 3 天', '今天到期' or '已逾期 2 天' (`late` words the overdue case, e.g. 已超期)."""
    if days < 0:
        return f"{late} {-days} 天"
    if days == 0:
        return "今天到期"
    return f"剩 {days} 天"


def days_left_text(due: dt.date, today: dt.date | None = None, late: str = "已逾期") -> str:
    """The days-left text of a due date, counted from today (the pinned clock)."""
    return days_text((due - (today or current_date())).days, late)


def due_line(due: dt.date | None, today: dt.date | None = None) -> str:
    """The report form's deadline line."""
    if due is None:
        return "报告期限：录入检查结束时间后计算"
    return f"报告期限 {due.isoformat()}（{days_left_text(due, today)}）"


@dataclass(frozen=True)
class DeadlineRow:
    task_code: str
    target_name: str
    inspectors: tuple[str, ...]
    office: str
    due_date: dt.date | None  # None: the inspection end is not entered yet (未录入)
    days_left: int | None  # calendar days; negative when overdue
    overdue: bool
    provisional: bool
    state: str  # 'none' (not opened) or 'draft'

    @property
    def status(self) -> str:
        if self.due_date is None:
            return "未录入"
        return days_text(self.days_left)

    @property
    def due_text(self) -> str:
        """The deadline column: the date, '*' when the year's calendar is provisional."""
        if self.due_date is None:
            return "未录入"
        return self.due_date.isoformat() + ("*" if self.provisional else "")

    @property
    def status_text(self) -> str:
        """The status column: days left, and whether the report was ever opened."""
        return self.status + ("（报告未打开）" if self.state == "none" else "")


def deadlines(today: dt.date | None = None) -> list[DeadlineRow]:
    """Reports still owed by inspectors (no report yet, or a draft), most urgent first."""
    today = today or current_date()
    q = (Assignment.select(Assignment, Target, Draw, PlanTask, Item, Report)
         .join(Target).switch(Assignment)
         .join(Draw).join(PlanTask).join(Item).switch(Assignment)
         .join(Report, JOIN.LEFT_OUTER, on=(Report.assignment == Assignment.id), attr="rep")
         .where((Draw.state == "sealed") & (Assignment.state != "final")
                & (Report.id.is_null() | (Report.state == "draft"))))
    rows_q = list(q)
    teams: dict[int, list[str]] = {}
    if rows_q:
        mq = (AssignmentMember.select(AssignmentMember.assignment, Inspector.name)
              .join(Inspector)
              .where(AssignmentMember.assignment.in_([a.id for a in rows_q]))
              .order_by(AssignmentMember.assignment, AssignmentMember.position))
        for m in mq:
            teams.setdefault(m.assignment_id, []).append(m.inspector.name)
    out = []
    for a in rows_q:
        rep = getattr(a, "rep", None)
        if rep is not None and rep.id is None:
            rep = None
        due = rep.due_date if rep else None
        days = (due - today).days if due else None
        out.append(DeadlineRow(
            task_code=a.task_code, target_name=a.target.name,
            inspectors=tuple(teams.get(a.id, ())), office=a.draw.task.item.lead_office,
            due_date=due, days_left=days, overdue=days is not None and days < 0,
            provisional=bool(rep.due_provisional) if rep else False,
            state=rep.state if rep else "none"))
    out.sort(key=lambda r: (r.due_date is None, r.due_date or dt.date.max, r.task_code))
    return out


def visible_deadlines(user: User | None, today: dt.date | None = None) -> list[DeadlineRow]:
    """Deadline rows a user needs to see (Art. 12: drawn targets only to those who need them):
    an inspector their own teams', a reviewer their office's, a leader or admin all."""
    if user is None or not user.active:
        return []
    scope = access.review_scope(user)
    if scope is None and not (access.may_enter_reports(user.role)
                              and user.inspector_id is not None):
        return []
    rows = deadlines(today)
    if scope == access.ALL_OFFICES:
        from kiosk.confidential import mask_names  # Art. 12: no firm names without a need

        return mask_names(user, rows)
    if scope is not None:
        return [r for r in rows if r.office == scope]
    codes = {a.task_code for a in Assignment.select(Assignment.task_code)
             .join(AssignmentMember)
             .where(AssignmentMember.inspector == user.inspector_id)}
    return [r for r in rows if r.task_code in codes]


def sees_deadline_rows(user: User | None) -> bool:
    """Whether visible_deadlines lists rows for this user (their teams, office, or all)."""
    if user is None or not user.active:
        return False
    return access.review_scope(user) is not None or (
        access.may_enter_reports(user.role) and user.inspector_id is not None)


def deadlines_overview(user: User | None, today: dt.date | None = None) -> str:
    """For a role that sees no deadline rows (an operator, a witness): what this screen lists
    for whom, and the open reports counted without names (Art. 12), instead of "共 0 项"."""
    if user is None or sees_deadline_rows(user):
        return ""
    rows = deadlines(today)
    overdue = sum(r.overdue for r in rows)
    unknown = sum(r.due_date is None for r in rows)
    role = access.ROLES.get(user.role, user.role)
    return (f"此画面列出检查人员本组、责任股室本股室的待完成报告；{role}不查看被检查单位明细"
            f"（第十二条）。全局共 {len(rows)} 项报告待完成：已逾期 {overdue} 项，"
            f"未录入检查时间 {unknown} 项。")


def deadlines_note(rows: list[DeadlineRow]) -> str:
    """The sentence under the deadline list."""
    overdue = sum(r.overdue for r in rows)
    text = f"共 {len(rows)} 项待完成，其中已逾期 {overdue} 项。"
    if any(r.provisional for r in rows):
        text += " *日历为临时（该年度节假日安排未公布）。"
    return text


@dataclass(frozen=True)
class DeadlineSummary:
    name: str
    total: int
    overdue: int
    due_soon: int  # due within DUE_SOON_DAYS days
    unknown: int  # inspection end not entered


def summarise(rows: list[DeadlineRow], by: str = "inspector") -> list[DeadlineSummary]:
    """Per inspector (each team member counts) or per office."""
    acc: dict[str, list[int]] = {}
    for r in rows:
        keys = r.inspectors if by == "inspector" else (r.office,)
        for k in keys:
            c = acc.setdefault(k, [0, 0, 0, 0])
            c[0] += 1
            c[1] += r.overdue
            c[2] += r.days_left is not None and 0 <= r.days_left <= DUE_SOON_DAYS
            c[3] += r.due_date is None
    out = [DeadlineSummary(k, *v) for k, v in acc.items()]
    out.sort(key=lambda s: (-s.overdue, -s.due_soon, s.name))
    return out
