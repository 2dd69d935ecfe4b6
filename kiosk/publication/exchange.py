"""The provincial exchange (Art. 16): the year's published tasks, draws, results and
rectifications as JSON and CSV, from what was published (nothing unpublished leaves)."""
from __future__ import annotations

import csv
import io
import json

from db.models import Draw, PlanTask, Publication
from kiosk import guard
from kiosk.errors import UserError

SCHEMA = "dsr-exchange/1"

# Each file's columns: (field, type, meaning). The README documents the same table.
FILES = {
    "tasks": [("task", "string", "计划任务编号"), ("year", "integer", "年度"),
              ("item_code", "string", "抽查事项编码"), ("item_name", "string", "抽查事项名称"),
              ("legal_basis", "string", "法律依据"), ("round", "integer", "年度第几轮"),
              ("draw_id", "integer", "摇号编号"), ("published_version", "integer",
                                                  "最新公示版本"),
              ("published_at", "datetime", "最新公示时间")],
    "draws": [("draw_id", "integer", "摇号编号"), ("task", "string", "计划任务编号"),
              ("attempt", "integer", "第几次摇号"), ("draw_date", "date", "摇号日期"),
              ("pool_size", "integer", "对象库数量"), ("selected", "integer", "抽中对象数"),
              ("pool_digest", "hex", "检查对象名录 SHA-256"),
              ("inspectors_digest", "hex", "执法人员名录 SHA-256"),
              ("conflicts_digest", "hex", "回避名录 SHA-256"),
              ("commitment", "hex", "系统随机数承诺值"), ("seed", "hex", "种子"),
              ("beacon", "string|null", "公共信标"), ("audit_head", "string",
                                                     "公示时审计链头 序号:哈希")],
    "results": [("draw_id", "integer", "摇号编号"), ("task", "string", "计划任务编号"),
                ("uscc", "string", "统一社会信用代码"), ("name", "string", "单位名称"),
                ("stratum", "string", "分层"), ("inspectors", "string",
                                                "检查人员执法证号，以空格分隔"),
                ("result", "string", "查处结果：无问题/责令整改/行政处罚/移送/检查中"),
                ("final_date", "date|empty", "结果确定日期")],
    "rectifications": [("draw_id", "integer", "摇号编号"), ("uscc", "string",
                                                             "统一社会信用代码"),
                       ("name", "string", "单位名称"), ("deadline", "date", "整改期限"),
                       ("state", "string", "整改情况")],
}


def _latest_publications(year: int) -> list[Publication]:
    latest: dict[int, Publication] = {}
    q = (Publication.select(Publication, Draw, PlanTask).join(Draw).join(PlanTask)
         .where((Publication.kind == "draw") & (PlanTask.year == year))
         .order_by(Publication.draw, Publication.version))
    for p in q:
        latest[p.draw_id] = p
    return list(latest.values())


def collect(year: int) -> dict[str, list[dict]]:
    """The rows of each exchange file for `year`, as of each draw's latest publication."""
    from kiosk.publication import notice

    out: dict[str, list[dict]] = {k: [] for k in FILES}
    for pub in _latest_publications(year):
        data = notice.notice_data(pub.draw_id, pub.version)
        published = json.loads(pub.results_json).get("results", {})
        draw = pub.draw
        task = draw.task
        v = data["verification"]
        out["tasks"].append({"task": task.code, "year": task.year, "item_code": data["item_code"],
                             "item_name": data["item_name"], "legal_basis": data["legal_basis"],
                             "round": task.round_no, "draw_id": draw.id,
                             "published_version": pub.version,
                             "published_at": str(pub.published_at)})
        out["draws"].append({"draw_id": draw.id, "task": task.code, "attempt": draw.attempt_no,
                             "draw_date": str(draw.draw_date), "pool_size": draw.pool_size,
                             "selected": len(data["targets"]),
                             "pool_digest": v["digests"]["pool"],
                             "inspectors_digest": v["digests"]["inspectors"],
                             "conflicts_digest": v["digests"]["conflicts"],
                             "commitment": v["commitment"], "seed": v["seed"],
                             "beacon": v["beacon"], "audit_head": v["seal_head"]})
        for t in data["targets"]:
            # The result as published, not as it stands now: the exchange repeats the notice.
            out["results"].append({"draw_id": draw.id, "task": task.code, "uscc": t["uscc"],
                                   "name": t["name"], "stratum": t["stratum"],
                                   "inspectors": " ".join(m["cert_no"] for m in t["team"]),
                                   "result": published.get(t["uscc"], t["result"]),
                                   "final_date": t["final_date"]})
        for r in data["rectifications"]:
            out["rectifications"].append({"draw_id": draw.id, "uscc": r["uscc"],
                                          "name": r["name"], "deadline": r["deadline"],
                                          "state": r["state"]})
    return out


def _csv(name: str, rows: list[dict]) -> bytes:
    fields = [f for f, _, _ in FILES[name]]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(fields)
    for r in rows:
        w.writerow(["" if r[f] is None else guard.csv_cell(r[f]) for f in fields])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def render(year: int) -> dict[str, bytes]:
    """exchange.json (every file's rows and schema) and one CSV per file."""
    if not 2000 <= year <= 2100:
        raise UserError(f"年度 {year} 不在 2000–2100 之间。")
    rows = collect(year)
    doc = {"schema": SCHEMA, "year": year,
           "fields": {k: [{"field": f, "type": t, "meaning": m} for f, t, m in cols]
                      for k, cols in FILES.items()},
           **rows}
    files = {"exchange.json": json.dumps(doc, ensure_ascii=False, indent=1).encode()}
    for name in FILES:
        files[f"{name}.csv"] = _csv(name, rows[name])
    return files
