"""Schema migrations with a version table, applied in order with playhouse.migrate."""
from __future__ import annotations

import datetime as dt

import peewee
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator
from playhouse.migrate import migrate as apply_ops

from db import frozen
from db import models as m


class SchemaVersion(m.BaseModel):
    version = peewee.IntegerField()
    applied_at = peewee.DateTimeField(default=m.now)


def _migrator(db: peewee.Database):
    if isinstance(db, peewee.PostgresqlDatabase):
        return PostgresqlMigrator(db)
    return SqliteMigrator(db)


def _columns(db: peewee.Database, table: str) -> set[str]:
    schema = None
    if isinstance(db, peewee.PostgresqlDatabase):  # peewee would look in "public" only
        schema = db.execute_sql("SELECT current_schema()").fetchone()[0]
    return {c.name for c in db.get_columns(table, schema)}


def _v1_initial(db: peewee.Database) -> None:
    """Version 1: the registries, plans, draws, reports and audit log, as v1 shipped them
    (frozen in db/frozen.py: today's models would skip the steps an old store needs)."""
    with db.bind_ctx(frozen.V1_MODELS):
        db.create_tables(frozen.V1_MODELS, safe=True)


def _v2_addresses_and_recognition(db: peewee.Database) -> None:
    """Version 2: target addresses (printed on slips), other departments' inspections
    (Art. 16) and the bureau's own holiday calendar. A v1 store gains them without loss."""
    if "address" not in _columns(db, "target"):
        apply_ops(_migrator(db).add_column("target", "address",
                                           peewee.CharField(max_length=255, default="")))
    with db.bind_ctx(frozen.V2_MODELS):
        db.create_tables(frozen.V2_MODELS, safe=True)


def _v3_target_search(db: peewee.Database) -> None:
    """Version 3: substring search over a million target names. SQLite: an FTS5 trigram index
    (external content, kept in step by triggers; detail=none: LIKE '%word%' still uses it,
    and it is about half the work to keep up on a bulk import). PostgreSQL: a pg_trgm GIN
    index when the extension can be had. Without either, searches fall back to LIKE scans."""
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
                           "name, content='target', content_rowid='id', tokenize='trigram', "
                           "detail='none')")
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


# The audit table is append-only (Art. 14): the database itself refuses to change or remove
# an event, whoever asks. Only `kiosk demo --reset` lifts this, on a demo store, for one
# transaction.
_SQLITE_AUDIT_TRIGGERS = [
    "CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
]
_PG_AUDIT_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$",
    "DROP TRIGGER IF EXISTS audit_event_no_change ON audit_event",
    "CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event",
    "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()",
]


def create_audit_triggers(db: peewee.Database) -> None:
    for sql in (_PG_AUDIT_TRIGGERS if isinstance(db, peewee.PostgresqlDatabase)
                else _SQLITE_AUDIT_TRIGGERS):
        db.execute_sql(sql)


def drop_audit_triggers(db: peewee.Database) -> None:
    """Inside the caller's transaction only: the demo reset, and tests that play an intruder."""
    if isinstance(db, peewee.PostgresqlDatabase):
        db.execute_sql("DROP TRIGGER IF EXISTS audit_event_no_change ON audit_event")
        db.execute_sql("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
    else:
        db.execute_sql("DROP TRIGGER IF EXISTS audit_event_no_update")
        db.execute_sql("DROP TRIGGER IF EXISTS audit_event_no_delete")


def _v5_audit_covers_and_append_only(db: peewee.Database) -> None:
    """Version 5: each audit event may carry content hashes of the rows it covers (a sealed
    draw, a final report, a user, a setting, a plan), so `kiosk audit verify` names a row
    changed behind the kiosk's back; and triggers make the audit table append-only."""
    if "covers" not in _columns(db, "audit_event"):
        apply_ops(_migrator(db).add_column("audit_event", "covers", peewee.TextField(default="")))
    create_audit_triggers(db)


def _v6_draw_secrets(db: peewee.Database) -> None:
    """Version 6 (issue 8): a draw keeps its system entropy encrypted until the reveal, the
    beacon's declared source, and each witness's own account.

    One ALTER TABLE ... NOT NULL DEFAULT per column: playhouse's add_column would add a NOT
    NULL afterwards, which SQLite does by rebuilding the table, and dropping a table that
    listings, witnesses and assignments point at fails with foreign keys on."""
    for table, column, ddl in (("draw", "sealed_entropy", "TEXT NOT NULL DEFAULT ''"),
                               ("draw", "beacon_source", "TEXT NOT NULL DEFAULT ''"),
                               ("draw_witness", "account", "VARCHAR(32) NOT NULL DEFAULT ''")):
        if column not in _columns(db, table):
            db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {ddl}')


def _v7_publications(db: peewee.Database) -> None:
    """Version 7 (issue 10): published versions of draw notices and public lists, and the
    history of every item of the item list. New tables only, so today's models create them
    (a later change to these models needs a frozen copy here, as v1 and v2 have)."""
    db.create_tables([m.Publication, m.ItemVersion], safe=True)


def _v8_plan_approval_and_accounts(db: peewee.Database) -> None:
    """Version 8 (issue 11): a plan round's approval by a leader (Art. 18), an account that
    must change its password after a reset, and an item's own rules for special targets and
    the stated reason for a small/micro ratio under 1% (Art. 7)."""
    # Plain ALTER TABLE ... DEFAULT (see v6): no table rebuild under foreign keys.
    for table, column, ddl in (
            ("plan_task", "approved_by", "VARCHAR(32) NOT NULL DEFAULT ''"),
            ("plan_task", "approved_at", "TIMESTAMP"),
            ("user", "must_change", "BOOLEAN NOT NULL DEFAULT FALSE"),
            ("item", "special_frequency", "INTEGER NOT NULL DEFAULT 0"),
            ("item", "special_recognition_months", "INTEGER"),
            ("item", "small_micro_reason", "TEXT NOT NULL DEFAULT ''")):
        if column not in _columns(db, table):
            db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {ddl}')


def _v9_cases_and_sanctions(db: peewee.Database) -> None:
    """Version 9 (issue 11): findings followed to their end as cases (Art. 10) and sanctions
    on inspectors (Art. 18). New tables only, so today's models create them (a later change
    to these models needs a frozen copy here, as v1 and v2 have).

    Final reports of an older store get their cases, as kiosk/cases.py opens them: a
    rectification's case takes its deadline and its close; a penalty is decided within 90
    days and a transfer made within 3 of the finalisation (that module's DECISION_DAYS and
    TRANSFER_DAYS; db/ does not import kiosk/). Only the columns v9 knows are read."""
    db.create_tables([m.EnforcementCase, m.Sanction], safe=True)
    days = {"行政处罚": 90, "移送司法机关": 3}
    done = {r for (r,) in m.EnforcementCase.select(m.EnforcementCase.report).tuples()}
    rects = {}
    R = m.Rectification
    for rid, report, deadline, closed_at, closed_by, note in (
            R.select(R.id, R.report, R.deadline, R.closed_at, R.closed_by, R.note)
            .order_by(R.id.desc()).tuples()):
        rects[report] = (rid, deadline, closed_at, closed_by, note)  # the first one wins
    P = m.Report
    for rep, finding, finalised_at, rectify_deadline in (
            P.select(P.id, P.finding, P.finalised_at, P.rectify_deadline)
            .where((P.state == "final") & P.finding.in_(("责令整改", "行政处罚", "移送司法机关")))
            .tuples()):
        if rep in done:
            continue
        opened = finalised_at or m.now()
        rid, r_deadline, closed_at, closed_by, note = rects.get(rep, (None, None, None, "", ""))
        closed = closed_at is not None
        if finding == "责令整改":
            deadline = r_deadline or rectify_deadline
        else:
            deadline = opened.date() + dt.timedelta(days=days[finding])
        m.EnforcementCase.insert(
            report=rep, kind=finding, state="closed" if closed else "open", opened_at=opened,
            deadline=None if closed else deadline, rectification=rid,
            outcome=note if closed else "", closed_at=closed_at, closed_by=closed_by or "",
            updated_at=opened).execute()


def _v10_evidence_withdrawal(db: peewee.Database) -> None:
    """Version 10 (issue 11): evidence attached by mistake is withdrawn before submission and
    stays on file, marked. Plain ALTER TABLE ... DEFAULT (see v6)."""
    for column, ddl in (("withdrawn_at", "TIMESTAMP"),
                        ("withdrawn_by", "VARCHAR(32) NOT NULL DEFAULT ''"),
                        ("withdraw_reason", "TEXT NOT NULL DEFAULT ''")):
        if column not in _columns(db, "evidence"):
            db.execute_sql(f'ALTER TABLE "evidence" ADD COLUMN "{column}" {ddl}')


def _v11_uscc_prefix_index(db: peewee.Database) -> None:
    """Version 11 (issue 12), PostgreSQL only: an index that serves a search by the start of a
    credit code (LIKE 'X%'). The unique index on target.uscc follows the database's collation,
    which PostgreSQL uses for LIKE only under the C collation; text_pattern_ops compares
    characters as bytes whatever the collation. SQLite searches a range on its unique index."""
    if isinstance(db, peewee.PostgresqlDatabase):
        db.execute_sql("CREATE INDEX IF NOT EXISTS target_uscc_prefix "
                       "ON target (uscc text_pattern_ops)")


def _v12_pool_in_code_order(db: peewee.Database) -> None:
    """Version 12 (issue 12), PostgreSQL only: one index in the byte order of the credit code
    that also carries the columns a draw's pool reads. A draw reads its pool in that order
    (kiosk.draw.pool) straight from this index, where PostgreSQL sorted some 900,000 codes
    that all begin with the county's same eight characters (0.67 s; 0.40 s read in order).
    text_pattern_ops compares as bytes, so it still serves v11's prefix search, and it
    replaces both v11's index and v4's pool index on PostgreSQL: one index fewer to keep up to
    date on every import. SQLite keeps v4's index and sorts its pool itself."""
    if isinstance(db, peewee.PostgresqlDatabase):
        db.execute_sql("DROP INDEX IF EXISTS target_uscc_prefix")
        db.execute_sql("DROP INDEX IF EXISTS target_pool_cover")
        db.execute_sql("CREATE INDEX IF NOT EXISTS target_uscc_sorted ON target "
                       "(uscc text_pattern_ops) INCLUDE (category, active, size_class, "
                       "credit_risk, complaint_count, serious_violation)")


MIGRATIONS = [
    (1, _v1_initial),
    (2, _v2_addresses_and_recognition),
    (3, _v3_target_search),
    (4, _v4_pool_index),
    (5, _v5_audit_covers_and_append_only),
    (6, _v6_draw_secrets),
    (7, _v7_publications),
    (8, _v8_plan_approval_and_accounts),
    (9, _v9_cases_and_sanctions),
    (10, _v10_evidence_withdrawal),
    (11, _v11_uscc_prefix_index),
    (12, _v12_pool_in_code_order),
]
LATEST = MIGRATIONS[-1][0]


def current_version(db: peewee.Database) -> int:
    if not db.table_exists(SchemaVersion._meta.table_name):
        return 0
    row = SchemaVersion.select(peewee.fn.MAX(SchemaVersion.version)).scalar()
    return row or 0


def migrate(db: peewee.Database) -> int:
    """Bring the store up to LATEST; each step and its version row commit together."""
    if not db.table_exists(SchemaVersion._meta.table_name):
        # Only when missing: a terminal whose PostgreSQL role may not create tables (see the
        # README's roles) opens an up-to-date store without any DDL.
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
