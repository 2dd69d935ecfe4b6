"""Write transactions that serialise across terminals, on SQLite and PostgreSQL alike."""
from __future__ import annotations

import contextlib
import os
import sys
import time

import peewee

from db.connection import database
from db.copy_text import copy_rows

# Any fixed key: every writer of the audit chain takes this advisory lock on PostgreSQL, paired
# with the schema, so that two stores in one database (a province's counties, the tests) do not
# queue behind each other.
_PG_WRITE_LOCK = 0x5352_4A44
_PG_ROUND = "10s"  # how long one wait for the lock lasts before the writer says it waits

# Called after each outermost write transaction commits (the audit chain's local anchor).
AFTER_COMMIT: list = []

WAITING = "正在等待另一终端完成写入…"
GAVE_UP = "另一终端长时间占用数据库写入，本次操作未执行，请稍后重试。"
_told = False  # the waiting sentence is said once per process, not once per retry


def _busy(e: Exception) -> bool:
    text = str(e).lower()
    return "locked" in text or "busy" in text


def _max_wait() -> float:
    """KIOSK_WRITE_WAIT seconds (default 600) before a waiting writer gives up in a sentence."""
    try:
        return float(os.environ.get("KIOSK_WRITE_WAIT", "600"))
    except ValueError:
        return 600.0


def _still_waiting(deadline: float) -> None:
    """Another terminal still holds the write lock: give up in a sentence past the deadline,
    else say once (per process) that this one waits."""
    global _told
    if time.monotonic() > deadline:
        from kiosk.errors import UserError

        raise UserError(GAVE_UP) from None
    if not _told:
        _told = True
        print(WAITING, file=sys.stderr, flush=True)


def _begin(db: peewee.SqliteDatabase):
    """Enter BEGIN IMMEDIATE, waiting for as long as another terminal holds the write lock.

    SQLite's busy timeout (db.connection) already waits 10 s; past it the BEGIN fails with
    "database is locked". Only the BEGIN is retried, never the body: nothing has been written
    yet, so a retry cannot write anything twice."""
    deadline = time.monotonic() + _max_wait()
    pause = 0.05
    while True:
        tx = db.atomic(lock_type="IMMEDIATE")
        try:
            tx.__enter__()
            return tx
        except peewee.OperationalError as e:
            if not _busy(e):
                raise
            _still_waiting(deadline)
            time.sleep(pause)
            pause = min(pause * 2, 0.5)


def _begin_pg(db: peewee.Database):
    """The advisory write lock, waited for in rounds of the busy timeout so that a writer
    held up by another terminal says so (the SQLite behaviour), then waits on."""
    deadline = time.monotonic() + _max_wait()
    while True:
        tx = db.atomic()
        tx.__enter__()
        try:
            db.execute_sql(f"SET LOCAL lock_timeout = '{_PG_ROUND}'")
            db.execute_sql("SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))",
                           (_PG_WRITE_LOCK,))
            db.execute_sql("SET LOCAL lock_timeout TO DEFAULT")
            return tx
        except peewee.OperationalError as e:
            tx.__exit__(type(e), e, e.__traceback__)  # rolls back: nothing was written
            if "lock timeout" not in str(e):
                raise
            _still_waiting(deadline)
        except BaseException:
            tx.__exit__(*sys.exc_info())
            raise


@contextlib.contextmanager
def write_tx():
    """One write: BEGIN IMMEDIATE on SQLite (so two terminals queue instead of failing on a
    stale snapshot), an advisory transaction lock on PostgreSQL. Nested calls are savepoints."""
    db = database.obj
    if db.transaction_depth() > 0:
        with db.atomic():
            yield db
        return
    tx = _begin(db) if isinstance(db, peewee.SqliteDatabase) else _begin_pg(db)
    try:
        yield db
    except BaseException:
        if not tx.__exit__(*sys.exc_info()):
            raise
    else:
        tx.__exit__(None, None, None)
    for hook in AFTER_COMMIT:
        hook()


def bulk_insert(model: type[peewee.Model], columns: list[str], rows: list[tuple]) -> None:
    """Insert many rows at once: one prepared statement on SQLite, COPY on PostgreSQL.
    peewee's insert_many builds SQL per row, which costs seconds for the tens of thousands of
    assignments a large draw seals; COPY takes 0.18 s less than INSERT ... VALUES pages for
    a million-target draw's 31,000 assignment and team rows."""
    if not rows:
        return
    db = database.obj
    table = model._meta.table_name
    names = [model._meta.fields[c].column_name for c in columns]
    if isinstance(db, peewee.PostgresqlDatabase):
        copy_rows(db.cursor(), f'"{table}"', [f'"{n}"' for n in names],
                  [list(c) for c in zip(*rows, strict=True)])
        return
    cols, marks = ", ".join(names), ", ".join("?" * len(columns))
    db.cursor().executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', rows)


def vacuum(model: type[peewee.Model], *, analyze: bool = False) -> bool:
    """PostgreSQL: VACUUM (and ANALYZE) the table once a bulk write has committed, so its
    pages are marked all-visible now rather than when autovacuum gets to them: a draw reads
    its pool from an index alone (migration v12) only on such pages, and visits the table row
    by row for the others. Only the table's owner may; the terminals' role leaves it to
    autovacuum. Never inside a transaction, where PostgreSQL refuses VACUUM; never on SQLite,
    which has no such map. True when it ran."""
    db = database.obj
    table = model._meta.table_name
    if not isinstance(db, peewee.PostgresqlDatabase) or db.in_transaction():
        return False
    owner = db.execute_sql("SELECT pg_has_role(relowner, 'USAGE') FROM pg_class "
                           "WHERE oid = to_regclass(%s)", (f'"{table}"',)).fetchone()
    if not owner or not owner[0]:
        return False
    # The caller's rows are committed by now: a VACUUM that cannot have the table (another
    # session's VACUUM, ANALYZE or index build holds it) gives up after VACUUM_LOCK_WAIT and
    # leaves it to autovacuum, rather than hang or make a finished import look failed.
    try:
        db.execute_sql(f"SET lock_timeout = '{VACUUM_LOCK_WAIT}'")
        try:
            db.execute_sql(f'VACUUM {"(ANALYZE) " if analyze else ""}"{table}"')
        finally:
            db.execute_sql("RESET lock_timeout")
    except peewee.OperationalError:
        return False
    return True


VACUUM_LOCK_WAIT = "2s"
