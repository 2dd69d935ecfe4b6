"""The draw's frozen inputs: eligible targets by stratum, inspectors and conflicts (Art. 5-7, 16).

Built once when a task's draw is opened, stored as the three listings whose digests are
published before any entropy, and read back from them afterwards.
"""
from __future__ import annotations

import datetime as dt
import functools
import gzip
import itertools
import json
import operator
from dataclasses import dataclass

import peewee

from db.connection import database
from db.models import (
    Assignment,
    Conflict,
    Draw,
    DrawListing,
    InspectionRecord,
    Inspector,
    Item,
    ItemStratum,
    PlanTask,
    Target,
)
from kiosk import (
    access,  # the barred-inspector rule (Art. 18)
    item_rules,
)
from kiosk.draw import lottery
from kiosk.errors import UserError

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


def joint_of(draw: Draw) -> dict | None:
    """Art. 11: a joint item's departments and the department of each frozen inspector (the
    record's `joint` field); None for an item of one department."""
    departments = sorted(set(_split(draw.task.item.departments)))
    if len(departments) < 2:
        return None
    certs = frozen_of(draw).inspectors
    of: dict[str, str] = {}
    for i in range(0, len(certs), 500):
        of.update(Inspector.select(Inspector.cert_no, Inspector.department)
                  .where(Inspector.cert_no.in_(certs[i:i + 500])).tuples())
    return {"departments": departments,
            "inspector_departments": {c: of.get(c, "") for c in certs}}


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
    def from_rows(cls, rows: list, **kw) -> Frozen:
        """From (uscc, stratum) rows in any order (ids are unique)."""
        ids = list(map(operator.itemgetter(0), rows))
        col = list(map(operator.itemgetter(1), rows))
        return cls(*_sorted_pair(ids, col), **kw)

    @functools.cached_property
    def pool(self) -> list[tuple[str, str]]:
        return list(zip(self.ids, self.col, strict=False))

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
    for (name, criterion), key in zip(rules, STRATUM_KEYS, strict=False):
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
    # Each item's own windows (0: nothing recognised, never a silent 12); special targets may
    # have a shorter one so they can be drawn again within the year (Art. 7).
    months, special_months = item_rules.windows(item_rules.ItemRules.of(item))
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

    def recent_in(m: int) -> set[str]:
        if m <= 0:
            return set()
        since = window_start(draw_date, m)
        return {u for (u,) in db.execute_sql(
            f"SELECT uscc FROM {t} WHERE id IN ({recent_sql})", (since, since))}

    recent = recent_in(months)
    special = {n for n, c in rules if c == "special"}
    recent_special = recent if special_months == months or not special else recent_in(
        special_months)
    # The database joins the ids into one string, and each stratum's index into another:
    # far cheaper than a million Python row tuples. Fields never hold a newline (import
    # rejects them), and _sorted_pair re-checks the order whatever the collation.
    if isinstance(db, peewee.PostgresqlDatabase):
        # One order for both aggregates (an ORDER BY inside each sorts the pool twice), in
        # byte order: code-point order for UTF-8, and a plain memcmp whatever the database's
        # collation. ~<~ is text_pattern_ops' "less than": the pool is read in that order
        # from migration v12's index, without a sort, once VACUUM has marked the table's
        # pages all-visible (kiosk.store.vacuum). Both aggregates read the same
        # rows in the same order, so ids and keys stay aligned.
        agg = (f"SELECT string_agg(uscc, chr(10)), string_agg(k, '') FROM (SELECT uscc, "
               f"{case} AS k FROM {t} WHERE {where} ORDER BY uscc USING ~<~) AS pool")
    else:
        agg = (f"SELECT group_concat(uscc, char(10)), group_concat(k, '') FROM "
               f"(SELECT uscc, {case} AS k FROM {t} WHERE {where} ORDER BY uscc)")
    with lottery.gc_paused():
        joined, keys = db.execute_sql(agg, (*case_params, *where_params)).fetchone()
        ids = joined.split("\n") if joined else []
        col = list(map(names.__getitem__, keys or ""))
        eligible = len(ids)
        dropped: set[str] = set()
        if recent or recent_special:  # few: dropping them here beats NOT IN per row
            if recent_special is recent:
                keep = [u not in recent for u in ids]
            else:
                keep = [u not in (recent_special if s in special else recent)
                        for u, s in zip(ids, col, strict=True)]
            dropped = {u for u, k in zip(ids, keep, strict=True) if not k}
            ids, col = list(itertools.compress(ids, keep)), list(itertools.compress(col, keep))
        ids, col = _sorted_pair(ids, col)
    excluded = eligible - len(ids)

    # Active, certified on the day, not barred (暂扣/吊销/调离, Art. 18): the directory's rule.
    q = Inspector.select(Inspector.cert_no).where(access.in_service(draw_date))
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
        if active and category in cats and cert in insp_set and uscc not in dropped]
    return Frozen(ids=ids, col=col, inspectors=inspectors, conflicts=sorted(conflicts),
                  strata=strata, team_size=item.team_size, excluded_recent=excluded)


# ---------------------------------------------------------------- frozen inputs on file


def store_listings(draw: Draw, frozen: Frozen, listings: dict[str, bytes],
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


def remember(draw_id: int, fr: Frozen) -> Frozen:
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
    return remember(draw.id, fr)


def selected_strata(fr: Frozen, n_selected: int) -> list[str]:
    """The stratum of each selected target: the protocol concatenates each stratum's quota
    in sorted stratum order, so positions alone tell it."""
    out: list[str] = []
    for s in sorted(fr.strata):
        out += [s] * lottery.quota(fr.counts.get(s, 0), fr.strata[s]["ratio_bp"])
    return out[:n_selected]

