"""What the ceremony screen, `kiosk watch` and the printed sheets show, as plain dataclasses.

Screens take these and hold no rules: which keys a step allows comes from `allowed_actions`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from db.models import Draw, DrawAmendment, DrawWitness, Inspector, Target
from kiosk import access, audit
from kiosk.draw import lottery
from kiosk.draw.pool import frozen_of, selected_strata
from kiosk.draw.record import attempts
from kiosk.draw.steps import STEP_LABELS, STEPS, quorum
from kiosk.draw.steps import results as _results


@dataclass
class View:
    """What the ceremony screen shows, in plain data (screens hold no rules)."""

    draw_id: int
    task: str
    attempt: int
    item: str
    state: str
    state_label: str
    digests: dict[str, str]
    strata: dict[str, dict[str, int]]  # name -> ratio_bp, pool, quota
    pool_size: int
    inspector_count: int
    conflict_count: int
    team_size: int
    quorum: int
    commitment: str
    system_entropy: str  # empty until revealed
    seed: str
    beacon: str | None
    witnesses: list[dict] = field(default_factory=list)
    selected: list[dict] = field(default_factory=list)  # uscc, label, stratum, team
    amendments: list[dict] = field(default_factory=list)
    reveal_index: int = 0
    names_shown: bool = False
    abort_reason: str = ""
    sealed_at: str = ""
    beacon_source: str = ""
    operator: str = ""
    earlier_attempts: list[dict] = field(default_factory=list)
    updated_at: str = ""  # changes with every step: what `kiosk watch` polls for

    @property
    def all_entropy_given(self) -> bool:
        return bool(self.witnesses) and all(w["given"] for w in self.witnesses)

    @property
    def beacon_needed(self) -> bool:
        """A beacon was declared and its value is still to be entered."""
        return bool(self.beacon_source) and self.beacon is None


def view(draw_id: int, role: str = "witness", names: bool = False) -> View:
    """The draw as a screen shows it. The shared screen shows credit codes; names only when
    asked for (`names`) by a role that may see them before publication (Art. 12)."""
    draw = Draw.get_by_id(draw_id)
    fr = frozen_of(draw)
    counts = fr.counts
    strata = {s: {"ratio_bp": v["ratio_bp"], "pool": counts.get(s, 0),
                  "quota": lottery.quota(counts.get(s, 0), v["ratio_bp"])}
              for s, v in sorted(fr.strata.items())}
    res = _results(draw)
    show_names = names and access.may_see_drawn_names(role, sealed=draw.state == "sealed")
    selected_ids = res.get("selected", [])
    strata_of = selected_strata(fr, len(selected_ids))
    names = {}
    insp_names = {}
    if res and show_names:
        names = dict(Target.select(Target.uscc, Target.name)
                     .where(Target.uscc.in_(res["selected"][:2000])).tuples())
    if res.get("teams"):
        insp_names = dict(Inspector.select(Inspector.cert_no, Inspector.name).tuples())
    teams = dict((t, m) for t, m in res.get("teams", []))
    selected = [{"uscc": u, "name": names.get(u, ""), "stratum": strata_of[n],
                 "team": [{"cert_no": c, "name": insp_names.get(c, "")}
                          for c in teams.get(u, [])]}
                for n, u in enumerate(selected_ids)]
    return View(
        draw_id=draw.id, task=draw.task.code, attempt=draw.attempt_no,
        item=f"{draw.task.item.code} {draw.task.item.name}", state=draw.state,
        state_label=STEP_LABELS[draw.state],
        digests={"pool": draw.pool_digest, "inspectors": draw.inspectors_digest,
                 "conflicts": draw.conflicts_digest},
        strata=strata, pool_size=len(fr.ids), inspector_count=len(fr.inspectors),
        conflict_count=len(fr.conflicts), team_size=draw.team_size, quorum=quorum(),
        commitment=draw.commitment,
        system_entropy=draw.system_entropy if draw.state in STEPS[4:] else "",
        seed=draw.seed, beacon=draw.beacon,
        witnesses=_witnesses(draw),
        selected=selected,
        amendments=[{"target": a.target_uscc, "inspector": a.inspector_cert, "reason": a.reason,
                     "replacement": a.replacement_cert}
                    for a in draw.amendments.order_by(DrawAmendment.seq)],
        reveal_index=draw.reveal_index, names_shown=show_names, abort_reason=draw.abort_reason,
        sealed_at=str(draw.sealed_at or ""), beacon_source=draw.beacon_source,
        operator=draw.operator, earlier_attempts=attempts(draw.task_id, before=draw.attempt_no),
        updated_at=str(draw.updated_at))


def _witnesses(draw: Draw) -> list[dict]:
    """The witnesses by account; each one's entropy stays masked until all have given
    theirs, so nobody chooses theirs knowing another's."""
    rows = list(draw.witnesses.order_by(DrawWitness.position))
    shown = bool(rows) and all(w.entropy is not None for w in rows)
    return [{"position": w.position, "account": w.account, "name": w.name,
             "organisation": w.organisation, "given": w.entropy is not None,
             "entropy": w.entropy if shown else None, "confirmed": bool(w.confirmed_at)}
            for w in rows]


def print_info(draw_id: int) -> dict:
    """The `info` dict kiosk.printing renders the pre-draw sheet and the protocol from."""
    v = view(draw_id, role="operator")
    draw = Draw.get_by_id(draw_id)
    item = draw.task.item
    names = {}
    if draw.state == "sealed":
        sel = [s["uscc"] for s in v.selected]
        for i in range(0, len(sel), 500):
            names.update(Target.select(Target.uscc, Target.name)
                         .where(Target.uscc.in_(sel[i:i + 500])).tuples())
    return {
        "task": v.task, "attempt": v.attempt, "item_code": item.code, "item_name": item.name,
        "legal_basis": item.legal_basis, "draw_date": str(draw.draw_date),
        "operator": draw.operator, "started_at": str(draw.started_at),
        "sealed_at": str(draw.sealed_at) if draw.sealed_at else None,
        "strata": v.strata, "team_size": v.team_size, "inspector_count": v.inspector_count,
        "conflict_count": v.conflict_count, "digests": v.digests,
        "witnesses": [{"account": w["account"], "name": w["name"],
                       "organisation": w["organisation"], "entropy": w["entropy"]}
                      for w in v.witnesses],
        "beacon_source": v.beacon_source,
        "earlier_attempts": [dict(a, state_label=STEP_LABELS.get(a["state"], a["state"]))
                             for a in v.earlier_attempts],
        "quorum": v.quorum, "commitment": v.commitment, "system_entropy": v.system_entropy,
        "beacon": v.beacon, "seed": v.seed,
        "selected": [dict(s, name=names.get(s["uscc"], s["name"])) for s in v.selected],
        "amendments": v.amendments, "audit_head": audit.head()[1],
    }



def at_state(v: View, state: str) -> View:
    """`v` moved on to `state`, as a step just returned it."""
    return replace(v, state=state, state_label=STEP_LABELS[state])


def with_teams(v: View, teams: list) -> View:
    """`v` with the teams match() returned, named for the screen."""
    by = dict((t, m) for t, m in teams)
    names = dict(Inspector.select(Inspector.cert_no, Inspector.name)
                 .where(Inspector.cert_no.in_(sorted({c for m in by.values() for c in m})))
                 .tuples())
    selected = [dict(s, team=[{"cert_no": c, "name": names.get(c, "")}
                              for c in by.get(s["uscc"], [])]) for s in v.selected]
    return replace(v, selected=selected)


def followed_draw(task_code: str | None = None) -> int | None:
    """The draw `kiosk watch` follows: the task's open attempt, or else the open ceremony
    most recently active; None when no ceremony is open."""
    from db.models import PlanTask

    q = Draw.select(Draw.id).where(Draw.state.not_in(("sealed", "aborted")))
    if task_code:
        q = q.join(PlanTask).where(PlanTask.code == task_code)
    row = q.order_by(Draw.updated_at.desc(), Draw.id.desc()).first()
    return row.id if row else None


def sealed_draw(task_code: str) -> int | None:
    """The task's sealed attempt, reopened read-only to reprint its slips and protocol."""
    from db.models import PlanTask

    row = (Draw.select(Draw.id).join(PlanTask)
           .where((PlanTask.code == task_code) & (Draw.state == "sealed"))
           .order_by(Draw.attempt_no.desc()).first())
    return row.id if row else None


def stamp(draw_id: int) -> str:
    """Changes whenever the draw does (any terminal, any witness): what screens poll."""
    row = Draw.select(Draw.state, Draw.updated_at, Draw.reveal_index).where(
        Draw.id == draw_id).tuples().first()
    return "|".join(map(str, row)) if row else ""
