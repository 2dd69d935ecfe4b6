"""What a draw's public notice says (Art. 13): one plain dict the PDF, CSV and HTML render."""
from __future__ import annotations

import datetime as dt

from db.models import (
    Assignment,
    AssignmentMember,
    Draw,
    DrawAmendment,
    Inspector,
    Rectification,
    Report,
    Target,
)
from kiosk import audit, settings
from kiosk.draw import lottery
from kiosk.draw import record as draw_record
from kiosk.draw.steps import STEP_LABELS
from kiosk.errors import UserError

# 查处结果 as the notice prints it; a report that is not final is still 检查中.
RESULT_LABELS = {"无问题": "无问题", "责令整改": "责令整改", "行政处罚": "行政处罚",
                 "移送司法机关": "移送", "移送": "移送"}
IN_PROGRESS = "检查中"


def result_of(report: Report | None) -> str:
    if report is None or report.state != "final" or not report.finding:
        return IN_PROGRESS
    return RESULT_LABELS.get(report.finding, report.finding)


def sealed_draw(draw_id: int) -> Draw:
    draw = Draw.get_or_none(Draw.id == draw_id)
    if draw is None:
        raise UserError(f"没有编号为 {draw_id} 的摇号。")
    if draw.state != "sealed":
        raise UserError(f"摇号 {draw_id} 尚未封存，不能公示。")
    return draw


def _targets(draw: Draw) -> list[dict]:
    rows = list(Assignment.select(Assignment, Target.uscc, Target.name)
                .join(Target).where(Assignment.draw == draw.id)
                .order_by(Assignment.position))
    members: dict[int, list[dict]] = {}
    for aid, cert, name in (AssignmentMember.select(AssignmentMember.assignment, Inspector.cert_no,
                                                    Inspector.name)
                            .join(Inspector).join_from(AssignmentMember, Assignment)
                            .where(Assignment.draw == draw.id)
                            .order_by(AssignmentMember.assignment, AssignmentMember.position)
                            .tuples()):
        members.setdefault(aid, []).append({"cert_no": cert, "name": name})
    reports = {r.assignment_id: r for r in Report.select().join(Assignment)
               .where(Assignment.draw == draw.id)}
    out = []
    for a in rows:
        rep = reports.get(a.id)
        out.append({"position": a.position, "task_code": a.task_code, "uscc": a.target.uscc,
                    "name": a.target.name, "stratum": a.stratum,
                    "team": members.get(a.id, []), "result": result_of(rep),
                    "final_date": str(rep.finalised_at.date()) if rep and rep.finalised_at
                    and rep.state == "final" else ""})
    return out


def _rectifications(draw: Draw, today: dt.date) -> list[dict]:
    out = []
    q = (Rectification.select(Rectification, Report, Assignment, Target)
         .join(Report).join(Assignment).join(Target)
         .where((Assignment.draw == draw.id) & (Report.state == "final"))
         .order_by(Assignment.position, Rectification.id))
    for r in q:
        if r.closed_at:
            state = f"已整改（{r.closed_at.date()} 销号）"
        elif r.deadline < today:
            state = "逾期未整改"
        else:
            state = "整改中"
        out.append({"uscc": r.report.assignment.target.uscc,
                    "name": r.report.assignment.target.name, "deadline": str(r.deadline),
                    "state": state, "note": r.note})
    return out


def notice_data(draw_id: int, version: int, today: dt.date | None = None) -> dict:
    """Everything the notice of `draw_id` shows, as version `version`, with the full record."""
    draw = sealed_draw(draw_id)
    today = today or dt.date.today()
    rec = draw_record.export_record(draw)
    task, item = draw.task, draw.task.item
    quotas = lottery.quotas(rec["pool"], rec["strata"])
    strata = {s: {"ratio_bp": rec["strata"][s]["ratio_bp"], "pool": n, "quota": q}
              for s, (n, q) in quotas.items()}
    attempts = [dict(a, state_label=STEP_LABELS.get(a["state"], a["state"]))
                for a in draw_record.attempts(draw.task_id)]
    bureau = settings.get("bureau_name", "") or ""
    prefix = settings.get("notice_prefix", "") or "双随机公示"
    return {
        "bureau": bureau,
        "doc_no": f"{prefix}〔{task.year}〕{draw.id}-{version}号",
        "title": f"关于“{item.name}”随机抽查结果的公示",
        "version": version, "date": str(today),
        "task": task.code, "attempt": draw.attempt_no, "draw_id": draw.id,
        "item_code": item.code, "item_name": item.name, "legal_basis": item.legal_basis,
        "item_version": rec.get("item", {}).get("version"),
        "draw_date": str(draw.draw_date), "sealed_at": str(draw.sealed_at or ""),
        "strata": strata, "team_size": rec["team_size"],
        "targets": _targets(draw), "rectifications": _rectifications(draw, today),
        "attempts": attempts,
        "witnesses": rec.get("witnesses") or [],
        "amendments": [{"target": a.target_uscc, "inspector": a.inspector_cert,
                        "reason": a.reason, "replacement": a.replacement_cert}
                       for a in draw.amendments.order_by(DrawAmendment.seq)],
        "verification": {
            "digests": rec["digests"], "commitment": rec["commitment"],
            "system_entropy": rec["system_entropy"], "witness_entropy": rec["witness_entropy"],
            "beacon": rec["beacon"], "beacon_source": rec.get("beacon_source") or "",
            "seed": rec["seed"], "seal_head": f"{rec['audit_seq']}:{rec['audit_head']}",
            "audit_head": audit.head_text(),
        },
        "record": rec,
    }


def counts(data: dict) -> dict[str, int]:
    """How many targets carry each result: what a version's row keeps for the list."""
    out: dict[str, int] = {}
    for t in data["targets"]:
        out[t["result"]] = out.get(t["result"], 0) + 1
    return out
