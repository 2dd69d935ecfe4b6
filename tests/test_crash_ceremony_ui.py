"""kill -9 of the kiosk UI in the middle of a ceremony driven by keys (Pilot, in a subprocess,
80x24): after each step the draw is where the last completed step left it, the chain
verifies, and another terminal takes the ceremony over and seals a record that verifies."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from db.models import Draw, User
from kiosk import audit
from kiosk.draw import steps, witnesses
from kiosk.draw.verify import verify_record
from tests.test_screens_ceremony import world  # noqa: F401  (the ceremony's fixture)

ROOT = Path(__file__).resolve().parent.parent

DRIVE = """
import asyncio, sys, time
from db import connect
connect(sys.argv[1])
from db.models import User
from tests.test_screens_ceremony import CeremonyApp, open_task, settle, sign_in_two, witness_modal
stop = sys.argv[2]

def hold():
    print("holding", flush=True)
    time.sleep(60)

async def main():
    app = CeremonyApp(User.get(User.username == "czy"))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_task(pilot, app)
        print("draw", screen.draw_id, flush=True)
        await sign_in_two(pilot, app)
        await pilot.press("c")
        await settle(pilot)
        if stop == "committed":
            hold()
        await pilot.press("e")
        await witness_modal(pilot, "witness1", "7 3 1 9", prefilled=True)
        if stop == "one entropy":
            hold()
        await pilot.press("e")
        await witness_modal(pilot, "witness2", "20260520", prefilled=True)
        await pilot.press("v")
        await settle(pilot)
        if stop == "revealed":
            hold()
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        hold()

asyncio.run(main())
"""

# where the UI is killed -> the draw's state then. Two points keep the suite quick (each
# run starts Textual afresh); tests/test_draw_cli.py kills the headless draw at every step.
STATES = {"one entropy": "committed", "matched": "matched"}


@pytest.mark.parametrize("where", list(STATES))
def test_kill_9_of_the_ui_ceremony_then_another_terminal_finishes(world, db_path, where):  # noqa: F811
    proc = subprocess.Popen([sys.executable, "-c", DRIVE, str(db_path), where], cwd=ROOT,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("draw "), proc.stderr.read()
        draw_id = int(first.split()[1])
        assert proc.stdout.readline().startswith("holding"), proc.stderr.read()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    draw = Draw.get_by_id(draw_id)
    assert draw.state == STATES[where]
    verdict = audit.verify()
    assert verdict.ok, verdict.message
    # This process is another terminal: the dead one's lock is taken over, the ceremony
    # continues from the last completed step with the same witnesses.
    signed = [witnesses.login(w, f"{w}123") for w in ("witness1", "witness2")]
    if draw.state == "committed":
        if where == "committed":
            witnesses.enter_entropy(draw_id, signed[0], "7 3 1 9")
        witnesses.enter_entropy(draw_id, signed[1], "20260520")
        steps.reveal(draw_id, "czy")
    if Draw.get_by_id(draw_id).state == "revealed":
        steps.match(draw_id, "czy")
    for w in signed:
        witnesses.confirm(draw_id, w)
    record = steps.seal(draw_id, "czy")
    assert record["witness_entropy"] == ["7 3 1 9", "20260520"]
    assert verify_record(record)[0] == 0
    assert Draw.get_by_id(draw_id).state == "sealed" and Draw.select().count() == 1
    assert User.get(User.username == "czy").role == "operator"
    verdict = audit.verify()
    assert verdict.ok, verdict.message
