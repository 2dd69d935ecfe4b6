"""The scan service (one call per person at the terminal), the report rules in kiosk.access,
and the view models the report screens show."""
from __future__ import annotations

import datetime as dt

import pytest

from db.models import AuditEvent, Report, User
from kiosk import access, reports, slips
from kiosk.errors import UserError
from kiosk.reports import due
from tests.test_reports import FILLED, build_world


@pytest.fixture
def world(db):
    return build_world()


def last_event() -> AuditEvent:
    return AuditEvent.select().order_by(AuditEvent.seq.desc()).first()


# ------------------------------------------------------------------ scan_slip

def test_a_member_gets_the_form_at_once(world):
    a = world.assignments[0]
    result = reports.scan_slip(slips.payload(a), world.member)
    assert (result.refused, result.needs_login, result.task_code) == (False, False, a.task_code)
    assert result.message == f"已打开任务 {a.task_code} 的检查报告。"
    view = result.report
    rep = Report.get(Report.assignment == a)
    assert view.report_id == rep.id and view.editable
    assert view.context.team == (("张伟", "豫411600000"), ("李娜", "豫411600001"))
    assert view.values["unit"] == "商水县宏达纺织有限公司" and view.values["inspection_end"] == ""
    assert view.status.state_label == "草稿"
    assert view.status.due_text == "报告期限：录入检查结束时间后计算"
    assert view.evidence == ()
    assert (last_event().action, last_event().actor) == ("report.open", "zhangwei")


def test_anyone_else_at_the_terminal_is_asked_for_a_team_member(world):
    """A leader may open any report, but is not taken for the person holding the slip."""
    a = world.assignments[0]
    n = AuditEvent.select().count()
    for user in (None, world.leader, world.outsider):
        result = reports.scan_slip(a.task_code, user)
        assert (result.needs_login, result.refused, result.report) == (True, False, None)
        assert result.message == f"任务 {a.task_code}：请检查组成员登录。"
    assert AuditEvent.select().count() == n and Report.select().count() == 0


def test_whoever_signed_in_for_the_slip(world):
    a = world.assignments[0]
    payload = slips.payload(a)
    refused = reports.scan_slip(payload, world.outsider, signed_in=True)
    assert refused.refused and refused.report is None
    assert refused.message == "您不是该任务检查组成员，无权打开此报告。"
    assert (last_event().action, last_event().actor) == ("report.refused", "wangqiang")
    other = reports.scan_slip(payload, world.other_reviewer, signed_in=True)
    assert other.refused and last_event().actor == "qita"
    # The lead office's reviewer and the leader may read it, not edit it.
    for user in (world.reviewer, world.leader):
        result = reports.scan_slip(payload, user, signed_in=True)
        assert result.report is not None and not result.report.editable
    assert reports.scan_slip(payload, world.member2, signed_in=True).report.editable


def test_a_forged_slip_is_refused_under_the_real_actor(world):
    a = world.assignments[0]
    good = slips.payload(a)
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    result = reports.scan_slip(forged, world.member)
    assert result.refused and result.report is None and not result.needs_login
    assert "校验失败" in result.message and a.task_code in result.message
    ev = last_event()
    assert (ev.action, ev.actor, ev.entity_id) == ("slips.refused", "zhangwei", a.task_code)
    assert reports.scan_slip(forged, None).refused and last_event().actor == "scanner"
    assert Report.select().count() == 0


def test_check_only_opens_nothing(world):
    a = world.assignments[0]
    result = reports.scan_slip(slips.payload(a), None, check_only=True)
    assert (result.message, result.refused, result.report) == (
        f"任务单有效：{a.task_code}。", False, None)
    assert Report.select().count() == 0
    assert reports.scan_slip("2099-01-0001", None, check_only=True).refused


# ------------------------------------------------------------------ access rules

def test_report_rules_live_in_access(world):
    a0, a1 = world.assignments[0], world.assignments[1]
    assert access.is_team_member(a0, world.member) and access.is_team_member(a0.id, world.member)
    assert not access.is_team_member(a1, world.member)
    assert access.lead_office(a0) == "劳动保障监察大队"
    assert access.is_lead_reviewer(a0, world.reviewer)
    assert not access.is_lead_reviewer(a0, world.other_reviewer)
    assert not access.is_lead_reviewer(a0, world.leader)  # leaders oversee, they do not review
    assert [access.may_open_report(a0, u) for u in (
        world.member, world.outsider, world.reviewer, world.other_reviewer, world.leader, None)
    ] == [True, False, True, False, True, False]
    assert access.review_scope(world.leader) == access.ALL_OFFICES
    assert access.review_scope(world.reviewer) == "劳动保障监察大队"
    assert access.review_scope(world.member) is None and access.review_scope(None) is None
    User.update(active=False).where(User.id == world.reviewer.id).execute()
    assert not access.may_open_report(a0, world.reviewer)  # the session's row is stale
    assert not access.is_lead_reviewer(a0, world.reviewer)


def test_deadline_rows_follow_the_scope(world):
    for a in world.assignments:
        reports.open_report(a, world.leader)
    codes = [a.task_code for a in world.assignments]
    assert [r.task_code for r in reports.visible_deadlines(world.leader)] == codes
    assert [r.task_code for r in reports.visible_deadlines(world.reviewer)] == codes
    assert reports.visible_deadlines(world.other_reviewer) == []
    assert [r.task_code for r in reports.visible_deadlines(world.outsider)] == [codes[1]]
    assert [r.task_code for r in reports.visible_deadlines(world.member)] == [codes[0], codes[2]]
    assert reports.visible_deadlines(None) == []


# ------------------------------------------------------------------ texts and view models

def test_days_left_text_is_one_rule():
    d = dt.date(2025, 10, 10)
    assert [due.days_left_text(d, d + dt.timedelta(days=k)) for k in (-3, -1, 0, 1, 4)] == [
        "剩 3 天", "剩 1 天", "今天到期", "已逾期 1 天", "已逾期 4 天"]
    assert due.days_left_text(d, dt.date(2025, 10, 12), late="已超期") == "已超期 2 天"
    assert due.due_line(None) == "报告期限：录入检查结束时间后计算"
    assert due.due_line(d, dt.date(2025, 10, 8)) == "报告期限 2025-10-10（剩 2 天）"


def test_the_clock_is_pinned_in_one_place(world, monkeypatch):
    rep = reports.open_report(world.assignments[0], world.member)
    reports.save_draft(rep, {"inspection_start": "2025-09-26 09:00",
                             "inspection_end": "2025-09-26 11:30"}, world.member)
    monkeypatch.setattr(due, "current_date", lambda: dt.date(2025, 10, 13))
    assert reports.report_view(rep.id, world.member).status.due_text == (
        "报告期限 2025-10-10（已逾期 3 天）")
    row = next(r for r in reports.deadlines() if r.task_code == world.assignments[0].task_code)
    assert (row.days_left, row.status, row.due_text, row.status_text) == (
        -3, "已逾期 3 天", "2025-10-10", "已逾期 3 天")
    never = next(r for r in reports.deadlines() if r.task_code == world.assignments[1].task_code)
    assert (never.due_text, never.status_text) == ("未录入", "未录入（报告未打开）")
    assert reports.deadlines_note(reports.deadlines()) == "共 3 项待完成，其中已逾期 1 项。"


def test_save_form_saves_what_parses(world):
    rep = reports.open_report(world.assignments[0], world.member)
    result = reports.save_form(rep.id, {"evaluation": "良好", "inspection_start": "2025-09"},
                               world.member, base=reports.form_values(rep))
    assert result.changed == ["evaluation"]
    assert list(result.errors) == ["inspection_start"] and "格式应为" in result.message
    assert result.status.state_label == "草稿"
    assert Report.get_by_id(rep.id).evaluation == "良好"
    with pytest.raises(UserError, match="只有该任务检查组成员"):
        reports.save_form(rep.id, {"evaluation": "x"}, world.reviewer)


def test_review_queue_and_rectifications_as_rows(world, monkeypatch):
    rep = reports.open_report(world.assignments[0], world.member)
    reports.save_draft(rep, FILLED | {"finding": "责令整改", "rectify_deadline": "2025-10-31"},
                       world.member)
    status = reports.submit_form(rep.id, world.member)
    assert (status.state, status.state_label) == ("submitted", "已提交待审核")
    assert not reports.report_view(rep.id, world.member).editable
    [row] = reports.review_queue(world.reviewer)
    assert row.cells()[:5] == (world.assignments[0].task_code, "商水县宏达纺织有限公司",
                               "已提交待审核", "责令整改", "zhangwei")
    assert reports.review_queue(world.other_reviewer) == []
    assert reports.review_queue(world.member) == []
    reports.review(row.report_id, world.reviewer, "", True)
    reports.finalise(row.report_id, world.reviewer)
    monkeypatch.setattr(due, "current_date", lambda: dt.date(2025, 11, 2))
    [rect] = reports.open_rectifications(world.reviewer)
    assert reports.open_rectifications(world.other_reviewer) == []
    assert reports.open_rectifications(world.member) == []  # Art. 12: not an inspector's list
    assert [r.rect_id for r in reports.open_rectifications(world.leader)] == [rect.rect_id]
    assert rect.cells() == (world.assignments[0].task_code, "商水县宏达纺织有限公司",
                            "2025-10-31", "已超期 2 天")
    reports.close_rectification(rect.rect_id, world.reviewer, "已整改")
    assert reports.open_rectifications(world.reviewer) == []
    with pytest.raises(UserError, match="无权打开"):
        reports.report_view(rep.id, world.other_reviewer)
