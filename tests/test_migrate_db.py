"""`kiosk migrate-db --to URL`: a SQLite store copied into PostgreSQL, every table's count equal,
sequences reset (the next row gets a fresh id), the audit chain and evidence verified there."""
from __future__ import annotations

import gzip
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from db.models import AuditEvent, DrawListing, Evidence, Target
from kiosk import audit
from kiosk.errors import UserError
from kiosk.ops.migrate_db import all_models, migrate_db
from tests.ops_world import demo_with_evidence

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def pg_schema_url(pg_url):
    import psycopg2

    schema = "m_" + uuid.uuid4().hex[:12]
    raw = psycopg2.connect(pg_url)
    raw.autocommit = True
    raw.cursor().execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in pg_url else "?"
    yield f"{pg_url}{sep}options=-csearch_path%3D{schema}"
    raw.cursor().execute(f"DROP SCHEMA {schema} CASCADE")
    raw.close()


def test_copy_counts_sequences_and_verify(db, db_path, tmp_path, pg_schema_url, monkeypatch):
    _, _, rows = demo_with_evidence(tmp_path, n=2)
    # Without KIOSK_DATA_DIR (which overrides everything) the SQLite store keeps its files
    # beside it and the PostgreSQL store in the files_dir setting.
    Path(os.environ["KIOSK_DATA_DIR"]).rename(db_path.with_name(db_path.stem + ".files"))
    monkeypatch.delenv("KIOSK_DATA_DIR")
    monkeypatch.setenv("KIOSK_ANCHOR_DIR", str(db_path.with_name(db_path.stem + ".files")
                                               / "anchors"))
    want = {m._meta.table_name: m.select().count() for m in all_models()}
    head = audit.head()
    shared = tmp_path / "shared"
    done = migrate_db(pg_schema_url, "admin", files_dir=str(shared))
    assert done.counts == want
    assert done.verdict.ok and "2 个文件" in done.verdict.message
    assert done.files == 2
    for e in rows:
        assert (shared / e.stored_path).is_file()

    from db.connection import connect

    pg = connect(pg_schema_url)
    try:
        assert pg.__class__.__name__.startswith("Postgres")
        assert Evidence.select().count() == 2
        ev = AuditEvent.select().order_by(AuditEvent.seq.desc()).get()
        # The copy's chain is the SQLite chain, the files_dir setting, the migration's event.
        assert ev.action == "store.migrated" and ev.seq == head[0] + 2
        assert AuditEvent.get(AuditEvent.seq == head[0] + 1).action == "setting.change"
        assert AuditEvent.get(AuditEvent.seq == head[0]).hash == head[1]
        visible, pages = pg.execute_sql("SELECT relallvisible, relpages FROM pg_class "
                                        "WHERE oid = to_regclass('target')").fetchone()
        assert pages > 0 and visible == pages  # VACUUM ANALYZE ran after the copy
        listing = DrawListing.select().order_by(DrawListing.id).first()
        assert gzip.decompress(bytes(listing.content))  # bytea through COPY, byte for byte
        top = Target.select(Target.id).order_by(Target.id.desc()).scalar()
        t = Target.create(uscc="91411623MA0000001X", name="迁移后新增单位", category="企业")
        assert t.id == top + 1  # the sequence continues after the copied rows
        assert audit.verify().ok
    finally:
        pg.close()


def test_refuses_a_target_that_is_not_empty(db, tmp_path, pg_schema_url):
    demo_with_evidence(tmp_path, n=1)
    migrate_db(pg_schema_url, "admin", files_dir=str(tmp_path / "shared"))
    with pytest.raises(UserError, match="不是空库"):
        migrate_db(pg_schema_url, "admin", files_dir=str(tmp_path / "shared"))
    assert db.__class__.__name__ == "SqliteDatabase"
    assert audit.verify().ok  # the source is bound again and untouched


def test_cli_migrate_db(db, db_path, tmp_path, pg_schema_url):
    demo_with_evidence(tmp_path, n=1)
    db.close()
    env = dict(os.environ, KIOSK_DB=str(db_path), KIOSK_USER="operator",
               KIOSK_PASSWORD="operator123")
    args = [sys.executable, "-m", "kiosk.cli", "migrate-db", "--to", pg_schema_url,
            "--files-dir", str(tmp_path / "shared")]
    r = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "只有管理员" in r.stderr
    env.update(KIOSK_USER="admin", KIOSK_PASSWORD="admin123")
    r = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "行数逐表核对一致" in r.stdout and "审计日志完整" in r.stdout
    r = subprocess.run([sys.executable, "-m", "kiosk.cli", "audit", "verify",
                        "--db", pg_schema_url], cwd=ROOT, capture_output=True, text=True,
                       env=dict(env, KIOSK_USER="auditor", KIOSK_PASSWORD="auditor123"),
                       timeout=120)
    assert r.returncode == 0 and "审计日志完整" in r.stdout, r.stdout + r.stderr
