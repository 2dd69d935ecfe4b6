"""notice.html: the public notice as one self-contained page that verifies the draw in the
reader's own browser (Web Crypto, no network) from the record embedded in it."""
from __future__ import annotations

import json
from html import escape
from importlib import resources

STYLE = """
body{font-family:"Noto Serif CJK SC","Source Han Serif SC","SimSun",serif;margin:0 auto;
max-width:60em;padding:1em;line-height:1.6;color:#111}
h1{text-align:center;font-size:1.5em;margin:.4em 0}
.docno{text-align:center;color:#444}
table{border-collapse:collapse;width:100%;margin:.5em 0;font-size:.92em}
th,td{border:1px solid #888;padding:.2em .4em;vertical-align:top;text-align:left;
overflow-wrap:anywhere}
th{background:#eee}
code{font-family:monospace;word-break:break-all}
#verdict{border:2px solid #888;padding:.6em;margin:1em 0;font-weight:bold}
#verdict[data-result=match]{border-color:#1a7f37;color:#1a7f37}
#verdict[data-result=mismatch]{border-color:#c00;color:#c00}
.seal{text-align:right;margin-top:2em}
@media (min-width:641px){td:first-child,td[data-target-uscc]{white-space:nowrap}}
@media (max-width:640px){
.cards thead{display:none}
.cards tr{display:block;border:1px solid #888;margin:.5em 0;padding:.2em .4em}
.cards td{display:block;border:none;padding:.1em 0;white-space:normal}
.cards td::before{content:attr(data-label) "：";font-weight:bold}
}
"""


def verifier_js() -> str:
    return resources.files("kiosk.publication").joinpath("verifier.js").read_text("utf-8")


def _e(v: object) -> str:
    return escape("" if v is None else str(v))


def _row(cells: list[object], attrs: dict[int, str] | None = None,
         labels: list[str] | None = None) -> str:
    """A table row; with labels each cell carries its column's name (phones show it)."""
    attrs = attrs or {}
    return "<tr>" + "".join(
        f"<td{attrs.get(k, '')}"
        + (f' data-label="{_e(labels[k])}"' if labels else "") + f">{_e(c)}</td>"
        for k, c in enumerate(cells)) + "</tr>"


def _table(header: list[str], rows: list[str], cards: bool = False) -> str:
    """A table; `cards` turns its rows into one card each on a narrow (phone) screen."""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    cls = " class=cards" if cards else ""
    return (f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody>"
            "</table>")


def embedded(record: dict) -> str:
    """The record as JSON inside a <script> block: `</` cannot close the block early."""
    return json.dumps(record, ensure_ascii=False).replace("</", "<\\/")


def render(data: dict) -> str:
    """The page for notice data (kiosk.publication.notice.notice_data); `data["record"]` is
    what the page's script recomputes."""
    v = data["verification"]
    parts = [f"<h1>{_e(data['title'])}</h1>",
             f"<p class=docno>{_e(data['doc_no'])}（第 {data['version']} 版）</p>"]
    parts.append("<h2>一、抽查事项</h2>" + _table(["项目", "内容"], [
        _row(["抽查事项", f"{data['item_code']} {data['item_name']}"]),
        _row(["法律依据", data["legal_basis"]]),
        _row(["计划任务", f"{data['task']}（第 {data['attempt']} 次摇号）"]),
        _row(["摇号日期", data["draw_date"]]),
        _row(["公示日期", data["date"]]),
    ]))
    parts.append("<h2>二、对象库与抽取数量</h2>" + _table(
        ["分层", "比例", "对象数", "抽取数"],
        [_row([s, f"{x['ratio_bp'] / 100:g}%", x["pool"], x["quota"]])
         for s, x in data["strata"].items()]))
    header = ["序号", "统一社会信用代码", "单位名称", "分层", "检查人员", "查处结果"]
    parts.append("<h2>三、抽查对象及查处结果</h2>" + _table(
        header,
        [_row([n, t["uscc"], t["name"], t["stratum"],
               "、".join(f"{m['name']}（{m['cert_no']}）" for m in t["team"]), t["result"]],
              {1: " data-target-uscc"}, header)
         for n, t in enumerate(data["targets"], 1)], cards=True))
    rect = data["rectifications"]
    parts.append("<h2>四、整改情况</h2>" + (_table(
        ["统一社会信用代码", "单位名称", "整改期限", "整改情况"],
        [_row([r["uscc"], r["name"], r["deadline"], r["state"]]) for r in rect])
        if rect else "<p>无责令整改事项。</p>"))
    parts.append("<h2>五、本任务的全部摇号</h2>" + _table(
        ["次数", "状态", "中止理由"],
        [_row([a["attempt"], a["state_label"], a.get("reason") or "—"])
         for a in data["attempts"]]))
    if data["amendments"]:
        parts.append("<p>当场回避更正：</p>" + _table(
            ["检查对象", "回避人员", "理由", "按规则补抽"],
            [_row([a["target"], a["inspector"], a["reason"], a["replacement"]])
             for a in data["amendments"]]))
    witnesses = "、".join(w["name"] + (f"（{w['organisation']}）" if w.get("organisation")
                                       else "") for w in data["witnesses"])
    digests = v["digests"]
    parts.append("<h2>六、核验数据</h2>" + _table(["项目", "数值"], [
        _row(["检查对象名录摘要 pool.tsv", digests["pool"]], {1: ' data-field="digests.pool"'}),
        _row(["执法人员名录摘要 inspectors.tsv", digests["inspectors"]],
             {1: ' data-field="digests.inspectors"'}),
        _row(["回避名录摘要 conflicts.tsv", digests["conflicts"]],
             {1: ' data-field="digests.conflicts"'}),
        _row(["承诺值 commitment", v["commitment"]], {1: ' data-field="commitment"'}),
        _row(["系统随机数 system_entropy", v["system_entropy"]]),
        _row(["见证人", witnesses or "—"]),
        _row(["见证人随机数 witness_entropy", " | ".join(v["witness_entropy"])]),
        _row(["公共信标 beacon", v["beacon"] if v["beacon"] is not None else "未使用"]),
        _row(["信标来源", v["beacon_source"] or "—"]),
        _row(["种子 seed", v["seed"]], {1: ' data-field="seed"'}),
        _row(["封存时审计链头", v["seal_head"]]),
        _row(["公示时审计链头", v["audit_head"]]),
    ]))
    parts.append('<h2>七、在本页核验</h2><div id="verdict" data-result="pending">'
                 "正在本浏览器中重算摇号……（需要启用 JavaScript）</div>"
                 "<p>本页按公开的摇号规则 dsr-draw/1，用页面内嵌的名录和随机数重算名录摘要、"
                 "承诺值、种子、抽中对象和检查组（含当场回避更正），不联网。"
                 "也可下载公示包，运行 <code>sha256sum -c SHA256SUMS</code> 和 "
                 "<code>python3 verify.py record.json</code> 核验。</p>")
    parts.append(f"<p class=seal>{_e(data['bureau'])}<br>{_e(data['date'])}</p>")
    return ("<!DOCTYPE html>\n<html lang=zh-CN><head><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width,initial-scale=1'>"
            f"<title>{_e(data['title'])}</title><style>{STYLE}</style></head><body>"
            + "\n".join(parts)
            + f'\n<script type="application/json" id="dsr-record">{embedded(data["record"])}'
            f"</script>\n<script>\n{verifier_js()}</script>\n</body></html>\n")


def render_record_only(record: dict, title: str = "摇号核验") -> str:
    """A bare verifying page for a record or a spec vector (no notice around it)."""
    return ("<!DOCTYPE html>\n<html lang=zh-CN><head><meta charset=utf-8>"
            f"<title>{_e(title)}</title></head><body>"
            '<div id="verdict" data-result="pending">…</div>'
            f'<script type="application/json" id="dsr-record">{embedded(record)}</script>\n'
            f"<script>\n{verifier_js()}</script></body></html>\n")
