"""`kiosk backup` / `kiosk restore`: an online copy with its evidence and a manifest, put back
only while no kiosk runs, after which the chain verifies and every evidence hash matches."""
from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from db.models import AuditEvent, Evidence, User
from kiosk import audit
from kiosk.audit import anchor
from kiosk.errors import UserError
from kiosk.ops import backup as bk
from kiosk.ops import restore as rs
from tests.ops_world import demo_with_evidence

ROOT = Path(__file__).resolve().parent.parent


def _manifest(path: Path) -> dict:
    with tarfile.open(path) as tar:
        return json.load(tar.extractfile("manifest.json"))


def test_backup_holds_store_and_evidence_with_hashes(db, tmp_path):
    _, _, rows = demo_with_evidence(tmp_path)
    out = tmp_path / "b.tar.gz"
    done = bk.backup(out, "admin")
    assert out.stat().st_mode & 0o777 == 0o600
    m = _manifest(out)
    assert m["format"] == "kiosk-backup/1" and m["engine"] == "sqlite"
    for e in rows:
        assert m["sha256"][f"files/{e.stored_path}"] == e.sha256
    assert done.files == 2
    ev = AuditEvent.select().where(AuditEvent.action == "store.backup").get()
    assert json.loads(ev.detail)["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    # The head in the manifest is the copy's own last event, the one before the backup's.
    assert m["head"] == [ev.seq - 1, AuditEvent.get(AuditEvent.seq == ev.seq - 1).hash]
    with pytest.raises(UserError, match="已存在"):
        bk.backup(out, "admin")


def test_restore_brings_back_rows_files_and_resets_the_anchor(db, db_path, tmp_path):
    _, _, rows = demo_with_evidence(tmp_path)
    out = tmp_path / "b.tar.gz"
    bk.backup(out, "admin")
    kept_head = _manifest(out)["head"]
    # Later work the restore will undo, and a lost evidence file it must bring back.
    audit.record("admin", "later.work", "x", 1)
    later = audit.head()
    assert anchor.read() == later
    lost = Path(os.environ["KIOSK_DATA_DIR"]) / rows[0].stored_path
    lost.chmod(0o600)
    lost.unlink()
    assert not audit.verify().ok

    staged = rs.stage(out, tmp_path)
    try:
        _, verdict = rs.restore(staged, "admin")
    finally:
        staged.cleanup()
    assert verdict.ok, verdict.message
    assert "2 个文件" in verdict.message
    assert lost.is_file() and hashlib.sha256(lost.read_bytes()).hexdigest() == rows[0].sha256
    assert AuditEvent.select().where(AuditEvent.action == "later.work").count() == 0
    ev = AuditEvent.select().order_by(AuditEvent.seq.desc()).get()
    assert ev.action == "store.restore" and ev.seq == kept_head[0] + 1
    detail = json.loads(ev.detail)
    assert detail["restored_head"] == f"{kept_head[0]}:{kept_head[1]}"
    assert detail["previous_anchor"] == f"{later[0]}:{later[1]}"
    assert anchor.read() == (ev.seq, ev.hash)
    assert Evidence.select().count() == 2
    assert not list(tmp_path.glob(".kiosk-restore-*"))


def test_a_changed_backup_is_refused(db, tmp_path):
    demo_with_evidence(tmp_path, n=1)
    out = tmp_path / "b.tar.gz"
    bk.backup(out, "admin")
    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(out) as src, tarfile.open(bad, "w:gz") as dst:
        for m in src.getmembers():
            data = src.extractfile(m).read()
            if m.name.startswith("files/evidence/"):
                data = data[:-1] + bytes([data[-1] ^ 1])


            dst.addfile(m, io.BytesIO(data))
    with pytest.raises(UserError, match="SHA-256 不符"):
        rs.stage(bad, tmp_path)
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tar")
    with pytest.raises(UserError, match="不是本系统的备份"):
        rs.stage(junk, tmp_path)
    assert not list(tmp_path.glob(".kiosk-restore-*"))


def test_restore_refused_while_another_kiosk_has_the_store_open(db, db_path, tmp_path):
    demo_with_evidence(tmp_path, n=1)
    out = tmp_path / "b.tar.gz"
    bk.backup(out, "admin")
    other = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from db import connect; "
         "connect(sys.argv[1]); print('open', flush=True); time.sleep(30)", str(db_path)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "open"
        staged = rs.stage(out, tmp_path)
        try:
            with pytest.raises(UserError, match="仍有终端在使用该数据库"):
                rs.restore(staged, "admin")
        finally:
            staged.cleanup()
    finally:
        other.kill()
        other.wait()
    assert audit.verify().ok


def _kiosk(args, env, **kw):
    return subprocess.run([sys.executable, "-m", "kiosk.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
                          **kw)


def test_cli_backup_and_restore(db, db_path, tmp_path):
    demo_with_evidence(tmp_path, n=1)
    from db.connection import release_presence

    db.close()
    release_presence(str(db_path))
    env = dict(os.environ, KIOSK_DB=str(db_path), KIOSK_USER="operator",
               KIOSK_PASSWORD="operator123")
    out = tmp_path / "b.tar.gz"
    r = _kiosk(["backup", str(out)], env)
    assert r.returncode == 1 and "只有管理员" in r.stderr and not out.exists()
    env.update(KIOSK_USER="admin", KIOSK_PASSWORD="admin123")
    r = _kiosk(["backup", str(out)], env)
    assert r.returncode == 0, r.stderr
    assert "备份完成" in r.stdout and "1 个证据" in r.stdout
    r = _kiosk(["restore", str(out)], env)
    assert r.returncode == 1 and "需要确认" in r.stderr and "Traceback" not in r.stderr
    t0 = time.monotonic()
    r = _kiosk(["restore", str(out), "--yes"], env)
    assert r.returncode == 0, r.stderr
    assert "审计日志完整" in r.stdout and time.monotonic() - t0 < 20
    env.update(KIOSK_USER="auditor", KIOSK_PASSWORD="auditor123")
    r = _kiosk(["audit", "verify"], env)
    assert r.returncode == 0 and "审计日志完整" in r.stdout, r.stdout + r.stderr


def test_postgresql_backup_is_a_pg_dump_with_the_files(pg_db, tmp_path):
    import shutil

    if shutil.which("pg_dump") is None:
        pytest.skip("no pg_dump")
    _, _, rows = demo_with_evidence(tmp_path, n=1)
    out = tmp_path / "pg.tar.gz"
    done = bk.backup(out, "admin")
    m = _manifest(out)
    assert m["engine"] == "postgresql" and m["store"] == "store.pgdump"
    assert m["sha256"][f"files/{rows[0].stored_path}"] == rows[0].sha256
    with tarfile.open(out) as tar:
        assert tar.extractfile("store.pgdump").read(5) == b"PGDMP"
    assert done.head[0] >= 1 and audit.verify().ok

    # Restore: refused while another session of this schema is connected, then done whole.
    import psycopg2

    from db.connection import _PG_PRESENCE

    schema = pg_db.execute_sql("SELECT current_schema()").fetchone()[0]
    other = psycopg2.connect(dbname=pg_db.database, **pg_db.connect_params)
    other.autocommit = True
    other.cursor().execute("SELECT pg_advisory_lock_shared(%s, hashtext(%s))",
                           (_PG_PRESENCE, schema))
    audit.record("admin", "later.work", "x", 1)
    later = audit.head()
    staged = rs.stage(out, tmp_path)
    try:
        with pytest.raises(UserError, match="仍有终端在使用该数据库"):
            rs.restore(staged, "admin")
        # The other terminal leaves (its unlock is synchronous; a closed socket's backend
        # may linger a moment on a busy server).
        other.cursor().execute("SELECT pg_advisory_unlock_shared(%s, hashtext(%s))",
                               (_PG_PRESENCE, schema))
        other.close()
        _, verdict = rs.restore(staged, "admin")
    finally:
        staged.cleanup()
    assert verdict.ok, verdict.message
    assert AuditEvent.select().where(AuditEvent.action == "later.work").count() == 0
    ev = AuditEvent.select().order_by(AuditEvent.seq.desc()).get()
    assert ev.action == "store.restore" and ev.seq == m["head"][0] + 1
    assert json.loads(ev.detail)["previous_anchor"] == f"{later[0]}:{later[1]}"
    assert anchor.read() == (ev.seq, ev.hash)
    assert Evidence.select().count() == 1
    with pytest.raises(Exception, match="append-only"):  # the triggers are back
        AuditEvent.delete().execute()


def test_backup_while_another_terminal_writes_is_consistent(db, db_path, tmp_path):
    demo_with_evidence(tmp_path, n=1)
    writer = subprocess.Popen(
        [sys.executable, "-c", "import sys; from db import connect; connect(sys.argv[1]); "
         "from kiosk import audit\nprint('writing', flush=True)\n"
         "for i in range(400): audit.record('other', 'busy.write', 'x', i)", str(db_path)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "writing"
    out = tmp_path / "b.tar.gz"
    bk.backup(out, "admin")
    assert writer.wait(timeout=120) == 0
    head = _manifest(out)["head"]
    assert AuditEvent.get(AuditEvent.seq == head[0]).hash == head[1]
    staged = rs.stage(out, tmp_path)
    try:
        _, verdict = rs.restore(staged, "admin")
    finally:
        staged.cleanup()
    assert verdict.ok, verdict.message
    assert AuditEvent.select().order_by(AuditEvent.seq.desc()).get().seq == head[0] + 1


def test_cli_restore_onto_a_new_machine_needs_no_account_there(db, db_path, tmp_path):
    """After a disaster the new store has no account to sign in with: a restore into a store
    nothing was ever written to runs without one (nothing can be lost), and the restored
    store then asks for its own accounts again."""
    demo_with_evidence(tmp_path, n=1)
    out = tmp_path / "b.tar.gz"
    bk.backup(out, "admin")
    users = User.select().count()
    fresh = tmp_path / "new-machine" / "kiosk.sqlite3"
    fresh.parent.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("KIOSK_USER", "KIOSK_PASSWORD")}
    env.update(KIOSK_DB=str(fresh), KIOSK_DATA_DIR=str(fresh.parent / "files"))
    r = _kiosk(["restore", str(out), "--yes"], env)
    assert r.returncode == 0, r.stderr
    assert "审计日志完整" in r.stdout
    r = _kiosk(["restore", str(out), "--yes"], env)  # no longer empty: an account is asked for
    assert r.returncode == 1 and "KIOSK_USER" in r.stderr and "Traceback" not in r.stderr
    env.update(KIOSK_USER="auditor", KIOSK_PASSWORD="auditor123")
    r = _kiosk(["audit", "verify"], env)
    assert r.returncode == 0 and "审计日志完整" in r.stdout, r.stdout + r.stderr
    import sqlite3

    with sqlite3.connect(fresh) as con:
        actors = [a for (a,) in con.execute(
            "SELECT actor FROM audit_event WHERE action = 'store.restore'")]
        assert con.execute("SELECT COUNT(*) FROM user").fetchone()[0] == users > 0
    assert len(actors) == 1 and actors[0].startswith("os:")
