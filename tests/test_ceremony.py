"""The ceremony: pool, the persisted state machine, sealing, crash resume, two terminals."""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from db.models import (
    Assignment,
    AssignmentMember,
    AuditEvent,
    Draw,
    InspectionRecord,
    PlanTask,
    Target,
)
from kiosk import access
from kiosk.draw import lottery, pool, steps, witnesses
from kiosk.draw import record as draw_record
from kiosk.draw import view as draw_view
from kiosk.draw.verify import verify_record
from kiosk.errors import UserError
from tests.draw_world import TODAY, confirm_all, make_world, run_to_matched, user

ROOT = Path(__file__).resolve().parents[1]


def test_pool_takes_category_window_and_certified_inspectors(db):
    _item, targets, _inspectors, tasks = make_world()
    InspectionRecord.create(target=targets[3], date=TODAY - dt.timedelta(days=30),
                            department="商水县市场监督管理局")
    InspectionRecord.create(target=targets[4], date=TODAY - dt.timedelta(days=500),
                            department="商水县市场监督管理局")
    fr = pool.build_pool(tasks[0], TODAY)
    ids = {u for u, _ in fr.pool}
    assert len(fr.pool) == 39  # 40 of the category, less one inspected 30 days ago
    assert targets[3].uscc not in ids and targets[4].uscc in ids
    assert dict(fr.pool)[targets[0].uscc] == "特殊监管"
    assert dict(fr.pool)[targets[1].uscc] == "一般"
    assert fr.inspectors == [f"豫人社监{i:04d}" for i in range(1, 7)]
    assert fr.conflicts == [["豫人社监0001", targets[0].uscc]]
    assert fr.strata == {"特殊监管": {"ratio_bp": 5000}, "一般": {"ratio_bp": 1000}}


def test_unplanned_task_is_refused(db):
    make_world()
    with pytest.raises(UserError, match="第十八条"):
        steps.prepare("2026-XX-9", "operator")


def test_infeasible_pool_is_refused_before_entropy(db):
    _item, _targets, _inspectors, tasks = make_world(n_inspectors=2, conflicts=((0, 0),))
    with pytest.raises(UserError, match="无法组成检查组"):
        steps.prepare(tasks[0].code, "operator", draw_date=TODAY)
    assert Draw.select().count() == 0


def test_whole_draw_seals_and_record_verifies(db, tmp_path):
    _item, _targets, _inspectors, tasks = make_world()
    draw_id = run_to_matched(tasks[0].code)
    v = draw_view.view(draw_id, "operator")
    first = v.selected[0]
    out = first["team"][0]["cert_no"]
    replacement = steps.amend(draw_id, first["uscc"], out, "曾在该单位任职", "operator")
    assert replacement != out
    assert witnesses.confirm(draw_id, user("witness1")) is False
    assert witnesses.confirm(draw_id, user("witness2")) is True
    record = steps.seal(draw_id, "operator")

    draw = Draw.get_by_id(draw_id)
    assert draw.state == "sealed" and PlanTask.get_by_id(tasks[0].id).state == "drawn"
    # quotas: 4 special (ceil(4*0.5)=2) and 36 general (ceil(36*0.1)=4)
    assert len(record["selected"]) == 6
    assert Assignment.select().where(Assignment.draw == draw).count() == 6
    assert AssignmentMember.select().count() == 12
    codes = [a.task_code for a in Assignment.select().order_by(Assignment.position)]
    assert codes[0].endswith("-0001") and len(set(codes)) == 6
    team0 = [m.inspector.cert_no for m in Assignment.get(Assignment.position == 0)
             .members.order_by(AssignmentMember.position)]
    assert out not in team0 and replacement in team0
    assert record["amendments"] == [{"target": first["uscc"], "inspector": out,
                                     "reason": "曾在该单位任职"}]
    assert verify_record(record)[0] == 0
    # the published listings hash to the digests, as sha256sum would
    paths = draw_record.write_listings(draw, tmp_path)
    for kind, path in paths.items():
        assert lottery.sha_hex(Path(path).read_bytes()) == record["digests"][kind]
        assert record["digests"][kind] == getattr(draw, f"{kind}_digest")
    tampered = json.loads(json.dumps(record))
    tampered["teams"][1][1].reverse()
    assert verify_record(tampered)[0] == 1
    actions = [e.action for e in AuditEvent.select().order_by(AuditEvent.seq)]
    for a in ("draw.prepare", "draw.commit", "draw.reveal", "draw.amend", "draw.seal"):
        assert a in actions
    with pytest.raises(UserError, match="已摇号封存"):
        steps.prepare(tasks[0].code, "operator", draw_date=TODAY)


def test_steps_cannot_be_skipped_and_quorum_is_needed(db):
    _item, _targets, _inspectors, tasks = make_world()
    d = steps.prepare(tasks[0].code, "operator", draw_date=TODAY)
    witnesses.sign_in(d.id, user("witness1"))
    with pytest.raises(UserError, match="见证人不足"):
        steps.commit(d.id, "operator")
    with pytest.raises(UserError):
        steps.reveal(d.id, "operator")
    witnesses.sign_in(d.id, user("witness2"))
    commitment = steps.commit(d.id, "operator")
    draw = Draw.get_by_id(d.id)
    # the store holds the commitment and the sealed entropy, never the entropy itself
    assert draw.system_entropy == "" and draw.commitment == commitment
    assert draw.sealed_entropy and commitment not in draw.sealed_entropy
    # the screen must not show the entropy before the reveal
    assert draw_view.view(d.id).system_entropy == ""
    with pytest.raises(UserError, match="签到顺序"):
        witnesses.enter_entropy(d.id, user("witness2"), "123")
    with pytest.raises(UserError, match="未在本次摇号签到"):
        witnesses.enter_entropy(d.id, user("witness3"), "123")
    witnesses.enter_entropy(d.id, user("witness1"), "9")
    witnesses.enter_entropy(d.id, user("witness2"), "8")
    selected = steps.reveal(d.id, "operator")
    draw = Draw.get_by_id(d.id)
    assert lottery.commitment(draw.system_entropy) == commitment and draw.sealed_entropy == ""
    assert len(selected) == 6


def test_abort_keeps_the_attempt_and_numbers_the_next(db):
    _item, _targets, _inspectors, tasks = make_world()
    d = steps.prepare(tasks[0].code, "operator", draw_date=TODAY)
    with pytest.raises(UserError, match="理由"):
        steps.abort(d.id, "  ", "operator")
    steps.abort(d.id, "停电", "operator")
    d2 = steps.prepare(tasks[0].code, "operator", draw_date=TODAY)
    assert (d2.attempt_no, Draw.get_by_id(d.id).state, Draw.get_by_id(d.id).abort_reason) == \
        (2, "aborted", "停电")
    assert Draw.select().count() == 2


def test_names_shown_only_to_roles_with_need(db):
    _item, _targets, _inspectors, tasks = make_world()
    draw_id = run_to_matched(tasks[0].code)
    assert all(s["name"] == "" for s in draw_view.view(draw_id, "witness", names=True).selected)
    # the shared screen shows credit codes unless a role that may see names asks for them
    assert all(s["name"] == "" for s in draw_view.view(draw_id, "operator").selected)
    assert all(s["name"].startswith("商水县")
               for s in draw_view.view(draw_id, "operator", names=True).selected)


def test_second_terminal_is_refused_and_stale_lock_is_taken_over(db):
    _item, _targets, _inspectors, tasks = make_world()
    d = steps.prepare(tasks[0].code, "operator", terminal="hostA:1:x", draw_date=TODAY)
    Draw.update(lock_at=Draw._meta.fields["updated_at"].default()).where(Draw.id == d.id).execute()
    with pytest.raises(UserError, match="另一终端"):
        steps.prepare(tasks[0].code, "operator", terminal="hostB:2:y", draw_date=TODAY)
    stale = Draw._meta.fields["updated_at"].default() - dt.timedelta(minutes=10)
    Draw.update(lock_at=stale).where(Draw.id == d.id).execute()
    again = steps.prepare(tasks[0].code, "operator", terminal="hostB:2:y", draw_date=TODAY)
    assert again.id == d.id and again.lock_owner == "hostB:2:y"


SCRIPT = r"""
import sys, time, datetime as dt
from db import connect
from kiosk.draw import steps, witnesses
connect(sys.argv[1])
mode = sys.argv[2]
d = steps.prepare(sys.argv[3], "operator", draw_date=dt.date(2026, 5, 20))
print("draw", d.id, d.state, flush=True)
if mode == "hold":
    time.sleep(60)
elif mode == "advance":
    for login in ("witness1", "witness2"):
        witnesses.sign_in(d.id, witnesses.login(login, login + "123"))
    c = steps.commit(d.id, "operator")
    print("committed", c, flush=True)
    time.sleep(60)
"""


def _spawn(db_path, mode, task):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(db_path), mode, task],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _wait_line(proc, prefix):
    while True:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(proc.stderr.read())
        if line.startswith(prefix):
            return line.split()


def test_kill_9_mid_ceremony_resumes_at_that_step(db, db_path):
    _item, _targets, _inspectors, tasks = make_world()
    proc = _spawn(db_path, "advance", tasks[0].code)
    commitment = _wait_line(proc, "committed")[1]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    resumed = steps.prepare(tasks[0].code, "operator", draw_date=TODAY)
    assert resumed.state == "committed" and resumed.commitment == commitment
    assert resumed.attempt_no == 1
    witnesses.enter_entropy(resumed.id, user("witness1"), "1")
    witnesses.enter_entropy(resumed.id, user("witness2"), "2")
    assert len(steps.reveal(resumed.id, "operator")) == 6


def test_two_processes_on_one_task(db, db_path):
    _item, _targets, _inspectors, tasks = make_world()
    holder = _spawn(db_path, "hold", tasks[0].code)
    try:
        _wait_line(holder, "draw")
        second = _spawn(db_path, "hold", tasks[0].code)
        _, err = second.communicate(timeout=60)
        assert second.returncode != 0
        assert "另一终端" in err
    finally:
        holder.kill()
        holder.wait()
    assert Draw.select().count() == 1


@pytest.mark.postgres
def test_whole_draw_on_postgresql(pg_db):
    _item, targets, _inspectors, tasks = make_world()
    InspectionRecord.create(target=targets[3], date=TODAY - dt.timedelta(days=30),
                            department="商水县市场监督管理局")
    draw_id = run_to_matched(tasks[0].code)
    assert Draw.get_by_id(draw_id).pool_size == 39
    confirm_all(draw_id)
    record = steps.seal(draw_id, "operator")
    assert verify_record(record)[0] == 0
    assert Assignment.select().count() == len(record["selected"]) == 6


def test_recusal_after_a_confirmation_asks_every_witness_again(db):
    _item, _targets, _inspectors, tasks = make_world()
    draw_id = run_to_matched(tasks[0].code)
    assert witnesses.confirm(draw_id, user("witness1")) is False
    first = draw_view.view(draw_id).selected[0]
    steps.amend(draw_id, first["uscc"], first["team"][1]["cert_no"], "曾在该单位任职", "operator")
    assert [w["confirmed"] for w in draw_view.view(draw_id).witnesses] == [False, False]
    assert witnesses.confirm(draw_id, user("witness2")) is False
    assert witnesses.confirm(draw_id, user("witness1")) is True
    assert access.may_run_draw("operator") and not access.may_run_draw("witness")


TAMPERS = {
    "pool row": lambda r: r["pool"].__setitem__(
        0, [r["pool"][0][0], "特殊监管" if r["pool"][0][1] == "一般" else "一般"]),
    "inspector": lambda r: r["inspectors"].pop(),
    "conflict": lambda r: r["conflicts"].clear(),
    "ratio": lambda r: r["strata"]["一般"].__setitem__("ratio_bp", 1100),
    "system entropy": lambda r: r.__setitem__("system_entropy", "0" * 64),
    "commitment": lambda r: r.__setitem__("commitment", "f" * 64),
    "witness entropy": lambda r: r["witness_entropy"].__setitem__(1, "20260521"),
    "beacon": lambda r: r.__setitem__("beacon", "福彩3D 517"),
    "seed": lambda r: r.__setitem__("seed", "0" * 64),
    "selected": lambda r: r["selected"].reverse(),
    "team": lambda r: r["teams"][0][1].reverse(),
    # the recusal named the other member of the first team (who is still on it)
    "amendment": lambda r: r["amendments"].__setitem__(
        0, dict(r["amendments"][0], inspector=r["teams"][0][1][0])),
}


@pytest.mark.parametrize("field", sorted(TAMPERS))
def test_sealed_record_passes_verify_and_any_change_fails(db, field):
    _item, _targets, _inspectors, tasks = make_world()
    draw_id = run_to_matched(tasks[0].code)
    first = draw_view.view(draw_id).selected[0]
    steps.amend(draw_id, first["uscc"], first["team"][0]["cert_no"], "近亲属", "operator")
    confirm_all(draw_id)
    record = steps.seal(draw_id, "operator")
    published = json.loads(json.dumps(record))  # as read back from record.json
    assert verify_record(published)[0] == 0
    tampered = json.loads(json.dumps(record))
    TAMPERS[field](tampered)
    assert tampered != published
    code, message = verify_record(tampered)
    assert code == 1 and message


def test_task_codes_count_past_9999(db):
    _item, targets, _inspectors, tasks = make_world()
    assert steps._next_codes("2026-11-", 2) == ["2026-11-0001", "2026-11-0002"]
    d = steps.prepare(tasks[0].code, "operator", draw_date=TODAY)
    Assignment.create(draw=d, position=0, task_code="2026-11-9999", target=targets[0])
    Assignment.create(draw=d, position=1, task_code="2026-11-10000", target=targets[1])
    assert steps._next_codes("2026-11-", 2) == ["2026-11-10001", "2026-11-10002"]


def test_task_sealed_while_the_pool_was_built_is_not_drawn_again(db, monkeypatch):
    _item, _targets, _inspectors, tasks = make_world()
    real = pool.build_pool

    def sealed_elsewhere_meanwhile(task, date):
        fr = real(task, date)
        PlanTask.update(state="drawn").where(PlanTask.id == task.id).execute()
        return fr

    monkeypatch.setattr(steps, "build_pool", sealed_elsewhere_meanwhile)
    with pytest.raises(UserError, match="不得重复摇号"):
        steps.prepare(tasks[0].code, "operator", draw_date=TODAY)
    assert Draw.select().count() == 0


def test_only_operators_run_draws_and_only_clerks_import(db, tmp_path):
    from kiosk import registry

    _item, targets, _inspectors, tasks = make_world()
    with pytest.raises(UserError, match="抽签操作员"):
        steps.prepare(tasks[0].code, "someone", draw_date=TODAY, role="witness")
    f = tmp_path / "targets.csv"
    f.write_text("统一社会信用代码,单位名称,类别\n" + f"{targets[0].uscc},改名,劳务派遣单位\n",
                 encoding="utf-8")
    with pytest.raises(UserError, match="登记管理员"):
        registry.import_file("targets", f, "insp01", role="inspector")
    assert Target.get_by_id(targets[0].id).name != "改名"
    registry.import_file("targets", f, "admin", role="admin")
    assert Target.get_by_id(targets[0].id).name == "改名"


def test_pool_columns_are_put_in_code_point_order_whatever_the_database_returned():
    ids, col = pool._sorted_pair(["b", "B", "a", "Z"], ["2", "1", "3", "4"])
    assert (ids, col) == (["B", "Z", "a", "b"], ["1", "4", "3", "2"])
    fr = pool.Frozen(ids=ids, col=col, inspectors=[], conflicts=[], strata={}, team_size=2)
    rows = [[i, s] for i, s in zip(ids, col, strict=True)]
    assert fr.listings()["pool"] == lottery.listing(rows)
    assert fr.by_stratum == {"1": ["B"], "2": ["b"], "3": ["a"], "4": ["Z"]}


@pytest.mark.postgres
def test_overlong_witness_name_is_cut_to_its_column_on_postgresql(pg_db):
    from kiosk import auth

    _item, _targets, _inspectors, tasks = make_world()
    auth.create_user("w_long", "secret123", "witness", "王" * 64, office="纪" * 64)
    d = steps.prepare(tasks[0].code, "operator", draw_date=TODAY)
    w = witnesses.sign_in(d.id, witnesses.login("w_long", "secret123"))
    assert (w.name, w.account) == ("王" * 64, "w_long")


def test_the_domain_says_which_actions_each_state_allows():
    allowed = steps.allowed_actions
    assert allowed("prepared") == {"abort", "add_witness", "print_predraw"}
    assert "commit" in allowed("witnesses") and "commit" not in allowed("prepared")
    assert {"beacon", "entropy"} <= allowed("committed") and "reveal" not in allowed("committed")
    assert allowed("entropy") == {"abort", "reveal"}  # no beacon once every witness gave theirs
    assert allowed("revealed", revealed=2, selected=5) == {"abort", "reveal_next", "reveal_all"}
    assert allowed("revealed", revealed=5, selected=5) == {"abort", "match"}
    assert "abort" not in allowed("sealed") and allowed("aborted") == set()
