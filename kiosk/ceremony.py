"""Compatibility names for callers outside kiosk/draw (the demo): the ceremony now lives in
the package kiosk.draw (pool, lock, steps, record, view, documents)."""
from __future__ import annotations

from kiosk.draw.lock import TERMINAL_ID, heartbeat, release
from kiosk.draw.pool import Frozen, build_pool, frozen_of, listing_bytes
from kiosk.draw.record import export_record, write_listings
from kiosk.draw.steps import (
    STEP_LABELS,
    STEPS,
    abort,
    advance_reveal,
    amend,
    commit,
    match,
    prepare,
    reveal,
    seal,
)
from kiosk.draw.view import View, print_info, view
from kiosk.draw.witnesses import confirm, enter_entropy, set_beacon, sign_in

__all__ = [
    "STEPS", "STEP_LABELS", "TERMINAL_ID", "Frozen", "View", "abort", "advance_reveal", "amend",
    "build_pool", "commit", "confirm", "enter_entropy", "export_record", "frozen_of",
    "heartbeat", "listing_bytes", "match", "prepare", "print_info", "release", "reveal", "seal",
    "set_beacon", "sign_in", "view", "write_listings",
]
