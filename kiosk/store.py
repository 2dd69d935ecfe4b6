"""Write transactions that serialise across terminals, on SQLite and PostgreSQL alike."""
from __future__ import annotations

import contextlib

import peewee

from db.connection import database

# Any fixed key: every writer of the audit chain takes this advisory lock on PostgreSQL.
_PG_WRITE_LOCK = 0x5352_4A44

# Called after each outermost write transaction commits (the audit chain's local anchor).
AFTER_COMMIT: list = []


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
    for hook in AFTER_COMMIT:
        hook()


def bulk_insert(model: type[peewee.Model], columns: list[str], rows: list[tuple],
                batch: int = 5000) -> None:
    """Insert many rows with one prepared statement: peewee's insert_many builds SQL per row,
    which costs seconds for the tens of thousands of assignments a large draw seals."""
    if not rows:
        return
    db = database.obj
    table = model._meta.table_name
    cols = ", ".join(model._meta.fields[c].column_name for c in columns)
    if isinstance(db, peewee.PostgresqlDatabase):
        from psycopg2.extras import execute_values

        cur = db.cursor()
        for i in range(0, len(rows), batch):
            execute_values(cur, f'INSERT INTO "{table}" ({cols}) VALUES %s', rows[i:i + batch],
                           page_size=batch)
        return
    marks = ", ".join("?" * len(columns))
    db.cursor().executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', rows)
