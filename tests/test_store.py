"""The store itself: pragmas, migrations from an old schema, the audit chain, on SQLite and PostgreSQL."""
from __future__ import annotations

import peewee
import pytest

from db import connect
from db.migrations import LATEST, current_version
from db.models import AuditEvent, Target
from kiosk import audit


def test_sqlite_file_has_wal_and_foreign_keys(db, db_path):
    assert db_path.exists()
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] >= 5000
    assert current_version(db) == LATEST


def test_v1_store_upgrades_without_loss(tmp_path):
    path = tmp_path / "old.sqlite3"
    raw = peewee.SqliteDatabase(str(path))
    raw.connect()
    # The schema as version 1 shipped it: targets without an address, no holiday table.
    raw.execute_sql(
        "CREATE TABLE target (id INTEGER PRIMARY KEY, uscc VARCHAR(18) NOT NULL UNIQUE, "
        "name VARCHAR(200) NOT NULL, category VARCHAR(64) NOT NULL, township VARCHAR(64) NOT NULL, "
        "size_class VARCHAR(8) NOT NULL, credit_risk VARCHAR(8) NOT NULL, "
        "complaint_count INTEGER NOT NULL, serious_violation INTEGER NOT NULL, "
        "active INTEGER NOT NULL, updated_at DATETIME NOT NULL)")
    raw.execute_sql(
        "INSERT INTO target VALUES (1, '91411623MA44XXXX0L', '商水县老厂', '用人单位-制造业', "
        "'城关乡', '小型', '中', 3, 0, 1, '2021-01-21 10:00:00')")
    raw.execute_sql("CREATE TABLE schema_version (id INTEGER PRIMARY KEY, version INTEGER NOT NULL, "
                    "applied_at DATETIME NOT NULL)")
    raw.execute_sql("INSERT INTO schema_version VALUES (1, 1, '2021-01-21 10:00:00')")
    raw.close()

    db = connect(path)
    assert current_version(db) == LATEST
    t = Target.get(Target.uscc == "91411623MA44XXXX0L")
    assert (t.name, t.township, t.complaint_count, t.address) == ("商水县老厂", "城关乡", 3, "")
    assert "holiday" in db.get_tables()
    db.close()


def test_audit_chain_detects_tampering(db):
    for i in range(5):
        audit.record("clerk", "test.event", "thing", i, n=i)
    ok, msg = audit.verify()
    assert ok, msg
    AuditEvent.update(detail='{"n":99}').where(AuditEvent.seq == 3).execute()
    ok, msg = audit.verify()
    assert not ok and "第 3 条" in msg


@pytest.mark.postgres
def test_postgresql_store_migrates_and_chains(pg_db):
    assert isinstance(pg_db, peewee.PostgresqlDatabase)
    assert current_version(pg_db) == LATEST
    audit.record("clerk", "test.event", "thing", 1)
    audit.record("clerk", "test.event", "thing", 2)
    ok, msg = audit.verify()
    assert ok, msg
    assert AuditEvent.select().count() == 2


@pytest.mark.postgres
def test_overlong_user_input_is_refused_not_crashed_on_postgresql(pg_db):
    from kiosk import auth
    from kiosk.errors import UserError

    with pytest.raises(UserError):
        auth.login("x" * 40, "whatever")
    audit.record("y" * 40, "slips.refused", "slip", "9" * 90, reason="bad_shape")
    ok, msg = audit.verify()
    assert ok, msg
