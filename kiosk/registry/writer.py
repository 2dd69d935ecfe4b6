"""Registry writes: an import's checked rows upserted by key in bulk (through the driver's
executemany, not the query builder), the items with their strata and versions, and the other
departments' inspections matched by hand."""
from __future__ import annotations

import contextlib
import datetime as dt
import itertools

import peewee

from db.connection import database
from db.models import Conflict, InspectionRecord, Item, ItemStratum, Target, Training, now
from kiosk.registry.kinds import DEFAULTS, MODELS, Kind, with_defaults
from kiosk.registry.rows import item_strata

BATCH = 1000  # rows per INSERT: well under SQLite's 32766 bound variables at 12 columns
BULK_FTS_ROWS = 5000  # imports of at least this many targets feed the name index in one go
BULK_INDEX_ROWS = 5000  # loads of at least this many rows into an empty table build its indexes


class CheckedRows:
    """A file's rows once every cell passed, kept as the columns they were checked in: the
    upsert writes the columns as they are, and iterating gives (line, record) pairs for the
    lists that need records."""

    def __init__(self, lines: list[int], fields: list[str], columns: list[list]):
        self.lines, self.fields, self.columns = lines, fields, columns

    def __len__(self) -> int:
        return len(self.lines)

    def __iter__(self):
        for line, vals in zip(self.lines, zip(*self.columns, strict=True), strict=True):
            yield line, dict(zip(self.fields, vals, strict=True))

    def column(self, field: str) -> list:
        """The field's values, or None for each row when the file has no such column."""
        if field in self.fields:
            return self.columns[self.fields.index(field)]
        return [None] * len(self.lines)


def chunks(seq, n):
    seq = list(seq)
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def write_upsert(k: Kind, present: list[str], records, refs: dict) -> tuple[int, int]:
    model = MODELS[k.name]
    stamp = now()
    defaults = DEFAULTS[k.name]
    checked = isinstance(records, CheckedRows)
    # The directories are written from the checked columns; the links need each record.
    recs = [r for _, r in records] if k.name in ("conflicts", "trainings") or not checked else []

    def column(f: str) -> list:
        if checked:
            values = records.column(f)
        else:
            values = list(map(dict.get, recs, itertools.repeat(f)))
        d = defaults.get(f)
        if d is None or None not in values:  # a column filled in on every row
            return values
        return [d if v is None else v for v in values]

    if k.name in ("inspectors", "targets"):
        conflict_target = [getattr(model, k.key[0])]
        fields = [c.field for c in k.columns] + ["updated_at"]
        updates = [f for f in present if f not in k.key] + ["updated_at"]
        columns = [column(f) for f in fields[:-1]] + [[stamp] * len(records)]
    elif k.name == "conflicts":
        conflict_target = [Conflict.inspector, Conflict.target]
        fields = ["inspector", "target", "reason", "declared_at"]
        updates = [f for f in present if f in ("reason", "declared_at")]
        columns = [[refs["cert_no"][r["cert_no"]] for r in recs],
                   [refs["uscc"][r["uscc"]] for r in recs], column("reason"),
                   [r.get("declared_at") or stamp for r in recs]]
    else:  # trainings
        conflict_target = [Training.inspector, Training.title, Training.date]
        fields = ["inspector", "title", "date", "hours", "organizer"]
        updates = [f for f in present if f in ("hours", "organizer")]
        columns = [[refs["cert_no"][r["cert_no"]] for r in recs]] + [
            column(f) for f in ("title", "date", "hours", "organizer")]
    before = model.select().count()
    _upsert(model, fields, conflict_target, updates, columns, empty=before == 0, existing=before)
    inserted = model.select().count() - before
    return inserted, len(records) - inserted


def _sqlite_column(values: list) -> list:
    """Dates as the text peewee stores on SQLite (the driver's own date adapters are
    deprecated); other values bind as they are (a bool as 0 or 1)."""
    kinds = set(map(type, values))
    if dt.date not in kinds and dt.datetime not in kinds:
        return values
    if len(values) > 1 and values.count(values[0]) == len(values):
        # The import's one time stamp on every row: converted once.
        return _sqlite_column(values[:1]) * len(values)
    return [v.isoformat(sep=" ") if isinstance(v, dt.datetime)
            else v.isoformat() if isinstance(v, dt.date) else v for v in values]


def _upsert(model, fields: list[str], conflict_target: list, updates: list[str],
            columns: list[list], *, empty: bool = False, existing: int | None = None) -> None:
    """INSERT … ON CONFLICT DO UPDATE in batches through the driver's executemany: building
    100k rows through the query builder costs several times the write itself.

    empty: the table held no row when this transaction began. On SQLite the write lock is
    held from its start (BEGIN IMMEDIATE), so no row can conflict and a plain INSERT does:
    it takes half the time of the upsert on 100k targets.

    existing: the rows the table held then, when known: a file of at least half as many rows
    rebuilds the table's indexes other than the unique ones once, after its rows are written,
    instead of updating them row by row (see _drop_indexes)."""
    db = database.obj
    sqlite = isinstance(db, peewee.SqliteDatabase)
    meta = model._meta
    if not sqlite:  # COPY, see kiosk/registry/pg_copy.py; INSERTs only if it cannot be used
        from kiosk.registry import pg_copy

        with _driver_errors(False):
            if pg_copy.upsert(db, model, fields, conflict_target, updates, columns, empty=empty,
                              rebuild=len(columns[0]) >= BULK_INDEX_ROWS):
                return

    def q(field: str) -> str:
        return f'"{meta.fields[field].column_name}"'

    target = ", ".join(f'"{f.column_name}"' for f in conflict_target)
    if empty and sqlite:
        tail = ""
    elif updates:
        sets = ", ".join(f"{q(f)} = excluded.{q(f)}" for f in updates)
        tail = f"ON CONFLICT ({target}) DO UPDATE SET {sets}"
    else:
        tail = f"ON CONFLICT ({target}) DO NOTHING"
    sql = (f'INSERT INTO "{meta.table_name}" ({", ".join(q(f) for f in fields)}) '
           f"VALUES ({', '.join([db.param] * len(fields))}) {tail}")
    if sqlite:
        columns = [_sqlite_column(c) for c in columns]
    params = list(zip(*columns, strict=True))
    cursor = db.cursor()
    bulk_fts = None
    if sqlite and model is Target and len(params) >= BULK_FTS_ROWS:
        # Feeding the trigram index once for all new rows costs about a third less than its
        # per-row trigger. The trigger is dropped and recreated inside this transaction, so
        # other terminals never see it missing and a failure rolls the drop back too.
        found = db.execute_sql("SELECT sql FROM sqlite_master WHERE type = 'trigger' "
                               "AND name = 'target_fts_ai'").fetchone()
        if found:
            bulk_fts = found[0]
            last_id = db.execute_sql("SELECT COALESCE(MAX(id), 0) FROM target").fetchone()[0]
            db.execute_sql("DROP TRIGGER target_fts_ai")
    bulk = len(params) >= BULK_INDEX_ROWS and (
        empty or (existing is not None and 2 * len(params) >= existing))
    indexes = _drop_indexes(db, meta.table_name, keep_unique=not empty) \
        if sqlite and bulk else []
    with _driver_errors(sqlite):
        for i in range(0, len(params), BATCH * 10):
            if sqlite:
                cursor.executemany(sql, params[i:i + BATCH * 10])
            else:
                from psycopg2.extras import execute_batch

                execute_batch(cursor, sql, params[i:i + BATCH * 10], page_size=BATCH)
        for statement, args in indexes:  # a unique index refuses a repeated key, as INSERT would
            cursor.execute(statement, args)
    if bulk_fts:
        db.execute_sql("INSERT INTO target_fts(rowid, name) SELECT id, name FROM target "
                       "WHERE id > ?", (last_id,))
        db.execute_sql(bulk_fts)


def _drop_indexes(db, table: str, *, keep_unique: bool) -> list[tuple[str, tuple]]:
    """Drop the table's own indexes (all of them, or the non-unique ones when keep_unique)
    and return the statements (with their arguments) that build them again and put back the
    planner's statistics of them, if ANALYZE ever gathered any (DROP INDEX deletes them).

    For a bulk write over most of a table: building each index once from the finished table
    sorts its keys in one go, where changing five indexes row by row (random codes and names)
    costs about four times as much on 100k targets. An upsert keeps the unique indexes: its
    ON CONFLICT needs them, and so does every other key. SQLite's schema changes are part of
    the transaction: other terminals keep seeing the indexes (WAL readers see the last
    commit), and a failure rolls the drops back with the rows."""
    found = db.execute_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                           "AND tbl_name = ? AND sql IS NOT NULL", (table,)).fetchall()
    # Indexes without sql are the ones behind UNIQUE and PRIMARY KEY constraints: never dropped.
    unique = {row[1] for row in db.execute_sql(f'PRAGMA index_list("{table}")') if row[2]}
    found = [(name, sql) for name, sql in found if not (keep_unique and name in unique)]
    stats = []
    if found and db.execute_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
                                ).fetchone():
        names = [name for name, _ in found]
        stats = db.execute_sql(
            f"SELECT tbl, idx, stat FROM sqlite_stat1 WHERE tbl = ? AND idx IN "
            f"({', '.join('?' * len(names))})", (table, *names)).fetchall()
    for name, _ in found:
        db.execute_sql(f'DROP INDEX "{name}"')
    return [(sql, ()) for _, sql in found] + [
        ("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)", tuple(row))
        for row in stats]


@contextlib.contextmanager
def _driver_errors(sqlite: bool):
    """The raw cursor bypasses peewee, so its driver's errors become peewee's, as execute_sql
    would raise them."""
    if sqlite:
        import sqlite3 as driver
    else:
        import psycopg2 as driver
    try:
        yield
    except driver.IntegrityError as e:
        raise peewee.IntegrityError(*e.args) from e
    except driver.DatabaseError as e:
        raise peewee.DatabaseError(*e.args) from e


def write_items(k: Kind, present: list[str], records, refs: dict) -> tuple[int, int]:
    from kiosk import settings
    from kiosk.publication.lists import record_item_version

    recs = [r for _, r in records]
    inserted = updated = 0
    plain = [c.field for c in k.columns if c.field != "strata"]
    for rec in recs:
        item = Item.get_or_none(Item.code == rec["code"])
        strata = rec.get("strata") if "strata" in present else None
        if item is None:
            vals = with_defaults("items", {f: rec.get(f) for f in plain})
            if rec.get("recognition_months") is None:  # the bureau's default window
                vals["recognition_months"] = settings.get_int("recognition_months")
            item = Item.create(**vals, updated_at=now())
            inserted += 1
            changed_strata = bool(strata)
        else:
            vals = {f: rec[f] if rec[f] is not None else DEFAULTS["items"].get(f)
                    for f in present if f in plain and f != "code"}
            changed = any(getattr(item, f) != v for f, v in vals.items())
            changed_strata = strata is not None and item_strata(item.id) != strata
            if changed or changed_strata:
                Item.update(**vals, version=Item.version + 1, updated_at=now()) \
                    .where(Item.id == item.id).execute()
            updated += 1
        if changed_strata:
            ItemStratum.delete().where(ItemStratum.item == item.id).execute()
            if strata:
                ItemStratum.insert_many([
                    {"item": item.id, "name": n, "criterion": c, "ratio_bp": r, "position": i}
                    for i, (n, c, r) in enumerate(strata)]).execute()
        record_item_version(item.id)  # the item list's history (Art. 4); no-op if unchanged
    return inserted, updated


def write_inspections(k: Kind, present: list[str], records, refs: dict) -> tuple[int, int]:
    recs = [r for _, r in records]
    # No unique index on (target, date, department), so match existing rows by hand.
    target_ids = {refs["uscc"][r["uscc"]] for r in recs}
    existing: dict[tuple, int] = {}
    for chunk in chunks(target_ids, 500):
        q = (InspectionRecord.select(InspectionRecord.id, InspectionRecord.target,
                                     InspectionRecord.date, InspectionRecord.department)
             .where(InspectionRecord.target.in_(chunk)).tuples())
        for rid, tid, d, dep in q:
            if isinstance(d, str):
                d = dt.date.fromisoformat(d)
            existing[(tid, d, dep)] = rid
    new, updated = [], 0
    for r in recs:
        r = with_defaults("inspections", r)
        key = (refs["uscc"][r["uscc"]], r["date"], r["department"])
        if key in existing:
            if "reference" in present:
                InspectionRecord.update(reference=r["reference"]) \
                    .where(InspectionRecord.id == existing[key]).execute()
            updated += 1
        else:
            new.append({"target": key[0], "date": r["date"], "department": r["department"],
                        "reference": r["reference"]})
    for batch in chunks(new, BATCH):
        InspectionRecord.insert_many(batch).execute()
    return len(new), updated


# The writer of each kind: the directories and links are upserted by key; items keep their
# strata and versions; inspections have no unique key to upsert on.
WRITERS = {"items": write_items, "inspections": write_inspections}
