"""`kiosk watch`: a second app (and a second process) sees each step of a ceremony run at the
terminal within a second; a witness signed in there gives entropy and confirms from there."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from textual import events

from db.models import Draw
from kiosk.draw import steps, witnesses
from screens.app import make_app
from screens.ceremony import CeremonyScreen
from screens.watch import WatchApp, WatchScreen
from tests.draw_world import TODAY, make_world, user

ROOT = Path(__file__).resolve().parents[1]
SIZE = (80, 24)


async def wait_for(pilot, screen: WatchScreen, state: str, timeout: float = 5.0) -> None:
    """Poll as a watcher does; the state must show within `timeout` (one second is typical)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.1)
        if screen.v is not None and screen.v.state == state:
            return
    raise AssertionError(f"watch shows {screen.v and screen.v.state}, expected {state}")


def text(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def typed(pilot, value: str) -> None:
    for c in value:
        if c.isascii():
            await pilot.press(c if c != " " else "space")
        else:
            pilot.app.focused.post_message(events.Key(c, c))
            await pilot.pause()


async def modal(pilot, *fields: str) -> None:
    for value in fields:
        await typed(pilot, value)
        await pilot.press("enter")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_watch_follows_each_step_and_a_remote_witness_acts_from_there(db):
    _item, _targets, _inspectors, tasks = make_world()
    watch = WatchApp()
    async with watch.run_test(size=SIZE) as pilot:
        screen = watch.screen
        assert isinstance(screen, WatchScreen)
        d = steps.prepare(tasks[0].code, "operator", draw_date=TODAY)
        await wait_for(pilot, screen, "prepared")
        assert screen.v.digests["pool"] in text(watch)
        # witness2 is in another office: signs in from the watch, which signs them in
        await pilot.press("l")
        await modal(pilot, "witness2", "witness2123")
        witnesses.sign_in(d.id, user("witness1"))  # witness1 at the terminal
        await wait_for(pilot, screen, "witnesses")
        assert [w["account"] for w in screen.v.witnesses] == ["witness2", "witness1"]
        steps.commit(d.id, "operator")
        await wait_for(pilot, screen, "committed")
        assert screen.v.commitment in text(watch)
        await pilot.press("e")  # the watch's witness gives entropy, masked, by password
        await modal(pilot, "witness2123", "掷骰 3 5 6")
        assert "掷骰 3 5 6" not in text(watch)
        witnesses.enter_entropy(d.id, user("witness1"), "7 7")
        await wait_for(pilot, screen, "entropy")
        assert [w["entropy"] for w in screen.v.witnesses] == ["掷骰 3 5 6", "7 7"]
        selected = steps.reveal(d.id, "operator")
        steps.advance_reveal(d.id, 1)
        await wait_for(pilot, screen, "revealed")
        await pilot.pause(0.6)
        await wait_for(pilot, screen, "revealed")
        assert screen.v.reveal_index == 1
        assert selected[0] in text(watch).replace(" ", "")
        steps.advance_reveal(d.id, len(selected))
        steps.match(d.id, "operator")
        await wait_for(pilot, screen, "matched")
        await pilot.press("k")
        await modal(pilot, "witness2123")
        witnesses.confirm(d.id, user("witness1"))
        await wait_for(pilot, screen, "confirmed")
        steps.seal(d.id, "operator")
        await wait_for(pilot, screen, "sealed")
        # names never reach a watcher (Art. 12)
        assert not screen.v.names_shown
    draw = Draw.get_by_id(d.id)
    assert [(w.account, w.entropy, bool(w.confirmed_at))
            for w in draw.witnesses.order_by(draw.witnesses.model.position)] == \
        [("witness2", "掷骰 3 5 6", True), ("witness1", "7 7", True)]


async def test_terminal_and_watch_apps_side_by_side(db):
    """The terminal's own app and a watcher's app, both Pilot-driven on one store."""
    _item, _targets, _inspectors, tasks = make_world()
    from db.models import User

    operator = User.get(User.username == "operator")
    terminal = make_app(user=operator)
    watch = WatchApp(user=user("witness1"))
    async with terminal.run_test(size=SIZE) as tp, watch.run_test(size=SIZE) as wp:
        await tp.app.workers.wait_for_complete()
        d = steps.prepare(tasks[0].code, "operator", draw_date=TODAY)
        terminal.push_screen(CeremonyScreen(d.id))
        await tp.pause()
        screen = watch.screen
        await wait_for(wp, screen, "prepared")
        await tp.press("w")  # witness2 signs in at the terminal
        await modal(tp, "witness2", "witness2123")
        await wp.press("l")  # witness1 is already the watch's account: l is not offered
        assert screen.witness.username == "witness1"
        witnesses.sign_in(d.id, screen.witness)
        await wait_for(wp, screen, "witnesses")
        # the terminal follows a witness who signed in elsewhere, within a second or so
        deadline = time.monotonic() + 5
        while terminal.screen.v.state != "witnesses" and time.monotonic() < deadline:
            await tp.pause(0.1)
        assert [w["account"] for w in terminal.screen.v.witnesses] == ["witness2", "witness1"]
        await tp.press("c")
        await tp.app.workers.wait_for_complete()
        await tp.pause()
        await wait_for(wp, screen, "committed")
        assert terminal.screen.v.commitment == screen.v.commitment


WATCHER = r"""
import asyncio, sys
from db import connect
connect(sys.argv[1])
from screens.watch import WatchApp

async def main():
    app = WatchApp()
    async with app.run_test(size=(80, 24)) as pilot:
        seen = None
        for _ in range(600):
            await pilot.pause(0.1)
            v = app.screen.v
            if v is not None and v.state != seen:
                seen = v.state
                print(seen, flush=True)
                if seen == "sealed":
                    return

asyncio.run(main())
"""


def test_watch_in_a_subprocess_sees_each_step(db, db_path):
    _item, _targets, _inspectors, tasks = make_world()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", WATCHER, str(db_path)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def step_seen(state):
            line = proc.stdout.readline().strip()
            assert line == state, (line, proc.stderr.read() if not line else "")

        d = steps.prepare(tasks[0].code, "operator", draw_date=TODAY)
        step_seen("prepared")
        w1, w2 = user("witness1"), user("witness2")
        witnesses.sign_in(d.id, w1)
        witnesses.sign_in(d.id, w2)
        step_seen("witnesses")
        steps.commit(d.id, "operator")
        step_seen("committed")
        witnesses.enter_entropy(d.id, w1, "1")
        witnesses.enter_entropy(d.id, w2, "2")
        step_seen("entropy")
        steps.reveal(d.id, "operator")
        step_seen("revealed")
        steps.advance_reveal(d.id, 10 ** 6)
        steps.match(d.id, "operator")
        step_seen("matched")
        witnesses.confirm(d.id, w1)
        witnesses.confirm(d.id, w2)
        step_seen("confirmed")
        steps.seal(d.id, "operator")
        step_seen("sealed")
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        proc.wait()
