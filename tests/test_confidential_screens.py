"""Art. 12 on the screens (Pilot, 80x24): a leader's Deadlines list shows task codes, never
the firms of an unpublished draw; a reviewer has no conflicts registry in the menu and its key
opens nothing; an admin still opens it."""
from __future__ import annotations

import pytest
from textual.widgets import DataTable

from db.models import AuditEvent
from screens.app import make_app
from screens.registry import RegistryScreen
from screens.widgets.menu_panel import MenuPanel
from tests.test_reports import build_world
from tests.test_screens_reports import SIZE, login, screen_name, settle


@pytest.fixture
def world(db):
    return build_world()


async def test_a_leaders_deadlines_show_task_codes_not_firms(world):
    names = {a.target.name for a in world.assignments}
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await login(pilot, "juzhang")
        await pilot.press("l")
        await settle(pilot)
        assert screen_name(app) == "DeadlinesScreen"
        table = app.screen.query_one("#deadlines-table", DataTable)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert [r[0] for r in rows] == [a.task_code for a in world.assignments]
        assert [r[1] for r in rows] == [r[0] for r in rows]  # the code where the firm was
        cells = {str(c) for r in rows for c in r}
        assert not any(n in c for n in names for c in cells)


async def test_a_team_member_still_sees_the_firm_of_their_own_task(world):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await login(pilot, "wangqiang")
        await pilot.press("l")
        await settle(pilot)
        table = app.screen.query_one("#deadlines-table", DataTable)
        assert table.get_row_at(0)[1] == world.assignments[1].target.name


async def test_the_conflicts_entry_is_hidden_from_a_reviewer_and_its_key_does_nothing(world):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await login(pilot, "shenhe")
        menu = str(app.screen.query_one(MenuPanel).render())
        assert "回避关系" not in menu and "检查对象名录" in menu
        await pilot.press("4")
        await settle(pilot)
        assert screen_name(app) == "HomeScreen"
        # Pushed directly (a stale binding, a future menu): the screen refuses and logs it.
        app.push_screen(RegistryScreen("conflicts"))
        await settle(pilot)
        assert screen_name(app) == "HomeScreen"
        ev = AuditEvent.select().where(AuditEvent.action == "registry.refused").get()
        assert ev.actor == "shenhe" and ev.entity == "conflicts"
