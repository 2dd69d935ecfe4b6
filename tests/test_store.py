"""The store itself: pragmas, migrations, the audit chain, on SQLite and PostgreSQL."""
from __future__ import annotations

import peewee
import pytest

from db.migrations import LATEST, current_version, drop_audit_triggers
from db.models import AuditEvent
from kiosk import audit


def test_sqlite_file_has_wal_and_foreign_keys(db, db_path):
    assert db_path.exists()
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] >= 5000
    assert current_version(db) == LATEST


def test_audit_chain_detects_tampering(db):
    for i in range(5):
        audit.record("clerk", "test.event", "thing", i, n=i)
    ok, msg = audit.verify()
    assert ok, msg
    with db.atomic():
        drop_audit_triggers(db)
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


def test_vacuum_is_for_postgresql_only(db):
    from db.models import Target
    from kiosk.store import vacuum

    assert vacuum(Target) is False  # SQLite has no visibility map to bring up to date
