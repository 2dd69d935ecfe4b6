"""Tamper-evident audit log (全程留痕, Art. 9, 14, 18): a hash chain, one event per change."""
from __future__ import annotations

import hashlib
import json

from db.models import AuditEvent, now
from kiosk.store import write_tx

GENESIS = "0" * 64


def _entry_hash(prev_hash: str, seq: int, at: str, actor: str, action: str, entity: str,
                entity_id: str, detail: str) -> str:
    body = json.dumps([seq, at, actor, action, entity, entity_id, detail],
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def head() -> tuple[int, str]:
    """(seq, hash) of the newest event; (0, GENESIS) on an empty log."""
    last = AuditEvent.select().order_by(AuditEvent.seq.desc()).first()
    return (last.seq, last.hash) if last else (0, GENESIS)


def record(actor: str, action: str, entity: str = "", entity_id: object = "",
           **detail: object) -> AuditEvent:
    """Append one event in the caller's transaction (opened here when there is none)."""
    # What a user typed (a user name, a scanned text) may be longer than its column.
    actor, entity_id = actor[:32], str(entity_id)[:64]
    with write_tx():
        seq, prev = head()
        seq += 1
        at = now()
        detail_s = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
        h = _entry_hash(prev, seq, at.isoformat(sep=" "), actor, action, entity,
                        str(entity_id), detail_s)
        return AuditEvent.create(seq=seq, at=at, actor=actor, action=action, entity=entity,
                                 entity_id=str(entity_id), detail=detail_s, prev_hash=prev,
                                 hash=h)


def verify() -> tuple[bool, str]:
    """Walk the chain; (True, summary) when intact, else (False, the first broken entry)."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    for ev in AuditEvent.select().order_by(AuditEvent.seq).iterator():
        if ev.seq != expected_seq:
            return False, f"审计日志第 {expected_seq} 条缺失（下一条为第 {ev.seq} 条）。"
        at = ev.at if isinstance(ev.at, str) else ev.at.isoformat(sep=" ")
        h = _entry_hash(prev, ev.seq, at, ev.actor, ev.action, ev.entity, ev.entity_id, ev.detail)
        if ev.prev_hash != prev or ev.hash != h:
            return False, f"审计日志第 {ev.seq} 条（{ev.action}）被篡改：哈希不符。"
        prev = ev.hash
        expected_seq += 1
        count += 1
    return True, f"审计日志完整：共 {count} 条，链头 {prev[:16]}。"
