"""Text snapshots at 80x24 of the screens people look at most: login, home, the report form and
the registry. `pytest --snapshot-update` rewrites them; review the .txt diff like any change."""
from __future__ import annotations

import datetime as dt
import functools
import re

import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from kiosk import auth, demo, slips
from screens.app import make_app
from tests.screen_text import screen_text

SIZE = (80, 24)
TODAY = dt.date(2026, 5, 11)  # a Monday; the demo's plan year and every "today" below
N_TARGETS = 120  # the demo's lists, small enough to build in a second


class TextSnapshot(SingleFileSnapshotExtension):
    """One readable .txt file per test (syrupy's documented way to store text)."""

    _write_mode = WriteMode.TEXT
    file_extension = "txt"


@pytest.fixture
def snapshot_text(snapshot):
    return snapshot.use_extension(TextSnapshot)


@pytest.fixture
def demo_store(db, monkeypatch):
    """The demo store with a pinned today; the home figures are counted on that day too."""
    from kiosk import dashboard

    demo.build(n_targets=N_TARGETS, today=TODAY)
    monkeypatch.setattr(dashboard, "summary", functools.partial(dashboard.summary, today=TODAY))
    return db


def stable(text: str) -> str:
    """Mask what differs on every build by design: audit hashes (events carry the time)."""
    return re.sub(r"\b[0-9a-f]{16,64}\b", lambda m: "#" * len(m[0]), text)


async def settle(pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_login(demo_store, snapshot_text):
    """The login screen of a demo store: the bureau's name in the header, the two fields
    (用户名, 密码) with their hints, and every demo account with its password and role, all
    on screen without scrolling; Enter, Tab and Ctrl+Q in the footer."""
    app = make_app(demo.ACCOUNTS)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert stable(screen_text(app)) == snapshot_text


async def test_home(demo_store, snapshot_text):
    """Home after the registry clerk signs in: 赵文静（登记管理员） in the header and the user
    line; the figures (120 targets, 15 inspectors, the 2026 plan with one task drawn, the
    audit chain's length, its head masked) beside the keys an administrator may open (no
    audit log, publication or leaders' board) and 注销; the footer lists the keys that fit in
    80 columns."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(*"admin", "enter", *"admin123", "enter")
        await settle(pilot)
        assert stable(screen_text(app)) == snapshot_text


async def test_registry_targets(demo_store, snapshot_text):
    """The target directory's first page: the search line, one row per target with credit
    code, name, category and township, the page line 第 1/N 页 · 共 120 条, and the keys for
    search, paging, import and export."""
    admin = auth.login("admin", "admin123")
    app = make_app(user=admin)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        assert stable(screen_text(app)) == snapshot_text


async def test_report_form(db, snapshot_text):
    """An inspector of the team scans the slip: the report form of task 2025-07-0001 for
    商水县宏达纺织有限公司, empty inspection times with the cursor in the first, the method,
    the team and unit filled in, the item's content, and save / attach / print keys."""
    from tests.test_reports import PASSWORD, build_world

    world = build_world()
    member = auth.login("zhangwei", PASSWORD)
    app = make_app(user=member)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press(*slips.payload(world.assignments[0]), "enter")
        await settle(pilot)
        assert stable(screen_text(app)) == snapshot_text
