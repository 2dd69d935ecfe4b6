"""A registry's rows as the cell text its files and screens show: one query per kind, with the
names a code stands for (inspector, target) and an item's strata."""
from __future__ import annotations

import datetime as dt

from db.models import Conflict, InspectionRecord, Inspector, ItemStratum, Target, Training
from kiosk.registry.cells import format_cell
from kiosk.registry.kinds import MODELS, Column, Kind


def base_query(kind: str):
    """Every row of a kind, with the names its codes stand for (for export, search, screens)."""
    if kind == "conflicts":
        return (Conflict.select(Conflict.id, Inspector.cert_no, Target.uscc, Conflict.reason,
                                Conflict.declared_at, Inspector.name.alias("inspector_name"),
                                Target.name.alias("target_name"))
                .join(Inspector, on=(Conflict.inspector == Inspector.id))
                .switch(Conflict).join(Target, on=(Conflict.target == Target.id)))
    if kind == "trainings":
        return (Training.select(Training.id, Inspector.cert_no, Training.title, Training.date,
                                Training.hours, Training.organizer,
                                Inspector.name.alias("inspector_name"))
                .join(Inspector, on=(Training.inspector == Inspector.id)))
    if kind == "inspections":
        return (InspectionRecord.select(InspectionRecord.id, Target.uscc, InspectionRecord.date,
                                        InspectionRecord.department, InspectionRecord.reference,
                                        Target.name.alias("target_name"))
                .join(Target, on=(InspectionRecord.target == Target.id)))
    model = MODELS[kind]
    return model.select()


def _to_python(c: Column, v):
    # Raw SQL / dicts() on SQLite can hand back dates as text.
    if isinstance(v, str) and c.type == "date" and v:
        return dt.date.fromisoformat(v[:10])
    if isinstance(v, str) and c.type == "datetime" and v:
        return dt.datetime.fromisoformat(v)
    return v


def row_cells(k: Kind, row: dict, strata: dict | None = None) -> dict:
    """{field: cell text} of one stored row, as the export writes it; strata: all_strata()
    when many items are shown (None reads this item's own)."""
    out = {}
    for c in k.columns:
        if c.field == "strata":
            v = strata.get(row["id"], []) if strata is not None else item_strata(row["id"])
        else:
            v = _to_python(c, row.get(c.field))
        out[c.field] = format_cell(c, v)
    return out


def all_strata() -> dict[int, list]:
    """{item id: [(name, criterion, ratio_bp)…]} of every item, in their order."""
    out: dict[int, list] = {}
    for s in ItemStratum.select().order_by(ItemStratum.item, ItemStratum.position, ItemStratum.id):
        out.setdefault(s.item_id, []).append((s.name, s.criterion, s.ratio_bp))
    return out


def item_strata(item_id: int) -> list[tuple[str, str, int]]:
    """[(name, criterion, ratio_bp)…] of one item's strata, in their order."""
    return [(s.name, s.criterion, s.ratio_bp) for s in
            ItemStratum.select().where(ItemStratum.item == item_id)
            .order_by(ItemStratum.position, ItemStratum.id)]
