"""Art. 7's rules for an item of the list: rounds a year, ratios per stratum, special targets.

One home for "is this item's sampling lawful": the importer checks every row with
`problems(...)`, the Plan screen shows the same sentences, the plan builder and the draw pool
ask `rounds(...)` and `windows(...)`.
"""
from __future__ import annotations

from dataclasses import dataclass

MIN_ROUNDS = 3  # Art. 7: each item at least 3 draws a year
MIN_RATIO_BP = 100  # Art. 7: each draw at least 1% of the same-type targets
ORDINARY = "ordinary"


def kind_of(criterion: str) -> str:
    """'special', 'small_micro' or ORDINARY (the default stratum and the credit-risk tiers)."""
    if criterion in ("special", "small_micro"):
        return criterion
    return ORDINARY


def _pct(bp: int) -> str:
    return f"{bp / 100:.2f}".rstrip("0").rstrip(".") + "%"


@dataclass(frozen=True)
class ItemRules:
    """What Art. 7 looks at in one item (a row being imported, or a stored item)."""

    ratio_bp: int  # the default (ordinary) stratum's ratio
    frequency: int
    recognition_months: int
    strata: tuple[tuple[str, str, int], ...] = ()  # (name, criterion, ratio_bp)
    special_frequency: int = 0  # 0: the item's frequency
    special_recognition_months: int | None = None  # None: the item's window
    small_micro_reason: str = ""

    @classmethod
    def of(cls, item, strata=None) -> ItemRules:
        """From a stored Item (its strata read unless given)."""
        if strata is None:
            from db.models import ItemStratum

            strata = [(s.name, s.criterion, s.ratio_bp) for s in ItemStratum.select()
                      .where(ItemStratum.item == item.id).order_by(ItemStratum.position)]
        return cls(item.ratio_bp, item.frequency, item.recognition_months, tuple(strata),
                   item.special_frequency or 0, item.special_recognition_months,
                   item.small_micro_reason or "")

    @property
    def ordinary_bp(self) -> int:
        """The ordinary ratio: the default stratum's, else the item's own."""
        return next((r for _, c, r in self.strata if c == "default"), self.ratio_bp)


def problems(rules: ItemRules) -> list[str]:
    """Every Art. 7 rule the item breaks, one Chinese sentence each ([] when lawful)."""
    out = []
    if rules.frequency < MIN_ROUNDS:
        out.append(f"抽查频次 {rules.frequency} 次少于每年 {MIN_ROUNDS} 次（第七条）")
    if rules.recognition_months < 0:
        out.append("结果互认月数不能为负数")
    ordinary = rules.ordinary_bp
    if ordinary < MIN_RATIO_BP:
        out.append(f"一般对象抽查比例 {_pct(ordinary)} 低于 1%（第七条）")
    for name, criterion, bp in rules.strata:
        kind = kind_of(criterion)
        if kind == ORDINARY and bp < MIN_RATIO_BP:
            out.append(f"分层“{name}”的比例 {_pct(bp)} 低于 1%（第七条）")
        elif kind == "small_micro" and bp < MIN_RATIO_BP and not rules.small_micro_reason.strip():
            out.append(f"小微企业分层“{name}”的比例 {_pct(bp)} 低于 1%，须在“小微企业比例说明”中"
                       "写明理由（第七条）")
        elif kind == "special" and bp < ordinary:
            out.append(f"特殊监管分层“{name}”的比例 {_pct(bp)} 低于一般对象的 {_pct(ordinary)}"
                       "（第七条：特殊对象提高比例）")
    if rules.special_frequency and rules.special_frequency < rules.frequency:
        out.append(f"特殊对象抽查频次 {rules.special_frequency} 次少于一般对象的 "
                   f"{rules.frequency} 次（第七条：特殊对象提高频次）")
    sw = rules.special_recognition_months
    if sw is not None and sw < 0:
        out.append("特殊对象结果互认月数不能为负数")
    elif sw is not None and sw > rules.recognition_months:
        out.append(f"特殊对象结果互认月数 {sw} 长于一般对象的 {rules.recognition_months} 个月，"
                   "特殊对象将无法在年内再次被抽取")
    return out


def rounds(rules: ItemRules) -> int:
    """Rounds a year the plan gives the item: its frequency, the special targets' if higher,
    never fewer than 3 (Art. 7)."""
    return max(MIN_ROUNDS, rules.frequency, rules.special_frequency or 0)


def windows(rules: ItemRules) -> tuple[int, int]:
    """(ordinary, special) recognition windows in months; 0 means nothing is recognised.

    A special window left empty is the item's own: never a silent 12."""
    sw = rules.special_recognition_months
    return rules.recognition_months, rules.recognition_months if sw is None else sw
