"""Subcommands of `kiosk` grouped by area, each module with `register(sub, common)`.

kiosk/cli.py holds the shared plumbing (the store, the account, errors as one sentence); a new
area adds its module here instead of growing cli.py. Handlers import their services lazily so
that `kiosk --help` and the UI's cold start stay quick.
"""
from __future__ import annotations

import importlib

MODULES: tuple[str, ...] = ("setup", "plan", "publish", "exchange", "cases", "slips", "ops")


def register_all(sub, common) -> None:
    for name in MODULES:
        importlib.import_module(f"kiosk.commands.{name}").register(sub, common)
