"""The year's plan (Art. 7, 18): building, approving, changing with a reason, the compliance
view on a constructed year, the item rules, and the recognition windows of the pool."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from db.models import AuditEvent, Draw, InspectionRecord, Item, ItemStratum, PlanTask, Target
from kiosk import audit, compliance, item_rules, plans, uscc
from kiosk.draw import pool, steps
from kiosk.errors import UserError
from tests.draw_world import TODAY, confirm_all, make_world, run_to_matched

YEAR = 2026


def item(code, *, ratio_bp=100, frequency=3, strata=(), **kw):
    it = Item.create(code=code, name=f"{code} 检查", legal_basis="依据", content="内容",
                     category="用人单位", lead_office="劳动保障监察大队", ratio_bp=ratio_bp,
                     frequency=frequency, **kw)
    for pos, (name, crit, bp) in enumerate(strata):
        ItemStratum.create(item=it, name=name, criterion=crit, ratio_bp=bp, position=pos)
    return it


# ---------------------------------------------------------------- Art. 7 item rules


def rules(**kw):
    base = dict(ratio_bp=100, frequency=3, recognition_months=12)
    return item_rules.ItemRules(**{**base, **kw})


def test_item_rules_name_each_breach():
    assert item_rules.problems(rules()) == []
    assert item_rules.problems(rules(frequency=1, ratio_bp=10)) == [
        "抽查频次 1 次少于每年 3 次（第七条）", "一般对象抽查比例 0.1% 低于 1%（第七条）"]
    small = (("小微", "small_micro", 50),)
    assert "须在“小微企业比例说明”中写明理由" in item_rules.problems(rules(strata=small))[0]
    assert item_rules.problems(rules(strata=small, small_micro_reason="用工少")) == []
    low_special = (("特殊", "special", 200), ("一般", "default", 500))
    assert item_rules.problems(rules(strata=low_special)) == [
        "特殊监管分层“特殊”的比例 2% 低于一般对象的 5%（第七条：特殊对象提高比例）"]
    assert item_rules.problems(rules(strata=(("较高", "risk:较高", 50),))) == [
        "分层“较高”的比例 0.5% 低于 1%（第七条）"]
    assert item_rules.problems(rules(special_frequency=2)) == [
        "特殊对象抽查频次 2 次少于一般对象的 3 次（第七条：特殊对象提高频次）"]
    assert "年内再次被抽取" in item_rules.problems(rules(special_recognition_months=24))[0]


def test_rounds_and_windows():
    assert item_rules.rounds(rules(frequency=1)) == 3
    assert item_rules.rounds(rules(frequency=4)) == 4
    assert item_rules.rounds(rules(frequency=3, special_frequency=6)) == 6
    assert item_rules.windows(rules(recognition_months=0)) == (0, 0)  # never a silent 12
    assert item_rules.windows(rules(special_recognition_months=3)) == (12, 3)
    assert item_rules.windows(rules(special_recognition_months=0)) == (12, 0)


# ---------------------------------------------------------------- building and approving


def test_plan_spreads_rounds_and_waits_for_a_leader(db):
    item("RS-01", frequency=4)
    item("RS-02", frequency=3, special_frequency=6)
    made = plans.make_plan(YEAR, "clerk", role="admin")
    months = {}
    for t in made:
        months.setdefault(t.item.code, []).append(t.planned_month)
    assert months == {"RS-01": [2, 5, 8, 11], "RS-02": [2, 4, 6, 8, 10, 12]}
    assert not any(t.approved_by for t in PlanTask.select())
    assert plans.make_plan(YEAR, "clerk") == []  # already planned: nothing twice
    with pytest.raises(UserError, match="只有局领导可以批准"):
        plans.approve(YEAR, "clerk", role="admin")
    with pytest.raises(UserError, match="只有管理员或局领导"):
        plans.make_plan(YEAR, "op", role="operator")
    assert plans.approve(YEAR, "ld", role="leader") == 10
    assert {t.approved_by for t in PlanTask.select()} == {"ld"}
    with pytest.raises(UserError, match="没有待批准的任务"):
        plans.approve(YEAR, "ld", role="leader")
    with pytest.raises(UserError, match="还没有抽查计划"):
        plans.approve(YEAR + 1, "ld", role="leader")


def test_changes_need_a_reason_and_a_new_approval(db):
    item("RS-01")
    plans.make_plan(YEAR, "clerk")
    plans.approve(YEAR, "ld")
    with pytest.raises(UserError, match="必须说明理由"):
        plans.move_round(f"{YEAR}-RS-01-1", 3, "  ", "clerk", role="admin")
    moved = plans.move_round(f"{YEAR}-RS-01-1", 3, "春节后复工检查", "clerk", role="admin")
    assert (moved.planned_month, moved.approved_by) == (3, "")
    assert "由 2 月调至 3 月：春节后复工检查" in moved.note
    added = plans.add_round(YEAR, "RS-01", 12, "年底欠薪专项", "ld", role="leader")
    assert (added.code, added.round_no, added.approved_by) == (f"{YEAR}-RS-01-4", 4, "")
    cancelled = plans.cancel_round(f"{YEAR}-RS-01-2", "与市场监管联合检查合并", "clerk")
    assert cancelled.state == "cancelled" and "取消：与市场监管联合检查合并" in cancelled.note
    with pytest.raises(UserError, match="已取消，不能再调整"):
        plans.move_round(f"{YEAR}-RS-01-2", 5, "再调", "clerk")
    with pytest.raises(UserError, match="月份“13”不正确"):
        plans.add_round(YEAR, "RS-01", 13, "理由", "clerk")
    assert plans.approve(YEAR, "ld") == 2  # the moved and the added round
    actions = [a for (a,) in AuditEvent.select(AuditEvent.action)
               .where(AuditEvent.action.startswith("plan.")).order_by(AuditEvent.seq).tuples()]
    assert actions == ["plan.make", "plan.approve", "plan.move", "plan.add", "plan.cancel",
                       "plan.approve"]


def test_an_approval_written_behind_the_kiosk_is_named(db):
    item("RS-01")
    plans.make_plan(YEAR, "clerk")
    assert audit.verify().ok
    PlanTask.update(approved_by="intruder").where(PlanTask.round_no == 1).execute()
    verdict = audit.verify()
    assert not verdict.ok and "年度抽查计划" in verdict.message


def test_an_unapproved_round_cannot_be_drawn(db):
    _item, _targets, _inspectors, tasks = make_world()
    plans.move_round(tasks[1].code, 9, "调整", "clerk")
    with pytest.raises(UserError, match="尚未经局领导批准"):
        steps.prepare(tasks[1].code, "operator", draw_date=TODAY)
    assert not Draw.select().exists()
    plans.approve(2026, "leader")
    assert steps.prepare(tasks[1].code, "operator", draw_date=TODAY).attempt_no == 1


# ---------------------------------------------------------------- the compliance view


def test_a_constructed_year_shows_each_shortfall(db):
    """RS-01 is one round short, RS-02's ordinary ratio is under 1%, a round of RS-03 is
    late; RS-04 is drawn (late for its month) and meets every stratum's ratio."""
    constructed_year()


def test_a_constructed_year_on_postgresql(pg_db):
    """The same figures from a PostgreSQL store (listings read back from bytea)."""
    constructed_year()


def constructed_year():
    short = item("RS-01")
    item("RS-02", ratio_bp=50)
    item("RS-03")
    _, _, _, tasks = make_world()  # RS-04, 10% ordinary, 50% special
    plans.make_plan(YEAR, "clerk", items=[short, Item.get(Item.code == "RS-02"),
                                          Item.get(Item.code == "RS-03")])
    plans.cancel_round(f"{YEAR}-RS-01-3", "人手不足", "clerk")
    plans.approve(YEAR, "ld")
    confirm_all(run_to_matched(tasks[0].code))
    steps.seal(Draw.get().id, "operator")
    today = dt.date(YEAR, 3, 10)  # RS-0x-1 were due in February
    view = {v.code: v for v in compliance.year_view(YEAR, today)}

    assert view["RS-01"].problems[0] == "计划 2 轮，少于应抽 3 轮（第七条）"
    assert (view["RS-01"].required, view["RS-01"].planned) == (3, 2)
    assert view["RS-02"].problems[0] == "一般对象抽查比例 0.5% 低于 1%（第七条）"
    (general,) = view["RS-02"].strata
    assert (general.name, general.set_bp, general.minimum_bp, general.ok) == ("一般", 50, 100,
                                                                               False)
    assert view["RS-03"].late == 1 and view["RS-03"].rounds[0].late
    assert not view["RS-03"].rounds[1].late
    assert view["RS-03"].problems == [f"1 轮逾期：{YEAR}-RS-03-1（2 月）"]

    rs04 = view["RS-04"]
    # drawn on 20 May for its February round: late too, so it shows
    assert rs04.done == 1 and rs04.rounds[0].drawn_on == "2026-05-20" and rs04.rounds[0].late
    got = {s.name: s for s in rs04.strata}
    assert got["特殊监管"].achieved_bp >= 5000 and got["一般"].achieved_bp >= 1000
    assert all(s.ok for s in rs04.strata)
    # the same figures as `kiosk plan show --json`
    data = json.loads(json.dumps(compliance.as_json(YEAR, today), ensure_ascii=False))
    as_json = {i["code"]: i for i in data["items"]}
    assert as_json["RS-01"]["ok"] is False and as_json["RS-04"]["done"] == 1
    assert as_json["RS-02"]["strata"][0]["minimum_bp"] == 100


def test_a_compliant_item_is_ok(db):
    it = item("RS-01", strata=(("特殊", "special", 3000), ("小微", "small_micro", 50),
                               ("一般", "default", 100)), small_micro_reason="用工少")
    plans.make_plan(YEAR, "clerk", items=[it])
    plans.approve(YEAR, "ld")
    (v,) = compliance.year_view(YEAR, dt.date(YEAR, 1, 15))
    assert v.ok and v.problems == [] and v.approved == 3
    assert [(s.name, s.minimum_bp) for s in v.strata] == [("特殊", 100), ("小微", 50),
                                                          ("一般", 100)]


# ---------------------------------------------------------------- recognition windows


def _pool_world(recognition, special_window=None):
    it = item("RS-01", recognition_months=recognition, special_recognition_months=special_window,
              strata=(("特殊", "special", 3000), ("一般", "default", 100)))
    special = Target.create(uscc=uscc.make("411623", "MA0000001"), name="投诉多的单位",
                            category="用人单位", complaint_count=5)
    plain = Target.create(uscc=uscc.make("411623", "MA0000002"), name="普通单位",
                          category="用人单位")
    for t in (special, plain):
        InspectionRecord.create(target=t, date=TODAY - dt.timedelta(days=150),
                                department="市场监管局")
    task = plans.make_plan(2026, "clerk", items=[it])[0]
    fr = pool.build_pool(task, TODAY)
    return dict(zip(fr.ids, fr.col, strict=True)), special.uscc, plain.uscc


def test_a_zero_window_recognises_nothing(db):
    got, special, plain = _pool_world(0)
    assert got == {special: "特殊", plain: "一般"}


def test_the_item_window_recognises_recent_inspections(db):
    got, _special, _plain = _pool_world(12)
    assert got == {}


def test_special_targets_have_their_own_shorter_window(db):
    got, special, _plain = _pool_world(12, special_window=3)
    assert got == {special: "特殊"}  # inspected 5 months ago: special may be drawn again


def test_building_a_complete_plan_again_logs_nothing(db):
    it = item("RS-01")
    assert len(plans.make_plan(YEAR, "clerk", items=[it])) == 3
    n = AuditEvent.select().count()
    assert plans.make_plan(YEAR, "clerk") == []
    assert plans.make_plan(YEAR, "clerk", items=[]) == []  # no items: none, not every item
    assert AuditEvent.select().count() == n


def test_task_list_says_which_rounds_wait_for_approval(db):
    plans.make_plan(YEAR, "clerk", items=[item("RS-01")])
    assert {t["state_label"] for t in plans.list_tasks(YEAR)} == {"待批准"}
    plans.approve(YEAR, "ld")
    got = plans.list_tasks(YEAR)
    assert {(t["state_label"], t["approved"]) for t in got} == {("待摇号", True)}
