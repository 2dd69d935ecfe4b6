"""The draw's printed matter: the pre-draw sheet (抽查前公示单) and the protocol (摇号记录).

Both render from a plain dict `info`, so this module knows nothing of the ceremony code:

    task: str               plan task code, e.g. "2026-RS-01-2"
    attempt: int            attempt number of the draw for that task
    item_code, item_name, legal_basis: str
    draw_date: str          "2026-07-14"
    operator: str           who ran the draw
    started_at: str         when the attempt was prepared
    sealed_at: str | None   None on the pre-draw sheet
    strata: {name: {"ratio_bp": int, "pool": int, "quota": int}}
    team_size, inspector_count, conflict_count: int
    digests: {"pool": hex, "inspectors": hex, "conflicts": hex}   SHA-256 of the listings
    witnesses: [{"account", "name", "organisation", "entropy"}]   entropy None before all typed
    beacon_source: str      declared at freeze ("" when no beacon is used)
    earlier_attempts: [{"attempt", "state", "reason", "witnesses"}]   earlier attempts
    quorum: int             witnesses needed; blank signature lines make up the number
    commitment, system_entropy, seed: str   hex ("" when not yet known)
    beacon: str | None
    selected: [{"uscc", "name", "stratum", "team": [{"cert_no", "name"}]}]
    amendments: [{"target", "inspector", "reason", "replacement"}]   USCC / cert numbers
    audit_head: str         hash of the newest audit event when printed
    operator_name: str      the operator's real name (display name), beside the login
    draw_id: int            for the document number (optional)
    joint: {"departments": [...], "inspector_departments": {cert: dept}} for a joint item

Both carry the marking 公示前不得外传 (Art. 12) on every page, a document number, and
signature and seal blocks (GB/T 9704 style).
"""
from __future__ import annotations

import os
from pathlib import Path

from kiosk import settings
from kiosk.ops.files import written_whole
from kiosk.printing.base import KioskPDF
from kiosk.printing.table import table

LISTINGS = (("pool", "pool.tsv", "抽查对象名录"), ("inspectors", "inspectors.tsv", "检查人员名录"),
            ("conflicts", "conflicts.tsv", "回避关系"))


def _paper() -> str:
    return settings.get("protocol_paper", "A4")


def _pct(bp: int) -> str:
    return f"{bp / 100:g}%"


MARKING = "公示前不得外传"


def doc_number(info: dict, kind: str) -> str:
    """机关代字〔年份〕序号: the draw's number, else its task and attempt."""
    year = str(info.get("draw_date") or "")[:4] or str(info["task"])[:4]
    n = info.get("draw_id") or f"{info['task']}-{info['attempt']}"
    return f"双随机{kind}〔{year}〕{n}号"


def operator_label(info: dict) -> str:
    """The operator by real name, with the login after it (an account is on record)."""
    login = info.get("operator") or ""
    name = info.get("operator_name") or ""
    if name and login and name != login:
        return f"{name}（账号 {login}）"
    return name or login


def _new(info: dict, title: str, kind: str) -> KioskPDF:
    pdf = KioskPDF(format=_paper(), doc_title=title)
    pdf.marking = MARKING
    pdf.footer_note = f"{doc_number(info, kind)} · {MARKING}"
    pdf.add_page()
    return pdf


def _signatures(pdf: KioskPDF, info: dict) -> None:
    name = info.get("operator_name") or info.get("operator") or ""
    pdf.signature_lines([*_witness_labels(info), f"操作人员 {name}".strip()])
    pdf.seal_block(pdf.bureau or "")


def _common(pdf: KioskPDF, info: dict, title: str, kind: str) -> None:
    pdf.official_head(title, doc_number(info, kind),
                      f"任务 {info['task']} · 第 {info['attempt']} 次摇号 · {info['draw_date']}")
    pdf.set_text_color(200, 0, 0)
    pdf.font(10.5, bold=True)
    pdf.cell(pdf.epw, 6, f"【{MARKING}】", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)
    pdf.section("一、抽查任务")
    pdf.kv("计划任务", f"{info['task']}（第 {info['attempt']} 次摇号）")
    pdf.kv("抽查事项", f"{info['item_code']} {info['item_name']}")
    pdf.kv("法律依据", info.get("legal_basis") or "")
    pdf.kv("摇号日期", info["draw_date"])
    pdf.kv("操作人员", operator_label(info))
    pdf.kv("开始时间", str(info.get("started_at") or ""))
    # Declared when the pool was frozen, before any entropy (issue 8): printed on both sheets.
    pdf.kv("公共信标来源", info.get("beacon_source") or "本次不使用公共信标")
    earlier = info.get("earlier_attempts") or []
    if earlier:  # no silent re-draw: every earlier attempt of the task, with its reason
        pdf.kv("此前各次摇号", "\n".join(
            f"第 {a['attempt']} 次：{a.get('state_label') or a['state']}"
            + (f"，理由：{a['reason']}" if a.get("reason") else "")
            + (f"，见证人 {'、'.join(a['witnesses'])}" if a.get("witnesses") else "")
            for a in earlier), size=9.5)

    pdf.section("二、抽查对象与比例")
    strata = info.get("strata") or {}
    rows = [(s, v) for s, v in strata.items()]
    _table(pdf, ["分层", "比例", "对象数", "应抽数"],
           [[s, _pct(v.get("ratio_bp", 0)), str(v.get("pool", 0)), str(v.get("quota", 0))]
            for s, v in rows]
           + [["合计", "", str(sum(v.get("pool", 0) for _, v in rows)),
               str(sum(v.get("quota", 0) for _, v in rows))]],
           [0.34, 0.22, 0.22, 0.22])
    pdf.ln(1.5)
    pdf.kv("检查组人数", f"每个对象 {info.get('team_size', 2)} 人")
    joint = info.get("joint") or {}
    if joint.get("departments"):  # Art. 11: each team holds one of each department
        pdf.kv("联合抽查部门", "、".join(joint["departments"])
               + "（每个检查组至少含各部门执法人员一名）")
    pdf.kv("可抽检查人员", f"{info.get('inspector_count', 0)} 人（持有效执法证、在岗）")
    pdf.kv("已知回避关系", f"{info.get('conflict_count', 0)} 对")

    pdf.section("三、名录摘要（SHA-256）")
    digests = info.get("digests") or {}
    for key, fname, label in LISTINGS:
        pdf.kv(f"{label}\n{fname}", digests.get(key, ""), label_w=38, size=9, mono=True)
    pdf.ln(1.5)
    pdf.para("摇号前公布以上三份名录及其摘要；任何人可用 sha256sum 核对所得名录未被改动：",
             size=9)
    pdf.para("  sha256sum pool.tsv inspectors.tsv conflicts.tsv", size=9, mono=True)


def _table(pdf: KioskPDF, header: list[str], rows: list[list[str]], fractions: list[float],
           size: float = 9.5) -> None:
    table(pdf, header, rows, fractions, size)


def _dept(info: dict, cert: str) -> str:
    """A joint draw's member with their department (Art. 11); nothing for a plain one."""
    of = (info.get("joint") or {}).get("inspector_departments") or {}
    return f"（{of[cert]}）" if cert in of else ""


def _witness_labels(info: dict) -> list[str]:
    names = [f"见证人 {w['name']}" + (f"（{w['account']}）" if w.get("account") else "")
             for w in info.get("witnesses") or []]
    quorum = int(info.get("quorum") or 0)
    names += ["见证人"] * max(0, quorum - len(names))
    return names


def render_predraw_sheet(info: dict, out_path: str | os.PathLike) -> Path:
    """抽查前公示单: the task, pool per stratum, quotas, the three digests, witness signatures."""
    pdf = _new(info, "抽查前公示单", "预")
    _common(pdf, info, "双随机抽查 抽查前公示单", "预")
    pdf.section("四、见证")
    pdf.para("见证人确认：以上名录与摘要已在摇号前公布，摇号尚未开始。", size=9.5)
    _signatures(pdf, info)
    return _save(pdf, out_path)


def render_protocol(info: dict, out_path: str | os.PathLike) -> Path:
    """抽查摇号记录: all of the pre-draw sheet plus entropy, seed, picks, teams, amendments,
    and how anyone can re-check the draw."""
    pdf = _new(info, "抽查摇号记录", "摇")
    _common(pdf, info, "双随机抽查 摇号记录", "摇")

    pdf.section("四、随机数来源")
    pdf.kv("系统承诺值", info.get("commitment") or "", label_w=38, size=9, mono=True)
    for i, w in enumerate(info.get("witnesses") or [], 1):
        who = w["name"] + (f"（{w['organisation']}）" if w.get("organisation") else "")
        who += f" 账号 {w['account']}" if w.get("account") else ""
        pdf.kv(f"见证人{i}", who)
        pdf.kv(f"见证人{i}输入", w.get("entropy") or "（未输入）", size=9.5)
    pdf.kv("公共信标", info.get("beacon") or "（未使用）", size=9.5)
    pdf.kv("系统随机数", info.get("system_entropy") or "（尚未揭示）", label_w=38, size=9,
           mono=True)
    pdf.kv("随机种子", info.get("seed") or "", label_w=38, size=9, mono=True)

    selected = info.get("selected") or []
    pdf.section(f"五、抽中对象及检查组（共 {len(selected)} 个）")
    _table(pdf, ["序号", "统一社会信用代码", "单位名称", "分层", "检查组（执法证号）"],
           [[str(i), s["uscc"], s.get("name") or "", s.get("stratum") or "",
             "\n".join(f"{m.get('name', '')} {m['cert_no']}{_dept(info, m['cert_no'])}"
                       for m in s.get("team") or [])]
            for i, s in enumerate(selected, 1)],
           [0.07, 0.22, 0.33, 0.1, 0.28], size=9)

    amendments = info.get("amendments") or []
    pdf.section(f"六、现场回避及替换（共 {len(amendments)} 次）")
    if amendments:
        _table(pdf, ["序号", "对象", "回避人员", "理由", "替换人员"],
               [[str(i), a["target"], a["inspector"], a.get("reason") or "",
                 a.get("replacement") or "（无可替换人员）"]
                for i, a in enumerate(amendments, 1)],
               [0.07, 0.25, 0.18, 0.32, 0.18], size=9)
    else:
        pdf.para("无。", size=9.5)

    pdf.section("七、封存")
    pdf.kv("封存时间", str(info.get("sealed_at") or "（尚未封存）"))
    pdf.kv("审计链头", info.get("audit_head") or "", label_w=38, size=9, mono=True)

    pdf.section("八、如何核验")
    pdf.para("1. 取得公布的 pool.tsv、inspectors.tsv、conflicts.tsv，运行下面的命令，"
             "所得三个摘要须与第三部分完全一致：", size=9.5)
    pdf.para("   sha256sum pool.tsv inspectors.tsv conflicts.tsv", size=9, mono=True)
    pdf.para("2. 用见证人输入、公共信标和系统随机数可重算随机种子，并核对承诺值；"
             "取得本次摇号的记录文件 record.json，运行：", size=9.5)
    pdf.para("   kiosk verify record.json", size=9, mono=True)
    pdf.para("   退出码 0 表示重算结果与本记录一致；否则程序指出第一处不一致。", size=9.5)

    pdf.section("九、签字")
    _signatures(pdf, info)
    return _save(pdf, out_path)


def _save(pdf: KioskPDF, out_path: str | os.PathLike) -> Path:
    out = Path(out_path)
    with written_whole(out) as tmp:
        pdf.output(str(tmp))
    return out
