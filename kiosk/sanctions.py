"""Sanctions on inspectors (Art. 18) and the open tasks of those who may no longer inspect.

批评教育 and 通报批评 are recorded; 暂扣执法证 (until its end date), 吊销执法证 and 调离 also bar
the inspector, as 离岗 (inactive in the directory) does: kiosk.access.barred_query keeps them out
of new pools and off their teams' reports, and their open tasks are listed here for a
reassignment by the protocol (kiosk/draw/reassign.py).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from peewee import JOIN

from db.models import (
    Assignment,
    AssignmentMember,
    Draw,
    Inspector,
    Report,
    Sanction,
    Target,
    User,
)
from kiosk import access, audit
from kiosk.errors import UserError
from kiosk.store import write_tx

KINDS = ("批评教育", "通报批评", "暂扣执法证", "吊销执法证", "调离")


def _inspector(cert: str) -> Inspector:
    ins = Inspector.get_or_none(Inspector.cert_no == (cert or "").strip())
    if ins is None:
        raise UserError(f"执法人员名录中没有执法证号 {cert}。")
    return ins


def _date(value: dt.date | str | None, label: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date) or not str(value).strip():
        return value or None
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise UserError(f"{label}应为日期，如 2026-06-30。") from None


def add(cert: str, kind: str, start: dt.date | str, reason: str, user: User, *,
        end: dt.date | str | None = None, decided_by: str = "") -> Sanction:
    """Record a sanction (one transaction, one audit event that covers it)."""
    access.require(user is not None and access.may_sanction(user.role), access.MAY_NOT_SANCTION)
    if kind not in KINDS:
        raise UserError(f"处理种类应为：{'、'.join(KINDS)}。")
    start_day = _date(start, "起始日期")
    if start_day is None:
        raise UserError("请填写处理的起始日期。")
    end_day = _date(end, "暂扣截止日期")
    if kind == "暂扣执法证":
        if end_day is None:
            raise UserError("暂扣执法证须写明暂扣截止日期。")
        if end_day < start_day:
            raise UserError("暂扣截止日期不能早于起始日期。")
    elif end_day is not None:
        raise UserError(f"{kind}没有截止日期，只有暂扣执法证有。")
    reason = (reason or "").strip()
    if not reason:
        raise UserError("请写明处理理由。")
    ins = _inspector(cert)
    with write_tx():
        row = Sanction.create(inspector=ins, kind=kind, start_date=start_day, end_date=end_day,
                              reason=reason, decided_by=(decided_by or "").strip()[:128],
                              recorded_by=user.username)
        audit.record(user.username, "sanction.add", "sanction", row.id, inspector=ins.cert_no,
                     kind=kind, start=start_day, end=end_day, reason=reason,
                     bars=kind in access.BARRING_SANCTIONS)
    return row


@dataclass(frozen=True)
class SanctionRow:
    id: int
    cert_no: str
    name: str
    kind: str
    start: dt.date
    end: dt.date | None
    reason: str
    in_force: bool  # bars the inspector today

    def as_json(self) -> dict:
        return {"id": self.id, "cert_no": self.cert_no, "name": self.name, "kind": self.kind,
                "start": str(self.start), "end": str(self.end) if self.end else None,
                "reason": self.reason, "in_force": self.in_force}


def rows(day: dt.date | None = None) -> list[SanctionRow]:
    day = day or dt.date.today()
    barred = access.barred_inspectors(day)
    q = (Sanction.select(Sanction, Inspector).join(Inspector)
         .order_by(Sanction.start_date.desc(), Sanction.id.desc()))
    return [SanctionRow(s.id, s.inspector.cert_no, s.inspector.name, s.kind, s.start_date,
                        s.end_date, s.reason,
                        s.kind in access.BARRING_SANCTIONS and s.inspector_id in barred
                        and s.start_date <= day and (s.end_date is None or s.end_date >= day))
            for s in q]


@dataclass(frozen=True)
class OpenTask:
    """A task of a sealed draw whose report is not yet submitted, with a barred member."""

    draw_id: int
    task_code: str
    uscc: str
    target_name: str
    cert_no: str
    inspector_name: str
    why: str  # 离岗 or the sanction in force

    def as_json(self) -> dict:
        return {"draw_id": self.draw_id, "task": self.task_code, "uscc": self.uscc,
                "target": self.target_name, "cert_no": self.cert_no,
                "inspector": self.inspector_name, "why": self.why}


def why_barred(day: dt.date | None = None) -> dict[int, str]:
    """Inspector id -> why they may not inspect on `day`."""
    day = day or dt.date.today()
    out = {i: "离岗" for (i,) in Inspector.select(Inspector.id)
           .where(Inspector.active == False).tuples()}  # noqa: E712
    for ins, kind in (Sanction.select(Sanction.inspector, Sanction.kind)
                      .where(Sanction.kind.in_(access.BARRING_SANCTIONS)
                             & (Sanction.start_date <= day)
                             & (Sanction.end_date.is_null() | (Sanction.end_date >= day)))
                      .order_by(Sanction.start_date).tuples()):
        out[ins] = kind
    return out


def open_tasks(day: dt.date | None = None, draw_id: int | None = None) -> list[OpenTask]:
    """Open tasks of barred inspectors, to be reassigned (by draw, then task code)."""
    why = why_barred(day)
    if not why:
        return []
    q = (AssignmentMember.select(Assignment.draw, Assignment.task_code, Target.uscc,
                                 Target.name, Inspector.cert_no, Inspector.name, Inspector.id)
         .join(Assignment).join(Target).switch(AssignmentMember).join(Inspector)
         .switch(Assignment).join(Draw).switch(Assignment)
         .join(Report, JOIN.LEFT_OUTER, on=(Report.assignment == Assignment.id))
         # Open: no report yet, or a draft; a submitted report stays with the team that did it.
         .where((Draw.state == "sealed") & (Report.id.is_null() | (Report.state == "draft"))
                & AssignmentMember.inspector.in_(list(why)))
         .order_by(Assignment.draw, Assignment.position, AssignmentMember.position))
    if draw_id is not None:
        q = q.where(Assignment.draw == draw_id)
    return [OpenTask(d, code, uscc, tname, cert, iname, why[iid])
            for d, code, uscc, tname, cert, iname, iid in q.tuples()]
