"""Figures for the kiosk shell: cold start to the login screen, the target screen at 1M targets."""
from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

N_TARGETS = int(os.environ.get("BENCH_TARGETS", "1000000"))
LABEL = f"{N_TARGETS // 1_000_000}M" if N_TARGETS >= 1_000_000 else f"{N_TARGETS:,}"

# Run in a fresh interpreter: imports, store, app, until the login screen is mounted and drawn.
COLD_START = r"""
import asyncio, sys, time
t0 = time.perf_counter()
from db.connection import connect
from screens.app import make_app
from screens.login import LoginScreen
t_import = time.perf_counter()
connect(sys.argv[1])
async def main():
    app = make_app([("admin", "admin123", "登记管理员")])
    async with app.run_test(size=(80, 24)) as pilot:
        while not isinstance(app.screen, LoginScreen) or not app.screen.query("#username"):
            await asyncio.sleep(0.001)
        await pilot.pause()
        print(f"{(t_import - t0) * 1000:.0f} {(time.perf_counter() - t0) * 1000:.0f}", flush=True)
asyncio.run(main())
"""


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def cold_start(db_path: Path) -> None:
    walls: list[float] = []
    imports: list[float] = []
    ready: list[float] = []
    for _ in range(3):
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", COLD_START, str(db_path)], cwd=ROOT,
                                stdout=subprocess.PIPE, text=True)
        out = proc.stdout.readline().split()  # printed once the login screen is drawn
        walls.append(time.perf_counter() - t0)
        proc.wait()
        imports.append(float(out[0]) / 1000)
        ready.append(float(out[1]) / 1000)
    print(f"cold start, new python process to login screen drawn (headless, best of 3): "
          f"{ms(min(walls))} (imports {ms(min(imports))}, in-process {ms(min(ready))})")


async def wait_for(cond, timeout: float = 30.0) -> None:
    end = time.perf_counter() + timeout
    while not cond():
        if time.perf_counter() > end:
            raise TimeoutError("screen did not settle")
        await asyncio.sleep(0.002)


def send_key(app, key: str) -> None:
    """Deliver a key the way the terminal driver does, without Pilot's idle waits (which
    alone take ~250 ms a key on a loaded 2-core machine and would swamp the figure)."""
    from textual import events

    char = {"enter": "\r", "slash": "/"}.get(key, key if len(key) == 1 else None)
    event = events.Key(key, char)
    event.set_sender(app)
    app._driver.send_message(event)


async def screen_figures() -> None:
    from db.models import User
    from kiosk.dashboard import summary
    from screens.app import make_app
    from screens.registry import RegistryScreen

    t0 = time.perf_counter()
    s = summary()
    print(f"home dashboard summary ({LABEL}, {s['counts']['targets']:,} targets): "
          f"{ms(time.perf_counter() - t0)}")

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        from screens.login import LoginScreen

        await wait_for(lambda: isinstance(app.screen, LoginScreen))
        await pilot.pause()
        app.user = User(username="bench", display_name="bench", role="admin")

        status_widget = []  # looked up once: a DOM query every poll would starve the app

        def status() -> str:
            if not status_widget:
                found = app.screen.query("#registry-status")
                if not found:
                    return ""
                status_widget.append(found.first())
            return str(status_widget[0].content)

        def shown(text: str):
            return lambda: isinstance(app.screen, RegistryScreen) and text in status()

        t0 = time.perf_counter()
        app.push_screen(RegistryScreen("targets"))
        await wait_for(lambda: isinstance(app.screen, RegistryScreen) and bool(app.screen.rows))
        print(f"open target screen ({LABEL}), first page shown: {ms(time.perf_counter() - t0)}")
        await wait_for(shown("共"))
        print(f"open target screen ({LABEL}), count shown: {ms(time.perf_counter() - t0)}"
              f"  [{status()}]")
        screen = app.screen

        async def key(k: str, until) -> float:
            t = time.perf_counter()
            send_key(app, k)
            await wait_for(until)
            return time.perf_counter() - t

        await wait_for(shown("共"))
        downs = []
        for n in range(2, 12):
            await asyncio.sleep(0.2)  # a key at a time, on an idle screen
            downs.append(await key("pagedown", shown(f"第 {n}/")))
        print(f"page-down keypress to new page shown ({LABEL}): "
              f"median {ms(statistics.median(downs))}, max {ms(max(downs))}")
        from screens.registry import page_count

        last = page_count(screen.total, screen.page_size)
        t = await key("end", shown(f"第 {last}/{last} 页"))
        print(f"End (last page, offset {screen.page * screen.page_size:,}) ({LABEL}): {ms(t)}")
        t = await key("home", shown("第 1/"))
        print(f"Home (first page) ({LABEL}): {ms(t)}")

        searches = [("name word", "纺织"), ("name, 3+ characters (trigram index)", "职业技能"),
                    ("USCC prefix", "91411623MA1"), ("category", "劳务派遣单位"),
                    ("no match", "不存在的单位名称")]
        for label, text in searches:
            await pilot.press("slash")
            search = screen.query_one("#registry-search")
            search.value = ""
            await pilot.pause(0.3)
            await wait_for(lambda: screen.text == "" and "搜索结果" not in status())
            # Keypresses while typing: the UI must take each one at once (queries run in threads).
            per_key = []
            for i, ch in enumerate(text):
                per_key.append(await key(ch, lambda s=search, want=text[: i + 1]: s.value == want))
                await asyncio.sleep(0.05)  # a fast typist
            t = time.perf_counter()
            send_key(app, "enter")
            await wait_for(lambda text=text: screen.text == text and f"“{text}”" in status())
            rows_at = time.perf_counter() - t
            await wait_for(lambda text=text: screen.text == text and "共" in status())
            count_at = time.perf_counter() - t
            print(f"search {label} “{text}” ({LABEL}): Enter to rows {ms(rows_at)}, to count "
                  f"{ms(count_at)}, keypress handled max {ms(max(per_key))}  [{status()}]")
            if (screen.total or 0) > screen.page_size:
                await asyncio.sleep(0.5)  # let the footer redraw for the focus change first
                t = await key("pagedown", shown("第 2/"))
                print(f"  page-down in those results: {ms(t)}")

        # Typing with the debounce, without Enter: last key to rows shown.
        await pilot.press("slash")
        screen.query_one("#registry-search").value = ""
        await pilot.pause(0.3)
        await wait_for(lambda: screen.text == "")
        search = screen.query_one("#registry-search")
        for ch in "服装":
            send_key(app, ch)
        t = time.perf_counter()
        await wait_for(lambda: screen.text == "服装" and "“服装”" in status() and "共" in status())
        print(f"search by typing (150 ms debounce included) ({LABEL}): last key to results "
              f"{ms(time.perf_counter() - t)}")


def main() -> int:
    sys.path.insert(0, str(ROOT / "bench"))
    from data import cached_store, copy_store

    from db.connection import connect

    src = cached_store(N_TARGETS)
    with tempfile.TemporaryDirectory() as tmp:
        db_path = copy_store(src, Path(tmp) / "bench.sqlite3")
        connect(db_path).close()
        cold_start(db_path)
        connect(db_path)
        asyncio.run(screen_figures())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
