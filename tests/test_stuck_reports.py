"""Issue 11's stuck points on the report side, each at 80x24 or against the service: the review
screen's keys and its empty queue, evidence withdrawn and kept, the archive path of a final
report, inspection times before the draw, a refused scanner signed out, the operator's
Deadlines screen, and the inspector's 我的任务 list."""
from __future__ import annotations

import datetime as dt

import pytest
from textual.widgets import DataTable

from db.models import AuditEvent, Evidence, Report
from kiosk import auth, reports, slips
from kiosk.errors import UserError
from kiosk.reports import due
from screens.app import make_app
from tests.pilot_steps import login, open_as, scan, scan_as, screen_name, settle, text_of
from tests.screen_text import screen_text
from tests.test_reports import FILLED, PASSWORD, build_world

SIZE = (80, 24)


@pytest.fixture
def world(db):
    return build_world()


def footer_keys(app) -> set[str]:
    """The actions the footer offers on the current screen."""
    return {b.action for _, b, enabled, _ in app.active_bindings.values()
            if b.show and enabled}


def submitted(world) -> Report:
    rep = reports.open_report(world.assignments[0], world.member)
    reports.save_draft(rep, dict(FILLED), world.member)
    return reports.submit(rep, world.member)


# ------------------------------------------------------------------ review

async def test_review_screen_shows_reviewer_keys_not_the_inspectors(world):
    submitted(world)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_as(pilot, "shenhe", "v")
        await pilot.press("o")
        await settle(pilot)
        assert screen_name(app) == "ReviewReportScreen"
        keys = footer_keys(app)
        assert {"review('approve')", "review('reject')", "review('finalise')"} <= keys
        assert not {"save", "attach", "submit", "withdraw"} & keys
        await pilot.press("y")  # approve from the report itself
        await settle(pilot)
        assert screen_name(app) == "InputModal" or "Modal" in screen_name(app)
        await pilot.press("enter")
        await settle(pilot)
        assert screen_name(app) == "ReviewScreen"
        assert Report.get().state == "reviewed"


async def test_finalised_report_names_its_archive_pdf(world, monkeypatch, tmp_path):
    from kiosk.reports import workflow

    rep = submitted(world)
    reports.review(rep, world.reviewer, "", approve=True)
    monkeypatch.setattr(workflow, "render_report_pdf",
                        lambda r, out: (out.parent.mkdir(parents=True, exist_ok=True),
                                        out.write_bytes(b"%PDF-1.4 test"), out)[2])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_as(pilot, "shenhe", "v")
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("y")  # the confirmation
        await settle(pilot)
        path = workflow.archive_path(Report.get())
        assert path.is_file()
        assert text_of(app, "#review-message") == (
            f"{world.assignments[0].task_code} 已定稿。归档 PDF：{path}")
    view = reports.report_view(Report.get().id, world.reviewer)
    assert f"归档 PDF：{path}" in view.status.parts()


def test_final_report_without_archive_says_so(world, monkeypatch):
    from kiosk.reports import workflow

    def no_font(r, out):
        raise UserError("找不到中文字体。")

    monkeypatch.setattr(workflow, "render_report_pdf", no_font)
    rep = submitted(world)
    reports.review(rep, world.reviewer, "", approve=True)
    final = reports.finalise(rep, world.reviewer)
    assert reports.status_of(final).archive == "归档 PDF 未生成（原因见审计日志），可按 F4 重新打印"


async def test_empty_review_queue_names_the_offices_reviewed(world):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_as(pilot, "qita", "v")  # 社会保险股: leads no item of this world
        assert text_of(app, "#review-message") == (
            "暂无待审核的报告：社会保险股不是任何抽查事项的责任股室。")
    assert reports.nothing_to_review_text(world.reviewer) == (
        "暂无待审核的报告。您审核劳动保障监察大队牵头事项（RS-01）的报告。")
    assert reports.nothing_to_review_text(world.leader) == (
        "暂无待审核的报告（您可审核所有责任股室的报告）。")


def test_demo_has_a_reviewer_for_every_lead_office(db):
    from db.models import Item, User
    from kiosk import access, demo

    demo.build(n_targets=60, today=dt.date(2026, 5, 11))
    for item in Item.select():
        reviewers = [u for u in User.select().where(User.role == "reviewer")
                     if u.office == item.lead_office]
        assert len(reviewers) == 1, item.code
        login_, password, *_ = next(r for r in [*demo.ACCOUNTS, *demo.OFFICE_REVIEWERS]
                                    if r[0] == reviewers[0].username)
        assert auth.login(login_, password).office == item.lead_office
    rs01 = Item.get(Item.code == "RS-01")
    u = User.get(User.username == "reviewer2")
    assert access.review_scope(u) == rs01.lead_office == "劳动关系股"


# ------------------------------------------------------------------ evidence

def test_withdrawn_evidence_stays_on_file_marked(world, tmp_path):
    rep = reports.open_report(world.assignments[0], world.member)
    a, b = tmp_path / "现场.jpg", tmp_path / "别家.jpg"
    a.write_bytes(b"right workshop")
    b.write_bytes(b"another firm's workshop")
    reports.attach_evidence(rep, a, world.member)
    reports.attach_evidence(rep, b, world.member)
    with pytest.raises(UserError, match="请写明撤回理由"):
        reports.withdraw_evidence(rep, 2, world.member, " ")
    with pytest.raises(UserError, match="没有第 3 件证据（共 2 件）"):
        reports.withdraw_evidence(rep, 3, world.member, "误传")
    with pytest.raises(UserError, match="只有该任务检查组成员"):
        reports.withdraw_evidence(rep, 2, world.outsider, "误传")
    item, items = reports.withdraw_evidence(rep, 2, world.member, "误传了其他单位的照片")
    assert item.filename == "别家.jpg" and item.withdrawn.endswith("：误传了其他单位的照片")
    assert [i.withdrawn == "" for i in items] == [True, False]
    row = Evidence.get(Evidence.filename == "别家.jpg")
    assert row.withdrawn_by == "zhangwei" and row.withdrawn_at is not None
    assert reports.verify_evidence(row)  # the file itself is kept
    assert Evidence.select().count() == 2
    ev = AuditEvent.select().order_by(AuditEvent.seq.desc()).first()
    assert ev.action == "report.evidence_withdraw"
    with pytest.raises(UserError, match="已撤回"):
        reports.withdraw_evidence(rep, 2, world.member, "再撤")
    reports.save_draft(rep, dict(FILLED), world.member)
    reports.submit(rep, world.member)
    with pytest.raises(UserError, match="不能再修改"):
        reports.withdraw_evidence(rep, 1, world.member, "提交后")


def test_withdrawal_is_covered_in_the_final_reports_hash(world):
    from kiosk.audit import cover

    rep = reports.open_report(world.assignments[0], world.member)
    for name in ("a.jpg", "b.jpg"):
        Evidence.create(report=rep, filename=name, sha256=name * 8, size=3,
                        stored_path=name, added_by="zhangwei")
    Report.update(state="final").where(Report.id == rep.id).execute()
    before = cover.hash_report(str(rep.id))["evidence"]
    # A file never withdrawn keeps the digest it had before withdrawal existed.
    assert before == cover.digest([["a.jpg", "a.jpg" * 8, 3], ["b.jpg", "b.jpg" * 8, 3]])
    Evidence.update(withdrawn_at=dt.datetime(2025, 9, 1), withdrawn_by="zhangwei",
                    withdraw_reason="误传").where(Evidence.filename == "b.jpg").execute()
    assert cover.hash_report(str(rep.id))["evidence"] != before


async def test_form_lists_hashes_and_withdraws_with_f6(world, tmp_path):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8 wrong firm")
    rep = reports.open_report(world.assignments[0], world.member)
    e = reports.attach_evidence(rep, photo, world.member)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan_as(pilot, "zhangwei", slips.payload(world.assignments[0]))
        assert screen_name(app) == "ReportScreen"
        assert "withdraw" in footer_keys(app)
        text = text_of(app, "#evidence")
        assert f"SHA-256 {e.sha256}" in text and "1. photo.jpg" in text
        await pilot.press("f6")
        await settle(pilot)
        await pilot.press(*"1", "space", *"误传")
        await pilot.press("enter")
        await settle(pilot)
        assert "【已撤回" in text_of(app, "#evidence") and "误传】" in text_of(app, "#evidence")
        assert Evidence.get().withdraw_reason == "误传"


# ------------------------------------------------------------------ inspection times

def test_inspection_may_not_begin_before_the_seal(world):
    rep = reports.open_report(world.assignments[0], world.member)  # sealed 2025-07-01 10:00
    res = reports.save_draft(rep, {"inspection_start": "2025-07-01 09:30",
                                   "inspection_end": "2025-07-01 11:00"}, world.member)
    assert res.errors == {"inspection_start":
                          "检查开始时间不能早于摇号封存时间 2025-07-01 10:00（抽中后才能检查）。"}
    saved = Report.get_by_id(rep.id)
    assert saved.inspection_start is None
    assert saved.inspection_end == dt.datetime(2025, 7, 1, 11, 0)
    res = reports.save_draft(rep, {"inspection_start": "2025-07-01 10:00"}, world.member)
    assert res.errors == {}


# ------------------------------------------------------------------ scan

async def test_refused_inspector_is_not_left_signed_in(world):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan_as(pilot, "juzhang", slips.payload(world.assignments[0]))
        assert screen_name(app) == "LoginModal"
        await login(pilot, "wangqiang")  # not on this team
        assert text_of(app, "#scan-message") == "您不是该任务检查组成员，无权打开此报告。"
        assert app.user.username == "juzhang"  # the one who was signed in before
        await scan(pilot, slips.payload(world.assignments[0]))
        await login(pilot, "zhangwei")
        assert screen_name(app) == "ReportScreen" and app.user.username == "zhangwei"


# ------------------------------------------------------------------ deadlines, my tasks

async def test_operator_deadlines_screen_says_what_it_lists(world, monkeypatch):
    auth.create_user("caozuo", PASSWORD, "operator", "操作员")
    monkeypatch.setattr(due, "current_date", lambda: dt.date(2025, 10, 13))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_as(pilot, "caozuo", "l")
        assert app.screen.query_one("#deadlines-table", DataTable).row_count == 0
        assert text_of(app, "#deadlines-note") == (
            "此画面列出检查人员本组、责任股室本股室的待完成报告；抽签操作员不查看被检查单位明细"
            "（第十二条）。全局共 3 项报告待完成：已逾期 0 项，未录入检查时间 3 项。")
        assert "商水县" not in text_of(app, "#deadlines-note")


async def test_my_tasks_one_key_from_home_with_due_dates(world, monkeypatch):
    monkeypatch.setattr(due, "current_date", lambda: dt.date(2025, 10, 13))
    rep = reports.open_report(world.assignments[0], world.member)
    reports.save_draft(rep, {"inspection_start": "2025-09-26 09:00",
                             "inspection_end": "2025-09-26 11:30"}, world.member)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await login(pilot, "zhangwei")
        assert "m  我的任务" in screen_text(app)  # one key from home, listed in its menu
        await pilot.press("m")
        await settle(pilot)
        assert screen_name(app) == "MyTasksScreen"
        table = app.screen.query_one("#my-tasks-table", DataTable)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        # 张伟's teams: assignments 0 and 2 (the odd one is 王强 and 赵敏's).
        assert rows == [
            [world.assignments[0].task_code, "商水县宏达纺织有限公司", "RS-01", "草稿",
             "2025-10-10（已逾期 3 天）"],
            [world.assignments[2].task_code, "商水县恒安建筑工程有限…", "RS-01", "未填报",
             "检查结束后 5 个工作日内"]]
        assert text_of(app, "#my-tasks-note") == (
            "共 2 项任务，其中报告已逾期 1 项。Enter 打开报告。")
        await pilot.press("down", "enter")
        await settle(pilot)
        assert screen_name(app) == "ReportScreen"
        assert Report.select().count() == 2
    assert reports.my_tasks(world.reviewer) == []


async def test_my_tasks_is_not_offered_to_other_roles(world):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_as(pilot, "shenhe", "m")
        assert screen_name(app) == "HomeScreen"
