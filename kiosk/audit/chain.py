"""The hash chain itself: appending an event (with the content hashes of what it covers) and
reading the head."""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable

from db.models import AuditEvent, now
from kiosk.audit import anchor, cover
from kiosk.store import write_tx

GENESIS = "0" * 64


def entry_hash(prev_hash: str, seq: int, at: str, actor: str, action: str, entity: str,
               entity_id: str, detail: str, covers: str = "") -> str:
    """SHA-256 over the previous event's hash and this event's fields.

    The previous hash is the one the walker computed, never the stored prev_hash: a rewritten
    event whose successors were rehashed then breaks at the first anchor. `covers` joins the
    body only when present, so events written before it existed keep their hashes."""
    fields: list[object] = [seq, at, actor, action, entity, entity_id, detail]
    if covers:
        fields.append(covers)
    body = json.dumps(fields, separators=(",", ":"),
                      ensure_ascii=False)  # pragma: no mutate (None: falsy, the same)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def at_text(at: object) -> str:
    return at if isinstance(at, str) else at.isoformat(sep=" ")


def head() -> tuple[int, str]:
    """(seq, hash) of the newest event; (0, GENESIS) on an empty log.

    Printed (at least the sequence and 16 hex digits) on slips, protocols, notices and report
    PDFs; `kiosk audit verify --head SEQ:HASH` later proves the chain still holds it."""
    anchor.flush()
    return _last()


def head_text(h: tuple[int, str] | None = None) -> str:
    """The head as `SEQ:HASH`, the form `kiosk audit head` prints and `--head` takes."""
    seq, hash_ = h or head()
    return f"{seq}:{hash_}"


def record(actor: str, action: str, entity: str = "", entity_id: object = "", *,
           covers: Iterable[tuple[str, object]] = (), **detail: object) -> AuditEvent:
    """Append one event in the caller's transaction (opened here when there is none).

    Call it after the rows are written: the event carries a content hash of each covered row
    it concerns (derived from entity and entity_id, plus `covers`), so a later change to those
    rows behind the kiosk's back no longer matches the chain."""
    # What a user typed (a user name, a scanned text) may be longer than its column.
    actor, entity_id = actor[:32], str(entity_id)[:64]
    with write_tx():
        seq, prev = _last()
        seq += 1
        at = now()
        detail_s = json.dumps(detail, sort_keys=True, default=str,
                              ensure_ascii=False)  # pragma: no mutate (None: falsy, the same)
        covers_s = cover.snapshot(entity, entity_id, covers)
        h = entry_hash(prev, seq, at_text(at), actor, action, entity, entity_id, detail_s,
                       covers_s)
        ev = AuditEvent.create(seq=seq, at=at, actor=actor, action=action, entity=entity,
                               entity_id=entity_id, detail=detail_s, prev_hash=prev, hash=h,
                               covers=covers_s)
        anchor.pending(seq, h)
    return ev


def _last() -> tuple[int, str]:
    row = (AuditEvent.select(AuditEvent.seq, AuditEvent.hash)
           .order_by(AuditEvent.seq.desc()).tuples().first())
    return (row[0], row[1]) if row else (0, GENESIS)


def parse_head(text: str) -> tuple[int, str]:
    """`SEQ:HASH` as printed by `kiosk audit head`; UserError in one sentence otherwise."""
    from kiosk.errors import UserError

    m = re.fullmatch(r"(\d+):([0-9a-fA-F]{64})", text.strip())
    if m is None:
        raise UserError(f"链头“{text}”格式不对：应为 序号:64位十六进制哈希"
                        "（kiosk audit head 的输出）。", exit_code=2)
    return int(m.group(1)), m.group(2).lower()


def ensure_baseline(actor: str = "system") -> bool:
    """A store upgraded from before schema v5 has events but none covering any row: vouch
    once for every covered row as it stands (one `audit.baseline` event), so later changes
    to them, and rows inserted behind the kiosk's back, are named from then on."""
    from kiosk.audit.cover import COVERED

    if not AuditEvent.select().exists():
        return False
    if AuditEvent.select().where(AuditEvent.covers != "").exists():
        return False
    subjects = [(name, ident) for name, kind in COVERED.items() if kind.every is not None
                for ident in kind.every()]
    record(actor, "audit.baseline", "audit", covers=subjects, subjects=len(subjects))
    return True
