"""Keyboard steps the report screens' Pilot tests share: settle, type, log in, open a function
from home, scan a slip, and read a screen's text."""
from __future__ import annotations

from textual.widgets import Static

from tests.test_reports import PASSWORD


async def settle(pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def type_text(pilot, text: str) -> None:
    await pilot.press(*[{" ": "space", "\n": "enter"}.get(c, c) for c in text])


async def login(pilot, username: str, password: str = PASSWORD) -> None:
    await type_text(pilot, username)
    await pilot.press("enter")
    await type_text(pilot, password)
    await pilot.press("enter")
    await settle(pilot)


async def open_as(pilot, username: str, key: str) -> None:
    """At a fresh app: wait for the login screen, log in, press a home key, wait for it."""
    await settle(pilot)
    await login(pilot, username)
    await pilot.press(key)
    await settle(pilot)


def screen_name(app) -> str:
    return type(app.screen).__name__


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def scan(pilot, payload: str) -> None:
    await type_text(pilot, payload)
    await pilot.press("enter")
    await settle(pilot)


async def scan_as(pilot, username: str, payload: str) -> None:
    """Log in, open the Scan screen from home and scan (or type) the payload."""
    await login(pilot, username)
    await pilot.press("s")
    await settle(pilot)
    await scan(pilot, payload)
