"""Pilot tests at 80x24, keyboard only: scan a slip, log in, fill and submit the report,
review and finalise it; refusals for outsiders and forged slips; the deadlines screen."""
from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from textual.widgets import DataTable, Input, Select, Static, TextArea

from db.models import AuditEvent, Evidence, Rectification, Report
from kiosk import slips
from kiosk.reports import due
from screens.app import make_app
from screens.report import ReportScreen
from tests.pilot_steps import (
    login,
    open_as,
    scan,
    scan_as,
    screen_name,
    settle,
    text_of,
    type_text,
)
from tests.test_reports import PASSWORD, build_world  # noqa: F401 - PASSWORD: for importers

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def _no_blink(monkeypatch):
    monkeypatch.setattr(Input, "cursor_blink", False, raising=False)


@pytest.fixture
def world(db):
    return build_world()


def pin_today(monkeypatch, day: dt.date) -> None:
    """Every deadline the domain computes counts from `day`."""
    monkeypatch.setattr(due, "current_date", lambda: day)


class Saves:
    """The form's Saved messages, seen through the app's message hook: a test waits on the
    save itself instead of sleeping past the autosave timer."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    def __call__(self, message) -> None:
        if isinstance(message, ReportScreen.Saved):
            self.event.set()

    async def next(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self.event.wait(), timeout)
        self.event.clear()


async def test_scan_fill_submit_review_finalise(world, tmp_path):
    """The inspector's whole path and the reviewer's, keys only."""
    a = world.assignments[0]
    payload = slips.payload(a)
    photo = tmp_path / "photo1.jpg"
    photo.write_bytes(b"\xff\xd8 a photo of the workshop")
    app = make_app()
    saves = Saves()
    async with app.run_test(size=SIZE, message_hook=saves) as pilot:
        await settle(pilot)
        await login(pilot, "juzhang")  # someone is at the kiosk; the inspector comes by
        assert screen_name(app) == "HomeScreen"
        await pilot.press("s")
        await settle(pilot)
        assert screen_name(app) == "ScanScreen"
        assert app.focused.id == "payload"
        await scan(pilot, payload)
        assert screen_name(app) == "LoginModal"
        await login(pilot, "zhangwei")
        assert screen_name(app) == "ReportScreen"
        assert app.user.username == "zhangwei"
        report = Report.get(Report.assignment == a)
        assert report.unit == "商水县宏达纺织有限公司"

        # Keyboard only: the start field has focus; Tab walks the form.
        assert app.focused.id == "inspection_start"
        await type_text(pilot, "2025-09-26 09:00")
        await pilot.press("tab")
        await type_text(pilot, "2025-09-26 11:30")
        await pilot.press("tab")  # leaving the field saves it
        await settle(pilot)
        assert Report.get_by_id(report.id).inspection_end == dt.datetime(2025, 9, 26, 11, 30)
        assert Report.get_by_id(report.id).due_date == dt.date(2025, 10, 10)
        status = text_of(app, "#report-status")
        assert "已保存" in status and "报告期限 2025-10-10" in status
        assert app.focused.id == "method"
        await pilot.press("tab", "tab", "tab", "tab")  # inspectors, unit, content (prefilled)
        assert app.focused.id == "onsite_record"
        saves.event.clear()
        await type_text(pilot, "查阅劳动合同52份")
        await saves.next()  # the debounce saves without leaving the field
        assert app.focused.id == "onsite_record"
        assert Report.get_by_id(report.id).onsite_record == "查阅劳动合同52份"
        await pilot.press("tab")
        assert app.focused.id == "evaluation"
        await type_text(pilot, "基本遵守")
        await pilot.press("tab")
        assert app.focused.id == "finding"
        await pilot.press("enter", "down", "enter")  # open the list, first choice: 无问题
        await settle(pilot)
        assert app.screen.query_one("#finding", Select).value == "无问题"
        await pilot.press("tab", "tab")  # past the rectification deadline
        assert app.focused.id == "opinion"
        await type_text(pilot, "完善合同范本")

        # Evidence by path.
        await pilot.press("f3")
        await settle(pilot)
        assert screen_name(app) == "PromptModal"
        await type_text(pilot, str(photo))
        await pilot.press("enter")
        await settle(pilot)
        assert Evidence.select().where(Evidence.report == report.id).count() == 1
        assert "photo1.jpg" in text_of(app, "#evidence")

        # Submit, after confirming.
        await pilot.press("f5")
        await settle(pilot)
        assert screen_name(app) == "ConfirmModal"
        await pilot.press("y")
        await settle(pilot)
        saved = Report.get_by_id(report.id)
        assert saved.state == "submitted", text_of(app, "#report-error")
        assert (saved.finding, saved.opinion, saved.evaluation) == (
            "无问题", "完善合同范本", "基本遵守")
        assert app.screen.query_one("#opinion", TextArea).read_only
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert screen_name(app) == "HomeScreen"

        # The lead office's reviewer.
        await pilot.press("v")
        await settle(pilot)
        assert screen_name(app) == "LoginModal"
        await login(pilot, "shenhe")
        assert screen_name(app) == "ReviewScreen"
        table = app.screen.query_one("#review-table", DataTable)
        assert table.row_count == 1
        assert table.get_row_at(0)[0] == a.task_code
        await pilot.press("y")
        await settle(pilot)
        assert screen_name(app) == "PromptModal"
        await type_text(pilot, "同意")
        await pilot.press("enter")
        await settle(pilot)
        assert Report.get_by_id(report.id).state == "reviewed"
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        final = Report.get_by_id(report.id)
        assert (final.state, final.reviewed_by, final.review_note) == ("final", "shenhe", "同意")
        assert "已定稿" in text_of(app, "#review-message")
        assert Rectification.select().count() == 0



async def test_reviewer_returns_and_closes_rectification(world):
    """Reject with a note, then (after resubmission) finalise a 责令整改 and close it."""
    from kiosk import reports
    from tests.test_reports import FILLED

    rep = reports.open_report(world.assignments[0], world.member)
    reports.save_draft(rep, FILLED | {"finding": "责令整改", "rectify_deadline": "2025-10-31"},
                       world.member)
    reports.submit(rep, world.member)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_as(pilot, "shenhe", "v")
        assert screen_name(app) == "ReviewScreen"  # already a reviewer: no second login
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("enter")  # an empty reason is refused
        await settle(pilot)
        assert "退回理由" in text_of(app, "#review-message")
        await pilot.press("n")
        await settle(pilot)
        await type_text(pilot, "补充笔录")
        await pilot.press("enter")
        await settle(pilot)
        assert Report.get_by_id(rep.id).state == "draft"
        assert app.screen.query_one("#review-table", DataTable).row_count == 0
        reports.submit(rep, world.member)
        reports.review(rep, world.reviewer, "", True)
        reports.finalise(rep, world.reviewer)
        await pilot.press("escape", "v")
        await settle(pilot)
        rt = app.screen.query_one("#rect-table", DataTable)
        assert rt.row_count == 1 and rt.get_row_at(0)[2] == "2025-10-31"
        await pilot.press("c")
        await settle(pilot)
        await type_text(pilot, "已整改")
        await pilot.press("enter")
        await settle(pilot)
        assert Rectification.get().note == "已整改"
        assert rt.row_count == 0


async def test_non_member_scanning_is_refused(world):
    a = world.assignments[0]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan_as(pilot, "wangqiang", slips.payload(a))
        assert screen_name(app) == "LoginModal"  # not on this team: whoever is, log in
        await login(pilot, "wangqiang")
        assert screen_name(app) == "ScanScreen"
        assert text_of(app, "#scan-message") == "您不是该任务检查组成员，无权打开此报告。"
        assert app.screen.query_one("#scan-message").has_class("error")
        assert app.screen.query_one("#payload", Input).value == ""
        assert Report.select().count() == 0
        last = AuditEvent.select().order_by(AuditEvent.seq.desc()).first()
        assert (last.action, last.actor) == ("report.refused", "wangqiang")


async def test_member_already_logged_in_goes_straight_to_the_form(world):
    a = world.assignments[0]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan_as(pilot, "lina", a.task_code)  # typed by hand
        assert screen_name(app) == "ReportScreen"
        assert "2025-07-0001" in text_of(app, "#report-info")


async def test_forged_payload_shows_the_refusal(world):
    a = world.assignments[0]
    good = slips.payload(a)
    forged = good[:-3] + ("XYZ" if not good.endswith("XYZ") else "ABC")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan_as(pilot, "zhangwei", forged)
        assert screen_name(app) == "ScanScreen"
        msg = text_of(app, "#scan-message")
        assert "校验失败" in msg and a.task_code in msg
        assert app.screen.query_one("#scan-message").has_class("error")
        assert app.screen.query_one("#payload", Input).value == ""
        assert app.focused.id == "payload"  # ready for the next scan
        last = AuditEvent.select().order_by(AuditEvent.seq.desc()).first()
        assert last.action == "slips.refused"


async def test_half_typed_date_does_not_block_saving(world):
    """A bad date shows a sentence; the other fields still save."""
    from kiosk import reports

    rep = reports.open_report(world.assignments[0], world.member)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan_as(pilot, "zhangwei", world.assignments[0].task_code)
        await type_text(pilot, "2025-09")
        await pilot.press("tab", "tab", "tab", "tab", "tab", "tab", "tab")
        assert app.focused.id == "evaluation"
        await type_text(pilot, "良好")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "格式应为" in text_of(app, "#report-error")
        saved = Report.get_by_id(rep.id)
        assert saved.evaluation == "良好" and saved.inspection_start is None


async def test_deadlines_screen_marks_overdue(world, monkeypatch):
    from kiosk import reports

    rep = reports.open_report(world.assignments[0], world.member)
    reports.save_draft(rep, {"inspection_start": "2025-09-26 09:00",
                             "inspection_end": "2025-09-26 11:30"}, world.member)
    pin_today(monkeypatch, dt.date(2025, 10, 13))
    overdue_days = (due.current_date() - dt.date(2025, 10, 10)).days
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_as(pilot, "juzhang", "l")
        assert screen_name(app) == "DeadlinesScreen"
        table = app.screen.query_one("#deadlines-table", DataTable)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert [r[0] for r in rows] == [a.task_code for a in world.assignments]
        assert rows[0][4] == "2025-10-10" and rows[0][5] == f"已逾期 {overdue_days} 天"
        assert rows[1][4] == "未录入"
        assert "已逾期 1 项" in text_of(app, "#deadlines-note")
        await pilot.press("t")
        await settle(pilot)
        per_inspector = {table.get_row_at(i)[0]: table.get_row_at(i)
                         for i in range(table.row_count)}
        assert per_inspector["张伟"][1:3] == ["2", "1"]
        assert per_inspector["王强"][1:3] == ["1", "0"]
        await pilot.press("t")
        await settle(pilot)
        assert table.get_row_at(0)[:3] == ["劳动保障监察大队", "3", "1"]


async def test_inspector_sees_only_own_deadlines(world):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_as(pilot, "wangqiang", "l")
        table = app.screen.query_one("#deadlines-table", DataTable)
        assert [table.get_row_at(i)[0] for i in range(table.row_count)] == [
            world.assignments[1].task_code]


async def test_provisional_calendar_warning_on_the_form(world, monkeypatch):
    from kiosk import reports

    pin_today(monkeypatch, dt.date(2026, 11, 30))  # 2027 stays inside the accepted window
    rep = reports.open_report(world.assignments[0], world.member)
    reports.save_draft(rep, {"inspection_start": "2027-09-27 09:00",
                             "inspection_end": "2027-09-27 10:00"}, world.member)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan_as(pilot, "zhangwei", world.assignments[0].task_code)
        status = text_of(app, "#report-status")
        assert "日历为临时（该年度节假日安排未公布）" in status
        assert f"报告期限 {rep.due_date.isoformat()}" in status
        assert app.screen.query_one("#report-status").has_class("provisional")


async def test_autosave_leaves_a_teammates_fields_alone(world):
    """Terminal A's form is open; B saves the record; A's autosave of its own edit keeps it,
    and A's edit of the same field B changed is refused with a sentence."""
    from kiosk import reports

    rep = reports.open_report(world.assignments[0], world.member)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan_as(pilot, "zhangwei", world.assignments[0].task_code)
        other = reports.open_report(world.assignments[0], world.member2)
        reports.save_draft(other, {"onsite_record": "B 的笔录", "opinion": "B 的意见"},
                           world.member2)
        await pilot.press("tab", "tab", "tab", "tab", "tab", "tab", "tab")
        assert app.focused.id == "evaluation"
        await type_text(pilot, "A")
        await pilot.press("ctrl+s")
        await settle(pilot)
        saved = Report.get_by_id(rep.id)
        assert (saved.onsite_record, saved.evaluation, saved.opinion) == (
            "B 的笔录", "A", "B 的意见")
        assert text_of(app, "#report-error") == ""
        await pilot.press("tab", "tab", "tab")
        assert app.focused.id == "opinion"
        await type_text(pilot, "A")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert text_of(app, "#report-error") == "处理意见和建议已被同组其他成员修改，请刷新后再改。"
        assert Report.get_by_id(rep.id).opinion == "B 的意见"


async def test_escape_asks_before_dropping_unsaved_text(world):
    from kiosk import reports

    reports.open_report(world.assignments[0], world.member)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan_as(pilot, "zhangwei", world.assignments[0].task_code)
        await type_text(pilot, "2025-09")
        await pilot.press("escape")
        await settle(pilot)
        assert screen_name(app) == "ConfirmModal"
        assert "草稿有未保存的内容，仍要离开吗？" in str(
            app.screen.query_one(".dialog-body", Static).render())
        await pilot.press("n")
        await settle(pilot)
        assert screen_name(app) == "ReportScreen"
        assert app.screen.query_one("#inspection_start", Input).value == "2025-09"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert screen_name(app) not in ("ReportScreen", "ConfirmModal")
