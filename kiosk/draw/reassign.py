"""Reassigning a barred inspector's open tasks after the seal, as amendments of the sealed draw.

Each replacement is an amendment by the protocol (spec "Amendments": the inspector is added to
the target's conflicts, and the replacement is drawn from the draw's own seed and frozen
inspector listing), appended after the ceremony's amendments, before a quorum of witnesses
who sign with their own passwords. The record on file gets the new amendments and teams, so
`kiosk record DRAW_ID` writes a record that `kiosk verify` replays and checks like any other.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from db.models import (
    Assignment,
    AssignmentMember,
    Draw,
    DrawAmendment,
    Inspector,
    Target,
    User,
    now,
)
from kiosk import access, audit
from kiosk.draw import lottery
from kiosk.draw.joint import matching_for
from kiosk.draw.pool import frozen_of
from kiosk.draw.record import amendments
from kiosk.draw.witnesses import one_line, quorum
from kiosk.errors import UserError
from kiosk.store import write_tx


@dataclass(frozen=True)
class Replacement:
    task_code: str
    uscc: str
    inspector: str  # cert of the barred inspector taken off the team
    replacement: str  # cert drawn by the protocol
    why: str


def _check_witnesses(witnesses: list[User], actor: User) -> list[str]:
    logins = []
    for u in witnesses:
        if not access.may_witness(u.role):
            raise UserError(f"账号 {u.username} 不是见证人账号。")
        if u.username == actor.username:
            raise UserError("改派的操作人不能同时担任见证人。")
        if u.username in logins:
            raise UserError(f"见证人 {u.username} 重复：法定人数按不同的见证人计算。")
        logins.append(u.username)
    if len(logins) < quorum():
        raise UserError(f"改派须有至少 {quorum()} 名不同的见证人以各自密码确认，"
                        f"现有 {len(logins)} 名。")
    return logins


def reassign(draw_id: int, actor: User, witnesses: list[User], reason: str) -> list[Replacement]:
    """Replace every barred inspector on the draw's open tasks; one transaction, one event.

    `witnesses`: accounts that have just signed with their own passwords (witnesses.login).
    A replacement who is barred too is replaced in turn, by a further amendment."""
    from kiosk import sanctions  # lazily: sanctions lists what this module repairs

    access.require(actor is not None and access.may_reassign(actor.role),
                   access.MAY_NOT_REASSIGN)
    reason = (reason or "").strip()
    if not reason:
        raise UserError("请写明改派理由。")
    one_line("改派理由", reason)
    logins = _check_witnesses(witnesses, actor)
    with write_tx():
        draw = Draw.get_or_none(Draw.id == draw_id)
        if draw is None or draw.state != "sealed":
            raise UserError(f"没有编号为 {draw_id} 的已封存摇号。")
        todo = sanctions.open_tasks(draw_id=draw.id)
        if not todo:
            raise UserError(f"摇号 {draw_id} 没有需要改派的未完成任务。")
        # Who may not take a task now: barred (离岗, a sanction in force), or whose certificate
        # has ended since the draw froze its inspector listing.
        today = now().date()
        barred = sanctions.why_barred(today)
        why = {}
        for iid, cert, until in Inspector.select(Inspector.id, Inspector.cert_no,
                                                 Inspector.cert_valid_until).tuples():
            if iid in barred:
                why[cert] = barred[iid]
            elif until is not None and until < today:
                why[cert] = "执法证已过期"
        fr = frozen_of(draw)
        record = json.loads(draw.record_json)
        done = amendments(draw)
        m = matching_for(record["selected"], fr.inspectors, fr.conflicts, draw.team_size,
                         draw.seed, record.get("joint"))
        m.initial()
        lottery.apply_amendments(m, done)
        queue = [(t.uscc, t.cert_no, t.task_code) for t in todo]
        out: list[Replacement] = []
        seq = len(done)
        while queue:
            uscc, cert, code = queue.pop(0)
            text = f"{why[cert]}：{reason}"
            try:
                new = m.amend(uscc, cert)
            except lottery.DrawError as e:
                raise UserError(f"无法改派任务 {code}：{e}") from None
            DrawAmendment.create(draw=draw, seq=seq, target_uscc=uscc, inspector_cert=cert,
                                 reason=text, replacement_cert=new)
            done.append({"target": uscc, "inspector": cert, "reason": text})
            seq += 1
            out.append(Replacement(code, uscc, cert, new, why[cert]))
            if new in why:  # drawn from the frozen listing: may be barred since
                queue.append((uscc, new, code))
        teams = m.result()
        changed = {r.uscc for r in out}
        ids = dict(Inspector.select(Inspector.cert_no, Inspector.id)
                   .where(Inspector.cert_no.in_(
                       [c for t, team in teams if t in changed for c in team])).tuples())
        by_target = dict(teams)
        for a in (Assignment.select(Assignment, Target).join(Target)
                  .where((Assignment.draw == draw.id) & Target.uscc.in_(list(changed)))):
            team = by_target[a.target.uscc]
            AssignmentMember.delete().where(AssignmentMember.assignment == a.id).execute()
            for k, cert in enumerate(team):
                AssignmentMember.create(assignment=a, inspector=ids[cert], position=k)
        results = json.loads(draw.results_json) if draw.results_json else {}
        results["teams"] = teams
        draw.results_json = json.dumps(results, ensure_ascii=False)
        record["amendments"], record["teams"] = done, teams
        record.setdefault("reassignments", []).append(
            {"at": str(now()), "by": actor.username, "witnesses": logins, "reason": reason,
             "amendments": [len(done) - len(out), len(done)]})
        draw.record_json = json.dumps(record, ensure_ascii=False)
        draw.save()
        audit.record(actor.username, "draw.reassign", "draw", draw.id, witnesses=logins,
                     reason=reason, replaced=[[r.task_code, r.inspector, r.replacement]
                                              for r in out])
    return out
