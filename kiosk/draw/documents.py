"""A draw's printed documents (pre-draw sheet, protocol, slips) and its exported record.

One service decides where each file goes (the store's files folder) and whether it goes to
the printer; the screens and the CLI only say which document they want.
"""
from __future__ import annotations

from pathlib import Path

from db.models import Draw
from kiosk.errors import UserError

KINDS = {"predraw": "预抽签表", "protocol": "摇号记录", "slips": "任务单"}


def folder(*parts: str) -> Path:
    """A folder of this store's files, made when missing."""
    from db.connection import data_dir_for, database

    p = data_dir_for(database.obj).joinpath(*parts)
    p.mkdir(parents=True, exist_ok=True)
    return p


def stem(draw_id: int) -> str:
    draw = Draw.get_by_id(draw_id)
    return f"{draw.task.code}-{draw.attempt_no}"


def print_document(draw_id: int, kind: str, actor: str) -> str:
    """Render one of the draw's documents, send it to the printer when one is set, and
    return the sentence to show (where it went)."""
    if kind not in KINDS:
        raise UserError(f"未知的文书“{kind}”。")
    try:
        from kiosk import pdf, slips
    except ImportError:
        raise UserError("本机尚未安装打印模块，无法打印。") from None
    from kiosk import confidential  # Art. 12: checked, logged, audited with the hash, 0600

    out = folder("print") / f"{kind}-{stem(draw_id)}.pdf"
    try:
        if kind in ("predraw", "protocol"):
            confidential.render_document(draw_id, kind, out, actor)
        else:
            slips.render_slips(draw_id, out, actor)
    except OSError as e:  # a full disk or a folder it may not write: one sentence, no file
        raise UserError(f"无法写入文书“{out.name}”：{e.strerror or e}。") from None
    return pdf.print_or_save(out)


def export(draw_id: int, actor: str | None = None) -> Path:
    """The record and its listings in the store's records folder; the record's path."""
    from kiosk import confidential

    try:
        return confidential.write_record(
            draw_id, folder("records", stem(draw_id)) / "record.json", actor)
    except OSError as e:
        raise UserError(f"无法写入核验记录：{e.strerror or e}。") from None
