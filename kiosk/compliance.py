"""The plan's compliance view per item (Art. 7, 17, 18): rounds done against planned, the ratio
achieved per stratum against its minimum, rounds late against their month.

The Plan screen and `kiosk plan show --json` show the same view models.
"""
from __future__ import annotations

import calendar
import datetime as dt
import json
from dataclasses import asdict, dataclass, field

from db.models import Assignment, Draw, Item, PlanTask
from kiosk import item_rules
from kiosk.plans import STATE_LABELS


@dataclass(frozen=True)
class RoundStatus:
    code: str
    round_no: int
    month: int
    state: str
    state_label: str
    approved: bool
    late: bool  # not drawn by the end of its month, or drawn after it
    drawn_on: str  # the sealed draw's date, "" when not drawn
    note: str


@dataclass(frozen=True)
class StratumStatus:
    name: str
    criterion: str
    set_bp: int  # the ratio the item sets
    minimum_bp: int  # what Art. 7 asks of this stratum
    achieved_bp: int | None  # the lowest ratio any sealed draw of the year achieved
    ok: bool


@dataclass(frozen=True)
class ItemCompliance:
    code: str
    name: str
    required: int  # rounds Art. 7 and the item's own frequency ask for
    planned: int  # rounds in the plan, cancelled ones left out
    done: int  # rounds drawn and sealed
    approved: int  # planned rounds a leader approved
    late: int
    problems: list[str]  # the item's Art. 7 rule breaches and shortfalls, as sentences
    rounds: list[RoundStatus] = field(default_factory=list)
    strata: list[StratumStatus] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def minimum_bp(criterion: str, set_bp: int, rules: item_rules.ItemRules) -> int:
    """Art. 7's floor for a stratum: 1% for ordinary strata, the ordinary ratio for special
    targets, the set ratio for small/micro firms when a reason is stated."""
    kind = item_rules.kind_of(criterion)
    if kind == "special":
        return max(item_rules.MIN_RATIO_BP, rules.ordinary_bp)
    if kind == "small_micro" and rules.small_micro_reason.strip():
        return min(set_bp, item_rules.MIN_RATIO_BP)
    return item_rules.MIN_RATIO_BP


def _achieved(draws: list[Draw]) -> dict[str, int]:
    """{stratum: lowest selected/pool ratio in basis points} over the sealed draws."""
    from kiosk.draw.pool import listing_bytes

    low: dict[str, int] = {}
    for d in draws:
        picked: dict[str, int] = {}
        for (s,) in Assignment.select(Assignment.stratum).where(Assignment.draw == d.id).tuples():
            picked[s] = picked.get(s, 0) + 1
        pool = listing_bytes(d, "pool")
        for name in json.loads(d.strata_json or "{}"):
            n = pool.count(f"\t{name}\n".encode())
            if n:
                bp = picked.get(name, 0) * 10000 // n
                low[name] = min(low.get(name, bp), bp)
    return low


def item_view(item: Item, year: int, today: dt.date) -> ItemCompliance:
    rules = item_rules.ItemRules.of(item)
    tasks = list(PlanTask.select().where((PlanTask.item == item) & (PlanTask.year == year))
                 .order_by(PlanTask.round_no))
    sealed = {d.task_id: d for d in Draw.select().where(
        (Draw.task.in_([t.id for t in tasks])) & (Draw.state == "sealed"))} if tasks else {}
    rounds = []
    for t in tasks:
        d = sealed.get(t.id)
        end = month_end(year, t.planned_month)
        if t.state == "cancelled":
            late = False
        elif d is not None:
            late = d.draw_date > end
        else:
            late = today > end
        rounds.append(RoundStatus(t.code, t.round_no, t.planned_month, t.state,
                                  STATE_LABELS.get(t.state, t.state), bool(t.approved_by),
                                  late, str(d.draw_date) if d else "", t.note))
    achieved = _achieved(list(sealed.values()))
    strata_rows = list(rules.strata)
    if not any(c == "default" for _, c, _ in strata_rows):
        from kiosk.draw.pool import DEFAULT_STRATUM

        strata_rows.append((DEFAULT_STRATUM, "default", item.ratio_bp))
    strata = []
    for name, criterion, bp in strata_rows:
        floor = minimum_bp(criterion, bp, rules)
        got = achieved.get(name)
        strata.append(StratumStatus(name, criterion, bp, floor, got,
                                    bp >= floor and (got is None or got >= floor)))
    live = [r for r in rounds if r.state != "cancelled"]
    required = item_rules.rounds(rules)
    problems = item_rules.problems(rules)
    if len(live) < required:
        problems.append(f"计划 {len(live)} 轮，少于应抽 {required} 轮（第七条）")
    late = [r for r in rounds if r.late]
    if late:
        names = "、".join(f"{r.code}（{r.month} 月）" for r in late)
        problems.append(f"{len(late)} 轮逾期：{names}")
    for s in strata:
        if s.achieved_bp is not None and s.achieved_bp < s.minimum_bp:
            problems.append(f"分层“{s.name}”实际抽查比例 {s.achieved_bp / 100:g}% 低于 "
                            f"{s.minimum_bp / 100:g}%")
    return ItemCompliance(item.code, item.name, required, len(live),
                          sum(r.state == "drawn" for r in rounds),
                          sum(r.approved for r in live), len(late), problems, rounds, strata)


def year_view(year: int, today: dt.date | None = None) -> list[ItemCompliance]:
    """Every active item, and any item with rounds in the year, in code order."""
    today = today or dt.date.today()
    planned = PlanTask.select(PlanTask.item).where(PlanTask.year == year)
    items = Item.select().where((Item.active == True) | (Item.id.in_(planned)))  # noqa: E712
    return [item_view(i, year, today) for i in items.order_by(Item.code)]


def as_json(year: int, today: dt.date | None = None) -> dict:
    view = year_view(year, today)
    return {"year": year, "approved": all(v.approved == v.planned for v in view),
            "items": [v.as_dict() for v in view]}
