"""The Audit screen at 80x24: the head, keyset pages over 100,000 events, filters, verify
with its verdict, and the refusal for roles that may not read the trail."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from textual.widgets import DataTable, Input, ProgressBar, Static

from db.models import AuditEvent, User
from kiosk import audit, auth
from kiosk.audit.chain import GENESIS, entry_hash
from kiosk.store import bulk_insert, write_tx
from screens.app import make_app
from screens.audit import PAGE_SIZE, AuditScreen

SIZE = (80, 24)
N = 100_000


def bulk_events(n: int, start: dt.datetime = dt.datetime(2026, 1, 5, 8, 0)) -> None:
    """n honest events after the current head, as fast as the store takes them."""
    seq, prev = audit.head()
    rows = []
    for i in range(n):
        seq += 1
        at = start + dt.timedelta(seconds=30 * i)
        actor = ("operator", "admin", "reviewer")[i % 3]
        action = ("draw.witness", "registry.import", "report.save")[i % 3]
        detail = json.dumps({"n": i}, separators=(",", ":"))
        h = entry_hash(prev, seq, at.isoformat(sep=" "), actor, action, "thing", str(i),
                       detail)
        rows.append((seq, at, actor, action, "thing", str(i), detail, prev, h, ""))
        prev = h
    with write_tx():
        bulk_insert(AuditEvent, ["seq", "at", "actor", "action", "entity", "entity_id",
                                 "detail", "prev_hash", "hash", "covers"], rows)


@pytest.fixture
def store(db):
    auth.create_user("leader", "leader123", "leader", "吴建华", actor="test")
    auth.create_user("operator", "operator123", "operator", "孙立新", actor="test")
    bulk_events(N)
    audit.record("leader", "plan.approve", "plan", 2026)
    return db


def table_seqs(app) -> list[int]:
    t = app.screen.query_one("#audit-table", DataTable)
    return [int(t.get_row_at(i)[0]) for i in range(t.row_count)]


def text_of(app, wid: str) -> str:
    return str(app.screen.query_one(wid, Static).render())


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def assert_fits(app) -> None:
    for w in app.screen.query("*"):
        r = w.region
        if r.width and r.height:
            assert r.right <= SIZE[0] and r.bottom <= SIZE[1], (w, r)


async def test_pages_filters_and_head_at_80x24(store):
    leader = User.get(User.username == "leader")
    app = make_app(user=leader, start=AuditScreen())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)
        assert_fits(app)
        seq, h = audit.head()
        assert text_of(app, "#audit-head") == f"审计链头 {seq}:{h}"
        newest = N + 3
        assert table_seqs(app) == list(range(newest, newest - PAGE_SIZE, -1))
        await pilot.press("n", "n")
        assert table_seqs(app)[0] == newest - 2 * PAGE_SIZE
        await pilot.press("p")
        assert table_seqs(app)[0] == newest - PAGE_SIZE
        await pilot.press("p", "p")  # already at the newest page: stays
        assert table_seqs(app)[0] == newest

        await pilot.press("slash")
        assert app.screen.focused.id == "audit-actor"
        for ch in "admin":
            await pilot.press(ch)
        app.screen.query_one("#audit-action", Input).value = "registry."
        app.screen.query_one("#audit-until", Input).value = "2026-01-05"
        await pilot.press("enter")
        seqs = table_seqs(app)
        assert len(seqs) == PAGE_SIZE
        rows = {e.seq: e for e in AuditEvent.select().where(AuditEvent.seq.in_(seqs))}
        assert all(rows[s].actor == "admin" and rows[s].action == "registry.import"
                   and rows[s].at.date() == dt.date(2026, 1, 5) for s in seqs)
        # Keyset paging deep into the trail: the last admin import on 5 January.
        last_day = [s for (s,) in AuditEvent.select(AuditEvent.seq).where(
            (AuditEvent.actor == "admin") & (AuditEvent.at < dt.datetime(2026, 1, 6)))
            .order_by(AuditEvent.seq.desc()).tuples()]
        assert seqs == last_day[:PAGE_SIZE]

        app.screen.query_one("#audit-until", Input).value = "2026-13-01"
        await pilot.press("slash", "tab", "tab", "tab", "tab")
        assert app.screen.focused.id == "audit-until"
        await pilot.press("enter")
        assert "不是日期" in text_of(app, "#audit-status")
        await pilot.press("escape")  # leaves the filter first
        assert isinstance(app.screen, AuditScreen)
        assert app.screen.focused.id == "audit-table"


async def test_verify_shows_progress_and_verdict(store):
    leader = User.get(User.username == "leader")
    app = make_app(user=leader, start=AuditScreen())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        status = text_of(app, "#audit-status")
        assert status.startswith("核验通过：审计日志完整：共 100003 条"), status
        bar = app.screen.query_one("#audit-progress", ProgressBar)
        assert bar.percentage == 1.0
        assert AuditEvent.select().order_by(AuditEvent.seq.desc()).first().action == (
            "audit.verify")

        # A role changed behind the kiosk's back is named on screen.
        User.update(role="admin").where(User.username == "operator").execute()
        await pilot.press("v")
        await settle(pilot)
        status = text_of(app, "#audit-status")
        assert status.startswith("核验不通过：用户 operator 的角色与第 "), status
        assert app.screen.query_one("#audit-status").has_class("error")


async def test_a_role_without_need_is_refused(store):
    operator = User.get(User.username == "operator")
    app = make_app(user=operator, start=AuditScreen())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert text_of(app, "#audit-status") == "只有局领导和纪检审计人员可以查看审计日志。"
        assert app.screen.query_one("#audit-table", DataTable).row_count == 0
        await pilot.press("v")
        await settle(pilot)
        assert text_of(app, "#audit-status") == "只有局领导和纪检审计人员可以查看审计日志。"
        assert not AuditEvent.select().where(AuditEvent.action == "audit.verify").exists()


def test_the_genesis_is_the_head_of_an_empty_trail(db):
    assert audit.head() == (0, GENESIS)
    assert audit.head_text() == f"0:{GENESIS}"
