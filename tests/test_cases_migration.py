"""Schema v9 gives the final reports of an older store their cases: a rectification's case
with its deadline and close, a penalty's and a transfer's with the step's deadline."""
from __future__ import annotations

import datetime as dt

from db.migrations import _v9_cases_and_sanctions
from db.models import EnforcementCase, Rectification, Report
from tests.test_reports import build_world


def test_v9_opens_the_cases_of_older_final_reports(db):
    w = build_world()
    finalised = dt.datetime(2025, 10, 1, 9, 0)
    reports = []
    for a, finding in zip(w.assignments, ("责令整改", "行政处罚", "移送司法机关"), strict=True):
        reports.append(Report.create(assignment=a, state="final", finding=finding,
                                     rectify_deadline=dt.date(2025, 10, 31)
                                     if finding == "责令整改" else None,
                                     finalised_at=finalised))
    rect = Rectification.create(report=reports[0], deadline=dt.date(2025, 10, 31),
                                closed_at=dt.datetime(2025, 10, 20, 8), closed_by="shenhe",
                                note="复查合格")
    Report.create(assignment=w.assignments[0].__class__.create(
        draw=w.draw, position=9, task_code="2025-07-0099", target=w.targets[0]),
        state="final", finding="无问题", finalised_at=finalised)
    _v9_cases_and_sanctions(db)
    _v9_cases_and_sanctions(db)  # twice: nothing doubled
    got = {c.kind: (c.state, c.deadline, c.rectification_id, c.outcome, c.closed_by)
           for c in EnforcementCase.select()}
    assert got == {
        "责令整改": ("closed", None, rect.id, "复查合格", "shenhe"),
        "行政处罚": ("open", dt.date(2025, 12, 30), None, "", ""),
        "移送司法机关": ("open", dt.date(2025, 10, 4), None, "", ""),
    }
