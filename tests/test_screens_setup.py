"""Pilot tests at 80x24 of the Settings, Users and Plan screens, and a first log-in after a
reset that must set a new password."""
from __future__ import annotations

import datetime as dt

import pytest
from textual.widgets import DataTable, Input, Static

from db.models import AuditEvent, Inspector, Item, ItemStratum, PlanTask, Setting, User
from kiosk import auth, plans, settings, users
from screens.app import make_app
from screens.plan import PlanScreen
from screens.settings import SettingsScreen
from screens.users import UsersScreen

SIZE = (80, 24)
YEAR = dt.date.today().year + 1  # next year: no round is late yet


@pytest.fixture
def store(db):
    auth.create_user("admin", "admin123", "admin", "赵文静")
    auth.create_user("leader", "leader123", "leader", "吴建华")
    Inspector.create(cert_no="豫人社监0001", name="张伟", office="劳动保障监察大队")
    ok = Item.create(code="RS-01", name="劳动合同检查", legal_basis="依据", content="内容",
                     category="用人单位", lead_office="劳动保障监察大队")
    low = Item.create(code="RS-02", name="工资支付检查", legal_basis="依据", content="内容",
                      category="用人单位", lead_office="劳动保障监察大队", ratio_bp=50)
    ItemStratum.create(item=low, name="一般", criterion="default", ratio_bp=50, position=0)
    plans.make_plan(YEAR, "admin", items=[ok, low])
    return db


def user(login: str) -> User:
    return User.get(User.username == login)


async def settle(pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def note(app, wid: str) -> str:
    return str(app.screen.query_one(wid, Static).content)


def cells(app, wid: str, column: int) -> list[str]:
    table = app.screen.query_one(wid, DataTable)
    return [str(table.get_row_at(r)[column]) for r in range(table.row_count)]


def assert_fits(app) -> None:
    for widget in app.screen.query("*"):
        if widget.display:
            assert widget.region.right <= SIZE[0], widget
            assert widget.region.bottom <= SIZE[1], widget


async def type_into_dialog(pilot, text: str) -> None:
    box = pilot.app.screen.query_one("#dialog-input", Input)
    box.value = text
    await pilot.press("enter")
    await settle(pilot)


# ---------------------------------------------------------------- settings


async def test_settings_change_is_validated_and_audited(store):
    app = make_app(user=user("admin"), start=SettingsScreen())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert cells(app, "#settings-table", 0)[:3] == ["单位名称", "行政区划代码", "任务单网址"]
        assert_fits(app)
        row = list(settings.SPECS).index("witness_quorum")
        app.screen.query_one(DataTable).move_cursor(row=row)
        await pilot.press("enter")
        await type_into_dialog(pilot, "1")
        assert note(app, "#settings-note") == "见证人人数应为 2 至 9 之间的整数。"
        assert Setting.get_or_none(Setting.key == "witness_quorum") is None
        await pilot.press("e")  # the key the footer lists
        await type_into_dialog(pilot, "3")
        assert note(app, "#settings-note") == "见证人人数已设为：3"
        assert cells(app, "#settings-table", 1)[row] == "3"
    assert settings.get("witness_quorum") == "3"
    ev = AuditEvent.select().order_by(AuditEvent.seq.desc()).first()
    assert (ev.actor, ev.action, ev.entity_id) == ("admin", "setting.change", "witness_quorum")


async def test_settings_refuse_a_leader(store):
    app = make_app(user=user("leader"), start=SettingsScreen())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.query_one(DataTable).row_count == 0
        assert note(app, "#settings-note") == "只有管理员可以管理账户和设置。"


# ---------------------------------------------------------------- users


async def test_users_add_reset_and_disable(store):
    app = make_app(user=user("admin"), start=UsersScreen())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert cells(app, "#users-table", 0) == ["admin", "leader"]
        assert_fits(app)
        await pilot.press("n")
        for answer in ("jcy", "张伟", "inspector", "豫人社监0001", "first-pass"):
            await type_into_dialog(pilot, answer)
        assert note(app, "#users-note") == "已新增账户 jcy，首次登录须修改密码。"
        row = cells(app, "#users-table", 0).index("jcy")
        assert [cells(app, "#users-table", c)[row] for c in (2, 3, 4, 5)] == [
            "执法检查人员", "劳动保障监察大队", "豫人社监0001", "在用·须改密"]
        # a reviewer without an office is refused in one sentence
        await pilot.press("n")
        for answer in ("shr", "周审核", "reviewer", "", "first-pass"):
            await type_into_dialog(pilot, answer)
        assert note(app, "#users-note") == "责任股室审核人账户须指定其股室。"
        # disable the leader: asked first, history kept
        app.screen.query_one("#users-table", DataTable).move_cursor(
            row=cells(app, "#users-table", 0).index("leader"))
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")  # 确定
        await settle(pilot)
        assert note(app, "#users-note") == "账户 leader 已停用，历史记录保留。"
        assert cells(app, "#users-table", 0)[-1] == "leader"
        assert cells(app, "#users-table", 5)[-1] == "停用"
        # the only administrator cannot disable themselves
        app.screen.query_one("#users-table", DataTable).move_cursor(row=0)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert note(app, "#users-note") == "不能停用自己正在使用的账户。"
    assert not user("leader").active and User.select().count() == 3
    assert user("jcy").must_change and user("jcy").inspector.cert_no == "豫人社监0001"


async def test_first_login_after_a_reset_sets_a_new_password(store):
    users.reset_password("leader", "reset-pass", actor="admin", actor_role="admin")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"leader", "enter", *"reset-pass", "enter")
        await settle(pilot)
        assert "设置新密码" in str(app.screen.query_one(".dialog-title", Static).content)
        assert app.user is None
        await type_into_dialog(pilot, "my-new-pass")
        await type_into_dialog(pilot, "my-new-pass")
        await settle(pilot)
        assert app.user is not None and app.user.username == "leader"
    fresh = user("leader")
    assert not fresh.must_change and auth.verify_password(fresh, "my-new-pass")


async def test_escape_at_the_new_password_leaves_them_signed_out(store):
    users.reset_password("leader", "reset-pass", actor="admin", actor_role="admin")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"leader", "enter", *"reset-pass", "enter")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.user is None
        assert str(app.screen.query_one("#login-error", Static).content) == "未设置新密码，未登录。"
    assert user("leader").must_change


# ---------------------------------------------------------------- plan


async def test_plan_shows_compliance_and_a_leader_approves(store):
    app = make_app(user=user("leader"), start=PlanScreen(YEAR))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert_fits(app)
        assert cells(app, "#plan-items", 0) == ["RS-01", "RS-02"]
        assert cells(app, "#plan-items", 6) == ["合规", "不合规"]
        items = app.screen.query_one("#plan-items", DataTable)
        assert items.get_row_at(1)[6].style == "bold red"  # the 0.5% item
        assert items.get_row_at(0)[6].style == ""
        assert "6 个任务待批准" in note(app, "#plan-caption")
        assert cells(app, "#plan-rounds", 3) == ["待批准"] * 3
        items.move_cursor(row=1)
        await settle(pilot)
        assert "一般对象抽查比例 0.5% 低于 1%（第七条）" in note(app, "#plan-note")
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("y")  # 确定
        await settle(pilot)
        assert "0 个任务待批准" in note(app, "#plan-caption")
        assert cells(app, "#plan-rounds", 3) == ["已批准"] * 3
    assert {t.approved_by for t in PlanTask.select()} == {"leader"}


async def test_plan_cancel_needs_a_reason_and_an_admin_cannot_approve(store):
    app = make_app(user=user("admin"), start=PlanScreen(YEAR))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert note(app, "#plan-note") == "只有局领导可以批准抽查计划（第十八条）。"
        await pilot.press("tab")  # to the rounds
        await pilot.press("c")
        await settle(pilot)
        await type_into_dialog(pilot, "")  # required: the dialog stays
        assert "请填写理由" in str(app.screen.query_one("#dialog-error", Static).content)
        await type_into_dialog(pilot, "与市场监管联合检查合并")
        assert cells(app, "#plan-rounds", 2)[0] == "已取消"
        row = cells(app, "#plan-items", 0).index("RS-01")
        assert cells(app, "#plan-items", 2)[row] == "2"  # planned, now short
        assert app.screen.query_one("#plan-items", DataTable).get_row_at(row)[2].style == (
            "bold red")
        assert "计划 2 轮，少于应抽 3 轮（第七条）" in note(app, "#plan-note")
    task = PlanTask.get(PlanTask.code == f"{YEAR}-RS-01-1")
    assert task.state == "cancelled" and "与市场监管联合检查合并" in task.note


# ---------------------------------------------------------------- idle lock


async def test_an_idle_terminal_locks_after_the_setting(store):
    from screens.lock import LockScreen

    settings.change("idle_lock_seconds", "60", "admin", role="admin")
    app = make_app(user=user("admin"), start=UsersScreen())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.idle_limit == 60
        start = app._last_input
        assert not app.lock_if_idle(now=start + 59)
        await pilot.press("down")  # a key resets the clock
        assert app._last_input > start
        assert app.lock_if_idle(now=app._last_input + 60)
        await settle(pilot)
        # locked, not signed out: the Users screen waits underneath (tests/test_harden_lock.py)
        assert app.user is not None and isinstance(app.screen, LockScreen)
        assert isinstance(app.screen_stack[-2], UsersScreen)


async def test_idle_lock_off_at_zero(store):
    settings.change("idle_lock_seconds", "0", "admin", role="admin")
    app = make_app(user=user("admin"), start=UsersScreen())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not app.lock_if_idle(now=app._last_input + 86400)
        assert app.user is not None
