"""The one-page 审计链头 certificate a leader signs and files with the 纪检 office: whoever
holds it can later prove, with `kiosk audit verify --head SEQ:HASH`, that nothing before
that head was rewritten."""
from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from db.models import AuditEvent, User
from kiosk.audit.chain import head, head_text, record
from kiosk.errors import UserError


def render_certificate(out: Path, user: User, today: dt.date | None = None) -> tuple[int, str]:
    """Write the certificate PDF; returns the head it certifies."""
    from kiosk.printing import KioskPDF

    seq, hash_ = head()
    when = AuditEvent.select(AuditEvent.at).where(AuditEvent.seq == seq).scalar()
    today = today or dt.date.today()
    pdf = KioskPDF(format="A4", doc_title="审计链头证明")
    pdf.footer_note = f"审计链头 {seq}:{hash_[:16]}"
    pdf.add_page()
    pdf.heading("审计链头证明", f"{today:%Y年%m月%d日}")
    pdf.para("本终端的审计日志是一条哈希链：每条记录都包含前一条记录的哈希。下列链头"
             "（序号与哈希）唯一确定截至该条的全部审计记录；此后对其中任何一条的删除、"
             "修改或重排，都会使核验命令 kiosk audit verify --head 序号:哈希 报告不符。", size=10.5)
    pdf.ln(3)
    pdf.kv("链头序号", str(seq), label_w=30, size=11)
    pdf.kv("该条时间", str(when or "（空日志）"), label_w=30, size=11)
    pdf.kv("链头哈希", hash_, label_w=30, size=9.5, mono=True)
    pdf.kv("核验命令", f"kiosk audit verify --head {head_text((seq, hash_))}", label_w=30,
           size=9, mono=True)
    pdf.kv("打印人", f"{user.display_name}（{user.username}）", label_w=30, size=11)
    pdf.ln(6)
    pdf.para("本证明一式两份，一份由局领导存档，一份交纪检监察部门存档。", size=10.5)
    pdf.ln(4)
    pdf.signature_lines(["局领导", "纪检监察"])
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".cert-", suffix=".pdf")
    os.close(fd)
    try:
        pdf.output(tmp)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return seq, hash_


def print_certificate(out: Path, user: User) -> str:
    """Render, log, and hand to the printer (or name the saved file)."""
    from kiosk import access
    from kiosk.printing import print_or_save

    access.require(access.may_certify_audit_head(user.role), access.MAY_NOT_CERTIFY)
    if out.suffix.lower() != ".pdf":
        raise UserError("证明文件须为 .pdf。")
    seq, hash_ = render_certificate(out, user)
    record(user.username, "audit.certificate", "audit", seq, head=f"{seq}:{hash_}",
           file=out.name)
    return f"审计链头证明（链头 {seq}:{hash_[:16]}…）：{print_or_save(out)}"
