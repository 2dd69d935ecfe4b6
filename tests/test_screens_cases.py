"""Pilot tests at 80x24, keyboard only: the Cases screen takes a penalty case from decision to
payment and shows overdue cases; the leaders' dashboard switches tables and years and exports
the year's workbook; both refuse those who may not see them."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from textual.widgets import DataTable

from db.models import AuditEvent, Draw, EnforcementCase, Report
from kiosk import reports
from screens.app import make_app
from screens.cases import CasesScreen, FieldsModal
from screens.dashboard import DashboardScreen
from tests.screen_text import screen_text
from tests.test_reports import FILLED, build_world
from tests.test_screens_reports import SIZE, settle, text_of, type_text


@pytest.fixture
def world(db):
    w = build_world()
    for n, finding in ((0, "行政处罚"), (2, "责令整改")):
        rep = reports.open_report(w.assignments[n], w.member)
        over = {"finding": finding}
        if finding == "责令整改":
            over["rectify_deadline"] = "2025-10-31"  # long past: overdue
        reports.save_draft(rep, FILLED | over, w.member)
        reports.submit(rep, w.member)
        reports.review(rep, w.reviewer, "", True)
        reports.finalise(rep, w.reviewer)
    return w


def _rows(app) -> list[list[str]]:
    table = app.screen.query_one(DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_cases_screen_decides_and_closes_a_penalty(world):
    today = f"{dt.date.today():%Y-%m-%d}"
    app = make_app(user=world.reviewer, start=CasesScreen())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, CasesScreen)
        rows = _rows(app)
        # Overdue first (its deadline is the earliest), in red; then the open penalty.
        assert [(r[1], r[2]) for r in rows] == [("2025-07-0003", "责令整改"),
                                               ("2025-07-0001", "行政处罚")]
        assert "逾期" in rows[0][3] and rows[1][3] == "待作出决定"
        assert "未结案件：共 2 件，逾期 1 件" in text_of(app, "#cases-caption")
        text = screen_text(app)
        assert "办理" in text and "筛选" in text  # the footer at 80 columns
        await pilot.press("down")
        assert "下一步：处罚决定" in text_of(app, "#cases-detail")
        await pilot.press("a")  # no second step for an undecided penalty
        assert "没有这一步可办理" in text_of(app, "#cases-note")
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, FieldsModal)
        for value in ("罚决字12号", today, "20000"):
            await type_text(pilot, value)
            await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CasesScreen)
        assert "处罚决定已记录，现为“待缴纳罚款”" in text_of(app, "#cases-note")
        case = EnforcementCase.get(EnforcementCase.kind == "行政处罚")
        assert (case.state, case.decision_no, case.amount_fen) == ("decided", "罚决字12号",
                                                                    2000000)
        # The cursor stays on the case; a wrong date is refused in one sentence.
        assert "罚款 20,000.00 元" in text_of(app, "#cases-detail")
        await pilot.press("s")
        await settle(pilot)
        await type_text(pilot, "昨天")
        await pilot.press("enter")
        await settle(pilot)
        assert text_of(app, "#cases-note") == "缴纳日期应为日期，如 2026-06-30。"
        await pilot.press("s")
        await settle(pilot)
        await type_text(pilot, today)
        await pilot.press("enter")
        await settle(pilot)
        assert EnforcementCase.get_by_id(case.id).state == "paid"
        assert [r[1] for r in _rows(app)] == ["2025-07-0003"]
        await pilot.press("f")  # overdue only
        assert "逾期案件：共 1 件" in text_of(app, "#cases-caption")
        await pilot.press("f")  # all, closed included
        assert [r[3] for r in _rows(app)][1] == "已缴纳（结案）"
    assert [e.action for e in AuditEvent.select().where(
        AuditEvent.action.startswith("case.")).order_by(AuditEvent.seq)] == [
        "case.decide", "case.pay"]


async def test_cases_screen_refuses_an_inspector(world):
    app = make_app(user=world.member, start=CasesScreen())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, CasesScreen)
        assert text_of(app, "#cases-note") == (
            "只有审核人、局领导、纪检审计人员或管理员可以查看执法案件。")
        assert _rows(app) == []


async def test_dashboard_screen_tables_years_and_export(world, tmp_path):
    Draw.update(draw_date=dt.date(2025, 7, 1)).execute()
    # Both reports were submitted today (the real clock), within a deadline still ahead.
    Report.update(due_date=dt.date.today() + dt.timedelta(days=10)).execute()
    app = make_app(user=world.leader, start=DashboardScreen())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("minus")  # this year has no tasks; the constructed one is 2025
        await settle(pilot)
        for _ in range(dt.date.today().year - 2026):
            await pilot.press("minus")
            await settle(pilot)
        assert text_of(app, "#dashboard-summary").startswith("2025 年度  逾期报告 0  逾期案件 1")
        assert text_of(app, "#dashboard-caption") == "1/8 年度考核（1 行，t 切换）"
        assert _rows(app) == [["劳动保障监察大队", "3", "2", "0", "2"]]
        await pilot.press("t", "t")
        assert text_of(app, "#dashboard-caption").startswith("3/8 名录覆盖")
        assert _rows(app)[0][2:] == ["3", "3", "2", "66.7%"]
        text = screen_text(app)
        assert "下一表" in text and "导出" in text
        await pilot.press("x")
        await settle(pilot)
        field = app.screen.query_one("#dialog-input")
        field.value = str(tmp_path / "2025年度考核.xlsx")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert text_of(app, "#dashboard-note").startswith("已导出 2025 年度考核表")
    assert (tmp_path / "2025年度考核.xlsx").read_bytes()[:2] == b"PK"
    ev = AuditEvent.select().order_by(AuditEvent.seq.desc()).first()
    assert (ev.actor, ev.action) == ("juzhang", "dashboard.export")


async def test_dashboard_screen_refuses_a_reviewer(world):
    app = make_app(user=world.reviewer, start=DashboardScreen())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert text_of(app, "#dashboard-note") == "只有局领导和纪检审计人员可以查看领导看板。"
        assert _rows(app) == []


async def test_sanctions_screen_records_and_reassigns_before_witnesses(db, tmp_path):
    """A leader records a revocation; the inspector's open tasks are listed; the operator
    reassigns them while two witnesses sign in over the screen; the record verifies."""
    from db.models import User
    from kiosk import auth
    from kiosk.draw import record, steps
    from kiosk.draw.verify import verify_file
    from screens.sanctions import SanctionsScreen
    from tests.draw_world import confirm_all, make_world, run_to_matched

    _item, _targets, _inspectors, tasks = make_world()
    draw_id = run_to_matched(tasks[0].code)
    confirm_all(draw_id)
    steps.seal(draw_id, "operator")
    leader = auth.create_user("leader", "leader123", "leader", "局长")
    cert = json.loads(Draw.get_by_id(draw_id).record_json)["teams"][0][1][0]
    app = make_app(user=leader, start=SanctionsScreen())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "待改派的任务 0 项" in text_of(app, "#sanctions-tasks-caption")
        await pilot.press("n")
        await settle(pilot)
        for value in (cert, "吊销执法证", f"{dt.date.today():%Y-%m-%d}", "", "违法检查", ""):
            await type_text(pilot, value)
            await pilot.press("enter")
        await settle(pilot)
        assert text_of(app, "#sanctions-note").startswith("已记录：")
        rows = [[str(c) for c in r] for r in
                (app.screen.query_one("#sanctions-table", DataTable).get_row_at(0),)]
        assert rows[0][0] == cert and rows[0][2:3] + rows[0][5:] == ["吊销执法证", "生效中"]
        n_open = len(app.screen.tasks)
        assert n_open > 0 and f"待改派的任务 {n_open} 项" in text_of(
            app, "#sanctions-tasks-caption")
        await pilot.press("r")  # a leader may reassign too, but here the operator does
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        app.user = User.get(User.username == "operator")
        await pilot.press("r")
        await settle(pilot)
        await type_text(pilot, "执法证被吊销")
        await pilot.press("enter")
        await settle(pilot)
        for login in ("witness1", "witness2"):
            await type_text(pilot, login)
            await pilot.press("enter")
            await type_text(pilot, f"{login}123")
            await pilot.press("enter")
            await settle(pilot)
        assert isinstance(app.screen, SanctionsScreen)
        assert text_of(app, "#sanctions-note").startswith(f"已按规程改派 {n_open} 人次")
        assert app.user.username == "operator"  # the witnesses did not take the session
        assert "待改派的任务 0 项" in text_of(app, "#sanctions-tasks-caption")
    out = record.write_record(draw_id, tmp_path / "record.json")
    assert verify_file(out)[0] == 0
