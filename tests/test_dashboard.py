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


def test_due_soon_is_the_deadlines_screens_rule(db, monkeypatch):
    """Due within two days counts as soon, as on the Deadlines screen; the clock is the
    domain's, so a pinned day moves both."""
    from kiosk import reports
    from kiosk.reports import due

    demo.build(n_targets=300, today=TODAY)
    monkeypatch.setattr(due, "current_date", lambda: TODAY)
    a = list(Assignment.select().order_by(Assignment.position).limit(3))
    for k, days in enumerate((0, 2, 3)):
        Report.create(assignment=a[k], state="draft", due_date=TODAY + dt.timedelta(days=days))
    s = dashboard.summary()
    assert (s["reports_overdue"], s["reports_due_soon"]) == (0, 2)
    rows = [r for r in reports.deadlines() if r.due_date is not None]
    assert sum(r.days_left <= due.DUE_SOON_DAYS for r in rows) == s["reports_due_soon"]
    assert [r.status for r in rows] == ["今天到期", "剩 2 天", "剩 3 天"]
    monkeypatch.setattr(due, "current_date", lambda: TODAY + dt.timedelta(days=1))
    assert (dashboard.summary()["reports_overdue"], dashboard.summary()["reports_due_soon"]) == (
        1, 2)
