"""Issue 11's stuck points on the registry and draw screens at 80x24: columns not cut (or the
arrow keys that scroll them in the footer), search by a code fragment and a township, an import
with 36 bad rows whose every line can be scrolled to, the draw list's 状态 on screen, and a
sealed draw reopened read-only with its reprint keys."""
from __future__ import annotations

import csv
import datetime as dt
import os
from pathlib import Path

import pytest
from textual.widgets import TextArea

from db.models import Inspector, Target
from kiosk import auth, demo, registry
from screens.app import make_app
from screens.ceremony import CeremonyScreen, TaskPickerScreen
from tests.screen_text import screen_text

SIZE = (80, 24)
TODAY = dt.date(2026, 5, 11)


@pytest.fixture
def store(db):
    demo.build(n_targets=120, today=TODAY)
    return db


async def settle(pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def footer_line(app) -> str:
    return screen_text(app).rstrip("\n").split("\n")[-1]


# ------------------------------------------------------------------ columns

async def test_registry_dates_and_offices_are_whole_and_the_arrows_are_in_the_footer(store):
    admin = auth.login("admin", "admin123")
    app = make_app(user=admin)
    first = Inspector.select().order_by(Inspector.id).first()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        assert "←→ 左右看列" in footer_line(app)
        text = screen_text(app)
        assert first.office in text  # 劳动保障监察大队, not 劳动保
        for _ in range(4):  # one column a key: cert_no, name, office, department
            await pilot.press("right")
        await settle(pilot)
        text = screen_text(app)
        assert first.cert_valid_from.isoformat() in text
        assert first.cert_valid_until.isoformat() in text
    for line in text.split("\n"):
        assert len(line) <= 80 * 2


async def test_targets_first_columns_fit_80(store):
    admin = auth.login("admin", "admin123")
    app = make_app(user=admin)
    t = Target.select().order_by(Target.id).first()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        row = next(line for line in screen_text(app).split("\n") if t.uscc in line)
        assert t.township in row  # 东城街道 whole, not 东城
        assert t.category in row


async def test_draw_list_shows_the_state_column(store):
    operator = auth.login("operator", "operator123")
    app = make_app(user=operator, start=TaskPickerScreen())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = screen_text(app)
        header = next(line for line in text.split("\n") if "任务编号" in line)
        assert "状态" in header
        assert "已摇号" in text and "待摇号" in text


# ------------------------------------------------------------------ search

def test_search_finds_a_code_fragment_and_a_township(store):
    t = Target.select().order_by(Target.id).offset(7).first()
    fragment = t.uscc[9:15]  # from the middle: no code starts with it
    assert not Target.select().where(Target.uscc.startswith(fragment)).exists()
    found = registry.search("targets", fragment, limit=50)
    assert t.uscc in {r["uscc"] for r in found}
    assert all(fragment in r["uscc"] for r in found)
    assert registry.search("targets", fragment.lower(), limit=50) == found
    # A prefix still goes by the code's start.
    assert {r["uscc"] for r in registry.search("targets", t.uscc[:12], limit=50)} == {
        u for (u,) in Target.select(Target.uscc).where(Target.uscc.startswith(t.uscc[:12]))
        .tuples()}
    # A township, named whole or without its 镇/乡/街道.
    town = t.township
    expected = Target.select().where(Target.township == town).count()
    for text in (town, town[:2]):
        rows = registry.search("targets", text, limit=200)
        assert {r["township"] for r in rows} <= {x for (x,) in Target.select(Target.township)
                                                 .where(Target.township.startswith(text))
                                                 .tuples()}
        assert any(r["uscc"] == t.uscc for r in rows)
    assert len(registry.search("targets", town, limit=200)) == expected


# ------------------------------------------------------------------ import errors

async def test_import_with_36_bad_rows_scrolls_to_the_last(store, tmp_path):
    admin = auth.login("admin", "admin123")
    src = tmp_path / "targets.csv"
    registry.export_file("targets", src, "admin")
    with open(src, encoding="utf-8-sig", newline="") as f:
        header, *rows = list(csv.reader(f))
    code = next(i for i, h in enumerate(header) if "信用代码" in h)
    bad = tmp_path / "bad.csv"
    for row in rows[:36]:
        row[code] = row[code][:-1] + ("0" if row[code][-1] != "0" else "1")
    with open(bad, "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows([header, *rows[:40]])
    app = make_app(user=admin)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("i", *str(bad), "enter")
        await settle(pilot)
        area = app.screen.query_one("#file-problems", TextArea)
        assert area.has_focus
        assert area.document.line_count == 36
        assert area.text.split("\n")[-1].startswith("第 37 行：")
        assert "共 36 处" in str(area.border_subtitle)
        shown = area.scrollable_content_region.height
        assert shown < 36  # not all fit: the rest must be scrolled to
        for _ in range(8):
            await pilot.press("pagedown")
        await settle(pilot)
        assert area.scroll_offset.y + shown >= 36
        assert "第 37 行" in screen_text(app)


# ------------------------------------------------------------------ sealed draw

async def test_sealed_draw_reopens_read_only_and_reprints(store):
    operator = auth.login("operator", "operator123")
    app = make_app(user=operator, start=TaskPickerScreen())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        picker = app.screen
        index = next(i for i, t in enumerate(picker.tasks) if t["state"] == "drawn")
        for _ in range(index):
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CeremonyScreen)
        assert screen.v.state == "sealed"
        assert not screen.guarding  # read-only: leaving asks nothing
        for action in ("abort", "commit", "seal", "add_witness", "give_entropy"):
            assert not screen.check_action(action, ()), action
        footer = footer_line(app)
        assert "打印任务单" in footer and "打印摇号记录" in footer
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        folder = Path(os.environ["KIOSK_DATA_DIR"]) / "print"
        slips_pdf = list(folder.glob("slips-*.pdf"))
        protocol = list(folder.glob("protocol-*.pdf"))
        assert len(slips_pdf) == 1 and slips_pdf[0].read_bytes().startswith(b"%PDF")
        assert len(protocol) == 1 and protocol[0].read_bytes().startswith(b"%PDF")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, TaskPickerScreen)
