"""The home menu lists only what the signed-in role may open (kiosk.access decides): an operator
no longer sees 账户管理 and 本局设置, which would refuse it; a hidden key opens nothing."""
from __future__ import annotations

import pytest

from kiosk import access, auth
from screens.app import make_app
from screens.home import MENU, HomeScreen
from screens.widgets.menu_panel import MenuPanel
from tests.pilot_steps import settle

SIZE = (80, 24)
REGISTRIES = ["1", "2", "3", "5", "6"]  # every role browses these lists; 4 is the conflicts
# The keys each role's menu shows, written out: the test is the table, not a copy of the rule.
EXPECTED = {
    "admin": [*REGISTRIES[:3], "4", *REGISTRIES[3:], "d", "s", "l", "v", "p", "u", "g", "c", "j"],
    "operator": [*REGISTRIES[:3], "4", *REGISTRIES[3:], "d", "s", "l", "v", "p", "j"],
    "witness": [*REGISTRIES, "s", "l", "v", "p"],
    "inspector": [*REGISTRIES, "s", "m", "l", "v", "p"],
    "reviewer": [*REGISTRIES, "s", "l", "v", "p", "c"],
    "leader": [*REGISTRIES, "s", "l", "v", "a", "p", "b", "c", "k", "j"],
    "auditor": [*REGISTRIES[:3], "4", *REGISTRIES[3:], "s", "l", "v", "a", "p", "c", "k", "j"],
}


def test_the_table_covers_every_role():
    assert set(EXPECTED) == set(access.ROLES)


def menu_keys(app) -> list[str]:
    """The keys listed in the menu panel, in order, without 注销."""
    text = str(app.screen.query_one(MenuPanel).render())
    keys = [line.split()[0] for line in text.splitlines() if line.strip()]
    assert keys[-1] == "o"
    return keys[:-1]


@pytest.mark.parametrize("role", sorted(EXPECTED))
async def test_each_role_sees_and_opens_only_its_functions(db, role):
    user = auth.create_user(f"u_{role}", "secret-123", role, f"{access.role_label(role)}甲")
    app = make_app(user=user)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert menu_keys(app) == EXPECTED[role]
        footer = {b.key for _, b, enabled, _ in app.active_bindings.values()
                  if b.show and enabled}
        shown_in_footer = {e.key for e in MENU if e.footer and e.key in EXPECTED[role]}
        assert footer & {e.key for e in MENU} == shown_in_footer
        for entry in MENU:
            if entry.key in EXPECTED[role]:
                continue
            await pilot.press(entry.key)  # hidden: the key opens nothing, no refusal screen
            await settle(pilot)
            assert isinstance(app.screen, HomeScreen), (role, entry.id)


async def test_an_operator_has_no_accounts_or_settings(db):
    operator = auth.create_user("caozuo", "secret-123", "operator", "操作员")
    app = make_app(user=operator)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = str(app.screen.query_one(MenuPanel).render())
        assert "账户管理" not in text and "本局设置" not in text and "摇号" in text
        await pilot.press("u", "g")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)


async def test_the_menu_follows_a_change_of_user(db):
    """Another user unlocks the terminal (issue 12's idle lock): home shows their menu."""
    operator = auth.create_user("caozuo", "secret-123", "operator", "操作员")
    leader = auth.create_user("juzhang", "secret-123", "leader", "局长")
    app = make_app(user=operator)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert menu_keys(app) == EXPECTED["operator"]
        app.user = leader
        app.screen.refresh_summary()  # what a resume of home does
        await settle(pilot)
        assert menu_keys(app) == EXPECTED["leader"]
        await pilot.press("a")
        await settle(pilot)
        assert type(app.screen).__name__ == "AuditScreen"


@pytest.mark.parametrize("screen,note,refusal", [
    ("CasesScreen", "#cases-note", access.MAY_NOT_READ_CASES),
    ("DashboardScreen", "#dashboard-note", access.MAY_NOT_READ_LEADER_DASHBOARD),
    ("SanctionsScreen", "#sanctions-note", access.MAY_NOT_READ_SANCTIONS),
])
async def test_a_screen_opened_past_the_menu_still_refuses(db, screen, note, refusal):
    """`kiosk open` and tests push screens without the menu: the screen's own gate (SignedIn.
    when_allowed) asks for a log-in with nobody signed in, and refuses a role without the
    right, whether signed in before or at its prompt."""
    from textual.widgets import Static

    cls = next(e.screen for e in MENU if e.screen.__name__ == screen)
    auth.create_user("zhangwei", "secret-123", "inspector", "张伟")
    inspector = auth.login("zhangwei", "secret-123")
    for user in (inspector, None):
        app = make_app(user=user, start=cls())
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            if user is None:
                assert type(app.screen).__name__ == "LoginModal"
                await pilot.press(*"zhangwei", "enter", *"secret-123", "enter")
                await settle(pilot)
            assert isinstance(app.screen, cls)
            assert str(app.screen.query_one(note, Static).render()) == refusal
