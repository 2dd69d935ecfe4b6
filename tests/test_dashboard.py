"""The home dashboard's figures agree with the Deadlines screen's rule."""
from __future__ import annotations

import datetime as dt

from db.models import Assignment, Report
from kiosk import dashboard, demo

TODAY = dt.date(2026, 6, 1)


def test_dashboard_counts(db):
    demo.build(n_targets=300, today=TODAY)
    a = list(Assignment.select().order_by(Assignment.position).limit(4))
    Report.create(assignment=a[0], state="draft", due_date=TODAY - dt.timedelta(days=2))
    Report.create(assignment=a[1], state="submitted", due_date=TODAY - dt.timedelta(days=2))
    Report.create(assignment=a[2], state="draft", due_date=TODAY + dt.timedelta(days=1))
    Report.create(assignment=a[3], state="draft", due_date=TODAY + dt.timedelta(days=30))
    s = dashboard.summary(TODAY)
    assert (s["reports_overdue"], s["reports_due_soon"]) == (1, 1)
    assert s["counts"]["targets"] == 300 and s["counts"]["items"] == len(demo.ITEMS)
    assert s["plan"]["drawn"] == 1 and s["plan_total"] == 3 * len(demo.ITEMS)
