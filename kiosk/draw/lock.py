"""One terminal per ceremony: a lock with a heartbeat, taken over when its holder died.

Each ceremony step runs in one write transaction on the draw this terminal holds.
"""
from __future__ import annotations

import contextlib
import os
import socket
import uuid

from db.models import Draw, now
from kiosk.errors import UserError
from kiosk.store import write_tx

LOCK_STALE_SECONDS = 120
TERMINAL_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
# Filled in by kiosk.draw.steps; here so a refusal can name the step without a cycle.
CLOSED_LABELS = {"sealed": "已封存", "aborted": "已中止"}



def lock_is_stale(draw: Draw) -> bool:
    if not draw.lock_owner:
        return True
    host, _, rest = draw.lock_owner.partition(":")
    pid = rest.partition(":")[0]
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True  # the terminal that held it was killed: resume here
        except PermissionError:
            pass
    if draw.lock_at is None:
        return True
    return (now() - draw.lock_at).total_seconds() > LOCK_STALE_SECONDS


def take_lock(draw: Draw, terminal: str) -> None:
    if draw.lock_owner and draw.lock_owner != terminal and not lock_is_stale(draw):
        raise UserError(
            f"任务 {draw.task.code} 正在另一终端（{draw.lock_owner.split(':')[0]}）摇号，"
            f"同一任务不能同时在两处摇号。")
    draw.lock_owner = terminal
    draw.lock_at = now()


def heartbeat(draw_id: int, terminal: str = TERMINAL_ID) -> None:
    """Called periodically by the screen so a live ceremony keeps its lock."""
    Draw.update(lock_at=now()).where((Draw.id == draw_id) & (Draw.lock_owner == terminal)).execute()


def load(draw_id: int, terminal: str) -> Draw:
    """Re-read the draw inside the write transaction and check this terminal holds it."""
    draw = Draw.get_by_id(draw_id)
    if draw.state in ("sealed", "aborted"):
        raise UserError(f"该次摇号已{CLOSED_LABELS[draw.state]}，不能再更改。")
    take_lock(draw, terminal)
    return draw


@contextlib.contextmanager
def step(draw_id: int, terminal: str, *states: str, refusal: str):
    """One ceremony step: a write transaction on the draw this terminal holds, refused
    plainly unless the draw is at one of the steps where this action belongs."""
    with write_tx():
        draw = load(draw_id, terminal)
        if draw.state not in states:
            raise UserError(refusal)
        yield draw


def save(draw: Draw, state: str | None = None) -> None:
    if state:
        draw.state = state
    draw.updated_at = now()
    draw.save()


def release(draw_id: int, terminal: str = TERMINAL_ID) -> None:
    """Leave a ceremony without aborting it: another terminal may resume it."""
    Draw.update(lock_owner="").where((Draw.id == draw_id) & (Draw.lock_owner == terminal)).execute()

