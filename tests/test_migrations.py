"""Migrations: a v1 store built from the frozen v1 schema upgrades step by step to today's,
and ends with the same tables and columns as a new store (which goes through the same steps)."""
from __future__ import annotations

import contextlib
import datetime as dt
import uuid

import peewee
import pytest

from db import connect, frozen
from db.migrations import LATEST, MIGRATIONS, SchemaVersion, current_version
from db.models import ALL_MODELS, AuditEvent, Target, User
from kiosk import audit
from kiosk.audit.chain import GENESIS, entry_hash

AT = dt.datetime(2021, 1, 21, 10, 0)


def _fill_v1(raw: peewee.Database) -> None:
    """A v1 store as it shipped: its schema, a target, a user and a one-event audit chain
    hashed the v1 way (no covers)."""
    with raw.bind_ctx([*frozen.V1_MODELS, SchemaVersion]):
        raw.create_tables([*frozen.V1_MODELS, SchemaVersion])
        frozen.Target.create(uscc="91411623MA44XXXX0L", name="商水县老厂",
                             category="用人单位-制造业", township="城关乡", credit_risk="中",
                             complaint_count=3)
        frozen.User.create(username="clerk", display_name="老管理员", role="admin",
                           password_hash="argon2-of-long-ago")
        h = entry_hash(GENESIS, 1, str(AT), "clerk", "user.create", "user", "clerk", "{}")
        frozen.AuditEvent.create(seq=1, at=AT, actor="clerk", action="user.create",
                                 entity="user", entity_id="clerk", detail="{}",
                                 prev_hash=GENESIS, hash=h)
        SchemaVersion.create(version=1, applied_at=AT)


def _schema(db: peewee.Database, schema: str | None = None) -> dict[str, set[str]]:
    return {t: {c.name for c in db.get_columns(t, schema)}
            for t in db.get_tables(schema) if not t.startswith("target_fts")}


def test_the_frozen_v1_schema_is_not_todays():
    """If v1 built today's models, an old store and a new one would take different paths."""
    v1 = {m._meta.table_name: set(m._meta.columns) for m in frozen.V1_MODELS}
    now = {m._meta.table_name: set(m._meta.columns) for m in ALL_MODELS}
    assert "address" not in v1["target"] and "address" in now["target"]
    assert "covers" not in v1["audit_event"] and "covers" in now["audit_event"]
    assert "holiday" not in v1 and "inspection_record" not in v1
    assert [n for n, _ in MIGRATIONS] == list(range(1, LATEST + 1))


def test_v1_sqlite_store_upgrades_step_by_step_to_a_new_stores_schema(tmp_path):
    old = tmp_path / "v1.sqlite3"
    raw = peewee.SqliteDatabase(str(old))
    raw.connect()
    _fill_v1(raw)
    raw.close()

    db = connect(old)
    assert current_version(db) == LATEST
    steps = [v for (v,) in SchemaVersion.select(SchemaVersion.version)
             .order_by(SchemaVersion.id).tuples()]
    assert steps == list(range(1, LATEST + 1))
    t = Target.get(Target.uscc == "91411623MA44XXXX0L")
    assert (t.name, t.township, t.complaint_count, t.address) == ("商水县老厂", "城关乡", 3, "")
    assert User.get(User.username == "clerk").display_name == "老管理员"
    # v1's events keep their hashes; new ones chain on with covers.
    audit.record("clerk", "test.after_upgrade", "thing", 1)
    assert AuditEvent.get(AuditEvent.seq == 1).covers == ""
    ok, msg = audit.verify()
    assert ok, msg
    # The first start after the upgrade vouches once for the rows as they stand ...
    assert audit.chain.ensure_baseline() is True
    assert audit.chain.ensure_baseline() is False
    assert "user:clerk" in AuditEvent.get(AuditEvent.action == "audit.baseline").covers
    assert audit.verify().ok
    # ... so a role changed after it is named.
    User.update(role="leader").where(User.username == "clerk").execute()
    assert audit.verify().message.startswith("用户 clerk 的角色与第 3 条审计记录不符")
    User.update(role="admin").where(User.username == "clerk").execute()
    with pytest.raises(peewee.DatabaseError, match="append-only"):
        with db.atomic():
            AuditEvent.delete().where(AuditEvent.seq == 1).execute()
    upgraded = _schema(db)
    db.close()

    fresh = connect(tmp_path / "new.sqlite3")
    assert _schema(fresh) == upgraded
    assert {m._meta.table_name for m in ALL_MODELS} <= set(upgraded)
    for m in ALL_MODELS:
        assert set(m._meta.columns) == upgraded[m._meta.table_name], m
    fresh.close()


@pytest.mark.postgres
def test_v1_postgresql_store_upgrades_step_by_step(pg_url):
    import psycopg2

    schemas = ["t_" + uuid.uuid4().hex[:12] for _ in range(2)]
    admin = psycopg2.connect(pg_url)
    admin.autocommit = True
    sep = "&" if "?" in pg_url else "?"
    urls = [f"{pg_url}{sep}options=-csearch_path%3D{s}" for s in schemas]
    try:
        for s in schemas:
            admin.cursor().execute(f"CREATE SCHEMA {s}")
        raw = connect(urls[0], migrate=False)
        _fill_v1(raw)
        raw.close()
        db = connect(urls[0])
        assert current_version(db) == LATEST
        t = Target.get(Target.uscc == "91411623MA44XXXX0L")
        assert (t.name, t.address) == ("商水县老厂", "")
        audit.record("clerk", "test.after_upgrade", "thing", 1)
        ok, msg = audit.verify()
        assert ok, msg
        with pytest.raises(peewee.DatabaseError, match="append-only"):
            with db.atomic():
                AuditEvent.update(actor="x").execute()
        upgraded = _schema(db, schemas[0])
        db.close()
        fresh = connect(urls[1])
        assert _schema(fresh, schemas[1]) == upgraded
        fresh.close()
    finally:
        for s in schemas:
            admin.cursor().execute(f"DROP SCHEMA IF EXISTS {s} CASCADE")
        admin.close()


APP_ROLE_SQL = """
GRANT USAGE ON SCHEMA {s} TO {app};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {app};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {app};
REVOKE UPDATE, DELETE, TRUNCATE ON {s}.audit_event FROM {app};
"""


@contextlib.contextmanager
def terminal_role_store(pg_url: str, as_owner=None):
    """The README's deployment in a fresh schema: an owner role migrates it (then
    as_owner(db), if given, runs as the owner), the terminals' role gets APP_ROLE_SQL's
    grants; yields the terminals' URL, and drops the schema and both roles after."""
    import psycopg2
    from psycopg2.extensions import parse_dsn

    s = "t_" + uuid.uuid4().hex[:12]
    owner, app = f"{s}_owner", f"{s}_app"
    admin = psycopg2.connect(pg_url)
    admin.autocommit = True
    cur = admin.cursor()
    me = parse_dsn(pg_url).get("user") or cur.connection.info.user
    cur.execute(f"CREATE ROLE {owner} NOLOGIN")
    cur.execute(f"CREATE ROLE {app} LOGIN PASSWORD 'app-secret'")
    cur.execute(f"GRANT {owner} TO {me}")
    cur.execute(f"CREATE SCHEMA {s} AUTHORIZATION {owner}")
    sep = "&" if "?" in pg_url else "?"
    try:
        db = connect(f"{pg_url}{sep}options=-csearch_path%3D{s}%20-crole%3D{owner}")
        if as_owner is not None:
            as_owner(db)
        db.close()
        cur.execute(f"SET ROLE {owner}")
        cur.execute(APP_ROLE_SQL.format(s=s, app=app))
        cur.execute("RESET ROLE")
        dsn = parse_dsn(pg_url)
        yield (f"postgresql://{app}:app-secret@{dsn.get('host', '127.0.0.1')}:"
               f"{dsn.get('port', 5432)}/{dsn['dbname']}?options=-csearch_path%3D{s}")
    finally:
        cur.execute(f"DROP SCHEMA IF EXISTS {s} CASCADE")
        cur.execute(f"REVOKE {owner} FROM {me}")
        cur.execute(f"DROP ROLE IF EXISTS {app}")
        cur.execute(f"DROP ROLE IF EXISTS {owner}")
        admin.close()


@pytest.mark.postgres
def test_postgresql_terminal_role_may_only_insert_into_the_audit_table(pg_url):
    """The README's deployment: an owner role migrates; the terminals' role may read and
    append audit events, never change, delete or truncate them, nor drop the triggers."""
    with terminal_role_store(pg_url) as app_url:
        db = connect(app_url)  # up to date: no DDL needed
        audit.record("clerk", "test.append", "thing", 1)
        assert audit.verify().ok
        for sql in ("UPDATE audit_event SET actor = 'x'", "DELETE FROM audit_event",
                    "TRUNCATE audit_event", "DROP TRIGGER audit_event_no_change ON audit_event"):
            with pytest.raises(peewee.DatabaseError, match=r"permission denied|must be owner"):
                with db.atomic():
                    db.execute_sql(sql)
        assert AuditEvent.select().count() == 1
        db.close()
