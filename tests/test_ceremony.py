"""The ceremony: pool building, the persisted state machine, sealing, crash resume, two terminals."""
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
    Conflict,
    Draw,
    InspectionRecord,
    Inspector,
    Item,
    ItemStratum,
    PlanTask,
    Target,
)
from kiosk import ceremony, lottery, plans, uscc
from kiosk.errors import UserError
from kiosk.verify import verify_record

ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.date(2026, 5, 20)


def make_world(n_targets=40, n_inspectors=6, conflicts=((0, 0),), category="劳务派遣单位"):
    item = Item.create(code="RS-04", name="劳务派遣单位经营情况的检查", legal_basis="《劳动合同法》第五十七条",
                       content="派遣协议", category=category, lead_office="劳动关系股",
                       offices="劳动保障监察大队;劳动关系股", team_size=2)
    ItemStratum.create(item=item, name="特殊监管", criterion="special", ratio_bp=5000, position=0)
    ItemStratum.create(item=item, name="一般", criterion="default", ratio_bp=1000, position=1)
    targets = []
    for i in range(n_targets):
        targets.append(Target.create(
            uscc=uscc.make("411623", f"MA{i:07d}"), name=f"商水县第{i}劳务派遣有限公司",
            category=category, township="城关乡", complaint_count=5 if i % 10 == 0 else 0))
    Target.create(uscc=uscc.make("411623", "MB0000001"), name="别类单位", category="人力资源服务机构")
    inspectors = [Inspector.create(cert_no=f"豫人社监{i + 1:04d}", name=f"检查员{i + 1}",
                                   office="劳动保障监察大队", cert_valid_until=dt.date(2028, 1, 1))
                  for i in range(n_inspectors)]
    Inspector.create(cert_no="豫人社监9998", name="证件过期", office="劳动保障监察大队",
                     cert_valid_until=dt.date(2026, 1, 1))
    Inspector.create(cert_no="豫人社监9999", name="别的股室", office="社会保险股",
                     cert_valid_until=dt.date(2028, 1, 1))
    for ii, ti in conflicts:
        Conflict.create(inspector=inspectors[ii], target=targets[ti], reason="近亲属")
    tasks = plans.make_plan(2026, "tester", items=[item])
    return item, targets, inspectors, tasks


def run_to_matched(task_code, witnesses=(("王见证", "7 3 1 9"), ("李监督", "20260520"))):
    d = ceremony.prepare(task_code, "operator", draw_date=TODAY)
    for name, _ in witnesses:
        ceremony.sign_in_witness(d.id, name, "县纪委监委派驻纪检组", "operator")
    ceremony.commit(d.id, "operator")
    for pos, (_, ent) in enumerate(witnesses):
        ceremony.enter_entropy(d.id, pos, ent, "operator")
    ceremony.reveal(d.id, "operator")
    ceremony.match(d.id, "operator")
    return d.id


def test_pool_takes_category_window_and_certified_inspectors(db):
    item, targets, inspectors, tasks = make_world()
    InspectionRecord.create(target=targets[3], date=TODAY - dt.timedelta(days=30),
                            department="商水县市场监督管理局")
    InspectionRecord.create(target=targets[4], date=TODAY - dt.timedelta(days=500),
                            department="商水县市场监督管理局")
    fr = ceremony.build_pool(tasks[0], TODAY)
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
        ceremony.prepare("2026-XX-9", "operator")


def test_infeasible_pool_is_refused_before_entropy(db):
    item, targets, inspectors, tasks = make_world(n_inspectors=2, conflicts=((0, 0),))
    with pytest.raises(UserError, match="无法组成检查组"):
        ceremony.prepare(tasks[0].code, "operator", draw_date=TODAY)
    assert Draw.select().count() == 0


def test_whole_draw_seals_and_record_verifies(db, tmp_path):
    item, targets, inspectors, tasks = make_world()
    draw_id = run_to_matched(tasks[0].code)
    v = ceremony.view(draw_id, "operator")
    first = v.selected[0]
    out = first["team"][0]["cert_no"]
    replacement = ceremony.amend(draw_id, first["uscc"], out, "曾在该单位任职", "operator")
    assert replacement != out
    assert ceremony.confirm(draw_id, 0, "王见证") is False
    assert ceremony.confirm(draw_id, 1, "李监督") is True
    record = ceremony.seal(draw_id, "operator")

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
    paths = ceremony.write_listings(draw, tmp_path)
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
        ceremony.prepare(tasks[0].code, "operator", draw_date=TODAY)


def test_steps_cannot_be_skipped_and_quorum_is_needed(db):
    item, targets, inspectors, tasks = make_world()
    d = ceremony.prepare(tasks[0].code, "operator", draw_date=TODAY)
    ceremony.sign_in_witness(d.id, "王见证", "", "operator")
    with pytest.raises(UserError, match="见证人不足"):
        ceremony.commit(d.id, "operator")
    with pytest.raises(UserError):
        ceremony.reveal(d.id, "operator")
    ceremony.sign_in_witness(d.id, "李监督", "", "operator")
    commitment = ceremony.commit(d.id, "operator")
    draw = Draw.get_by_id(d.id)
    assert commitment == lottery.commitment(draw.system_entropy)
    # the screen must not show the entropy before the reveal
    assert ceremony.view(d.id).system_entropy == ""
    with pytest.raises(UserError, match="依次"):
        ceremony.enter_entropy(d.id, 1, "123", "operator")


def test_abort_keeps_the_attempt_and_numbers_the_next(db):
    item, targets, inspectors, tasks = make_world()
    d = ceremony.prepare(tasks[0].code, "operator", draw_date=TODAY)
    with pytest.raises(UserError, match="理由"):
        ceremony.abort(d.id, "  ", "operator")
    ceremony.abort(d.id, "停电", "operator")
    d2 = ceremony.prepare(tasks[0].code, "operator", draw_date=TODAY)
    assert (d2.attempt_no, Draw.get_by_id(d.id).state, Draw.get_by_id(d.id).abort_reason) == \
        (2, "aborted", "停电")
    assert Draw.select().count() == 2


def test_names_shown_only_to_roles_with_need(db):
    item, targets, inspectors, tasks = make_world()
    draw_id = run_to_matched(tasks[0].code)
    assert all(s["name"] == "" for s in ceremony.view(draw_id, "witness").selected)
    assert all(s["name"].startswith("商水县") for s in ceremony.view(draw_id, "operator").selected)


def test_second_terminal_is_refused_and_stale_lock_is_taken_over(db):
    item, targets, inspectors, tasks = make_world()
    d = ceremony.prepare(tasks[0].code, "operator", terminal="hostA:1:x", draw_date=TODAY)
    Draw.update(lock_at=ceremony.now()).where(Draw.id == d.id).execute()
    with pytest.raises(UserError, match="另一终端"):
        ceremony.prepare(tasks[0].code, "operator", terminal="hostB:2:y", draw_date=TODAY)
    Draw.update(lock_at=ceremony.now() - dt.timedelta(minutes=10)).where(Draw.id == d.id).execute()
    again = ceremony.prepare(tasks[0].code, "operator", terminal="hostB:2:y", draw_date=TODAY)
    assert again.id == d.id and again.lock_owner == "hostB:2:y"


SCRIPT = r"""
import sys, time, datetime as dt
from db import connect
from kiosk import ceremony
connect(sys.argv[1])
mode = sys.argv[2]
d = ceremony.prepare(sys.argv[3], "operator", draw_date=dt.date(2026, 5, 20))
print("draw", d.id, d.state, flush=True)
if mode == "hold":
    time.sleep(60)
elif mode == "advance":
    ceremony.sign_in_witness(d.id, "王见证", "", "operator")
    ceremony.sign_in_witness(d.id, "李监督", "", "operator")
    c = ceremony.commit(d.id, "operator")
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
    item, targets, inspectors, tasks = make_world()
    proc = _spawn(db_path, "advance", tasks[0].code)
    commitment = _wait_line(proc, "committed")[1]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    resumed = ceremony.prepare(tasks[0].code, "operator", draw_date=TODAY)
    assert resumed.state == "committed" and resumed.commitment == commitment
    assert resumed.attempt_no == 1
    ceremony.enter_entropy(resumed.id, 0, "1", "operator")
    ceremony.enter_entropy(resumed.id, 1, "2", "operator")
    assert len(ceremony.reveal(resumed.id, "operator")) == 6


def test_two_processes_on_one_task(db, db_path):
    item, targets, inspectors, tasks = make_world()
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
    item, targets, inspectors, tasks = make_world()
    InspectionRecord.create(target=targets[3], date=TODAY - dt.timedelta(days=30),
                            department="商水县市场监督管理局")
    draw_id = run_to_matched(tasks[0].code)
    assert Draw.get_by_id(draw_id).pool_size == 39
    ceremony.confirm(draw_id, 0, "王见证")
    ceremony.confirm(draw_id, 1, "李监督")
    record = ceremony.seal(draw_id, "operator")
    assert verify_record(record)[0] == 0
    assert Assignment.select().count() == len(record["selected"]) == 6


def test_recusal_after_a_confirmation_asks_every_witness_again(db):
    item, targets, inspectors, tasks = make_world()
    draw_id = run_to_matched(tasks[0].code)
    assert ceremony.confirm(draw_id, 0, "王见证") is False
    first = ceremony.view(draw_id).selected[0]
    ceremony.amend(draw_id, first["uscc"], first["team"][1]["cert_no"], "曾在该单位任职", "operator")
    assert [w["confirmed"] for w in ceremony.view(draw_id).witnesses] == [False, False]
    assert ceremony.confirm(draw_id, 1, "李监督") is False
    assert ceremony.confirm(draw_id, 0, "王见证") is True
    assert ceremony.may_run("operator") and not ceremony.may_run("witness")


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
    item, targets, inspectors, tasks = make_world()
    draw_id = run_to_matched(tasks[0].code)
    first = ceremony.view(draw_id).selected[0]
    ceremony.amend(draw_id, first["uscc"], first["team"][0]["cert_no"], "近亲属", "operator")
    ceremony.confirm(draw_id, 0, "王见证")
    ceremony.confirm(draw_id, 1, "李监督")
    record = ceremony.seal(draw_id, "operator")
    published = json.loads(json.dumps(record))  # as read back from record.json
    assert verify_record(published)[0] == 0
    tampered = json.loads(json.dumps(record))
    TAMPERS[field](tampered)
    assert tampered != published
    code, message = verify_record(tampered)
    assert code == 1 and message


def test_task_codes_count_past_9999(db):
    item, targets, inspectors, tasks = make_world()
    assert ceremony._next_codes("2026-11-", 2) == ["2026-11-0001", "2026-11-0002"]
    d = ceremony.prepare(tasks[0].code, "operator", draw_date=TODAY)
    Assignment.create(draw=d, position=0, task_code="2026-11-9999", target=targets[0])
    Assignment.create(draw=d, position=1, task_code="2026-11-10000", target=targets[1])
    assert ceremony._next_codes("2026-11-", 2) == ["2026-11-10001", "2026-11-10002"]


def test_task_sealed_while_the_pool_was_built_is_not_drawn_again(db, monkeypatch):
    item, targets, inspectors, tasks = make_world()
    real = ceremony.build_pool

    def sealed_elsewhere_meanwhile(task, date):
        fr = real(task, date)
        PlanTask.update(state="drawn").where(PlanTask.id == task.id).execute()
        return fr

    monkeypatch.setattr(ceremony, "build_pool", sealed_elsewhere_meanwhile)
    with pytest.raises(UserError, match="不得重复摇号"):
        ceremony.prepare(tasks[0].code, "operator", draw_date=TODAY)
    assert Draw.select().count() == 0


def test_only_operators_run_draws_and_only_clerks_import(db, tmp_path):
    from kiosk import registry

    item, targets, inspectors, tasks = make_world()
    with pytest.raises(UserError, match="抽签操作员"):
        ceremony.prepare(tasks[0].code, "someone", draw_date=TODAY, role="witness")
    f = tmp_path / "targets.csv"
    f.write_text("统一社会信用代码,单位名称,类别\n" + f"{targets[0].uscc},改名,劳务派遣单位\n",
                 encoding="utf-8")
    with pytest.raises(UserError, match="登记管理员"):
        registry.import_file("targets", f, "insp01", role="inspector")
    assert Target.get_by_id(targets[0].id).name != "改名"
    registry.import_file("targets", f, "admin", role="admin")
    assert Target.get_by_id(targets[0].id).name == "改名"


def test_pool_columns_are_put_in_code_point_order_whatever_the_database_returned():
    ids, col = ceremony._sorted_pair(["b", "B", "a", "Z"], ["2", "1", "3", "4"])
    assert (ids, col) == (["B", "Z", "a", "b"], ["1", "4", "3", "2"])
    fr = ceremony.Frozen(ids=ids, col=col, inspectors=[], conflicts=[], strata={}, team_size=2)
    assert fr.listings()["pool"] == lottery.listing([[i, s] for i, s in zip(ids, col)])
    assert fr.by_stratum == {"1": ["B"], "2": ["b"], "3": ["a"], "4": ["Z"]}


@pytest.mark.postgres
def test_overlong_witness_name_is_a_sentence_on_postgresql(pg_db):
    item, targets, inspectors, tasks = make_world()
    d = ceremony.prepare(tasks[0].code, "operator", draw_date=TODAY)
    with pytest.raises(UserError, match="64"):
        ceremony.sign_in_witness(d.id, "王" * 65, "", "operator")
    ceremony.sign_in_witness(d.id, "王" * 64, "纪" * 128, "operator")
