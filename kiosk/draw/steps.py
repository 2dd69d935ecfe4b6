"""The witnessed draw of a planned task, as a state machine persisted at every step.

prepared → witnesses → committed → entropy → revealed → matched → confirmed → sealed
(or aborted, with a reason, from any step before sealed). Every attempt is numbered per
task and kept. A crash resumes at the persisted step; a second terminal is refused.
"""
from __future__ import annotations

import datetime as dt
import json
import secrets

import peewee

from db.connection import database
from db.models import (
    Assignment,
    AssignmentMember,
    Draw,
    DrawAmendment,
    DrawWitness,
    Inspector,
    PlanTask,
    Target,
    User,
    now,
)
from kiosk import access, audit
from kiosk import secrets as kiosk_secrets
from kiosk.draw import lottery
from kiosk.draw.lock import TERMINAL_ID, heartbeat, release
from kiosk.draw.lock import save as _save
from kiosk.draw.lock import step as _step
from kiosk.draw.lock import take_lock as _take_lock
from kiosk.draw.pool import (
    Frozen,
    build_pool,
    frozen_of,
    joint_of,
    remember,
    selected_strata,
    store_listings,
)
from kiosk.draw.record import amendments, export_record, record_head, witness_entropy
from kiosk.draw.witnesses import (
    check_all_present,
    one_line,
    quorum,
)
from kiosk.errors import UserError
from kiosk.plans import get_task, require_approved
from kiosk.store import bulk_insert, write_tx

__all__ = ["TERMINAL_ID", "Frozen", "build_pool", "heartbeat", "release"]

STEPS = ["prepared", "witnesses", "committed", "entropy", "revealed", "matched", "confirmed",
         "sealed"]
STEP_LABELS = {
    "prepared": "已冻结抽取范围",
    "witnesses": "见证人已签到",
    "committed": "系统随机数已承诺",
    "entropy": "见证人随机数已录入",
    "revealed": "检查对象已揭晓",
    "matched": "检查组已匹配",
    "confirmed": "见证人已确认",
    "sealed": "已封存",
    "aborted": "已中止",
}
OPEN_STATES = set(STEPS) - {"sealed"}

# What each state of a ceremony allows; the screen and `kiosk watch` ask, and keep no table.
_ACTIONS = {
    "prepared": {"abort", "add_witness", "print_predraw"},
    "witnesses": {"abort", "add_witness", "print_predraw", "commit"},
    "committed": {"abort", "print_predraw", "beacon", "entropy"},
    "entropy": {"abort", "reveal"},
    "revealed": {"abort", "reveal_next", "reveal_all", "match"},
    "matched": {"abort", "recuse", "confirm"},
    "confirmed": {"abort", "seal"},
    "sealed": {"print_protocol", "print_slips", "export"},
    "aborted": set(),
}


def allowed_actions(state: str, *, revealed: int = 0, selected: int = 0) -> frozenset[str]:
    """The actions the ceremony allows at `state`; picks are revealed one by one (or all at
    once) before the teams are matched."""
    actions = set(_ACTIONS.get(state, ()))
    if state == "revealed":
        if revealed < selected:
            actions.discard("match")
        else:
            actions -= {"reveal_next", "reveal_all"}
    return frozenset(actions)


# ---------------------------------------------------------------- the steps


def open_attempt(task: PlanTask) -> Draw | None:
    return (Draw.select().where((Draw.task == task) & (Draw.state.in_(OPEN_STATES)))
            .order_by(Draw.attempt_no.desc()).first())


def prepare(task_code: str | int, operator: str, *, terminal: str = TERMINAL_ID,
            draw_date: dt.date | None = None, role: str | None = None,
            beacon_source: str = "") -> Draw:
    """Freeze the pool and open a numbered attempt, or resume the open one (after a crash).

    beacon_source: where the public beacon's value will come from (e.g. 某日福彩3D开奖号码),
    declared now and printed on the pre-draw sheet; empty when no beacon is used.

    role: the logged-in user's role at the terminal (None from the shell, whose user the
    operating system has already authenticated)."""
    if role is not None and not access.may_run_draw(role):
        raise UserError(access.MAY_NOT_RUN_DRAW)
    beacon_source = (beacon_source or "").strip()
    one_line("公开信标来源", beacon_source)
    task = get_task(task_code)
    draw_date = draw_date or dt.date.today()
    with write_tx():
        task = PlanTask.get_by_id(task.id)
        if task.state == "drawn":
            raise UserError(f"任务 {task.code} 已摇号封存，不得重复摇号。")
        if task.state == "cancelled":
            raise UserError(f"任务 {task.code} 已取消。")
        require_approved(task)
        existing = open_attempt(task)
        if existing is not None:
            _take_lock(existing, terminal)
            _save(existing)
            audit.record(operator, "draw.resume", "draw", existing.id, task=task.code,
                         attempt=existing.attempt_no, state=existing.state)
            return existing
    frozen = build_pool(task, draw_date)
    if not frozen.ids:
        raise UserError(f"任务 {task.code} 的抽取范围为空：没有符合条件的检查对象。")
    if len(frozen.inspectors) < frozen.team_size:
        raise UserError(f"符合条件的执法检查人员只有 {len(frozen.inspectors)} 名，"
                        f"少于每组 {frozen.team_size} 名。")
    short = lottery.feasibility(zip(frozen.ids, frozen.col, strict=True), frozen.inspectors,
                                frozen.conflicts,
                                frozen.team_size)
    if short:
        names = ", ".join(short[:5])
        raise UserError(f"无法组成检查组：{len(short)} 个对象回避后可选执法人员不足 "
                        f"{frozen.team_size} 名（{names}）。请先调整人员名录。")
    listings = frozen.listings()
    digests = {k: lottery.sha_hex(v) for k, v in listings.items()}
    with write_tx():
        task = PlanTask.get_by_id(task.id)
        if task.state in ("drawn", "cancelled"):  # sealed elsewhere while the pool was built
            raise UserError(f"任务 {task.code} 已摇号封存或已取消，不得重复摇号。")
        if open_attempt(task) is not None:
            raise UserError(f"任务 {task.code} 正在另一终端摇号，同一任务不能同时在两处摇号。")
        last = Draw.select(peewee.fn.MAX(Draw.attempt_no)).where(Draw.task == task).scalar() or 0
        draw = Draw.create(
            task=task, attempt_no=last + 1, state="prepared", operator=operator,
            draw_date=draw_date, pool_digest=digests["pool"],
            inspectors_digest=digests["inspectors"], conflicts_digest=digests["conflicts"],
            strata_json=json.dumps(frozen.strata, ensure_ascii=False, sort_keys=True),
            team_size=frozen.team_size, pool_size=len(frozen.ids), lock_owner=terminal,
            lock_at=now(), beacon_source=beacon_source)
        store_listings(draw, frozen, listings, digests)
        task.state = "drawing"
        task.save()
        audit.record(operator, "draw.prepare", "draw", draw.id, task=task.code,
                     attempt=draw.attempt_no, pool_size=len(frozen.ids),
                     inspector_count=len(frozen.inspectors),
                     conflict_count=len(frozen.conflicts),
                     excluded_recent=frozen.excluded_recent, digests=digests,
                     beacon_source=beacon_source)
    remember(draw.id, frozen)
    return draw


def commit(draw_id: int, actor: str, *, terminal: str = TERMINAL_ID) -> str:
    """Draw the kiosk's 32 secret bytes and show only their hash, before any witness entropy.

    The store gets the commitment and the entropy sealed under the key file's key (bound to
    this draw), never the entropy itself: a reader of the store cannot predict the seed."""
    with _step(draw_id, terminal, "witnesses",
               refusal=f"见证人不足 {quorum()} 名，不能开始摇号。") as draw:
        entropy = secrets.token_bytes(32)
        draw.commitment = lottery.commitment(entropy.hex())
        draw.sealed_entropy = kiosk_secrets.seal_entropy(draw.id, draw.commitment, entropy)
        draw.system_entropy = ""
        _save(draw, "committed")
        audit.record(actor, "draw.commit", "draw", draw.id, commitment=draw.commitment)
    return draw.commitment


def inputs(draw: Draw) -> dict:
    """The protocol inputs of the draw, in the shape lottery.run and `kiosk verify` take."""
    fr = frozen_of(draw)
    return {
        "pool": fr.pool, "inspectors": fr.inspectors, "conflicts": fr.conflicts,
        "strata": fr.strata, "team_size": draw.team_size,
        "system_entropy": draw.system_entropy, "witness_entropy": witness_entropy(draw),
        "beacon": draw.beacon, "amendments": amendments(draw),
    }


def reveal(draw_id: int, actor: str, *, terminal: str = TERMINAL_ID) -> list[str]:
    """Reveal the system entropy and compute the seed and the selected targets."""
    with _step(draw_id, terminal, "entropy",
               refusal="见证人随机数尚未全部录入。") as draw:
        draw.system_entropy = kiosk_secrets.open_entropy(
            draw.id, draw.commitment, draw.sealed_entropy).hex()
        draw.sealed_entropy = ""
        inp = inputs(draw)
        # Art. 11: the department mapping is fixed here and bound into the seed, so a directory
        # edit after the reveal cannot steer the teams, nor a changed record still verify.
        joint = joint_of(draw)
        draw.seed = lottery.compute_seed(
            draw.pool_digest, draw.inspectors_digest, draw.conflicts_digest, inp["strata"],
            draw.team_size, draw.system_entropy, inp["witness_entropy"], draw.beacon, joint)
        selected = lottery.select_from(frozen_of(draw).by_stratum, inp["strata"], draw.seed)
        res = {"selected": selected, **({"joint": joint} if joint else {})}
        draw.results_json = json.dumps(res, ensure_ascii=False)
        draw.reveal_index = 0
        _save(draw, "revealed")
        audit.record(actor, "draw.reveal", "draw", draw.id, system_entropy=draw.system_entropy,
                     witness_entropy=inp["witness_entropy"], beacon=draw.beacon,
                     seed=draw.seed, selected=len(selected))
    return selected


def advance_reveal(draw_id: int, count: int, *, terminal: str = TERMINAL_ID) -> int:
    """Persist how many picks the witnesses have seen, so a restart shows the same screen;
    returns that number (never more than were selected)."""
    with _step(draw_id, terminal, "revealed", refusal="现在不是揭晓检查对象的步骤。") as draw:
        n = len(results(draw).get("selected", []))
        draw.reveal_index = min(n, max(draw.reveal_index, count))
        _save(draw)
    return draw.reveal_index


def results(draw: Draw) -> dict:
    return json.loads(draw.results_json) if draw.results_json else {}


def _compute_teams(draw: Draw) -> dict:
    """Teams for the revealed selection, with every amendment so far, by the protocol."""
    fr = frozen_of(draw)
    selected = results(draw)["selected"]
    # Joint items (Art. 11): departments as of the match, kept for the amendments after it.
    joint = results(draw).get("joint") or joint_of(draw)
    try:
        teams, _ = lottery.match_teams(selected, fr.inspectors, fr.conflicts, draw.team_size,
                                       draw.seed, amendments(draw), joint=joint)
    except lottery.DrawError as e:
        raise UserError(f"无法组成检查组：{e}") from None
    return {"selected": selected, "teams": teams, **({"joint": joint} if joint else {})}


def match(draw_id: int, actor: str, *, terminal: str = TERMINAL_ID) -> list:
    with _step(draw_id, terminal, "revealed",
               refusal="检查对象尚未揭晓。") as draw:
        res = _compute_teams(draw)
        draw.results_json = json.dumps(res, ensure_ascii=False)
        _save(draw, "matched")
        audit.record(actor, "draw.match", "draw", draw.id, teams=len(res["teams"]))
    return res["teams"]


def amend(draw_id: int, target: str, inspector: str, reason: str, actor: str, *,
          terminal: str = TERMINAL_ID) -> str:
    """An inspector declares a conflict on the spot; the protocol draws the replacement."""
    reason = reason.strip()
    if not reason:
        raise UserError("请说明回避理由。")
    one_line("回避理由", reason)
    with _step(draw_id, terminal, "matched",
               refusal="只能在检查组匹配后、见证人确认前申报回避。") as draw:
        teams = dict((t, m) for t, m in results(draw)["teams"])
        if target not in teams:
            raise UserError(f"{target} 不是本次抽中的检查对象。")
        if inspector not in teams[target]:
            raise UserError(f"执法证号 {inspector} 不在该对象的检查组中。")
        seq = draw.amendments.count()
        amendment = DrawAmendment.create(draw=draw, seq=seq, target_uscc=target,
                                         inspector_cert=inspector, reason=reason)
        res = _compute_teams(draw)
        new_team = dict((t, m) for t, m in res["teams"])[target]
        replacement = next(i for i in new_team if i not in teams[target])
        amendment.replacement_cert = replacement
        amendment.save()
        draw.results_json = json.dumps(res, ensure_ascii=False)
        # The teams changed: whoever confirmed before must look again.
        DrawWitness.update(confirmed_at=None).where(DrawWitness.draw == draw).execute()
        _save(draw)
        audit.record(actor, "draw.amend", "draw", draw.id, target=target, inspector=inspector,
                     reason=reason, replacement=replacement)
    return replacement


def _next_codes(prefix: str, n: int) -> list[str]:
    # The number part, compared as a number: "…-10000" sorts below "…-9999" as text.
    number = peewee.fn.SUBSTR(Assignment.task_code, len(prefix) + 1).cast("INTEGER")
    start = (Assignment.select(peewee.fn.MAX(number))
             .where(Assignment.task_code.startswith(prefix)).scalar()) or 0
    return [f"{prefix}{start + i + 1:04d}" for i in range(n)]


def seal(draw_id: int, actor: str, *, terminal: str = TERMINAL_ID) -> dict:
    """Write the draw, every assignment and their audit events in one transaction."""
    with _step(draw_id, terminal, "confirmed",
               refusal="见证人尚未全部确认，不能封存。") as draw:
        # The teams on file are what the witnesses saw and confirmed: match() and amend()
        # computed them by the protocol; `kiosk verify` recomputes everything from the record.
        res = results(draw)
        fr = frozen_of(draw)
        sealed_at = now()
        codes = _next_codes(f"{sealed_at:%Y-%m}-", len(res["teams"]))
        selected = res["selected"]
        db = database.obj
        p, t = db.param, Target._meta.table_name
        uscc_ids = {}
        for i in range(0, len(selected), 500):
            chunk = selected[i:i + 500]
            uscc_ids.update(db.execute_sql(
                f"SELECT uscc, id FROM {t} WHERE uscc IN ({', '.join([p] * len(chunk))})", chunk))
        insp_ids = dict(Inspector.select(Inspector.cert_no, Inspector.id).tuples())
        strata_of = selected_strata(fr, len(selected))
        bulk_insert(Assignment, ["draw", "position", "task_code", "target", "stratum",
                                 "slip_version", "state"],
                    [(draw.id, n, codes[n], uscc_ids[uscc], strata_of[n], 0, "assigned")
                     for n, uscc in enumerate(selected)])
        a_ids = dict(db.execute_sql(
            f"SELECT position, id FROM {Assignment._meta.table_name} WHERE draw_id = {p}",
            (draw.id,)))
        bulk_insert(AssignmentMember, ["assignment", "inspector", "position"],
                    [(a_ids[n], insp_ids[cert], k)
                     for n, (_, team) in enumerate(res["teams"]) for k, cert in enumerate(team)])
        draw.sealed_at = sealed_at
        draw.lock_owner = ""
        draw.record_json = json.dumps(record_head(draw, res), ensure_ascii=False)
        _save(draw, "sealed")
        PlanTask.update(state="drawn").where(PlanTask.id == draw.task_id).execute()
        audit.record(actor, "draw.seal", "draw", draw.id, task=draw.task.code, seed=draw.seed,
                     assignments=len(selected), first_code=codes[0] if codes else "")
    return export_record(draw)


REVEALED_STATES = ("revealed", "matched", "confirmed")


def abort(draw_id: int, reason: str, actor: str, *, witnesses: list[User] | tuple = (),
          terminal: str = TERMINAL_ID) -> None:
    """Stop an attempt with a reason; it stays on file (a revealed result too), and the task
    can be drawn again as the next attempt. Before the reveal the operator may abort alone;
    after it, every signed-in witness must agree with their own password (`witnesses`)."""
    reason = reason.strip()
    if not reason:
        raise UserError("中止摇号必须说明理由。")
    one_line("中止理由", reason)
    with write_tx():
        draw = Draw.get_by_id(draw_id)
        if draw.state in ("sealed", "aborted"):
            raise UserError(f"该次摇号已{STEP_LABELS[draw.state]}，不能中止。")
        _take_lock(draw, terminal)
        if draw.state in REVEALED_STATES:
            check_all_present(draw, list(witnesses))
        prior = draw.state
        draw.abort_reason = reason
        draw.lock_owner = ""
        _save(draw, "aborted")
        PlanTask.update(state="planned").where(PlanTask.id == draw.task_id).execute()
        audit.record(actor, "draw.abort", "draw", draw.id, task=draw.task.code,
                     attempt=draw.attempt_no, at_step=prior, reason=reason,
                     witnesses=sorted(u.username for u in witnesses))


