"""notice.csv: the notice's targets and results as one table a spreadsheet opens (UTF-8, BOM)."""
from __future__ import annotations

import csv
import io

from kiosk import guard

HEADER = ["序号", "统一社会信用代码", "单位名称", "分层", "检查人员执法证号", "查处结果",
          "结果确定日期", "整改情况", "计划任务", "公示版本"]


def _cell(v: object) -> object:
    # Text that a spreadsheet would run as a formula gets a leading apostrophe (OWASP's rule).
    return guard.csv_cell("" if v is None else str(v))


def render(data: dict) -> bytes:
    rect = {}
    for r in data["rectifications"]:
        rect.setdefault(r["uscc"], []).append(f"{r['state']}，期限 {r['deadline']}")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(HEADER)
    for n, t in enumerate(data["targets"], 1):
        w.writerow([_cell(x) for x in (
            n, t["uscc"], t["name"], t["stratum"], " ".join(m["cert_no"] for m in t["team"]),
            t["result"], t["final_date"], "；".join(rect.get(t["uscc"], [])), data["task"],
            data["version"])])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
