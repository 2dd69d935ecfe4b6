"""Findings followed to their end (Art. 10): each case type from open to closed, its
deadlines, who may act, what is refused, and what the audit chain covers."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from db.models import AuditEvent, EnforcementCase, Rectification, Report
from kiosk import audit, cases, reports
from kiosk.errors import UserError
from tests.test_reports import FILLED, build_world

TODAY = dt.date.today()  # cases open on the real clock, as the report's finalisation does


def day(n: int = 0) -> str:
    return f"{TODAY + dt.timedelta(days=n):%Y-%m-%d}"


@pytest.fixture
def world(db):
    return build_world()


def _final(world, n=0, **over) -> Report:
    member = world.member if n % 2 == 0 else world.outsider
    rep = reports.open_report(world.assignments[n], member)
    reports.save_draft(rep, FILLED | over, member)
    reports.submit(rep, member)
    reports.review(rep, world.reviewer, "", True)
    reports.finalise(rep, world.reviewer)
    return rep


def _case(rep) -> EnforcementCase:
    return EnforcementCase.get(EnforcementCase.report == rep.id)


def _events(prefix="case.") -> list[tuple[str, dict]]:
    return [(e.action, json.loads(e.detail)) for e in
            AuditEvent.select().where(AuditEvent.action.startswith(prefix))
            .order_by(AuditEvent.seq)]


def test_no_finding_opens_no_case(world):
    _final(world)
    assert EnforcementCase.select().count() == 0


def test_rectification_case_open_reinspected_closed(world):
    rep = _final(world, finding="责令整改", rectify_deadline=day(-31))
    case = _case(rep)
    rect = Rectification.get(Rectification.report == rep.id)
    assert (case.kind, case.state, case.deadline, case.rectification_id) == (
        "责令整改", "open", TODAY - dt.timedelta(days=31), rect.id)
    # Past its deadline: 31 days over, in the list and the count.
    [row] = cases.rows(world.reviewer)
    assert (row.task_code, row.status_text, row.steps) == ("2025-07-0001", "逾期 31 天",
                                                           ("reinspect",))
    assert cases.overdue_count() == 1
    assert [r.id for r in cases.rows(world.reviewer, overdue_only=True)] == [case.id]
    assert cases.rows(world.other_reviewer) == [] and cases.rows(world.member) == []
    with pytest.raises(UserError, match="牵头股室的审核人或局领导"):
        cases.take_step(case.id, "reinspect", {}, world.other_reviewer)
    with pytest.raises(UserError, match="新的整改期限"):
        cases.take_step(case.id, "reinspect", {"date": day(), "result": "未补签合同",
                                               "passed": "否"}, world.reviewer)
    # Not carried out: a new deadline, still open and no longer overdue.
    cases.take_step(case.id, "reinspect", {"date": day(), "result": "未补签合同",
                                           "passed": "否", "deadline": day(30)},
                    world.reviewer)
    case = _case(rep)
    assert (case.state, case.deadline) == ("open", TODAY + dt.timedelta(days=30))
    assert cases.overdue_count() == 0
    with pytest.raises(UserError, match="不能“结案”"):
        cases.take_step(case.id, "close", {"outcome": "x"}, world.reviewer)
    cases.take_step(case.id, "reinspect", {"date": day(), "result": "已补签 52 份",
                                           "passed": "是"}, world.reviewer)
    assert (_case(rep).state, _case(rep).deadline) == ("reinspected", None)
    cases.take_step(case.id, "close", {"outcome": "整改到位，销号。"}, world.reviewer)
    case = _case(rep)
    assert (case.state, case.closed_by, case.outcome) == ("closed", "shenhe", "整改到位，销号。")
    # The review screen's rectification order closed with it.
    rect = Rectification.get_by_id(rect.id)
    assert (rect.closed_by, rect.note) == ("shenhe", "已补签 52 份")
    assert cases.rows(world.reviewer) == []
    [closed] = cases.rows(world.reviewer, open_only=False)
    assert closed.state_label == "已结案" and f"复查 {day()}：已补签 52 份" in closed.detail
    assert [a for a, _ in _events()] == ["case.refused", "case.reinspect", "case.reinspect",
                                         "case.close"]
    assert audit.verify()[0]


def test_closing_the_rectification_closes_its_case(world):
    rep = _final(world, finding="责令整改", rectify_deadline=day(10))
    rect = Rectification.get(Rectification.report == rep.id)
    reports.close_rectification(rect, world.reviewer, "复查合格。")
    case = _case(rep)
    assert (case.state, case.outcome, case.closed_by) == ("closed", "复查合格。", "shenhe")
    assert audit.verify()[0]


def test_penalty_case_decided_then_paid(world):
    rep = _final(world, finding="行政处罚")
    case = _case(rep)
    assert (case.state, case.deadline) == ("open", TODAY + dt.timedelta(days=90))
    assert cases.rows(world.reviewer)[0].status_text == "待作出决定"
    with pytest.raises(UserError, match="不能“缴纳罚款”"):
        cases.take_step(case.id, "pay", {"date": day()}, world.reviewer)
    for bad, sentence in (({"amount": "-5"}, "大于零"), ({"amount": "1.234"}, "两位小数"),
                          ({"amount": "二万"}, "应为数字"), ({"date": day(1)}, "不能晚于今天"),
                          ({"date": day(-1)}, "不能早于"), ({"date": "12/01"}, "应为日期"),
                          ({"decision_no": ""}, "请填写决定书文号")):
        values = {"decision_no": "商人社罚决字〔2025〕12号", "date": day(),
                  "amount": "20,000"} | bad
        with pytest.raises(UserError, match=sentence):
            cases.take_step(case.id, "decide", values, world.reviewer)
    cases.take_step(case.id, "decide", {"decision_no": "商人社罚决字〔2025〕12号",
                                        "date": day(), "amount": "20,000.50"},
                    world.reviewer)
    case = _case(rep)
    assert (case.state, case.amount_fen, case.deadline) == (
        "decided", 2000050, TODAY + dt.timedelta(days=15))
    [row] = cases.rows(world.reviewer)
    assert row.steps == ("pay", "appeal") and "罚款 20,000.50 元" in row.detail
    cases.take_step(case.id, "pay", {"date": day()}, world.reviewer)
    case = _case(rep)
    assert (case.state, case.paid_on, case.deadline) == ("paid", TODAY, None)
    assert cases.rows(world.reviewer) == []
    assert cases.rows(world.leader, open_only=False)[0].state_label == "已缴纳（结案）"
    assert _events()[0] == ("case.decide", {
        "amount_fen": 2000050, "date": day(), "decision_no": "商人社罚决字〔2025〕12号",
        "kind": "行政处罚", "state": "decided", "task": "2025-07-0001"})
    assert audit.verify()[0]


def test_penalty_case_appealed_then_closed_by_a_leader(world):
    rep = _final(world, finding="行政处罚")
    case = _case(rep)
    cases.take_step(case.id, "decide", {"decision_no": "罚决字13号", "date": day(),
                                        "amount": "5000"}, world.leader)
    cases.take_step(case.id, "appeal", {"date": day()}, world.leader)
    assert (_case(rep).state, _case(rep).deadline) == ("appealed", None)
    assert cases.rows(world.leader)[0].steps == ("close",)
    cases.take_step(case.id, "close", {"outcome": "复议维持原决定，已缴纳。"}, world.leader)
    case = _case(rep)
    assert (case.state, case.closed_by) == ("closed", "juzhang")
    assert "复议或诉讼" in cases.rows(world.leader, open_only=False)[0].detail


def test_transfer_case_transferred_then_closed(world):
    rep = _final(world, finding="移送司法机关")
    case = _case(rep)
    assert (case.state, case.deadline) == ("open", TODAY + dt.timedelta(days=3))
    with pytest.raises(UserError, match="请填写回执编号"):
        cases.take_step(case.id, "transfer", {"organ": "商水县公安局", "date": day()},
                        world.reviewer)
    cases.take_step(case.id, "transfer", {"organ": "商水县公安局", "date": day(),
                                          "receipt_no": "商公受字〔2025〕88号"}, world.reviewer)
    case = _case(rep)
    assert (case.state, case.organ, case.receipt_no, case.deadline) == (
        "transferred", "商水县公安局", "商公受字〔2025〕88号", None)
    assert cases.rows(world.reviewer)[0].state_label == "已移送"
    cases.take_step(case.id, "close", {"outcome": "公安机关已立案侦查。"}, world.reviewer)
    [row] = cases.rows(world.reviewer, open_only=False)
    assert row.state == "closed"
    assert row.detail == (f"{day()} 移送商水县公安局，回执 商公受字〔2025〕88号；"
                          "结案：公安机关已立案侦查。")
    assert audit.verify()[0]


def test_a_case_changed_behind_the_kiosk_is_named(world):
    rep = _final(world, finding="行政处罚")
    case = _case(rep)
    cases.take_step(case.id, "decide", {"decision_no": "罚决字14号", "date": day(),
                                        "amount": "8000"}, world.reviewer)
    EnforcementCase.update(amount_fen=100).where(EnforcementCase.id == case.id).execute()
    ok, message = audit.verify()
    assert not ok and "办理情况" in message


def test_overdue_rows_follow_the_clock(world):
    rep = _final(world, finding="移送司法机关")
    assert cases.rows(world.leader, overdue_only=True) == []
    later = TODAY + dt.timedelta(days=5)
    [row] = cases.rows(world.leader, overdue_only=True, today=later)
    assert (row.id, row.days_over, row.kind) == (_case(rep).id, 2, "移送司法机关")
    assert cases.overdue_count(later) == 1
