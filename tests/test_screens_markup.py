"""Issue 12, "scanned and typed text is never read as markup", through the screens at 80x24: a
display name that is a quit link and a firm name with [b] show as typed, in the home line, the
scan's notification and the report form, and the app keeps running."""
from __future__ import annotations

from textual.widgets import Static

from db.models import Target, User
from kiosk import slips
from screens.app import make_app
from tests.pilot_steps import login, scan_as, screen_name, settle
from tests.screen_text import screen_text
from tests.test_reports import build_world

SIZE = (80, 24)
QUIT_NAME = "[@click=app.quit]X[/]"
BOLD_FIRM = "商水县[b]粗[/b]厂"


def static_text(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def test_hostile_display_and_firm_names_show_as_typed(db):
    world = build_world()
    User.update(display_name=QUIT_NAME).where(User.username == "wangqiang").execute()
    Target.update(name=BOLD_FIRM).where(Target.id == world.targets[0].id).execute()
    payload = slips.payload(world.assignments[0])
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await login(pilot, "wangqiang")
        assert screen_name(app) == "HomeScreen"
        assert QUIT_NAME in static_text(app, "#home-user")
        await pilot.press("o")  # log out; the lead's colleague scans, the outsider signs in
        await settle(pilot)
        await scan_as(pilot, "juzhang", payload)
        assert screen_name(app) == "LoginModal"
        await login(pilot, "wangqiang")  # not on this team: refused, told in a notification
        assert app.is_running and screen_name(app) == "ScanScreen"
        shown = screen_text(app)
        assert f"{QUIT_NAME} 未保持登录。" in shown
        await pilot.click("Toast")  # on the would-be link: a toast only closes
        await settle(pilot)
        assert app.is_running and screen_name(app) == "ScanScreen"
        await scan_as_member(pilot, payload)
        assert screen_name(app) == "ReportScreen"
        info = static_text(app, "#report-info")
        assert info.startswith(f"检查报告 {world.assignments[0].task_code} · {BOLD_FIRM}\n")
        assert BOLD_FIRM in screen_text(app)
    assert app.return_code in (None, 0)


async def scan_as_member(pilot, payload: str) -> None:
    from tests.pilot_steps import scan

    await scan(pilot, payload)
    await login(pilot, "zhangwei")
