"""The report as a printed A4 document: every field, the team, evidence with SHA-256, signatures."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from db.connection import data_dir_for, database
from db.models import Report, User
from kiosk import access, audit
from kiosk.errors import UserError
from kiosk.reports.evidence import evidence_of
from kiosk.reports.form import STATES, form_values
from kiosk.reports.task import ReportRef, actor_of, context, fresh
from kiosk.store import write_tx


def render_report_pdf(report: Report, out_path: str | os.PathLike) -> Path:
    """The report as an A4 PDF: every field, the team, evidence with SHA-256, signatures."""
    from kiosk.pdf import KioskPDF

    ctx = context(report)
    v = form_values(report)
    from kiosk.confidential import display_name

    pdf = KioskPDF(format="A4", doc_title="双随机抽查检查报告")
    doc_no = f"双随机检〔{ctx.task_code[:4]}〕{ctx.task_code}号"
    from kiosk.audit import head  # the chain head anchors this print (Art. 9, 14)

    seq, hash_ = head()
    pdf.footer_note = f"{doc_no} · 审计链头 #{seq} {hash_[:16]}"
    if report.state != "final":  # GB/T 9704 practice: a draft says so on every page
        pdf.watermark = "草稿"
    pdf.add_page()
    pdf.official_head("双随机抽查检查报告", doc_no,
                      f"任务编号 {ctx.task_code} · {STATES[report.state]}")
    pdf.section("一、检查任务")
    pdf.kv("抽查事项", f"{ctx.item_code} {ctx.item_name}")
    pdf.kv("牵头股室", ctx.lead_office)
    pdf.kv("被检查单位", v["unit"] or ctx.target_name)
    pdf.kv("信用代码", ctx.target_uscc, mono=True)
    pdf.kv("地址", ctx.target_address)
    pdf.kv("检查组", "；".join(f"{n}（执法证号 {c}）" for n, c in ctx.team))
    pdf.section("二、检查情况")
    pdf.kv("检查时间", f"{v['inspection_start']} 至 {v['inspection_end']}")
    pdf.kv("检查方式", v["method"])
    pdf.kv("检查人员", v["inspectors_present"])
    pdf.kv("检查内容", v["content_checked"])
    pdf.kv("现场检查笔录", v["onsite_record"])
    pdf.kv("评价", v["evaluation"])
    pdf.section("三、处理")
    finding = v["finding"]
    if finding == "责令整改" and v["rectify_deadline"]:
        finding += f"（整改期限 {v['rectify_deadline']}）"
    pdf.kv("处理结果", finding)
    pdf.kv("处理意见和建议", v["opinion"])
    if report.due_date:
        pdf.kv("报告期限", report.due_date.isoformat()
               + ("（日历为临时，该年度节假日安排未公布）" if report.due_provisional else ""))
    if report.submitted_at:
        pdf.kv("提交", f"{display_name(report.submitted_by)} {report.submitted_at}")
    if report.reviewed_at:
        pdf.kv("审核", f"{display_name(report.reviewed_by)} {report.reviewed_at} "
               f"{report.review_note}")
    if report.finalised_at:
        pdf.kv("定稿", str(report.finalised_at))
    evidence = evidence_of(report)
    pdf.section(f"四、证据材料（{len(evidence)} 件）")
    for i, e in enumerate(evidence, 1):
        mark = f"【已撤回：{e.withdraw_reason}】" if e.withdrawn_at is not None else ""
        pdf.para(f"{i}. {e.filename}（{e.size} 字节）{mark}")
        pdf.para(f"   SHA-256 {e.sha256}", size=8, mono=True)
    pdf.section("五、签名")
    pdf.signature_lines([f"检查人员 {n}" for n, _ in ctx.team] + ["审核人", "负责人"])
    pdf.seal_block(f"{pdf.bureau or ''}{ctx.lead_office}" if ctx.lead_office else pdf.bureau)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))
    return out


def print_report(report: ReportRef, user: User | None) -> str:
    """Render the report into the data dir and send it to the printer when one is set;
    returns the sentence to show (the saved path, or that it went to the printer)."""
    from kiosk.pdf import print_or_save

    row = fresh(report)
    if not access.may_open_report(row.assignment_id, user):
        raise UserError("您不是该任务检查组成员，无权打印此报告。")
    from kiosk import confidential  # Art. 12: before publication, the team and lead office

    confidential.require(user, row.assignment.draw_id, "report", row.assignment_id)
    out = data_dir_for(database.obj) / "reports" / f"{row.assignment.task_code}-{row.state}.pdf"
    render_report_pdf(row, out)
    os.chmod(out, 0o600)  # owner-only, and its hash in the event
    with write_tx():
        audit.record(actor_of(user), "report.print", "report", row.id, path=str(out),
                     sha256=hashlib.sha256(out.read_bytes()).hexdigest())
    return print_or_save(out)
