"""notice.pdf: the public notice of a draw's results as an official document (GB/T 9704 style:
title, document number, date, body, the verification data, the issuing bureau and seal line)."""
from __future__ import annotations

import os
from pathlib import Path

from kiosk.printing.base import KioskPDF
from kiosk.printing.table import table


def _table(pdf: KioskPDF, header: list[str], rows: list[list[str]], fractions: list[float],
           size: float = 9) -> None:
    table(pdf, header, rows, fractions, size, v_pad=0.75)


def render(data: dict, out_path: str | os.PathLike) -> Path:
    v = data["verification"]
    pdf = KioskPDF(format="A4", doc_title="抽查结果公示")
    pdf.footer_note = f"{data['doc_no']} · 第 {data['version']} 版"
    pdf.add_page()
    pdf.font(10)
    if data["bureau"]:
        pdf.font(20, bold=True)
        pdf.set_text_color(200, 0, 0)  # the issuing organ's name in red, as official papers
        pdf.cell(pdf.epw, 12, data["bureau"], align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0)
    pdf.font(10)
    pdf.cell(pdf.epw, 6, data["doc_no"], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(200, 0, 0)
    pdf.line(pdf.l_margin, pdf.get_y() + 1, pdf.w - pdf.r_margin, pdf.get_y() + 1)
    pdf.set_draw_color(0)
    pdf.ln(4)
    pdf.font(15, bold=True)  # a long item name wraps instead of running off the page
    pdf.multi_cell(pdf.epw, 8, data["title"], align="C", new_x="LMARGIN", new_y="NEXT",
                   wrapmode="CHAR")
    pdf.font(9.5)
    pdf.cell(pdf.epw, 5.5, f"第 {data['version']} 版 · {data['date']}", align="C",
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)

    pdf.para(f"根据“双随机、一公开”监管工作要求，现将 {data['draw_date']} 摇号产生的"
             f"“{data['item_name']}”随机抽查任务（{data['task']}）的抽查对象、检查人员及查处结果"
             "公示如下。未办结的检查以“检查中”标注，办结后更新公示版本。", size=10.5)
    pdf.section("一、抽查事项")
    pdf.kv("抽查事项", f"{data['item_code']} {data['item_name']}")
    pdf.kv("法律依据", data["legal_basis"])
    pdf.kv("计划任务", f"{data['task']}（第 {data['attempt']} 次摇号）")
    pdf.kv("摇号日期", data["draw_date"])

    pdf.section("二、对象库与抽取数量")
    rows = [[s, f"{x['ratio_bp'] / 100:g}%", str(x["pool"]), str(x["quota"])]
            for s, x in data["strata"].items()]
    rows.append(["合计", "", str(sum(x["pool"] for x in data["strata"].values())),
                 str(sum(x["quota"] for x in data["strata"].values()))])
    _table(pdf, ["分层", "比例", "对象数", "抽取数"], rows, [0.34, 0.22, 0.22, 0.22])

    pdf.section("三、抽查对象及查处结果")
    _table(pdf, ["序号", "统一社会信用代码 / 单位名称", "检查人员", "查处结果"],
           [[str(n), f"{t['uscc']}\n{t['name']}",
             "\n".join(f"{m['name']} {m['cert_no']}" for m in t["team"]), t["result"]]
            for n, t in enumerate(data["targets"], 1)], [0.08, 0.46, 0.30, 0.16])

    pdf.section("四、整改情况")
    if data["rectifications"]:
        _table(pdf, ["统一社会信用代码 / 单位名称", "整改期限", "整改情况"],
               [[f"{r['uscc']}\n{r['name']}", r["deadline"], r["state"]]
                for r in data["rectifications"]], [0.5, 0.2, 0.3])
    else:
        pdf.para("无责令整改事项。", size=10)

    pdf.section("五、本任务的全部摇号")
    _table(pdf, ["次数", "状态", "中止理由"],
           [[str(a["attempt"]), a["state_label"], a.get("reason") or "—"]
            for a in data["attempts"]], [0.15, 0.25, 0.6])

    if data["amendments"]:
        pdf.ln(1.5)
        pdf.para("当场回避更正（按规则补抽，verify.py 与 notice.html 一并重算）：", size=9.5)
        _table(pdf, ["检查对象", "回避人员", "理由", "补抽人员"],
               [[a["target"], a["inspector"], a["reason"], a["replacement"]]
                for a in data["amendments"]], [0.3, 0.2, 0.3, 0.2])

    pdf.section("六、核验数据")
    pdf.kv("见证人", "、".join(w["name"] + (f"（{w['organisation']}）" if w.get("organisation")
                                          else "") for w in data["witnesses"]) or "—",
           label_w=40, size=9)
    d = v["digests"]
    for label, value in (("检查对象名录摘要\npool.tsv", d["pool"]),
                         ("执法人员名录摘要\ninspectors.tsv", d["inspectors"]),
                         ("回避名录摘要\nconflicts.tsv", d["conflicts"]),
                         ("承诺值", v["commitment"]), ("系统随机数", v["system_entropy"]),
                         ("种子", v["seed"]), ("封存时审计链头", v["seal_head"]),
                         ("公示时审计链头", v["audit_head"])):
        pdf.kv(label, value, label_w=40, size=9, mono=True)
    pdf.kv("见证人随机数", "\n".join(v["witness_entropy"]) or "—", label_w=40, size=9)
    pdf.kv("公共信标", v["beacon"] if v["beacon"] is not None else "未使用", label_w=40, size=9)
    pdf.kv("信标来源", v["beacon_source"] or "—", label_w=40, size=9)
    pdf.ln(1.5)
    pdf.para("核验方法：下载公示包后运行 sha256sum -c SHA256SUMS，再运行 "
             "python3 verify.py record.json；或在浏览器中打开 notice.html。", size=9)

    if pdf.will_page_break(40):
        pdf.add_page()
    pdf.ln(10)
    pdf.font(11)
    x = pdf.l_margin + pdf.epw * 0.55
    pdf.set_x(x)
    pdf.cell(pdf.epw * 0.45, 7, data["bureau"] or "（发布机关）", align="C",
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(x)
    pdf.cell(pdf.epw * 0.45, 7, "（盖章）", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(x)
    pdf.cell(pdf.epw * 0.45, 7, data["date"], align="C", new_x="LMARGIN", new_y="NEXT")
    out = Path(out_path)
    pdf.output(str(out))
    return out
