"""Inspector sanctions (Art. 18): recorded with dates and reasons; 暂扣, 吊销, 调离 and 离岗 keep
the inspector out of the next pool and off their reports; their open tasks are reassigned by
an amendment of the sealed draw before witnesses, and the re-exported record verifies."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from db.models import (
    Assignment,
    AssignmentMember,
    AuditEvent,
    DrawAmendment,
    Inspector,
    Sanction,
    User,
)
from kiosk import audit, auth, cli, reports, sanctions
from kiosk.draw import pool, record, steps
from kiosk.draw.reassign import reassign
from kiosk.draw.verify import verify_file
from kiosk.errors import UserError
from tests.draw_world import TODAY, confirm_all, make_world, run_to_matched, user


@pytest.fixture
def world(db):
    item, _targets, inspectors, tasks = make_world()
    draw_id = run_to_matched(tasks[0].code)
    confirm_all(draw_id)
    steps.seal(draw_id, "operator")
    admin = auth.create_user("admin", "admin123", "admin", "管理员")
    leader = auth.create_user("leader", "leader123", "leader", "局长")
    return {"item": item, "tasks": tasks, "draw": draw_id, "inspectors": inspectors,
            "admin": admin, "leader": leader}


def _teams(draw_id) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for code, cert in (AssignmentMember.select(Assignment.task_code, Inspector.cert_no)
                       .join(Assignment).switch(AssignmentMember).join(Inspector)
                       .where(Assignment.draw == draw_id)
                       .order_by(Assignment.position, AssignmentMember.position).tuples()):
        out.setdefault(code, []).append(cert)
    return out


def _busiest(draw_id) -> str:
    counts: dict[str, int] = {}
    for team in _teams(draw_id).values():
        for c in team:
            counts[c] = counts.get(c, 0) + 1
    return max(sorted(counts), key=counts.get)


def test_sanctions_are_recorded_with_dates_and_reasons(world):
    cert = world["inspectors"][0].cert_no
    with pytest.raises(UserError, match="管理员或局领导"):
        sanctions.add(cert, "批评教育", TODAY, "迟到", user("witness1"))
    for kwargs, sentence in (
            ({"kind": "警告"}, "处理种类应为"),
            ({"kind": "暂扣执法证"}, "暂扣截止日期"),
            ({"kind": "暂扣执法证", "end": TODAY - dt.timedelta(days=1)}, "不能早于起始日期"),
            ({"kind": "调离", "end": TODAY}, "没有截止日期"),
            ({"reason": " "}, "处理理由"),
            ({"cert": "豫人社监0000"}, "没有执法证号"),
            ({"start": "五月"}, "应为日期")):
        args = {"cert": cert, "kind": "通报批评", "start": TODAY, "reason": "未按程序检查"} | kwargs
        with pytest.raises(UserError, match=sentence):
            sanctions.add(args.pop("cert"), args.pop("kind"), args.pop("start"),
                          args.pop("reason"), world["admin"], **args)
    sanctions.add(cert, "通报批评", "2026-05-01", "未按程序检查", world["leader"],
                  decided_by="县人社局党组")
    row = sanctions.add(cert, "暂扣执法证", TODAY, "违规检查", world["admin"],
                        end=TODAY + dt.timedelta(days=90))
    [first, second] = sanctions.rows(TODAY)
    assert (first.id, first.kind, first.in_force, first.end) == (
        row.id, "暂扣执法证", True, TODAY + dt.timedelta(days=90))
    assert (second.kind, second.in_force, second.reason) == ("通报批评", False, "未按程序检查")
    # After the suspension ends, the inspector is no longer barred.
    assert not sanctions.rows(TODAY + dt.timedelta(days=91))[0].in_force
    ev = AuditEvent.select().where(AuditEvent.action == "sanction.add").order_by(
        AuditEvent.seq.desc()).first()
    assert json.loads(ev.detail)["bars"] is True and ev.entity_id == str(row.id)
    assert audit.verify()[0]
    Sanction.update(reason="改过").where(Sanction.id == row.id).execute()
    assert "处理种类、期间与理由" in audit.verify().message


def test_barred_inspectors_leave_pools_and_reports(world):
    insp = world["inspectors"]
    sanctions.add(insp[1].cert_no, "暂扣执法证", TODAY, "违规", world["admin"],
                  end=TODAY + dt.timedelta(days=30))
    sanctions.add(insp[2].cert_no, "吊销执法证", TODAY, "违法", world["admin"])
    sanctions.add(insp[3].cert_no, "批评教育", TODAY, "迟到", world["admin"])
    Inspector.update(active=False).where(Inspector.id == insp[4].id).execute()  # 离岗
    fr = pool.build_pool(world["tasks"][1], TODAY)
    assert fr.inspectors == sorted([insp[0].cert_no, insp[3].cert_no, insp[5].cert_no])
    # A suspension that has ended no longer bars: the pool of a later draw has them back.
    later = pool.build_pool(world["tasks"][1], TODAY + dt.timedelta(days=31))
    assert insp[1].cert_no in later.inspectors and insp[2].cert_no not in later.inspectors
    # Off their team's report: a barred member cannot open or edit it.
    code = next(c for c, t in _teams(world["draw"]).items() if insp[2].cert_no in t)
    a = Assignment.get(Assignment.task_code == code)
    barred = auth.create_user("barred", "pw-123456", "inspector", "被吊销", inspector=insp[2])
    with pytest.raises(UserError, match="不是该任务检查组成员"):
        reports.open_report(a, barred)


def test_reassignment_amends_the_sealed_draw_and_verifies(world, tmp_path, db_path,
                                                          monkeypatch, capsys):
    draw_id = world["draw"]
    before = _teams(draw_id)
    cert = _busiest(draw_id)
    sanctions.add(cert, "调离", TODAY, "调离执法岗位", world["leader"])
    todo = sanctions.open_tasks()
    assert {t.task_code for t in todo} == {c for c, team in before.items() if cert in team}
    assert {(t.cert_no, t.why) for t in todo} == {(cert, "调离")}
    w1, w2 = user("witness1"), user("witness2")
    operator = User.get(User.username == "operator")
    with pytest.raises(UserError, match="见证人 witness1 重复"):
        reassign(draw_id, operator, [w1, w1], "执法人员调离")
    with pytest.raises(UserError, match="至少 2 名不同的见证人"):
        reassign(draw_id, operator, [w1], "执法人员调离")
    with pytest.raises(UserError, match="抽签操作员、管理员或局领导"):
        reassign(draw_id, User.get(User.username == "witness3"), [w1, w2], "调离")
    with pytest.raises(UserError, match="改派理由"):
        reassign(draw_id, operator, [w1, w2], "")
    done = reassign(draw_id, operator, [w1, w2], "执法人员调离")
    assert sorted(r.task_code for r in done) == sorted(t.task_code for t in todo)
    after = _teams(draw_id)
    for r in done:
        assert cert not in after[r.task_code] and r.replacement in after[r.task_code]
        assert after[r.task_code] == [c for c in before[r.task_code] if c != cert] + [
            r.replacement]
    for code in set(before) - {r.task_code for r in done}:
        assert after[code] == before[code]  # other teams untouched
    assert sanctions.open_tasks() == []
    assert DrawAmendment.select().where(DrawAmendment.draw == draw_id).count() == len(done)
    with pytest.raises(UserError, match="没有需要改派"):
        reassign(draw_id, operator, [w1, w2], "再次")
    # The re-exported record replays the amendments: kiosk verify exits 0.
    out = record.write_record(draw_id, tmp_path / "rec" / "record.json")
    rec = json.loads(out.read_text(encoding="utf-8"))
    assert rec["reassignments"][0]["witnesses"] == ["witness1", "witness2"]
    assert [a["inspector"] for a in rec["amendments"]] == [cert] * len(done)
    assert verify_file(out)[0] == 0
    assert cli.main(["verify", str(out)]) == 0
    assert "核验通过" in capsys.readouterr().out
    assert audit.verify()[0]
    # A record whose team was edited after the reassignment does not verify.
    rec["teams"][0][1].reverse()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
    assert verify_file(bad)[0] == 1


def test_a_barred_replacement_is_replaced_in_turn(world, tmp_path):
    draw_id = world["draw"]
    insp = [i.cert_no for i in world["inspectors"]]
    cert = _busiest(draw_id)
    # Everyone but two inspectors is barred after the draw: each replacement drawn from the
    # frozen listing that is barred is amended again, until a free one is drawn.
    free = [c for c in insp[1:] if c != cert][:2]  # inspector 0 recuses from target 0
    for c in insp:
        if c not in free:
            sanctions.add(c, "吊销执法证", TODAY, "违法", world["admin"])
    done = reassign(draw_id, world["leader"], [user("witness1"), user("witness2")], "吊销")
    for team in _teams(draw_id).values():
        assert len(team) == 2
    open_codes = {a.task_code for a in Assignment.select().where(Assignment.state == "assigned")}
    for code, team in _teams(draw_id).items():
        if code in open_codes:
            assert set(team) <= set(free)
    assert len(done) >= len(open_codes)
    out = record.write_record(draw_id, tmp_path / "record.json")
    assert verify_file(out)[0] == 0


def test_a_replacement_whose_certificate_ended_is_replaced_too(world, tmp_path):
    draw_id = world["draw"]
    insp = [i.cert_no for i in world["inspectors"]]
    cert = _busiest(draw_id)
    before = _teams(draw_id)
    free = [c for c in insp[1:] if c != cert][:2]
    sanctions.add(cert, "暂扣执法证", TODAY, "违规", world["admin"],
                  end=dt.date.today() + dt.timedelta(days=30))
    Inspector.update(cert_valid_until=dt.date.today() - dt.timedelta(days=1)).where(
        Inspector.cert_no.not_in([*free, cert])).execute()
    done = reassign(draw_id, world["leader"], [user("witness1"), user("witness2")], "暂扣")
    assert {r.why for r in done if r.inspector == cert} == {"暂扣执法证"}
    # The seed comes from fresh system entropy: how many replacements had an ended
    # certificate varies, but each of them was redrawn by exactly one further amendment.
    whys = [r.why for r in done]
    assert len(done) == whys.count("暂扣执法证") + whys.count("执法证已过期")
    assert whys.count("暂扣执法证") == sum(cert in t for t in before.values())
    after = _teams(draw_id)
    for code in {r.task_code for r in done}:
        # Off the team: the suspended inspector; on it: only members kept from before and
        # replacements whose certificate is still valid.
        assert cert not in after[code]
        assert set(after[code]) - set(before[code]) <= set(free)
    rec = json.loads(record.write_record(draw_id, tmp_path / "r.json").read_text("utf-8"))
    assert all(a["reason"].endswith("：暂扣") for a in rec["amendments"])
    assert verify_file(tmp_path / "r.json")[0] == 0


def test_sanctions_on_postgresql(pg_db):
    """The barred-inspector rule and the case list's ordering are plain SQL on PostgreSQL too."""
    from kiosk import cases

    _item, _targets, inspectors, tasks = make_world()
    admin = auth.create_user("admin", "admin123", "admin", "管理员")
    sanctions.add(inspectors[0].cert_no, "暂扣执法证", TODAY, "违规", admin,
                  end=TODAY + dt.timedelta(days=10))
    sanctions.add(inspectors[1].cert_no, "通报批评", TODAY, "迟到", admin)
    assert inspectors[0].cert_no not in pool.build_pool(tasks[0], TODAY).inspectors
    assert inspectors[1].cert_no in pool.build_pool(tasks[0], TODAY).inspectors
    assert inspectors[0].cert_no in pool.build_pool(tasks[0], TODAY + dt.timedelta(days=11)
                                                    ).inspectors
    assert cases.rows(None) == [] and cases.overdue_count() == 0
