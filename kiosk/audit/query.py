"""The audit trail as the Audit screen reads it: filtered, newest first, one page at a time.

Pages are keyed by sequence number (keyset pagination), never by OFFSET: the 5,000th page
of 100,000 events costs what the first one does."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from db.models import AuditEvent, User
from kiosk import access
from kiosk.errors import UserError

DETAIL_CHARS = 200  # a detail longer than this is cut: the screen shows about 40 anyway


@dataclass(frozen=True)
class EventFilter:
    """actor: an account exactly; action: a prefix ("draw." or "draw.seal"); subject:
    "kind:id" (e.g. "draw:7"), or an id or kind alone; dates inclusive."""

    actor: str = ""
    action: str = ""
    subject: str = ""
    since: dt.date | None = None
    until: dt.date | None = None


@dataclass(frozen=True)
class EventRow:
    seq: int
    at: str
    actor: str
    action: str
    subject: str
    detail: str


@dataclass(frozen=True)
class Page:
    rows: list[EventRow]
    has_newer: bool
    has_older: bool


def parse_date(text: str, label: str) -> dt.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{label}“{text}”不是日期，请写成 2026-07-14。") from None


def _where(f: EventFilter):
    cond = []
    if f.actor.strip():
        cond.append(AuditEvent.actor == f.actor.strip())
    if f.action.strip():
        cond.append(AuditEvent.action.startswith(f.action.strip()))
    subject = f.subject.strip()
    if subject:
        kind, sep, ident = subject.partition(":")
        if sep:
            cond.append((AuditEvent.entity == kind) & (AuditEvent.entity_id == ident))
        else:
            cond.append((AuditEvent.entity_id == subject) | (AuditEvent.entity == subject))
    if f.since:
        cond.append(AuditEvent.at >= dt.datetime.combine(f.since, dt.time()))
    if f.until:
        cond.append(AuditEvent.at < dt.datetime.combine(f.until + dt.timedelta(days=1),
                                                        dt.time()))
    return cond


def _detail(text: str) -> str:
    try:
        d = json.loads(text)
    except ValueError:
        return text[:DETAIL_CHARS]
    if not isinstance(d, dict):
        return str(d)[:DETAIL_CHARS]
    return "；".join(f"{k}={v}" for k, v in d.items())[:DETAIL_CHARS]


def _row(ev: tuple) -> EventRow:
    seq, at, actor, action, entity, entity_id, detail = ev
    subject = f"{entity}:{entity_id}" if entity and entity_id else (entity or entity_id)
    return EventRow(seq, str(at)[:19], actor, action, subject, _detail(detail))


def _query(cond):
    q = AuditEvent.select(AuditEvent.seq, AuditEvent.at, AuditEvent.actor, AuditEvent.action,
                          AuditEvent.entity, AuditEvent.entity_id, AuditEvent.detail)
    for c in cond:
        q = q.where(c)
    return q


def page(user: User | None, f: EventFilter = EventFilter(), *, older_than: int | None = None,
         newer_than: int | None = None, size: int = 20) -> Page:
    """One page, newest first. older_than: the next page down; newer_than: the page back up.

    Only the leader and the auditor read the trail (Art. 14, 18)."""
    access.require(user is not None and access.may_read_audit(user.role),
                   access.MAY_NOT_READ_AUDIT)
    cond = _where(f)
    if newer_than is not None:
        # No mutate: its mutant, ORDER BY NULL, keeps SQLite's index order and PostgreSQL's
        # heap order of a table only appended to, so no store can show it; the order stays.
        q = _query([*cond, AuditEvent.seq > newer_than])
        q = q.order_by(AuditEvent.seq.asc())  # pragma: no mutate
        rows = list(q.limit(size).tuples())[::-1]
    else:
        bound = [AuditEvent.seq < older_than] if older_than is not None else []
        q = _query([*cond, *bound]).order_by(AuditEvent.seq.desc())
        rows = list(q.limit(size).tuples())
    if not rows:
        return Page([], False, False)
    has_newer = _query([*cond, AuditEvent.seq > rows[0][0]]).exists()
    has_older = _query([*cond, AuditEvent.seq < rows[-1][0]]).exists()
    return Page([_row(r) for r in rows], has_newer, has_older)
