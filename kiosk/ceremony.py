"""The witnessed draw of a planned task, as a state machine persisted at every step.

prepared → witnesses → committed → entropy → revealed → matched → confirmed → sealed
(or aborted, with a reason, from any step before sealed). Every attempt is numbered per
task and kept. A crash resumes at the persisted step; a second terminal is refused.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import functools
import itertools
import operator
import gzip
import json
import os
import secrets
import socket
import uuid
from dataclasses import dataclass, field

import peewee

from db.connection import database
from db.models import (
    Assignment,
    AssignmentMember,
    Conflict,
    Draw,
    DrawAmendment,
    DrawListing,
    DrawWitness,
    InspectionRecord,
    Inspector,
    Item,
    ItemStratum,
    PlanTask,
    Target,
    now,
)
from kiosk import audit, lottery, settings
from kiosk.errors import UserError
from kiosk.plans import get_task
from kiosk.store import bulk_insert, write_tx

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
LOCK_STALE_SECONDS = 120
# Roles that may see target names on the shared screen before publication (Art. 12).
NAME_ROLES = {"operator", "leader", "admin"}
# Roles that may run a draw at the terminal.
DRAW_ROLES = {"operator", "admin"}


TERMINAL_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


# ---------------------------------------------------------------- pool building


MAY_NOT_RUN = "只有抽签操作员或管理员可以主持摇号。"


def may_run(role: str) -> bool:
    return role in DRAW_ROLES


DEFAULT_STRATUM = "一般"


def item_strata(item: Item) -> tuple[list[tuple[str, str]], dict[str, dict[str, int]]]:
    rows = list(ItemStratum.select().where(ItemStratum.item == item)
                .order_by(ItemStratum.position, ItemStratum.id))
    rules = [(r.name, r.criterion) for r in rows]
    strata = {r.name: {"ratio_bp": r.ratio_bp} for r in rows}
    if not any(c == "default" for _, c in rules):
        rules.append((DEFAULT_STRATUM, "default"))
        strata.setdefault(DEFAULT_STRATUM, {"ratio_bp": item.ratio_bp})
    return rules, strata


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.replace("；", ";").split(";") if p.strip()]


def window_start(draw_date: dt.date, months: int) -> dt.date:
    y, m = divmod(draw_date.year * 12 + draw_date.month - 1 - months, 12)
    day = min(draw_date.day, 28)
    return dt.date(y, m + 1, day)


@dataclass
class Frozen:
    """The draw's inputs as published before entropy: pool, inspectors, conflicts, strata.

    The pool is kept as two aligned columns, ids sorted by code point and each id's stratum,
    which is the listing's order: a million-row pool is then listed, grouped and counted
    without another sort."""

    ids: list[str]
    col: list[str]
    inspectors: list[str]
    conflicts: list[list[str]]
    strata: dict[str, dict[str, int]]
    team_size: int
    excluded_recent: int = 0

    @classmethod
    def from_rows(cls, rows: list, **kw) -> "Frozen":
        """From (uscc, stratum) rows in any order (ids are unique)."""
        ids = list(map(operator.itemgetter(0), rows))
        col = list(map(operator.itemgetter(1), rows))
        return cls(*_sorted_pair(ids, col), **kw)

    @functools.cached_property
    def pool(self) -> list[tuple[str, str]]:
        return list(zip(self.ids, self.col))

    @functools.cached_property
    def by_stratum(self) -> dict[str, list[str]]:
        """Each stratum's ids, sorted: what the protocol samples from."""
        return {s: list(itertools.compress(self.ids, map(s.__eq__, self.col)))
                for s in set(self.col)}

    @functools.cached_property
    def counts(self) -> dict[str, int]:
        return {s: len(ids) for s, ids in self.by_stratum.items()}

    def listings(self) -> dict[str, bytes]:
        tails = {s: "\t" + s + "\n" for s in set(self.col)}
        return {
            "pool": "".join(map(operator.add, self.ids, map(tails.__getitem__, self.col))).encode(),
            "inspectors": lottery.listing([[i] for i in self.inspectors]),
            "conflicts": lottery.listing(self.conflicts),
        }


def _sorted_pair(ids: list[str], col: list[str]) -> tuple[list[str], list[str]]:
    """ids in code-point order with their strata alongside; a no-op check when the database
    already returned them in that order."""
    if any(map(operator.gt, ids, itertools.islice(ids, 1, None))):
        order = sorted(range(len(ids)), key=ids.__getitem__)
        ids = list(map(ids.__getitem__, order))
        col = list(map(col.__getitem__, order))
    return ids, col


# One character per stratum in the pool query's output: up to 36 strata an item.
STRATUM_KEYS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _stratum_case(rules: list[tuple[str, str]], p: str) -> tuple[str, list, dict[str, str]]:
    """The item's stratum rules (first match wins) as one SQL CASE giving each target its
    stratum's key character, so a million targets are stratified by the database."""
    if len(rules) > len(STRATUM_KEYS):
        raise UserError(f"一个事项最多设 {len(STRATUM_KEYS)} 个分层。")
    whens, params, names = [], [], {}
    for (name, criterion), key in zip(rules, STRATUM_KEYS):
        names[key] = name
        if criterion == "special":
            whens.append(f"WHEN serious_violation = {p} OR complaint_count >= 3 "
                         f"OR credit_risk = {p} THEN {p}")
            params += [True, "高", key]
        elif criterion == "small_micro":
            whens.append(f"WHEN size_class IN ({p}, {p}) THEN {p}")
            params += ["小型", "微型", key]
        elif criterion.startswith("risk:"):
            whens.append(f"WHEN credit_risk = {p} THEN {p}")
            params += [criterion[5:], key]
        elif criterion == "default":
            whens.append(f"WHEN 1 = 1 THEN {p}")
            params.append(key)
            break
    return "CASE " + " ".join(whens) + " END", params, names


def _categories(db: peewee.Database) -> list[str]:
    """The distinct target categories by skipping along the category index: a handful of
    seeks, where SELECT DISTINCT would read a million index entries."""
    t, p = Target._meta.table_name, db.param
    found: list[str] = []
    row = db.execute_sql(f"SELECT MIN(category) FROM {t}").fetchone()
    while row and row[0] is not None:
        found.append(row[0])
        row = db.execute_sql(f"SELECT MIN(category) FROM {t} WHERE category > {p}",
                             (row[0],)).fetchone()
    return found


def build_pool(task: PlanTask, draw_date: dt.date) -> Frozen:
    """Eligible targets, certified inspectors and known conflicts for the task's item."""
    item = task.item
    rules, strata = item_strata(item)
    months = item.recognition_months or settings.get_int("recognition_months")
    since = window_start(draw_date, months)
    db = database.obj
    p = db.param
    t, ir = Target._meta.table_name, InspectionRecord._meta.table_name
    a, d = Assignment._meta.table_name, Draw._meta.table_name
    # Recognised recent inspections, ours (sealed draws) or another department's (Art. 16).
    recent_sql = (
        f"SELECT target_id FROM {ir} WHERE date >= {p} "
        f"UNION SELECT {a}.target_id FROM {a} JOIN {d} ON {d}.id = {a}.draw_id "
        f"WHERE {d}.state = 'sealed' AND {d}.draw_date >= {p}")
    case, case_params, names = _stratum_case(rules, p)
    # An item for 用人单位 covers every 用人单位-<industry> category too. Naming them in an IN
    # list keeps the pool query on the covering index (a LIKE would not use it).
    categories = [c for c in _categories(db)
                  if c == item.category or c.startswith(item.category + "-")] or [item.category]
    where = f"{t}.category IN ({', '.join([p] * len(categories))}) AND {t}.active = {p}"
    where_params = [*categories, True]
    recent = {u for (u,) in db.execute_sql(
        f"SELECT uscc FROM {t} WHERE id IN ({recent_sql})", (since, since))}
    # The database joins the ids into one string, and each stratum's index into another:
    # far cheaper than a million Python row tuples. Fields never hold a newline (import
    # rejects them), and _sorted_pair re-checks the order whatever the collation.
    if isinstance(db, peewee.PostgresqlDatabase):
        agg = (f"SELECT string_agg(uscc, chr(10) ORDER BY uscc), "
               f"string_agg(k, '' ORDER BY uscc) FROM (SELECT uscc, {case} AS k FROM {t} "
               f"WHERE {where}) AS pool")
    else:
        agg = (f"SELECT group_concat(uscc, char(10)), group_concat(k, '') FROM "
               f"(SELECT uscc, {case} AS k FROM {t} WHERE {where} ORDER BY uscc)")
    with lottery.gc_paused():
        joined, keys = db.execute_sql(agg, (*case_params, *where_params)).fetchone()
        ids = joined.split("\n") if joined else []
        col = list(map(names.__getitem__, keys or ""))
        eligible = len(ids)
        if recent:  # recent inspections are few: dropping them here beats NOT IN per row
            keep = [u not in recent for u in ids]
            ids, col = list(itertools.compress(ids, keep)), list(itertools.compress(col, keep))
        ids, col = _sorted_pair(ids, col)
    excluded = eligible - len(ids)

    q = Inspector.select(Inspector.cert_no).where(
        (Inspector.active == True)  # noqa: E712
        & (Inspector.cert_valid_until >= draw_date)
        & ((Inspector.cert_valid_from.is_null()) | (Inspector.cert_valid_from <= draw_date)))
    offices, departments = _split(item.offices), _split(item.departments)
    if offices:
        q = q.where(Inspector.office.in_(offices))
    if departments:
        q = q.where(Inspector.department.in_(departments))
    inspectors = sorted(i for (i,) in q.tuples())

    insp_set = set(inspectors)
    c, i = Conflict._meta.table_name, Inspector._meta.table_name
    # Conflicts are few: read them all and filter here, so the query is driven by them and
    # not by a scan of the targets.
    cats = set(categories)
    conflicts = [
        [cert, uscc] for cert, uscc, category, active in db.execute_sql(
            f"SELECT {i}.cert_no, {t}.uscc, {t}.category, {t}.active FROM {c} "
            f"JOIN {i} ON {i}.id = {c}.inspector_id JOIN {t} ON {t}.id = {c}.target_id")
        if active and category in cats and cert in insp_set and uscc not in recent]
    return Frozen(ids=ids, col=col, inspectors=inspectors, conflicts=sorted(conflicts),
                  strata=strata, team_size=item.team_size, excluded_recent=excluded)


# ---------------------------------------------------------------- frozen inputs on file


def _store_listings(draw: Draw, frozen: Frozen, listings: dict[str, bytes],
                    digests: dict[str, str]) -> None:
    rows = {"pool": len(frozen.ids), "inspectors": len(frozen.inspectors),
            "conflicts": len(frozen.conflicts)}
    for kind, data in listings.items():
        DrawListing.create(draw=draw, kind=kind, digest=digests[kind], rows=rows[kind],
                           content=gzip.compress(data, compresslevel=1))


def listing_bytes(draw: Draw, kind: str) -> bytes:
    row = DrawListing.get((DrawListing.draw == draw) & (DrawListing.kind == kind))
    return gzip.decompress(bytes(row.content))


def _parse(data: bytes) -> list[list[str]]:
    return [line.split("\t") for line in data.decode().splitlines()]


# One entry, keyed by the store object itself and the draw: a process may open more than
# one store (tests, demo), and an id() of a closed store can come back for the next one.
_frozen_cache: dict[tuple[object, int], Frozen] = {}


def _cache_key(draw_id: int) -> tuple[object, int]:
    return (database.obj, draw_id)


def _remember(draw_id: int, fr: Frozen) -> Frozen:
    """Keep only the latest draw's inputs: a province's pool is large."""
    _frozen_cache.clear()
    _frozen_cache[_cache_key(draw_id)] = fr
    return fr


def frozen_of(draw: Draw) -> Frozen:
    """The draw's frozen inputs, read back from its listings (what the digests cover)."""
    if _cache_key(draw.id) in _frozen_cache:
        return _frozen_cache[_cache_key(draw.id)]
    fr = Frozen.from_rows(_parse(listing_bytes(draw, "pool")),
                          inspectors=[r[0] for r in _parse(listing_bytes(draw, "inspectors"))],
                          conflicts=_parse(listing_bytes(draw, "conflicts")),
                          strata=json.loads(draw.strata_json), team_size=draw.team_size)
    return _remember(draw.id, fr)


# ---------------------------------------------------------------- locking


def _lock_is_stale(draw: Draw) -> bool:
    if not draw.lock_owner:
        return True
    host, _, rest = draw.lock_owner.partition(":")
    pid = rest.partition(":")[0]
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True  # the terminal that held it was killed: resume here
        except PermissionError:
            pass
    if draw.lock_at is None:
        return True
    return (now() - draw.lock_at).total_seconds() > LOCK_STALE_SECONDS


def _take_lock(draw: Draw, terminal: str) -> None:
    if draw.lock_owner and draw.lock_owner != terminal and not _lock_is_stale(draw):
        raise UserError(
            f"任务 {draw.task.code} 正在另一终端（{draw.lock_owner.split(':')[0]}）摇号，"
            f"同一任务不能同时在两处摇号。")
    draw.lock_owner = terminal
    draw.lock_at = now()


def heartbeat(draw_id: int, terminal: str = TERMINAL_ID) -> None:
    """Called periodically by the screen so a live ceremony keeps its lock."""
    Draw.update(lock_at=now()).where((Draw.id == draw_id) & (Draw.lock_owner == terminal)).execute()


def _load(draw_id: int, terminal: str) -> Draw:
    """Re-read the draw inside the write transaction and check this terminal holds it."""
    draw = Draw.get_by_id(draw_id)
    if draw.state in ("sealed", "aborted"):
        raise UserError(f"该次摇号已{STEP_LABELS[draw.state]}，不能再更改。")
    _take_lock(draw, terminal)
    return draw


@contextlib.contextmanager
def _step(draw_id: int, terminal: str, *states: str, refusal: str):
    """One ceremony step: a write transaction on the draw this terminal holds, refused
    plainly unless the draw is at one of the steps where this action belongs."""
    with write_tx():
        draw = _load(draw_id, terminal)
        if draw.state not in states:
            raise UserError(refusal)
        yield draw


def _save(draw: Draw, state: str | None = None) -> None:
    if state:
        draw.state = state
    draw.updated_at = now()
    draw.save()


# ---------------------------------------------------------------- the steps


def open_attempt(task: PlanTask) -> Draw | None:
    return (Draw.select().where((Draw.task == task) & (Draw.state.in_(OPEN_STATES)))
            .order_by(Draw.attempt_no.desc()).first())


def prepare(task_code: str | int, operator: str, *, terminal: str = TERMINAL_ID,
            draw_date: dt.date | None = None, role: str | None = None) -> Draw:
    """Freeze the pool and open a numbered attempt, or resume the open one (after a crash).

    role: the logged-in user's role at the terminal (None from the shell, whose user the
    operating system has already authenticated)."""
    if role is not None and not may_run(role):
        raise UserError(MAY_NOT_RUN)
    task = get_task(task_code)
    draw_date = draw_date or dt.date.today()
    with write_tx():
        task = PlanTask.get_by_id(task.id)
        if task.state == "drawn":
            raise UserError(f"任务 {task.code} 已摇号封存，不得重复摇号。")
        if task.state == "cancelled":
            raise UserError(f"任务 {task.code} 已取消。")
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
    short = lottery.feasibility(zip(frozen.ids, frozen.col), frozen.inspectors, frozen.conflicts,
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
            lock_at=now())
        _store_listings(draw, frozen, listings, digests)
        task.state = "drawing"
        task.save()
        audit.record(operator, "draw.prepare", "draw", draw.id, task=task.code,
                     attempt=draw.attempt_no, pool_size=len(frozen.ids),
                     inspector_count=len(frozen.inspectors),
                     conflict_count=len(frozen.conflicts),
                     excluded_recent=frozen.excluded_recent, digests=digests)
    _remember(draw.id, frozen)
    return draw


def _one_line(what: str, *texts: str | None) -> None:
    """Listings and the seed are line- and TAB-separated: such characters never get in."""
    if any(t and ("\t" in t or "\n" in t or "\r" in t) for t in texts):
        raise UserError(f"{what}不能包含制表符或换行。")


def quorum() -> int:
    return max(1, settings.get_int("witness_quorum"))


def sign_in_witness(draw_id: int, name: str, organisation: str, actor: str, *,
                    terminal: str = TERMINAL_ID) -> DrawWitness:
    name, organisation = name.strip(), organisation.strip()
    if not name:
        raise UserError("请输入见证人姓名。")
    if len(name) > 64 or len(organisation) > 128:
        raise UserError("见证人姓名不超过 64 字，单位不超过 128 字。")
    _one_line("姓名和单位", name, organisation)
    with _step(draw_id, terminal, "prepared", "witnesses",
               refusal="系统随机数已承诺，不能再增加见证人。") as draw:
        existing = list(draw.witnesses.order_by(DrawWitness.position))
        if any(w.name == name for w in existing):
            raise UserError(f"见证人“{name}”已签到。")
        w = DrawWitness.create(draw=draw, position=len(existing), name=name,
                               organisation=organisation)
        _save(draw, "witnesses" if len(existing) + 1 >= quorum() else None)
        audit.record(actor, "draw.witness", "draw", draw.id, name=name, organisation=organisation)
    return w


def commit(draw_id: int, actor: str, *, terminal: str = TERMINAL_ID) -> str:
    """Draw the kiosk's 32 secret bytes and show only their hash, before any witness entropy."""
    with _step(draw_id, terminal, "witnesses",
               refusal=f"见证人不足 {quorum()} 名，不能开始摇号。") as draw:
        entropy = secrets.token_bytes(32)
        draw.system_entropy = entropy.hex()
        draw.commitment = lottery.commitment(entropy.hex())
        _save(draw, "committed")
        audit.record(actor, "draw.commit", "draw", draw.id, commitment=draw.commitment)
    return draw.commitment


def enter_entropy(draw_id: int, position: int, text: str, actor: str, *,
                  terminal: str = TERMINAL_ID) -> None:
    if not lottery.normalise_entropy(text):
        raise UserError("请输入随机数（掷骰结果、数字或一句话）。")
    _one_line("随机数", text)
    with _step(draw_id, terminal, "committed",
               refusal="现在不是录入见证人随机数的步骤。") as draw:
        ws = list(draw.witnesses.order_by(DrawWitness.position))
        pending = [w for w in ws if w.entropy is None]
        if not pending or pending[0].position != position:
            raise UserError("请按签到顺序依次录入见证人随机数。")
        w = pending[0]
        w.entropy = text
        w.save()
        audit.record(actor, "draw.entropy", "draw", draw.id, witness=w.name, entropy=text)
        if len(pending) == 1:
            _save(draw, "entropy")
        else:
            _save(draw)


def set_beacon(draw_id: int, beacon: str | None, actor: str, *,
               terminal: str = TERMINAL_ID) -> None:
    beacon = beacon if beacon else None
    _one_line("公开信标", beacon)
    with _step(draw_id, terminal, "entropy",
               refusal="只能在见证人随机数录入后、揭晓前填写公开信标。") as draw:
        draw.beacon = beacon
        _save(draw)
        audit.record(actor, "draw.beacon", "draw", draw.id, beacon=beacon)


def _witness_entropy(draw: Draw) -> list[str]:
    return [w.entropy for w in draw.witnesses.order_by(DrawWitness.position)]


def _amendments(draw: Draw) -> list[dict]:
    return [{"target": a.target_uscc, "inspector": a.inspector_cert, "reason": a.reason}
            for a in draw.amendments.order_by(DrawAmendment.seq)]


def inputs(draw: Draw) -> dict:
    """The protocol inputs of the draw, in the shape lottery.run and `kiosk verify` take."""
    fr = frozen_of(draw)
    return {
        "pool": fr.pool, "inspectors": fr.inspectors, "conflicts": fr.conflicts,
        "strata": fr.strata, "team_size": draw.team_size,
        "system_entropy": draw.system_entropy, "witness_entropy": _witness_entropy(draw),
        "beacon": draw.beacon, "amendments": _amendments(draw),
    }


def reveal(draw_id: int, actor: str, *, terminal: str = TERMINAL_ID) -> list[str]:
    """Reveal the system entropy and compute the seed and the selected targets."""
    with _step(draw_id, terminal, "entropy",
               refusal="见证人随机数尚未全部录入。") as draw:
        inp = inputs(draw)
        draw.seed = lottery.compute_seed(
            draw.pool_digest, draw.inspectors_digest, draw.conflicts_digest, inp["strata"],
            draw.team_size, draw.system_entropy, inp["witness_entropy"], draw.beacon)
        selected = lottery.select_from(frozen_of(draw).by_stratum, inp["strata"], draw.seed)
        draw.results_json = json.dumps({"selected": selected}, ensure_ascii=False)
        draw.reveal_index = 0
        _save(draw, "revealed")
        audit.record(actor, "draw.reveal", "draw", draw.id, system_entropy=draw.system_entropy,
                     seed=draw.seed, selected=len(selected))
    return selected


def advance_reveal(draw_id: int, count: int, *, terminal: str = TERMINAL_ID) -> None:
    """Persist how many picks the witnesses have seen, so a restart shows the same screen."""
    with write_tx():
        draw = _load(draw_id, terminal)
        draw.reveal_index = max(draw.reveal_index, count)
        _save(draw)


def _results(draw: Draw) -> dict:
    return json.loads(draw.results_json) if draw.results_json else {}


def _compute_teams(draw: Draw) -> dict:
    """Teams for the revealed selection, with every amendment so far, by the protocol."""
    fr = frozen_of(draw)
    selected = _results(draw)["selected"]
    try:
        teams, _ = lottery.match_teams(selected, fr.inspectors, fr.conflicts, draw.team_size,
                                       draw.seed, _amendments(draw))
    except lottery.DrawError as e:
        raise UserError(f"无法组成检查组：{e}") from None
    return {"selected": selected, "teams": teams}


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
    _one_line("回避理由", reason)
    with _step(draw_id, terminal, "matched",
               refusal="只能在检查组匹配后、见证人确认前申报回避。") as draw:
        teams = dict((t, m) for t, m in _results(draw)["teams"])
        if target not in teams:
            raise UserError(f"{target} 不是本次抽中的检查对象。")
        if inspector not in teams[target]:
            raise UserError(f"执法证号 {inspector} 不在该对象的检查组中。")
        seq = draw.amendments.count()
        amendment = DrawAmendment.create(draw=draw, seq=seq, target_uscc=target,
                                         inspector_cert=inspector, reason=reason)
        res = _compute_teams(draw)
        new_team = dict((t, m) for t, m in res["teams"])[target]
        replacement = [i for i in new_team if i not in teams[target]][0]
        amendment.replacement_cert = replacement
        amendment.save()
        draw.results_json = json.dumps(res, ensure_ascii=False)
        # The teams changed: whoever confirmed before must look again.
        DrawWitness.update(confirmed_at=None).where(DrawWitness.draw == draw).execute()
        _save(draw)
        audit.record(actor, "draw.amend", "draw", draw.id, target=target, inspector=inspector,
                     reason=reason, replacement=replacement)
    return replacement


def confirm(draw_id: int, position: int, actor: str, *, terminal: str = TERMINAL_ID) -> bool:
    """A witness confirms what they saw; True when every witness has confirmed."""
    with _step(draw_id, terminal, "matched",
               refusal="检查组尚未匹配完成，不能确认。") as draw:
        w = DrawWitness.get((DrawWitness.draw == draw) & (DrawWitness.position == position))
        if w.confirmed_at is None:
            w.confirmed_at = now()
            w.save()
            audit.record(actor, "draw.confirm", "draw", draw.id, witness=w.name)
        done = all(x.confirmed_at for x in draw.witnesses)
        if done:
            _save(draw, "confirmed")
    return done


def selected_strata(fr: Frozen, n_selected: int) -> list[str]:
    """The stratum of each selected target: the protocol concatenates each stratum's quota
    in sorted stratum order, so positions alone tell it."""
    out: list[str] = []
    for s in sorted(fr.strata):
        out += [s] * lottery.quota(fr.counts.get(s, 0), fr.strata[s]["ratio_bp"])
    return out[:n_selected]


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
        res = _results(draw)
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
        draw.record_json = json.dumps(_record_head(draw, res), ensure_ascii=False)
        _save(draw, "sealed")
        PlanTask.update(state="drawn").where(PlanTask.id == draw.task_id).execute()
        audit.record(actor, "draw.seal", "draw", draw.id, task=draw.task.code, seed=draw.seed,
                     assignments=len(selected), first_code=codes[0] if codes else "")
    return export_record(draw)


def abort(draw_id: int, reason: str, actor: str, *, terminal: str = TERMINAL_ID) -> None:
    """Stop an attempt with a reason; it stays on file, and the task can be drawn again."""
    reason = reason.strip()
    if not reason:
        raise UserError("中止摇号必须说明理由。")
    with write_tx():
        draw = Draw.get_by_id(draw_id)
        if draw.state in ("sealed", "aborted"):
            raise UserError(f"该次摇号已{STEP_LABELS[draw.state]}，不能中止。")
        _take_lock(draw, terminal)
        prior = draw.state
        draw.abort_reason = reason
        draw.lock_owner = ""
        _save(draw, "aborted")
        PlanTask.update(state="planned").where(PlanTask.id == draw.task_id).execute()
        audit.record(actor, "draw.abort", "draw", draw.id, task=draw.task.code,
                     attempt=draw.attempt_no, at_step=prior, reason=reason)


def release(draw_id: int, terminal: str = TERMINAL_ID) -> None:
    """Leave a ceremony without aborting it: another terminal may resume it."""
    Draw.update(lock_owner="").where((Draw.id == draw_id) & (Draw.lock_owner == terminal)).execute()


# ---------------------------------------------------------------- the record and views


def _record_head(draw: Draw, res: dict) -> dict:
    task = draw.task
    item = task.item
    return {
        "protocol": "dsr-draw/1",
        "draw_id": draw.id, "task": task.code, "attempt": draw.attempt_no,
        "item": {"code": item.code, "name": item.name, "version": item.version},
        "draw_date": str(draw.draw_date), "operator": draw.operator,
        "started_at": str(draw.started_at), "sealed_at": str(draw.sealed_at),
        "witnesses": [{"name": w.name, "organisation": w.organisation}
                      for w in draw.witnesses.order_by(DrawWitness.position)],
        "digests": {"pool": draw.pool_digest, "inspectors": draw.inspectors_digest,
                    "conflicts": draw.conflicts_digest},
        "strata": json.loads(draw.strata_json), "team_size": draw.team_size,
        "system_entropy": draw.system_entropy, "commitment": draw.commitment,
        "witness_entropy": _witness_entropy(draw), "beacon": draw.beacon,
        "amendments": _amendments(draw), "seed": draw.seed,
        "selected": res["selected"], "teams": res["teams"],
        "audit_head": audit.head()[1],
    }


def export_record(draw: Draw) -> dict:
    """The full record for `kiosk verify`: the sealed head plus the three listings."""
    if draw.state != "sealed":
        raise UserError("只有已封存的摇号才能导出核验记录。")
    rec = json.loads(draw.record_json)
    fr = frozen_of(draw)
    rec.update(pool=fr.pool, inspectors=fr.inspectors, conflicts=fr.conflicts)
    return rec


def write_listings(draw: Draw, directory) -> dict[str, str]:
    """pool.tsv, inspectors.tsv, conflicts.tsv: `sha256sum` of each equals the digest."""
    from pathlib import Path

    out = {}
    for kind in ("pool", "inspectors", "conflicts"):
        p = Path(directory) / f"{kind}.tsv"
        p.write_bytes(listing_bytes(draw, kind))
        out[kind] = str(p)
    return out


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


def view(draw_id: int, role: str = "witness") -> View:
    draw = Draw.get_by_id(draw_id)
    fr = frozen_of(draw)
    counts = fr.counts
    strata = {s: {"ratio_bp": v["ratio_bp"], "pool": counts.get(s, 0),
                  "quota": lottery.quota(counts.get(s, 0), v["ratio_bp"])}
              for s, v in sorted(fr.strata.items())}
    res = _results(draw)
    show_names = role in NAME_ROLES and draw.state != "sealed"
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
        witnesses=[{"position": w.position, "name": w.name, "organisation": w.organisation,
                    "entropy": w.entropy, "confirmed": bool(w.confirmed_at)}
                   for w in draw.witnesses.order_by(DrawWitness.position)],
        selected=selected,
        amendments=[{"target": a.target_uscc, "inspector": a.inspector_cert, "reason": a.reason,
                     "replacement": a.replacement_cert}
                    for a in draw.amendments.order_by(DrawAmendment.seq)],
        reveal_index=draw.reveal_index, names_shown=show_names, abort_reason=draw.abort_reason,
        sealed_at=str(draw.sealed_at or ""))


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
        "witnesses": [{"name": w["name"], "organisation": w["organisation"],
                       "entropy": w["entropy"]} for w in v.witnesses],
        "quorum": v.quorum, "commitment": v.commitment, "system_entropy": v.system_entropy,
        "beacon": v.beacon, "seed": v.seed,
        "selected": [dict(s, name=names.get(s["uscc"], s["name"])) for s in v.selected],
        "amendments": v.amendments, "audit_head": audit.head()[1],
    }
