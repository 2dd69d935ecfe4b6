"""The local anchor: the last chain head this terminal saw committed, kept outside the store.

Someone who can write the store can delete the newest events, or rewrite the chain and
rehash it, and the chain alone would still look whole. The terminal therefore keeps the head
it last committed in a file of its own (0600, in the kiosk user's private data dir), and
`kiosk audit verify` requires the chain to still hold that event with that hash.

The anchor only moves forward along the chain: it is replaced by a newer head only while the
chain still holds the old one. A rewritten chain (a silent re-draw, a truncated tail grown
again) therefore never gets blessed by the next honest write; the old anchor stays until an
administrator looks at it.
"""
from __future__ import annotations

import atexit
import hashlib
import os
import re
from pathlib import Path

import peewee

from db.connection import database
from db.models import AuditEvent

_pending: dict[str, tuple[int, str]] = {}
_HEAD = re.compile(rb"([0-9]+):([0-9a-f]{64})")  # as _write writes it: ASCII digits, hex


def anchor_dir() -> Path:
    """KIOSK_ANCHOR_DIR, else KIOSK_DATA_DIR/anchors, else the user's data dir."""
    env = os.environ.get("KIOSK_ANCHOR_DIR")
    if env:
        return Path(env)
    env = os.environ.get("KIOSK_DATA_DIR")
    if env:
        return Path(env) / "anchors"
    from platformdirs import user_data_dir

    # appauthor only names a folder on Windows: False, None or nothing is the same here.
    return Path(user_data_dir("shuangsuiji-kiosk",
                              appauthor=False)) / "anchors"  # pragma: no mutate


def store_identity(db: peewee.Database | None = None) -> str | None:
    """A name for the store that another store never shares; None for an in-memory store."""
    db = db or database.obj
    if isinstance(db, peewee.PostgresqlDatabase):
        p = db.connect_params
        return (f"postgresql://{p.get('host', '')}:{p.get('port', '')}/{db.database}"
                f"?{p.get('options', '')}")
    name = db.database or ""
    if name in ("", ":memory:") or name.startswith("file::memory:"):
        return None
    return "sqlite:" + os.path.realpath(name)


def path(db: peewee.Database | None = None) -> Path | None:
    ident = store_identity(db)
    if ident is None:
        return None
    return anchor_dir() / (hashlib.sha256(ident.encode()).hexdigest()[:24] + ".head")


def read(db: peewee.Database | None = None) -> tuple[int, str] | None:
    """The anchored (seq, hash), or None when this terminal has none for this store."""
    p = path(db)
    if p is None:
        return None
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        return None
    m = _HEAD.fullmatch(data.strip())
    return (int(m[1]), m[2].decode()) if m else None


def write(p: Path, seq: int, hash_: str) -> None:
    """Put (seq, hash) in the anchor file p: owner-only, whole or not at all."""
    p.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = p.with_name(f"{p.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:  # digits, a colon and hex: the same bytes in any codec
        f.write(f"{seq}:{hash_}\n".encode())
    os.replace(tmp, p)


def pending(seq: int, hash_: str) -> None:
    """Remember the head just written; it becomes the anchor once its transaction commits."""
    ident = store_identity()
    if ident is not None:
        _pending[ident] = (seq, hash_)


def _hash_at(seq: int) -> str | None:
    row = (AuditEvent.select(AuditEvent.hash).where(AuditEvent.seq == seq)
           .tuples().first())
    return row[0] if row else None


def flush() -> None:
    """Move the anchor to the committed head (called after each outermost write transaction).

    Only outside a transaction: inside one, the event read back may not be committed yet."""
    db = database.obj
    if db is None or db.is_closed() or db.transaction_depth() > 0:
        return
    ident = store_identity()  # of database.obj, which db is
    if ident is None or ident not in _pending:
        return
    seq, hash_ = _pending.pop(ident)
    try:
        if _hash_at(seq) != hash_:
            return  # rolled back, or the store changed meanwhile: nothing to anchor
        p = path()
        old = read()
        if old is not None:
            # No mutate: at an equal seq the check below keeps the anchor or rewrites the same
            # head, so > would do what >= does.
            if old[0] >= seq:  # pragma: no mutate
                return  # another process of this terminal anchored a newer head
            if _hash_at(old[0]) != old[1]:
                return  # the chain no longer holds the old anchor: keep it as evidence
        write(p, seq, hash_)
    except (OSError, peewee.DatabaseError):
        # The anchor is a second line of defence: a full disk must not block the kiosk.
        return


def reset() -> None:
    """Forget the current store's anchor: only `kiosk demo --reset`, which empties the chain."""
    ident = store_identity()
    if ident is None:
        return
    _pending.pop(ident, None)
    path().unlink(missing_ok=True)


def _flush_at_exit() -> None:
    try:
        flush()
    except Exception:  # the interpreter is going away; never turn exit into a traceback
        pass


atexit.register(_flush_at_exit)


def _register() -> None:
    from kiosk.store import AFTER_COMMIT

    if flush not in AFTER_COMMIT:
        AFTER_COMMIT.append(flush)


_register()
