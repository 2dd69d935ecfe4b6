"""The page layout of the 审计链头 certificate; kiosk.audit.certificate gives it the head."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from kiosk.ops.files import written_whole
from kiosk.printing.base import KioskPDF


@dataclass(frozen=True)
class CertificateInfo:
    """What the certificate states: plain values, so this module needs no store."""

    seq: int
    hash: str
    at: str          # when the head event was written ("" for an empty chain)
    command: str     # the verify command that checks the head, printed whole
    printed_by: str  # "吴建华（leader）"
    today: dt.date


def write_certificate(out: Path, info: CertificateInfo) -> None:
    """Write the one-page A4 certificate to `out`, through a temp file so no half file is left."""
    pdf = KioskPDF(format="A4", doc_title="审计链头证明")
    pdf.footer_note = f"审计链头 {info.seq}:{info.hash[:16]}"
    pdf.add_page()
    pdf.heading("审计链头证明", f"{info.today:%Y年%m月%d日}")
    pdf.para("本终端的审计日志是一条哈希链：每条记录都包含前一条记录的哈希。下列链头"
             "（序号与哈希）唯一确定截至该条的全部审计记录；此后对其中任何一条的删除、"
             "修改或重排，都会使核验命令 kiosk audit verify --head 序号:哈希 报告不符。", size=10.5)
    pdf.ln(3)
    pdf.kv("链头序号", str(info.seq), label_w=30, size=11)
    pdf.kv("该条时间", info.at or "（空日志）", label_w=30, size=11)
    pdf.kv("链头哈希", info.hash, label_w=30, size=9.5, mono=True)
    pdf.kv("核验命令", info.command, label_w=30, size=9, mono=True)
    pdf.kv("打印人", info.printed_by, label_w=30, size=11)
    pdf.ln(6)
    pdf.para("本证明一式两份，一份由局领导存档，一份交纪检监察部门存档。", size=10.5)
    pdf.ln(4)
    pdf.signature_lines(["局领导", "纪检监察"])
    with written_whole(out) as tmp:
        pdf.output(str(tmp))
