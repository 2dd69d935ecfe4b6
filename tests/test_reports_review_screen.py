"""The review screen at 80x24 on its view models: a reviewer reads a report without editing
it, and an open rectification's days past its deadline count from the domain's clock."""
from __future__ import annotations

import datetime as dt

from textual.widgets import DataTable, Input, TextArea

from kiosk import reports
from screens.app import make_app
from tests.test_reports import FILLED, build_world
from tests.test_screens_reports import SIZE, login, pin_today, screen_name, settle, text_of


async def test_reviewer_reads_a_report_read_only(db, monkeypatch):
    world = build_world()
    rep = reports.open_report(world.assignments[0], world.member)
    reports.save_draft(rep, FILLED | {"finding": "责令整改", "rectify_deadline": "2025-10-31"},
                       world.member)
    reports.submit(rep, world.member)
    other = reports.open_report(world.assignments[2], world.member)
    reports.save_draft(other, FILLED | {"finding": "责令整改", "rectify_deadline": "2025-10-20"},
                       world.member)
    reports.submit(other, world.member)
    reports.review(other, world.reviewer, "", True)
    reports.finalise(other, world.reviewer)
    pin_today(monkeypatch, dt.date(2025, 10, 22))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await login(pilot, "shenhe")
        await pilot.press("v")
        await settle(pilot)
        assert screen_name(app) == "ReviewScreen"
        table = app.screen.query_one("#review-table", DataTable)
        assert table.get_row_at(0)[:5] == [world.assignments[0].task_code,
                                           "商水县宏达纺织有限公司", "已提交待审核", "责令整改",
                                           "zhangwei"]
        rt = app.screen.query_one("#rect-table", DataTable)
        assert rt.get_row_at(0) == [world.assignments[2].task_code, "商水县恒安建筑工程有限公司",
                                    "2025-10-20", "已超期 2 天"]
        await pilot.press("o")
        await settle(pilot)
        assert screen_name(app) == "ReviewReportScreen"
        assert app.screen.query_one("#inspection_start", Input).disabled
        assert app.screen.query_one("#opinion", TextArea).read_only
        assert app.screen.query_one("#onsite_record", TextArea).text == FILLED["onsite_record"]
        status = text_of(app, "#report-status")
        assert status.startswith("已提交待审核 · 报告期限 2025-10-10（已逾期 12 天）")
        # A reviewer has no submit key: F5 is not in the footer and does nothing.
        assert app.screen.check_action("submit", ()) is False
        await pilot.press("f5")
        await settle(pilot)
        assert status == text_of(app, "#report-status")
        await pilot.press("escape")
        await settle(pilot)
        assert screen_name(app) == "ReviewScreen"
