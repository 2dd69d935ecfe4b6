"""Two terminals on one SQLite store: a writer holding the lock past the busy timeout makes an
import, an export, a headless draw and a scan wait (saying so once on stderr) and then finish
correctly - no traceback, nothing lost or half-written."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from db.models import Assignment, AuditEvent, Draw, PlanTask, Target
from kiosk import audit, slips
from kiosk.store import WAITING
from tests.ops_world import member_and_assignment

ROOT = Path(__file__).resolve().parent.parent
HOLD_S = 15

HOLDER = """
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
print("held", flush=True)
time.sleep(float(sys.argv[2]))
c.execute("COMMIT")
"""


def test_commands_wait_for_a_writer_holding_the_lock(db, db_path, tmp_path):
    from kiosk import demo, registry

    demo.build(fresh=True)
    member, assignment = member_and_assignment()
    slips.render_slips(assignment.draw_id, tmp_path / "slips.pdf", "operator")
    payload = slips.payload(Assignment.get_by_id(assignment.id))
    task = PlanTask.select().where(PlanTask.state == "planned").order_by(PlanTask.id).first()
    source = tmp_path / "in.csv"
    registry.export_file("targets", source, "admin")
    lines = source.read_text(encoding="utf-8-sig").splitlines()
    code = lines[1].split(",")[0]
    lines[1] = lines[1].replace(lines[1].split(",")[1], "商水县等待写入测试有限公司", 1)
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    pw = tmp_path / "pw.txt"
    pw.write_text("witness1:witness1123\nwitness2:witness2123\n", encoding="utf-8")
    n_events = AuditEvent.select().count()
    db.close()

    env = dict(os.environ, PYTHONPATH=str(ROOT), KIOSK_DB=str(db_path))
    cli = [sys.executable, "-m", "kiosk.cli"]
    jobs = {
        "import": (["import", "targets", str(source)], "admin"),
        "export": (["export", "targets", str(tmp_path / "out.csv")], "admin"),
        "draw": (["draw", task.code, "--witness", "witness1=等待中的见证随机数 1",
                  "--witness", "witness2=2", "--witness-passwords", str(pw),
                  "--out", str(tmp_path / "draw" / "record.json")], "operator"),
        "scan": (["open", payload, "--check"], member.username),
    }
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db_path), str(HOLD_S)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        t0 = time.monotonic()
        procs = {}
        for name, (args, login) in jobs.items():
            password = "insp123" if login.startswith("insp") else f"{login}123"
            procs[name] = subprocess.Popen(
                [*cli, *args], cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True,
                env=dict(env, KIOSK_USER=login, KIOSK_PASSWORD=password))
        results = {name: (*p.communicate(timeout=120), p.returncode, time.monotonic() - t0)
                   for name, p in procs.items()}
    finally:
        holder.wait(timeout=60)
    for name, (_out, err, rc, took) in results.items():
        assert rc == 0, f"{name}: {err}"
        assert "Traceback" not in err, name
        # Every command writes (an audit event at least), so each met the lock and waited.
        assert err.count(WAITING) == 1, f"{name}: {err}"
        assert took >= HOLD_S - 1, (name, took)
    assert "导入完成：targets 共 2000 行" in results["import"][0]
    assert "已导出 2000 行" in results["export"][0]
    assert "摇号已封存" in results["draw"][0]

    from db import connect

    connect(db_path)
    assert Target.get(Target.uscc == code).name == "商水县等待写入测试有限公司"
    assert len((tmp_path / "out.csv").read_text(encoding="utf-8-sig").splitlines()) == 2001
    assert Draw.get(Draw.task == task.id).state == "sealed"
    assert PlanTask.get_by_id(task.id).state == "drawn"
    assert AuditEvent.select().count() > n_events
    verdict = audit.verify()
    assert verdict.ok, verdict.message


def test_a_lock_met_outside_write_tx_is_one_sentence(monkeypatch, capsys):
    import peewee

    from kiosk import cli

    def locked(args):
        raise peewee.OperationalError("database is locked")

    monkeypatch.setattr(cli, "cmd_tasks", locked)
    assert cli.main(["tasks"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "数据库正被另一终端长时间写入，本次操作未完成，请稍后重试。"

    def other(args):
        raise peewee.OperationalError("no such table: x")

    monkeypatch.setattr(cli, "cmd_tasks", other)
    import pytest

    with pytest.raises(peewee.OperationalError):  # any other database fault is not hidden
        cli.main(["tasks"])


def test_write_tx_waits_then_gives_up_in_a_sentence(db, db_path, monkeypatch, capsys):
    import subprocess as sp

    import pytest

    from kiosk import store
    from kiosk.errors import UserError

    monkeypatch.setenv("KIOSK_WRITE_WAIT", "1")
    monkeypatch.setattr(store, "_told", False)
    db.execute_sql("PRAGMA busy_timeout = 100")
    holder = sp.Popen([sys.executable, "-c", HOLDER, str(db_path), "5"], stdout=sp.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        n = AuditEvent.select().count()
        with pytest.raises(UserError, match="长时间占用数据库写入"):
            audit.record("tester", "test.write")
        assert AuditEvent.select().count() == n
        assert capsys.readouterr().err.count(WAITING) == 1
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.postgres
def test_postgresql_writer_waits_for_its_own_store_only(pg_db, pg_url, monkeypatch, capsys):
    """PostgreSQL: a writer that meets another terminal's write lock says so once and waits,
    then writes once the lock is free; past KIOSK_WRITE_WAIT it gives up in a sentence with
    nothing written. The lock is per store (schema): a store beside it is not held up."""
    import threading

    import psycopg2

    from kiosk import store
    from kiosk.errors import UserError

    schema = pg_db.execute_sql("SELECT current_schema()").fetchone()[0]
    monkeypatch.setattr(store, "_PG_ROUND", "100ms")
    monkeypatch.setattr(store, "_told", False)
    other = psycopg2.connect(pg_url)
    other.autocommit = True
    other.cursor().execute("SET search_path TO " + schema)
    other.cursor().execute("SELECT pg_advisory_lock(%s, hashtext(current_schema()))",
                           (store._PG_WRITE_LOCK,))
    try:
        n = AuditEvent.select().count()
        monkeypatch.setenv("KIOSK_WRITE_WAIT", "0.5")
        with pytest.raises(UserError, match="长时间占用数据库写入"):
            audit.record("tester", "test.gave_up")
        assert AuditEvent.select().count() == n
        assert capsys.readouterr().err.count(WAITING) == 1

        monkeypatch.setenv("KIOSK_WRITE_WAIT", "60")
        release = threading.Timer(1.0, lambda: other.cursor().execute(
            "SELECT pg_advisory_unlock(%s, hashtext(current_schema()))",
            (store._PG_WRITE_LOCK,)))
        release.start()
        t0 = time.monotonic()
        audit.record("tester", "test.waited")
        assert time.monotonic() - t0 >= 0.9  # it really waited for the release
        release.join()
        assert [e.action for e in AuditEvent.select().where(AuditEvent.seq > n)] == [
            "test.waited"]
        assert audit.verify().ok

        # The same key held for another schema does not block this one.
        other.cursor().execute("SET search_path TO public")
        other.cursor().execute("SELECT pg_advisory_lock(%s, hashtext(current_schema()))",
                               (store._PG_WRITE_LOCK,))
        monkeypatch.setenv("KIOSK_WRITE_WAIT", "0.5")
        audit.record("tester", "test.other_schema_held")
        assert AuditEvent.select().count() == n + 2
    finally:
        other.close()
