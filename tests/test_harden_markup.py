"""Issue 12 part 5: text from imports, log-ins and scans is shown as typed, never as markup."""
from __future__ import annotations

from textual.widgets import Input, Static

from db.models import User
from kiosk import auth, registry
from kiosk.errors import UserError
from screens.app import make_app
from screens.audit import AuditScreen
from screens.registry import RegistryScreen
from screens.scan import ScanScreen
from screens.widgets.plain_table import plain
from tests.screen_text import screen_text
from tests.test_registry import T_HEAD, target_row, write_csv

SIZE = (80, 24)
QUIT_LINK = "[@click=app.quit]退出"
UNCLOSED = "[/bold]未闭合"


async def settle(pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_plain_escapes_only_what_looks_like_markup():
    assert plain("商水县宏达纺织有限公司") == "商水县宏达纺织有限公司"
    assert plain(QUIT_LINK) != QUIT_LINK and plain(3) == 3


async def test_the_registry_shows_hostile_firm_names_as_typed(db, tmp_path):
    registry.import_file("targets", write_csv(tmp_path / "t.csv", T_HEAD, [
        target_row(1, QUIT_LINK), target_row(2, UNCLOSED)]), "clerk")
    admin = auth.create_user("admin", "admin-pass", "admin", "管理员")
    app = make_app(user=admin, start=RegistryScreen("targets"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shown = screen_text(app)
        assert QUIT_LINK in shown and UNCLOSED in shown
        await pilot.click("#registry-table", offset=(30, 2))  # on the would-be link
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, RegistryScreen)


async def test_a_hostile_login_name_in_the_audit_log_is_shown_as_typed(db):
    for name in (UNCLOSED, "[b]粗体[/b]"):
        try:
            auth.login(name, "whatever")
        except UserError:
            pass
    leader = auth.create_user("leader", "leader-pass", "leader", "局长")
    app = make_app(user=leader, start=AuditScreen())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shown = screen_text(app)
        assert UNCLOSED in shown and "[b]粗体[/b]" in shown


async def test_a_hostile_or_huge_scan_stays_text(db):
    user = auth.create_user("clerk", "clerk-pass", "operator", "办事员")
    app = make_app(user=User.get_by_id(user.id), start=ScanScreen())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        box = app.screen.query_one("#payload", Input)
        for payload in (QUIT_LINK, "[@click=app.quit]" + "X" * 10_000_000):
            box.value = payload
            await box.action_submit()
            await settle(pilot)
            said = str(app.screen.query_one("#scan-message", Static).render())
            assert said.startswith("无法识别扫码内容") and len(said) < 120
            assert box.value == "" and app.is_running
        await pilot.click("#scan-message")
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, ScanScreen)
