"""Issue 12 part 1: the idle lock covers the screen, shows no names, and keeps a draft."""
from __future__ import annotations

from textual.widgets import Input, Static

from kiosk import settings, slips
from screens.app import make_app
from screens.home import HomeScreen
from screens.lock import LockScreen
from screens.report import ReportScreen
from tests.screen_text import screen_text
from tests.test_screens_reports import (
    PASSWORD,
    login,
    scan_as,
    settle,
    type_text,
    world,  # noqa: F401 - the fixture
)

SIZE = (80, 24)


async def open_draft(pilot, world):  # noqa: F811 - the fixture's value
    await scan_as(pilot, "zhangwei", slips.payload(world.assignments[0]))
    assert isinstance(pilot.app.screen, ReportScreen)
    assert pilot.app.focused.id == "inspection_start"
    await type_text(pilot, "2025-09-26 09:00")  # typed, not yet saved: a draft in the form


async def lock(pilot) -> None:
    app = pilot.app
    assert not app.lock_if_idle(now=app._last_input + app.idle_limit - 1)
    assert app.lock_if_idle(now=app._last_input + app.idle_limit)
    await settle(pilot)
    assert isinstance(app.screen, LockScreen)


async def test_the_lock_hides_names_and_the_same_user_gets_the_draft_back(world):  # noqa: F811
    settings.put("idle_lock_seconds", "30")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_draft(pilot, world)
        assert app.idle_limit == 30
        shown = screen_text(app)
        assert "张伟" in shown and "商水县宏达纺织有限公司" in shown
        await lock(pilot)
        shown = screen_text(app)
        assert "终端已锁定" in shown
        for name in ("张伟", "zhangwei", "商水县宏达纺织有限公司", "2025-07", "2025-09-26"):
            assert name not in shown
        assert not app.lock_if_idle(now=app._last_input + 3600)  # locked once, not stacked
        await login(pilot, "zhangwei", "wrong-pass")
        assert isinstance(app.screen, LockScreen)
        assert "用户名或密码不正确" in str(app.screen.query_one("#login-error", Static).render())
        app.screen.query_one("#username", Input).value = ""
        app.screen.query_one("#username", Input).focus()
        await login(pilot, "zhangwei", PASSWORD)
        assert isinstance(app.screen, ReportScreen) and app.user.username == "zhangwei"
        assert app.screen.query_one("#inspection_start", Input).value == "2025-09-26 09:00"


async def test_another_login_ends_the_first_session(world):  # noqa: F811
    settings.put("idle_lock_seconds", "30")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_draft(pilot, world)
        await lock(pilot)
        await login(pilot, "juzhang", PASSWORD)
        assert isinstance(app.screen, HomeScreen) and app.user.username == "juzhang"
        assert not any(isinstance(s, (ReportScreen, LockScreen)) for s in app.screen_stack)
        assert "张伟" not in screen_text(app)


async def test_the_lock_is_off_at_zero(world):  # noqa: F811
    settings.put("idle_lock_seconds", "0")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await login(pilot, "juzhang", PASSWORD)
        assert not app.lock_if_idle(now=app._last_input + 86400)
        assert isinstance(app.screen, HomeScreen)


async def test_the_timer_locks_by_itself_and_a_key_resets_it(world):  # noqa: F811
    settings.put("idle_lock_seconds", "2")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await login(pilot, "juzhang", PASSWORD)
        for _ in range(3):  # keys every second: never idle for 2
            await pilot.pause(1.0)
            await pilot.press("down")
        assert isinstance(app.screen, HomeScreen)
        await pilot.pause(3.2)
        assert isinstance(app.screen, LockScreen)
