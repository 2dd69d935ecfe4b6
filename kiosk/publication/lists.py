"""The public lists (Art. 4, 5): the item list with every version and its effective date, and
the inspector directory of those active and certified on the publication day."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json

from db.models import Inspector, Item, ItemStratum, ItemVersion
from kiosk import access, guard

# The item fields the public list carries (Art. 4); the history keeps them per version.
ITEM_FIELDS = ("name", "legal_basis", "content", "method", "category", "ratio_bp", "frequency",
               "lead_office", "departments", "team_size", "recognition_months", "active")

ITEM_HEADER = ["事项编码", "版本", "生效日期", "失效日期", "事项名称", "法律依据", "检查内容",
               "检查方式", "检查对象类别", "抽查比例", "分层比例", "每年抽查次数", "责任股室",
               "联合检查部门", "状态"]
INSPECTOR_HEADER = ["执法证号", "姓名", "股室", "所属部门", "执法证有效期自", "执法证有效期至",
                    "公示日期"]


def _snapshot(item: Item) -> dict:
    fields = {f: getattr(item, f) for f in ITEM_FIELDS}
    fields["strata"] = [[s.name, s.criterion, s.ratio_bp] for s in
                        ItemStratum.select().where(ItemStratum.item == item.id)
                        .order_by(ItemStratum.position)]
    return fields


def record_item_version(item_id: int, effective: dt.date | None = None) -> ItemVersion | None:
    """Keep the item's current version in its history (a no-op when already kept). The
    registry import calls it for every item row it writes; publishing the list calls it too,
    so items written before the history existed join it at their current version."""
    item = Item.get_or_none(Item.id == item_id)
    if item is None:
        return None
    if ItemVersion.select().where((ItemVersion.code == item.code)
                                  & (ItemVersion.version == item.version)).exists():
        return None
    when = effective or (item.updated_at.date() if item.updated_at else dt.date.today())
    return ItemVersion.create(code=item.code, version=item.version, effective_from=when,
                              fields_json=json.dumps(_snapshot(item), ensure_ascii=False,
                                                     default=str, sort_keys=True))


def item_history() -> list[dict]:
    """Every version of every item, oldest first, each with the day the next one replaced it."""
    rows = list(ItemVersion.select().order_by(ItemVersion.code, ItemVersion.version))
    out = []
    for n, v in enumerate(rows):
        nxt = rows[n + 1] if n + 1 < len(rows) and rows[n + 1].code == v.code else None
        out.append({"code": v.code, "version": v.version,
                    "effective_from": str(v.effective_from),
                    "effective_until": str(nxt.effective_from) if nxt else "",
                    **json.loads(v.fields_json)})
    return out


def current_items() -> list[dict]:
    """The list in force: each item's newest version."""
    latest: dict[str, dict] = {}
    for row in item_history():
        latest[row["code"]] = row
    return [r for r in latest.values() if r.get("active", True)]


def _pct(bp: object) -> str:
    return f"{int(bp) / 100:g}%" if isinstance(bp, int) else str(bp or "")


def _item_row(r: dict) -> list[str]:
    strata = "；".join(f"{n} {_pct(b)}" for n, _, b in r.get("strata") or [])
    return [r["code"], str(r["version"]), r["effective_from"], r["effective_until"], r["name"],
            r["legal_basis"], r["content"], r["method"], r["category"], _pct(r["ratio_bp"]),
            strata, str(r["frequency"]), r["lead_office"], r.get("departments") or "",
            "有效" if r.get("active", True) else "停用"]


def inspector_directory(on: dt.date) -> list[Inspector]:
    """Inspectors active and certified on `on` (and not barred by a sanction in force)."""
    return list(Inspector.select().where(access.in_service(on))
                .order_by(Inspector.office, Inspector.cert_no))


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    for r in rows:
        w.writerow([guard.csv_cell(c) for c in map(str, r)])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def render_lists(on: dt.date) -> dict[str, bytes]:
    """The list files: items (in force), item history (every version), inspector directory."""
    inspectors = inspector_directory(on)
    return {
        "items.csv": _csv(ITEM_HEADER, [_item_row(r) for r in current_items()]),
        "item_history.csv": _csv(ITEM_HEADER, [_item_row(r) for r in item_history()]),
        "inspectors.csv": _csv(INSPECTOR_HEADER, [
            [i.cert_no, i.name, i.office, i.department, str(i.cert_valid_from or ""),
             str(i.cert_valid_until or ""), str(on)] for i in inspectors]),
    }
