"""The Publish screen at 80x24: a leader picks a sealed draw, sees its versions, publishes the
next version to a folder with the keyboard alone; other roles are told they may not."""
from __future__ import annotations

import json

import pytest
from textual.widgets import DataTable, Input, Static

from db.models import AuditEvent, Draw, Publication, User
from kiosk import demo
from screens.app import make_app
from screens.publish import PublishScreen
from tests.screen_text import settle

SIZE = (80, 24)


@pytest.fixture
def store(db):
    demo.build(fresh=True)
    return db


def _text(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def test_a_leader_publishes_a_draw_twice_and_sees_both_versions(store, tmp_path):
    leader = User.get(User.username == "leader")
    draw = Draw.get(Draw.state == "sealed")
    app = make_app(user=leader, start=PublishScreen())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot.app)
        await pilot.pause()
        table = app.screen.query_one("#publish-draws", DataTable)
        assert table.row_count == 1
        row = table.get_row_at(0)
        assert (row[0], row[1], row[5]) == (str(draw.id), draw.task.code, "未公示")
        assert "该摇号尚未公示" in _text(app, "#publish-versions")

        for n, folder in enumerate(("v1", "v2"), 1):
            await pilot.press("p")
            await settle(pilot.app)
            await pilot.pause()
            box = app.screen.query_one("#dialog-input", Input)
            assert box.value.endswith(f"{draw.task.code}-{draw.attempt_no}-v{n}")
            box.value = str(tmp_path / folder)
            await pilot.press("enter")
            await settle(pilot.app)
            await pilot.pause()
            await settle(pilot.app)
            await pilot.pause()
            assert isinstance(app.screen, PublishScreen)
            assert f"结果公示第 {n} 版" in _text(app, "#publish-note")
            assert (tmp_path / folder / "notice.html").exists()
        assert table.get_row_at(0)[5] == "2 版"
        versions = _text(app, "#publish-versions")
        assert "第 1 版" in versions and "第 2 版" in versions and "leader" in versions
    assert [p.version for p in Publication.select().order_by(Publication.version)] == [1, 2]


async def test_another_role_sees_the_draws_but_is_refused_and_logged(store, tmp_path):
    operator = User.get(User.username == "operator")
    app = make_app(user=operator, start=PublishScreen())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot.app)
        await pilot.pause()
        assert "只有局领导可以发布" in _text(app, "#publish-note")
        await pilot.press("p")
        await settle(pilot.app)
        await pilot.pause()
        app.screen.query_one("#dialog-input", Input).value = str(tmp_path / "x")
        await pilot.press("enter")
        await settle(pilot.app)
        await pilot.pause()
        assert "只有局领导可以发布" in _text(app, "#publish-note")
    assert not (tmp_path / "x" / "notice.html").exists()
    ev = AuditEvent.select().where(AuditEvent.action == "publish.refused").get()
    assert ev.actor == "operator" and json.loads(ev.detail)["role"] == "operator"


async def test_the_lists_publish_from_the_same_screen(store, tmp_path):
    app = make_app(user=User.get(User.username == "leader"), start=PublishScreen())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot.app)
        await pilot.press("n")
        await settle(pilot.app)
        await pilot.pause()
        app.screen.query_one("#dialog-input", Input).value = str(tmp_path / "lists")
        await pilot.press("enter")
        await settle(pilot.app)
        await pilot.pause()
        assert "已发布公示名录第 1 版" in _text(app, "#publish-note")
    assert (tmp_path / "lists" / "inspectors.csv").exists()


async def test_home_opens_the_publish_screen_with_b(store):
    from screens.home import HomeScreen

    app = make_app(user=User.get(User.username == "leader"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("b")
        await settle(pilot.app)
        await pilot.pause()
        assert isinstance(app.screen, PublishScreen)
