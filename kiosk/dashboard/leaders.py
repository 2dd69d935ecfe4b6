"""The leaders' dashboard (Art. 14, 15, 17, 19): what needs a leader's attention, and the
year-end figures per office and per inspector, as plain data for the screen, CLI and workbook.

A task belongs to the year of its sealed draw's draw date; an office is the item's lead office
(责任股室), which answers for the task; every team member counts the task as theirs.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from peewee import JOIN, fn

from db.models import (
    Assignment,
    AssignmentMember,
    Draw,
    Inspector,
    Item,
    PlanTask,
    Report,
    Target,
    Training,
)
from kiosk import access, cases, sanctions
from kiosk.errors import UserError
from kiosk.reports import due

# Art. 15 asks for training every year; a certificate this close to its end needs renewing
# before the next draws (an expired one already keeps the inspector out of pools).
CERT_WARNING_DAYS = 60
SUBMITTED = ("submitted", "reviewed", "final")


@dataclass(frozen=True)
class Aborted:
    task_code: str
    item_code: str
    attempt: int
    day: dt.date
    reason: str


@dataclass(frozen=True)
class InspectorGap:
    """An inspector without a training this year, or whose certificate ends soon."""

    cert_no: str
    name: str
    office: str
    last_training: dt.date | None
    cert_valid_until: dt.date | None
    no_training: bool
    cert_days_left: int | None  # set when within CERT_WARNING_DAYS (negative: expired)

    @property
    def note(self) -> str:
        parts = []
        if self.no_training:
            parts.append("本年度未参加培训")
        if self.cert_days_left is not None:
            parts.append(f"执法证已过期 {-self.cert_days_left} 天" if self.cert_days_left < 0
                         else f"执法证 {self.cert_days_left} 天后到期")
        return "；".join(parts)


@dataclass(frozen=True)
class Coverage:
    """The share of an item's directory (active targets of its category) inspected this year."""

    item_code: str
    item_name: str
    directory: int
    drawn: int
    inspected: int  # drawn targets whose report was submitted

    @property
    def share(self) -> float:
        return self.inspected / self.directory if self.directory else 0.0

    @property
    def share_text(self) -> str:
        return f"{self.share * 100:.1f}%"


@dataclass
class Tally:
    """Year-end figures of one office or one inspector (Art. 19)."""

    name: str
    office: str = ""
    tasks: int = 0
    on_time: int = 0  # reports submitted within their deadline
    late: int = 0  # submitted after it, or still owed past it
    findings: int = 0  # final reports with a finding to follow (Art. 10)


@dataclass
class Board:
    year: int
    today: dt.date
    overdue_reports: list[due.DeadlineRow] = field(default_factory=list)
    overdue_cases: list[cases.CaseRow] = field(default_factory=list)
    aborted: list[Aborted] = field(default_factory=list)
    gaps: list[InspectorGap] = field(default_factory=list)
    coverage: list[Coverage] = field(default_factory=list)
    offices: list[Tally] = field(default_factory=list)
    inspectors: list[Tally] = field(default_factory=list)
    # Open tasks of inspectors barred by a sanction or 离岗, to reassign (Art. 18).
    reassign: list[sanctions.OpenTask] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "year": self.year, "today": str(self.today),
            "overdue_reports": [{"task": r.task_code, "target": r.target_name,
                                 "office": r.office, "due": str(r.due_date),
                                 "days_over": -r.days_left} for r in self.overdue_reports],
            "overdue_cases": [c.as_json() for c in self.overdue_cases],
            "aborted": [asdict(a) | {"day": str(a.day)} for a in self.aborted],
            "inspectors_to_train_or_renew": [
                {"cert_no": g.cert_no, "name": g.name, "office": g.office,
                 "last_training": str(g.last_training) if g.last_training else None,
                 "cert_valid_until": str(g.cert_valid_until) if g.cert_valid_until else None,
                 "note": g.note} for g in self.gaps],
            "coverage": [asdict(c) | {"share": round(c.share, 4)} for c in self.coverage],
            "offices": [asdict(t) for t in self.offices],
            "inspectors": [asdict(t) for t in self.inspectors],
            "to_reassign": [t.as_json() for t in self.reassign],
        }


def overdue_reports(today: dt.date) -> list[due.DeadlineRow]:
    """Drafts past their deadline, as the Deadlines screen shows them, earliest first. Only
    a draft can be overdue (no report yet means no inspection end, so no deadline): one
    query on reports, not the deadline list's walk over every open task."""
    q = (Report.select(Report.due_date, Report.due_provisional, Assignment.id,
                       Assignment.task_code, Target.name, Item.lead_office)
         .join(Assignment).join(Target).switch(Assignment).join(Draw).join(PlanTask).join(Item)
         .where((Draw.state == "sealed") & (Report.state == "draft")
                & (Report.due_date < today))
         .order_by(Report.due_date, Assignment.task_code))
    rows = list(q.tuples())
    teams: dict[int, list[str]] = {}
    for aid, name in (AssignmentMember.select(AssignmentMember.assignment, Inspector.name)
                      .join(Inspector)
                      .where(AssignmentMember.assignment.in_([r[2] for r in rows]))
                      .order_by(AssignmentMember.assignment, AssignmentMember.position)
                      .tuples()):
        teams.setdefault(aid, []).append(name)
    return [due.DeadlineRow(task_code=code, target_name=target,
                            inspectors=tuple(teams.get(aid, ())), office=office,
                            due_date=day, days_left=(day - today).days,
                            overdue=True, provisional=bool(provisional), state="draft")
            for day, provisional, aid, code, target, office in rows]


def aborted_attempts(year: int) -> list[Aborted]:
    q = (Draw.select(PlanTask.code, Item.code, Draw.attempt_no, Draw.updated_at,
                     Draw.abort_reason)
         .join(PlanTask).join(Item)
         .where((Draw.state == "aborted") & (PlanTask.year == year))
         .order_by(Draw.updated_at, Draw.id))
    return [Aborted(task, item, n, at.date(), reason) for task, item, n, at, reason in q.tuples()]


def inspector_gaps(year: int, today: dt.date) -> list[InspectorGap]:
    """Active inspectors with no training in `year` (Art. 15) or a certificate ending within
    CERT_WARNING_DAYS of `today`."""
    last = dict(Training.select(Training.inspector, fn.MAX(Training.date))
                .where(Training.date <= dt.date(year, 12, 31))
                .group_by(Training.inspector).tuples())
    warn = today + dt.timedelta(days=CERT_WARNING_DAYS)
    out = []
    for ins in (Inspector.select().where(Inspector.active == True)  # noqa: E712
                .order_by(Inspector.office, Inspector.cert_no)):
        lt = last.get(ins.id)
        lt = lt.date() if isinstance(lt, dt.datetime) else lt
        no_training = lt is None or lt.year < year
        until = ins.cert_valid_until
        days = (until - today).days if until is not None and until <= warn else None
        if no_training or days is not None:
            out.append(InspectorGap(ins.cert_no, ins.name, ins.office, lt, until, no_training,
                                    days))
    return out


def _categories_of(item: Item, categories: list[str]) -> list[str]:
    # As the pool has it: an item for 用人单位 covers every 用人单位-<industry> category too.
    return [c for c in categories if c == item.category or c.startswith(item.category + "-")]


def _year_draws(year: int):
    return (Draw.state == "sealed") & (Draw.draw_date >= dt.date(year, 1, 1)) & (
        Draw.draw_date <= dt.date(year, 12, 31))


def coverage(year: int) -> list[Coverage]:
    per_category = dict(Target.select(Target.category, fn.COUNT(Target.id))
                        .where(Target.active == True)  # noqa: E712
                        .group_by(Target.category).tuples())
    drawn: dict[int, set[int]] = {}
    inspected: dict[int, set[int]] = {}
    q = (Assignment.select(PlanTask.item, Assignment.target, Report.state)
         .join(Draw).join(PlanTask).switch(Assignment)
         .join(Report, JOIN.LEFT_OUTER, on=(Report.assignment == Assignment.id))
         .where(_year_draws(year)))
    for item_id, target_id, state in q.tuples():
        drawn.setdefault(item_id, set()).add(target_id)
        if state in SUBMITTED:
            inspected.setdefault(item_id, set()).add(target_id)
    out = []
    for item in Item.select().where(Item.active == True).order_by(Item.code):  # noqa: E712
        directory = sum(per_category[c] for c in _categories_of(item, list(per_category)))
        out.append(Coverage(item.code, item.name, directory, len(drawn.get(item.id, ())),
                            len(inspected.get(item.id, ()))))
    return out


def tallies(year: int, today: dt.date) -> tuple[list[Tally], list[Tally]]:
    """(per office, per inspector), by name."""
    q = (Assignment.select(Assignment.id, Item.lead_office, Report.state, Report.due_date,
                           Report.submitted_at, Report.finding)
         .join(Draw).join(PlanTask).join(Item).switch(Assignment)
         .join(Report, JOIN.LEFT_OUTER, on=(Report.assignment == Assignment.id))
         .where(_year_draws(year)))
    tasks = {}
    for aid, office, state, due_date, submitted_at, finding in q.tuples():
        submitted = state in SUBMITTED and submitted_at is not None
        on_time = submitted and due_date is not None and submitted_at.date() <= due_date
        late = (submitted and due_date is not None and submitted_at.date() > due_date) or (
            not submitted and due_date is not None and due_date < today)
        found = state == "final" and finding in cases.KINDS
        tasks[aid] = (office, on_time, late, found)
    offices: dict[str, Tally] = {}
    for office, on_time, late, found in tasks.values():
        _add(offices.setdefault(office, Tally(office, office)), on_time, late, found)
    people: dict[str, Tally] = {}
    if tasks:
        mq = (AssignmentMember.select(AssignmentMember.assignment, Inspector.cert_no,
                                      Inspector.name, Inspector.office)
              .join(Inspector).where(AssignmentMember.assignment.in_(list(tasks))))
        for aid, cert, name, office in mq.tuples():
            _, on_time, late, found = tasks[aid]
            _add(people.setdefault(cert, Tally(f"{name}（{cert}）", office)), on_time, late,
                 found)
    return (sorted(offices.values(), key=lambda t: t.name),
            sorted(people.values(), key=lambda t: (t.office, t.name)))


def _add(t: Tally, on_time: bool, late: bool, found: bool) -> None:
    t.tasks += 1
    t.on_time += on_time
    t.late += late
    t.findings += found


def board(year: int | None = None, today: dt.date | None = None) -> Board:
    """Every figure of the leaders' dashboard for `year` (this year by default)."""
    today = today or due.current_date()
    year = year or today.year
    offices, people = tallies(year, today)
    return Board(
        year=year, today=today,
        overdue_reports=overdue_reports(today),
        overdue_cases=cases.rows(None, overdue_only=True, today=today),
        aborted=aborted_attempts(year), gaps=inspector_gaps(year, today),
        coverage=coverage(year), offices=offices, inspectors=people,
        reassign=sanctions.open_tasks(today))


def board_for(user, year: int | None = None, today: dt.date | None = None) -> Board:
    """The board as a leader or an auditor asks for it (screen and CLI alike)."""
    if user is None or not access.may_read_leader_dashboards(user.role):
        raise UserError(access.MAY_NOT_READ_LEADER_DASHBOARD)
    from dataclasses import replace

    from kiosk.confidential import mask_names  # Art. 12: task codes until published

    b = board(year, today)
    return replace(b, overdue_reports=mask_names(user, b.overdue_reports))
