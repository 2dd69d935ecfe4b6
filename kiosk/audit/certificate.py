"""The one-page 审计链头 certificate a leader signs and files with the 纪检 office: whoever
holds it can later prove, with `kiosk audit verify --head SEQ:HASH`, that nothing before
that head was rewritten."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from db.models import AuditEvent, User
from kiosk.audit.chain import head, record
from kiosk.errors import UserError


def render_certificate(out: Path, user: User, today: dt.date | None = None) -> tuple[int, str]:
    """Write the certificate PDF (its layout is kiosk.printing.certificate's); returns the
    head it certifies."""
    from kiosk.printing.certificate import CertificateInfo, write_certificate

    seq, hash_ = head()
    when = AuditEvent.select(AuditEvent.at).where(AuditEvent.seq == seq).scalar()
    write_certificate(out, CertificateInfo(
        seq=seq, hash=hash_, at=str(when) if when else "",
        command=f"kiosk audit verify --head {seq}:{hash_}",  # head_text's SEQ:HASH
        printed_by=f"{user.display_name}（{user.username}）", today=today or dt.date.today()))
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
