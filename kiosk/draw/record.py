"""A draw's record for `kiosk verify` and its three listings, written atomically.

One service used by the CLI and the ceremony screen alike: the record and the listings go to
temporary files first and are renamed into place, so a killed process never leaves a 0-byte
or half-written record behind.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from db.models import AuditEvent, Draw, DrawAmendment, DrawWitness
from kiosk import audit
from kiosk.draw.pool import frozen_of, listing_bytes
from kiosk.errors import UserError
from kiosk.ops.files import written_whole

LISTINGS = ("pool", "inspectors", "conflicts")


def witness_entropy(draw: Draw) -> list[str]:
    return [w.entropy for w in draw.witnesses.order_by(DrawWitness.position)]


def witnesses(draw: Draw) -> list[dict]:
    """The witnesses by their accounts, in sign-in order."""
    return [{"account": w.account, "name": w.name, "organisation": w.organisation}
            for w in draw.witnesses.order_by(DrawWitness.position)]


def attempts(task_id: int, before: int | None = None) -> list[dict]:
    """Every attempt of a task (or those numbered below `before`), aborted ones with their
    reason: nothing is re-drawn silently."""
    q = Draw.select().where(Draw.task == task_id).order_by(Draw.attempt_no)
    if before is not None:
        q = q.where(Draw.attempt_no < before)
    return [{"attempt": d.attempt_no, "state": d.state, "reason": d.abort_reason or None,
             "witnesses": [w["account"] or w["name"] for w in witnesses(d)]}
            for d in q]


def seal_head(draw: Draw) -> tuple[int, str]:
    """(seq, hash) of the draw's seal event: the audit head right after the seal."""
    ev = (AuditEvent.select().where((AuditEvent.action == "draw.seal")
                                    & (AuditEvent.entity_id == str(draw.id)))
          .order_by(AuditEvent.seq.desc()).first())
    return (ev.seq, ev.hash) if ev else audit.head()


def amendments(draw: Draw) -> list[dict]:
    return [{"target": a.target_uscc, "inspector": a.inspector_cert, "reason": a.reason}
            for a in draw.amendments.order_by(DrawAmendment.seq)]


def record_head(draw: Draw, res: dict) -> dict:
    """The sealed record without its listings (they are on file as the draw's listings)."""
    task = draw.task
    item = task.item
    return {
        "protocol": "dsr-draw/1",
        "draw_id": draw.id, "task": task.code, "attempt": draw.attempt_no,
        "item": {"code": item.code, "name": item.name, "version": item.version},
        "draw_date": str(draw.draw_date), "operator": draw.operator,
        "started_at": str(draw.started_at), "sealed_at": str(draw.sealed_at),
        "witnesses": witnesses(draw), "beacon_source": draw.beacon_source,
        "earlier_attempts": attempts(draw.task_id, before=draw.attempt_no),
        "digests": {"pool": draw.pool_digest, "inspectors": draw.inspectors_digest,
                    "conflicts": draw.conflicts_digest},
        "strata": json.loads(draw.strata_json), "team_size": draw.team_size,
        "system_entropy": draw.system_entropy, "commitment": draw.commitment,
        "witness_entropy": witness_entropy(draw), "beacon": draw.beacon,
        "amendments": amendments(draw), "seed": draw.seed,
        "selected": res["selected"], "teams": res["teams"],
        "audit_head": audit.head()[1],
        # Art. 11: only a joint item's record carries it; others stay plain dsr-draw/1.
        **({"joint": res["joint"]} if res.get("joint") else {}),
    }


def export_record(draw: Draw) -> dict:
    """The full record for `kiosk verify`: the sealed head plus the three listings."""
    if draw.state != "sealed":
        raise UserError("只有已封存的摇号才能导出核验记录。")
    rec = json.loads(draw.record_json)
    rec["audit_seq"], rec["audit_head"] = seal_head(draw)
    fr = frozen_of(draw)
    rec.update(pool=fr.pool, inspectors=fr.inspectors, conflicts=fr.conflicts)
    return rec


def check_writable(path: Path) -> None:
    """Refuse a record path that cannot be written, before a draw is sealed for good."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=path.parent)
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        raise UserError(f"无法写入记录文件“{path}”：{e.strerror or e}。") from None
    if path.is_dir():
        raise UserError(f"无法写入记录文件“{path}”：这是一个目录。")


def write_listings(draw: Draw, directory) -> dict[str, str]:
    """pool.tsv, inspectors.tsv, conflicts.tsv: `sha256sum` of each equals the digest."""
    out = {}
    for kind in LISTINGS:
        p = Path(directory) / f"{kind}.tsv"
        with written_whole(p, sync=True) as tmp:
            tmp.write_bytes(listing_bytes(draw, kind))
        out[kind] = str(p)
    return out


def write_record(draw_id: int, path) -> Path:
    """The sealed draw's record at `path`, and its listings beside it."""
    path = Path(path)
    draw = Draw.get_by_id(draw_id)
    record = export_record(draw)
    check_writable(path)
    write_listings(draw, path.parent)
    with written_whole(path, sync=True) as tmp:
        tmp.write_bytes(json.dumps(record, ensure_ascii=False, indent=1).encode())
    return path
