"""The leadership summary (上报局党组): final reports of a year's plan per item, by finding."""
from __future__ import annotations

from dataclasses import dataclass

from db.models import Assignment, Draw, Item, PlanTask, Rectification, Report
from kiosk.reports.form import FINDINGS


@dataclass(frozen=True)
class SummaryRow:
    item_code: str
    item_name: str
    lead_office: str
    final: int
    findings: dict  # finding -> count
    open_rectifications: int


def leadership_summary(year: int, user=None) -> tuple[list[SummaryRow], dict]:
    """Final reports of the year's plan, per item (上报局党组); totals as the second value.
    `user`: the account asking (the CLI's); the dashboards' readers only."""
    from kiosk import access

    access.require_account(user, access.may_read_dashboards, access.MAY_NOT_READ_DASHBOARD)
    q = (Report.select(Report, Item)
         .join(Assignment).join(Draw).join(PlanTask).join(Item)
         .where((Report.state == "final") & (PlanTask.year == year)))
    open_rect = {r.report_id for r in Rectification.select(Rectification.report)
                 .where(Rectification.closed_at.is_null())}
    per: dict[int, dict] = {}
    items: dict[int, Item] = {}
    for rep in q:
        item = rep.assignment.draw.task.item
        items[item.id] = item
        d = per.setdefault(item.id, {"final": 0, "open": 0, **{f: 0 for f in FINDINGS}})
        d["final"] += 1
        if rep.finding in FINDINGS:
            d[rep.finding] += 1
        d["open"] += rep.id in open_rect
    rows = [SummaryRow(items[i].code, items[i].name, items[i].lead_office, d["final"],
                       {f: d[f] for f in FINDINGS}, d["open"])
            for i, d in sorted(per.items(), key=lambda kv: items[kv[0]].code)]
    totals = {"final": sum(r.final for r in rows),
              "open_rectifications": sum(r.open_rectifications for r in rows),
              **{f: sum(r.findings[f] for r in rows) for f in FINDINGS}}
    return rows, totals
