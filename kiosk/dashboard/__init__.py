"""The dashboards: the home figures (here) and the leaders' supervision (leaders, workbook)."""
from __future__ import annotations

import datetime as dt

from peewee import fn

from db.models import Conflict, Inspector, Item, PlanTask, Report, Target, Training
from kiosk import audit, cases
from kiosk.reports import due

# Calendar days ahead that count as "due soon": the Deadlines screen's rule (两天内到期), so the
# home screen and that screen never disagree. The legal deadline itself is on working days.
DUE_SOON_DAYS = due.DUE_SOON_DAYS

PLAN_STATES = ("planned", "drawing", "drawn", "cancelled")


def _count(model) -> int:
    # COUNT(id) straight on the table: peewee's .count() wraps the query in a subselect.
    return int(model.select(fn.COUNT(model.id)).scalar() or 0)


def summary(today: dt.date | None = None) -> dict:
    """Numbers for the home screen. Only COUNT queries: fast on a million targets."""
    today = today or due.current_date()
    year = today.year
    plan = {state: 0 for state in PLAN_STATES}
    rows = (PlanTask.select(PlanTask.state, fn.COUNT(PlanTask.id))
            .where(PlanTask.year == year).group_by(PlanTask.state).tuples())
    for state, n in rows:
        plan[state] = plan.get(state, 0) + int(n)

    # What inspectors still owe, as the Deadlines screen counts it: a submitted report waits
    # on its reviewer, not on its inspector.
    pending = (Report.state == "draft") & Report.due_date.is_null(False)
    overdue = int(Report.select(fn.COUNT(Report.id))
                  .where(pending & (Report.due_date < today)).scalar() or 0)
    due_soon = int(Report.select(fn.COUNT(Report.id))
                   .where(pending & (Report.due_date >= today)
                          & (Report.due_date <= today + dt.timedelta(days=DUE_SOON_DAYS)))
                   .scalar() or 0)
    seq, head_hash = audit.head()
    return {
        "counts": {
            "items": _count(Item),
            "inspectors": _count(Inspector),
            "targets": _count(Target),
            "conflicts": _count(Conflict),
            "trainings": _count(Training),
        },
        "year": year,
        "plan": plan,
        "plan_total": sum(plan.values()),
        "reports_due_soon": due_soon,
        "reports_overdue": overdue,
        "cases_overdue": cases.overdue_count(today),  # Art. 10: findings past their step
        "audit_seq": seq,
        "audit_head": head_hash,
    }
