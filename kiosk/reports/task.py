"""The task around a report: its row looked up, its item and team, the context the form shows."""
from __future__ import annotations

from dataclasses import dataclass

from db.models import (
    Assignment,
    AssignmentMember,
    Draw,
    Inspector,
    Item,
    PlanTask,
    Rectification,
    Report,
    User,
)
from kiosk.errors import UserError

# Services take a Report row (the domain's and the tests' way) or its id (the screens' way:
# they hold view models, never rows).
ReportRef = Report | int


def actor_of(user: User | None) -> str:
    return user.username if user is not None else "?"


def get(report_id: int) -> Report:
    report = Report.get_or_none(Report.id == report_id)
    if report is None:
        raise UserError("找不到该报告。")
    return report


def report_id(report: ReportRef) -> int:
    return report if isinstance(report, int) else report.id


def fresh(report: ReportRef) -> Report:
    """The report as stored now."""
    return get(report_id(report))


def get_rectification(rect_id: int) -> Rectification:
    rect = Rectification.get_or_none(Rectification.id == rect_id)
    if rect is None:
        raise UserError("找不到该整改记录。")
    return rect


def item_of(assignment: Assignment) -> Item:
    return (Item.select().join(PlanTask).join(Draw)
            .where(Draw.id == assignment.draw_id).get())


def team_of(assignment: Assignment) -> list[Inspector]:
    q = (Inspector.select().join(AssignmentMember)
         .where(AssignmentMember.assignment == assignment)
         .order_by(AssignmentMember.position))
    return list(q)


@dataclass(frozen=True)
class ReportContext:
    """What the report form shows around the fields: the task, its target and team."""

    task_code: str
    target_name: str
    target_uscc: str
    target_address: str
    item_code: str
    item_name: str
    lead_office: str
    team: tuple[tuple[str, str], ...]  # (name, cert_no)


def context(report: ReportRef) -> ReportContext:
    a = (report if isinstance(report, Report) else get(report)).assignment
    item = item_of(a)
    t = a.target
    return ReportContext(a.task_code, t.name, t.uscc, t.address, item.code, item.name,
                         item.lead_office, tuple((i.name, i.cert_no) for i in team_of(a)))
