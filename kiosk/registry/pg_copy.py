"""PostgreSQL's registry write path: an import's rows sent with COPY instead of one INSERT
statement each (which the server parses and plans 200,000 times for 200,000 targets)."""
from __future__ import annotations

import peewee

from db.copy_text import copy_rows

ANALYZE_ROWS = 10_000  # an import of at least this many rows refreshes the planner's statistics
_TEMP = "kiosk_import_rows"  # the staging table of an import into a table that has rows
_ORDINAL = "kiosk_n"  # its row number: rows are upserted (and given ids) in the file's order


def _temp_table(cursor, table: str, names: list[str]) -> bool:
    """The staging table, or False when this role may not create temporary tables (a store
    hardened beyond the README's grants): the caller then sends INSERT statements."""
    import psycopg2

    cursor.execute("SAVEPOINT kiosk_import_temp")
    try:
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{_TEMP}")
        # Without NOT NULL or defaults: the rows are checked when they reach the real table.
        cursor.execute(f"CREATE TEMP TABLE {_TEMP} ON COMMIT DROP AS "
                       f"SELECT {', '.join(names)} FROM {table} WITH NO DATA")
        cursor.execute(f"ALTER TABLE {_TEMP} ADD COLUMN {_ORDINAL} bigserial")
    except psycopg2.errors.InsufficientPrivilege:
        cursor.execute("ROLLBACK TO SAVEPOINT kiosk_import_temp")
        return False
    cursor.execute("RELEASE SAVEPOINT kiosk_import_temp")
    return True


def upsert(db: peewee.Database, model, fields: list[str], conflict_target: list,
           updates: list[str], columns: list[list], *, empty: bool = False,
           rebuild: bool = False) -> bool:
    """Write the rows as writer._upsert's INSERT ... ON CONFLICT would, in the caller's
    transaction; False (nothing written) when the staging table cannot be made.

    empty: the table held no row when the import's transaction began. Every kiosk writer
    holds the advisory write lock (kiosk.store.write_tx) from before that count to the
    commit, so no kiosk can add a row meanwhile: the rows are copied straight into the
    table. A row added behind the kiosk's back makes the COPY fail on the unique key, and
    the whole import is rolled back, as any other refused row.

    rebuild: a bulk load, which into an empty table builds the indexes once afterwards (see
    _drop_indexes)."""
    with db.atomic():  # the import's transaction (a savepoint in it), or one of its own
        return _upsert(db, model, fields, conflict_target, updates, columns, empty, rebuild)


def _upsert(db, model, fields, conflict_target, updates, columns, empty, rebuild) -> bool:
    meta = model._meta
    table = f'"{meta.table_name}"'
    names = [f'"{meta.fields[f].column_name}"' for f in fields]
    cursor = db.cursor()
    if len(columns[0]) >= ANALYZE_ROWS:
        # For this transaction only: the name index's queue (GIN fastupdate) holds 64 MB
        # before it is merged into the index, and the merge sorts in memory. Fewer, larger
        # merges cost a fifth less server CPU on 200,000 targets (the queue is emptied before
        # the commit, below).
        cursor.execute("SET LOCAL gin_pending_list_limit = '64MB'")
        cursor.execute("SET LOCAL work_mem = '128MB'")
    if empty:
        rebuilt = _drop_indexes(cursor, meta.table_name) if rebuild else []
        copy_rows(cursor, table, names, columns)
        if rebuilt:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for statement in rebuilt:  # a unique index refuses a repeated key, as the COPY would
            cursor.execute(statement)
    else:
        if not _temp_table(cursor, table, names):
            return False
        copy_rows(cursor, _TEMP, names, columns)
        target = ", ".join(f'"{f.column_name}"' for f in conflict_target)
        if updates:
            sets = ", ".join(f'"{meta.fields[f].column_name}" = excluded."'
                             f'{meta.fields[f].column_name}"' for f in updates)
            tail = f"ON CONFLICT ({target}) DO UPDATE SET {sets}"
        else:
            tail = f"ON CONFLICT ({target}) DO NOTHING"
        cols = ", ".join(names)
        cursor.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {_TEMP} "
                       f"ORDER BY {_ORDINAL} {tail}")
        cursor.execute(f"DROP TABLE {_TEMP}")
    if len(columns[0]) >= ANALYZE_ROWS:
        # The planner's row counts for the next draw and search, inside this transaction
        # (ANALYZE samples this transaction's own new rows; a role that does not own the
        # table gets a warning, not an error). Autovacuum would do it only later.
        cursor.execute(f"ANALYZE {table}")
        _clean_gin_pending(cursor, meta.table_name)
    return True


def _drop_indexes(cursor, table: str) -> list[str]:
    """Drop the table's indexes other than its primary key and those behind constraints, and
    return the statements that build them again: only for a first load into an empty table,
    and only those the current role owns (the terminals' role owns none, and keeps them).

    Keeping eight indexes up to date row by row (random codes and names, a trigram index on
    the names) is most of the server's work in a bulk load; building each once from the
    finished table halves it. DROP INDEX locks the table against other terminals' readers
    until the commit: they wait for the load, and the table they wait for was empty."""
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = to_regclass(%s) "
        "AND NOT i.indisprimary AND pg_has_role(c.relowner, 'USAGE') "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
        (f'"{table}"',))
    found = cursor.fetchall()
    for name, _ in found:
        cursor.execute(f"DROP INDEX {name}")
    return [statement for _, statement in found]


def _clean_gin_pending(cursor, table: str) -> None:
    """Move the rows still queued in the GIN indexes' pending lists (fastupdate) into the
    indexes proper. Every search reads the whole pending list: what a bulk load leaves there
    (up to the 64 MB above) made a name search's page and count take 88 ms instead of 11 after
    200,000 targets, until autovacuum got to it. Only the index's owner may do this; for the
    terminals' role the queue stays for autovacuum."""
    cursor.execute(
        "SELECT i.indexrelid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_am a ON a.oid = c.relam WHERE i.indrelid = to_regclass(%s) "
        "AND a.amname = 'gin' AND pg_has_role(c.relowner, 'USAGE')", (f'"{table}"',))
    for (index,) in cursor.fetchall():
        cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", (index,))
