"""Write transactions that serialise across terminals, on SQLite and PostgreSQL alike."""
from __future__ import annotations

import contextlib

import peewee

from db.connection import database

# Any fixed key: every writer of the audit chain takes this advisory lock on PostgreSQL.
_PG_WRITE_LOCK = 0x5352_4A44


@contextlib.contextmanager
def write_tx():
    """One write: BEGIN IMMEDIATE on SQLite (so two terminals queue instead of failing on a
    stale snapshot), an advisory transaction lock on PostgreSQL. Nested calls are savepoints."""
    db = database.obj
    if db.transaction_depth() > 0:
        with db.atomic():
            yield db
        return
    if isinstance(db, peewee.SqliteDatabase):
        with db.atomic(lock_type="IMMEDIATE"):
            yield db
    else:
        with db.atomic():
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_PG_WRITE_LOCK,))
            yield db
