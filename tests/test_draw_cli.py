"""`kiosk draw` headless: witnesses by account and password, mistakes refused before any
attempt, resume, abort, `kiosk record`, `kiosk tasks --json` attempts; kill -9 at each step."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from db.models import AuditEvent, Draw, DrawWitness, PlanTask
from kiosk import auth, cli
from kiosk.draw import lottery
from tests.draw_world import make_world

ROOT = Path(__file__).resolve().parents[1]
ENTROPY = "今天天气晴朗，掷骰 3 5 6"


@pytest.fixture
def world(db, db_path, tmp_path, monkeypatch):
    _item, _targets, _inspectors, tasks = make_world()
    auth.create_user("auditor", "auditor123", "auditor", "纪检审计")
    monkeypatch.setenv("KIOSK_USER", "operator")
    monkeypatch.setenv("KIOSK_PASSWORD", "operator123")
    pw = tmp_path / "pw.txt"
    pw.write_text("# 见证人本人填写\nwitness1:witness1123\nwitness2:witness2123\n"
                  "witness3:witness3123\n", encoding="utf-8")
    return {"db": str(db_path), "task": tasks[0].code, "tasks": tasks, "pw": str(pw),
            "out": tmp_path / "out" / "record.json"}


def run(world, *args, capsys=None) -> int:
    return cli.main(["--db", world["db"], *args])


def draw_args(world, *witnesses, extra=()):
    out = ["draw", world["task"]]
    for w in witnesses:
        out += ["--witness", w]
    return [*out, "--witness-passwords", world["pw"], "--out", str(world["out"]), *extra]


def test_headless_draw_seals_with_witness_accounts_and_whole_entropy(world, capsys):
    code = run(world, *draw_args(world, f"witness1={ENTROPY}", "witness2=1\u30002 3"))
    assert code == 0, capsys.readouterr().err
    record = json.loads(world["out"].read_text(encoding="utf-8"))
    assert record["witness_entropy"] == [ENTROPY, "1\u30002 3"]
    assert [w["account"] for w in record["witnesses"]] == ["witness1", "witness2"]
    assert record["operator"] == "operator"
    from kiosk.draw.verify import verify_record

    assert verify_record(record)[0] == 0
    for kind in ("pool", "inspectors", "conflicts"):
        data = (world["out"].parent / f"{kind}.tsv").read_bytes()
        assert lottery.sha_hex(data) == record["digests"][kind]
    # the audit names the witnesses' accounts, each acting for themself
    actors = {(e.action, e.actor) for e in AuditEvent.select()}
    assert ("draw.confirm", "witness1") in actors and ("draw.entropy", "witness2") in actors
    assert not any(a == "draw.confirm" and who == "operator" for a, who in actors)


@pytest.mark.parametrize("witnesses, sentence", [
    (("witness1=1",), "至少需要 2 名"),
    (("witness1=1", "witness1=2"), "重复"),
    (("witness1=1", "operator=2"), "操作员不能同时担任见证人"),
    (("witness1=1", "witness2=  "), "随机数为空"),
    (("witness1=1", "witness2"), "格式应为"),
    (("witness1=1", "auditor=2"), "不是见证人账号"),
])
def test_argument_mistakes_are_refused_before_any_attempt(world, capsys, witnesses, sentence):
    if "auditor=2" in witnesses:
        Path(world["pw"]).write_text("witness1:witness1123\nauditor:auditor123\n")
    assert run(world, *draw_args(world, *witnesses)) != 0
    assert sentence in capsys.readouterr().err
    assert Draw.select().count() == 0
    assert PlanTask.get(PlanTask.code == world["task"]).state == "planned"


def test_a_wrong_witness_password_is_refused_before_any_attempt(world, capsys):
    Path(world["pw"]).write_text("witness1:witness1123\nwitness2:wrong-password\n")
    assert run(world, *draw_args(world, "witness1=1", "witness2=2")) == 1
    assert "用户名或密码不正确" in capsys.readouterr().err
    assert Draw.select().count() == 0


def test_passwords_without_a_file_need_a_terminal(world, capsys, monkeypatch):
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    args = ["draw", world["task"], "--witness", "witness1=1", "--witness", "witness2=2",
            "--out", str(world["out"])]
    assert run(world, *args) == 1
    assert "--witness-passwords" in capsys.readouterr().err and Draw.select().count() == 0


def test_without_an_account_or_as_a_witness_the_draw_is_refused(world, capsys, monkeypatch):
    monkeypatch.setenv("KIOSK_USER", "witness1")
    monkeypatch.setenv("KIOSK_PASSWORD", "witness1123")
    assert run(world, *draw_args(world, "witness2=1", "witness3=2")) == 1
    assert "抽签操作员" in capsys.readouterr().err and Draw.select().count() == 0


def test_unquoted_entropy_with_spaces_is_refused_not_shortened(world, capsys):
    with pytest.raises(SystemExit):  # argparse: the words after the first space are extra
        cli.main(["--db", world["db"], "draw", world["task"], "--witness", "witness1=今天",
                  "3", "5", "--witness", "witness2=1", "--out", str(world["out"])])
    assert Draw.select().count() == 0


def test_beacon_is_declared_and_recorded(world, capsys):
    extra = ("--beacon", "福彩3D 517", "--beacon-source", "2026年5月20日福彩3D开奖号码")
    assert run(world, *draw_args(world, "witness1=1", "witness2=2", extra=extra)) == 0
    record = json.loads(world["out"].read_text(encoding="utf-8"))
    assert record["beacon"] == "福彩3D 517"
    assert record["beacon_source"] == "2026年5月20日福彩3D开奖号码"
    events = [e.action for e in AuditEvent.select().order_by(AuditEvent.seq)]
    assert events.index("draw.beacon") < events.index("draw.entropy")


def test_abort_before_and_after_the_reveal_then_tasks_list_every_attempt(world, capsys):
    from kiosk.draw import steps, witnesses
    from tests.draw_world import user

    d = steps.prepare(world["task"], "operator")
    assert run(world, "draw", "abort", world["task"], "--reason", "停电") == 0
    d2 = steps.prepare(world["task"], "operator")
    for login in ("witness1", "witness2"):
        witnesses.sign_in(d2.id, user(login))
    steps.commit(d2.id, "operator")
    witnesses.enter_entropy(d2.id, user("witness1"), "1")
    witnesses.enter_entropy(d2.id, user("witness2"), "2")
    steps.reveal(d2.id, "operator")
    steps.release(d2.id)
    Path(world["pw"]).write_text("witness1:witness1123\n")
    assert run(world, "draw", "abort", world["task"], "--reason", "结果不满意",
               "--witness-passwords", world["pw"]) == 1  # witness2 did not agree
    assert Draw.get_by_id(d2.id).state == "revealed"
    Path(world["pw"]).write_text("witness1:witness1123\nwitness2:witness2123\n")
    assert run(world, "draw", "abort", world["task"], "--reason", "结果不满意",
               "--witness-passwords", world["pw"]) == 0
    assert Draw.get_by_id(d2.id).results_json  # the revealed result stays on file
    capsys.readouterr()
    assert run(world, "tasks", "--json") == 0
    tasks = json.loads(capsys.readouterr().out)
    attempts = next(t for t in tasks if t["code"] == world["task"])["attempts"]
    assert attempts == [
        {"attempt": 1, "state": "aborted", "reason": "停电", "witnesses": []},
        {"attempt": 2, "state": "aborted", "reason": "结果不满意",
         "witnesses": ["witness1", "witness2"]}]
    assert d.id != d2.id
    # the third attempt's record lists the earlier ones with their reasons
    assert run(world, *draw_args(world, "witness1=5", "witness2=6")) == 0
    record = json.loads(world["out"].read_text(encoding="utf-8"))
    assert record["attempt"] == 3
    assert [(a["attempt"], a["reason"]) for a in record["earlier_attempts"]] == \
        [(1, "停电"), (2, "结果不满意")]


def test_record_writes_a_sealed_draw_again(world, tmp_path, capsys):
    assert run(world, *draw_args(world, "witness1=1", "witness2=2")) == 0
    draw_id = json.loads(world["out"].read_text(encoding="utf-8"))["draw_id"]
    again = tmp_path / "again"
    assert run(world, "record", str(draw_id), "--out", str(again)) == 0
    assert (again / "record.json").read_text(encoding="utf-8") == \
        world["out"].read_text(encoding="utf-8")
    assert sorted(p.name for p in again.iterdir()) == \
        ["conflicts.tsv", "inspectors.tsv", "pool.tsv", "record.json"]


# ---------------------------------------------------------------- kill -9 at each step

HOLD = r"""
import sys, time
from kiosk import cli
from kiosk.draw import steps, witnesses

where, calls = sys.argv[1], {"n": 0}

def holding(module, name, nth=1):
    real = getattr(module, name)
    def hold(*a, **k):
        calls["n"] += 1
        if calls["n"] == nth:
            print("holding", flush=True)
            time.sleep(120)
        return real(*a, **k)
    setattr(module, name, hold)

def holding_after(module, name):
    real = getattr(module, name)
    def hold(*a, **k):
        out = real(*a, **k)
        print("holding", flush=True)
        time.sleep(120)
        return out
    setattr(module, name, hold)

{"committed": lambda: holding(witnesses, "enter_entropy"),
 "one entropy": lambda: holding(witnesses, "enter_entropy", 2),
 "entropy": lambda: holding(steps, "reveal"),
 "revealed": lambda: holding(steps, "match"),
 "matched": lambda: holding(witnesses, "confirm"),
 "sealed": lambda: holding_after(steps, "seal")}[where]()
sys.exit(cli.main(sys.argv[2:]))
"""

# where the process is killed -> what the operator does next
AFTER_KILL = {"committed": "resume", "one entropy": "abort", "entropy": "resume",
              "revealed": "abort", "matched": "resume", "sealed": "record"}


def _cli(world, *args, env_extra=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT), **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "kiosk.cli", "--db", world["db"], *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("where", list(AFTER_KILL))
def test_kill_9_at_each_step_then_resume_or_abort_then_a_new_draw(world, where):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, where, "--db", world["db"],
         *draw_args(world, f"witness1={ENTROPY}", "witness2=2")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.startswith("holding"), proc.stderr.read()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    draw = Draw.select().order_by(Draw.id.desc()).first()
    action = AFTER_KILL[where]
    if action == "resume":
        p = _cli(world, *draw_args(world, f"witness1={ENTROPY}", "witness2=2",
                                   extra=("--resume",)))
        assert p.returncode == 0, p.stderr
        assert Draw.get_by_id(draw.id).state == "sealed"
    elif action == "abort":
        p = _cli(world, "draw", "abort", world["task"], "--reason", "命令行进程被终止",
                 "--witness-passwords", world["pw"])
        assert p.returncode == 0, p.stderr
        assert Draw.get_by_id(draw.id).state == "aborted"
        p = _cli(world, *draw_args(world, "witness1=3", "witness2=4"))
        assert p.returncode == 0, p.stderr
    else:  # sealed but the record was never written: no 0-byte file, write it again
        assert not world["out"].exists() or world["out"].stat().st_size > 0
        p = _cli(world, "record", str(draw.id), "--out", str(world["out"].parent))
        assert p.returncode == 0, p.stderr
    record = json.loads(world["out"].read_text(encoding="utf-8"))
    p = _cli(world, "verify", str(world["out"]))
    assert p.returncode == 0, p.stderr
    assert record["witness_entropy"][0] in (ENTROPY, "3")
    attempts = [d.attempt_no for d in Draw.select().order_by(Draw.attempt_no)]
    assert attempts == ([1, 2] if action == "abort" else [1])
    assert PlanTask.get(PlanTask.code == world["task"]).state == "drawn"
    assert not list(world["out"].parent.glob(".*.tmp"))  # no temporary file left behind
    p = _cli(world, "audit", "verify", env_extra={"KIOSK_USER": "auditor",
                                                 "KIOSK_PASSWORD": "auditor123"})
    assert p.returncode == 0, p.stderr + p.stdout
    assert DrawWitness.select().count() == 2 * len(attempts)


def test_watch_needs_an_account_that_may_watch(world, capsys, monkeypatch):
    auth.create_user("insp9", "secret123", "inspector", "检查员九")
    monkeypatch.setenv("KIOSK_USER", "insp9")
    monkeypatch.setenv("KIOSK_PASSWORD", "secret123")
    assert run(world, "watch") == 1
    assert "远程见证" in capsys.readouterr().err
    monkeypatch.delenv("KIOSK_USER")
    monkeypatch.delenv("KIOSK_PASSWORD")
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    assert run(world, "watch") == 1
    assert "KIOSK_USER" in capsys.readouterr().err


def test_a_sealed_task_names_the_record_command(world, capsys):
    assert run(world, *draw_args(world, "witness1=1", "witness2=2")) == 0
    draw_id = json.loads(world["out"].read_text(encoding="utf-8"))["draw_id"]
    capsys.readouterr()
    assert run(world, *draw_args(world, "witness1=1", "witness2=2", extra=("--resume",))) == 1
    assert f"kiosk record {draw_id}" in capsys.readouterr().err
