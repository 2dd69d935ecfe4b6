"""Schema migrations with a version table, applied in order with playhouse.migrate."""
from __future__ import annotations

import peewee
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate as apply_ops

from db import models as m


class SchemaVersion(m.BaseModel):
    version = peewee.IntegerField()
    applied_at = peewee.DateTimeField(default=m.now)


def _migrator(db: peewee.Database):
    if isinstance(db, peewee.PostgresqlDatabase):
        return PostgresqlMigrator(db)
    return SqliteMigrator(db)


def _columns(db: peewee.Database, table: str) -> set[str]:
    return {c.name for c in db.get_columns(table)}


def _v1_initial(db: peewee.Database) -> None:
    """Version 1: the registries, plans, draws, reports and audit log."""
    db.create_tables(m.ALL_MODELS, safe=True)


def _v2_addresses_and_recognition(db: peewee.Database) -> None:
    """Version 2: target addresses (printed on slips), other departments' inspections
    (Art. 16) and the bureau's own holiday calendar. A v1 store gains them without loss."""
    ops = []
    if "address" not in _columns(db, m.Target._meta.table_name):
        ops.append(_migrator(db).add_column(m.Target._meta.table_name, "address", m.Target.address))
    if ops:
        apply_ops(*ops)
    db.create_tables([m.InspectionRecord, m.Holiday], safe=True)


def _v3_target_search(db: peewee.Database) -> None:
    """Version 3: substring search over a million target names. SQLite: an FTS5 trigram index
    (external content, kept in step by triggers; detail=none: LIKE '%word%' still uses it,
    and it is about half the work to keep up on a bulk import). PostgreSQL: a pg_trgm GIN index when the
    extension can be had. Without either, searches fall back to LIKE scans."""
    if isinstance(db, peewee.PostgresqlDatabase):
        try:
            with db.atomic():
                db.execute_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                db.execute_sql("CREATE INDEX IF NOT EXISTS target_name_trgm ON target "
                               "USING gin (name gin_trgm_ops)")
        except peewee.DatabaseError:
            pass
        return
    try:
        with db.atomic():
            db.execute_sql("CREATE VIRTUAL TABLE IF NOT EXISTS target_fts USING fts5("
                           "name, content='target', content_rowid='id', tokenize='trigram', detail='none')")
    except peewee.OperationalError:
        return  # SQLite older than 3.34 or without FTS5
    db.execute_sql("INSERT INTO target_fts(target_fts) VALUES ('rebuild')")
    db.execute_sql("CREATE TRIGGER IF NOT EXISTS target_fts_ai AFTER INSERT ON target BEGIN "
                   "INSERT INTO target_fts(rowid, name) VALUES (new.id, new.name); END")
    db.execute_sql("CREATE TRIGGER IF NOT EXISTS target_fts_ad AFTER DELETE ON target BEGIN "
                   "INSERT INTO target_fts(target_fts, rowid, name) "
                   "VALUES ('delete', old.id, old.name); END")
    db.execute_sql("CREATE TRIGGER IF NOT EXISTS target_fts_au AFTER UPDATE OF name ON target "
                   "WHEN old.name IS NOT new.name BEGIN "
                   "INSERT INTO target_fts(target_fts, rowid, name) "
                   "VALUES ('delete', old.id, old.name); "
                   "INSERT INTO target_fts(rowid, name) VALUES (new.id, new.name); END")


def _v4_pool_index(db: peewee.Database) -> None:
    """Version 4: a covering index for freezing a draw's pool, so a million-target pool is
    read from the index alone instead of every wide target row."""
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS target_pool_cover ON target (category, active, uscc, "
        "size_class, credit_risk, complaint_count, serious_violation)")


MIGRATIONS = [
    (1, _v1_initial),
    (2, _v2_addresses_and_recognition),
    (3, _v3_target_search),
    (4, _v4_pool_index),
]
LATEST = MIGRATIONS[-1][0]


def current_version(db: peewee.Database) -> int:
    if not db.table_exists(SchemaVersion._meta.table_name):
        return 0
    row = SchemaVersion.select(peewee.fn.MAX(SchemaVersion.version)).scalar()
    return row or 0


def migrate(db: peewee.Database) -> int:
    """Bring the store up to LATEST; each step and its version row commit together."""
    with db.atomic():
        db.create_tables([SchemaVersion], safe=True)
    version = current_version(db)
    for number, step in MIGRATIONS:
        if number <= version:
            continue
        with db.atomic():
            step(db)
            SchemaVersion.create(version=number)
        version = number
    return version
