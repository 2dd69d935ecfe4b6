"""Pilot tests of the ceremony screens at 80×24, by keys alone: a whole draw, abort, leaving, names."""
from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import DataTable, Digits

from db.models import (
    Assignment,
    Conflict,
    Draw,
    Inspector,
    Item,
    ItemStratum,
    PlanTask,
    Target,
    User,
)
from kiosk import auth, ceremony, plans, uscc
from screens.ceremony import LEAVE_QUESTION, CeremonyScreen, TaskPickerScreen

SIZE = (80, 24)


class CeremonyApp(App):
    """The smallest host: a logged-in user and the task picker on top."""

    def __init__(self, user: User, first=None) -> None:
        super().__init__()
        self.user = user
        self.first = first

    def on_mount(self) -> None:
        self.push_screen(self.first or TaskPickerScreen())


@pytest.fixture
def world(db):
    item = Item.create(code="RS-02", name="用人单位遵守工资支付规定情况的检查",
                       legal_basis="《保障农民工工资支付条例》", content="工资支付",
                       category="建筑施工企业", lead_office="劳动保障监察大队", team_size=2)
    ItemStratum.create(item=item, name="重点", criterion="special", ratio_bp=5000, position=0)
    ItemStratum.create(item=item, name="一般", criterion="default", ratio_bp=2500, position=1)
    targets = [Target.create(uscc=uscc.make("411623", f"MA{i:07d}"),
                             name=f"商水县第{i}建筑工程有限公司", category="建筑施工企业",
                             complaint_count=4 if i < 4 else 0)
               for i in range(12)]
    inspectors = [Inspector.create(cert_no=f"豫人社监{i + 1:04d}", name=f"检查员{i + 1}",
                                   office="劳动保障监察大队",
                                   cert_valid_until=dt.date.today() + dt.timedelta(days=400))
                  for i in range(5)]
    Conflict.create(inspector=inspectors[0], target=targets[0], reason="近亲属任职")
    tasks = plans.make_plan(plans.this_year(), "tester", items=[item])
    operator = auth.create_user("czy", "secret123", "operator", "操作员甲")
    witness = auth.create_user("jz", "secret123", "witness", "见证人甲")
    return {"item": item, "targets": targets, "inspectors": inspectors, "task": tasks[0],
            "operator": operator, "witness": witness}


def text_of(app: App, selector: str) -> str:
    w = app.screen.query_one(selector)
    if isinstance(w, Digits):
        return w.value
    return str(w.render())


def screen_text(app: App) -> str:
    """Everything the top screen draws at the terminal's size, as plain text lines."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def type_text(pilot, text: str) -> None:
    await pilot.press(*[c if c != " " else "space" for c in text])


async def open_task(pilot, app) -> CeremonyScreen:
    await pilot.pause()
    await pilot.press("enter")  # the first row: this year's round 1
    await pilot.pause()
    await pilot.pause()
    assert isinstance(app.screen, CeremonyScreen), text_of(app, "#picker-msg")
    return app.screen


async def sign_in_two(pilot, app) -> None:
    for name, org in (("王见证", "县纪委监委派驻纪检组"), ("李监督", "县司法局")):
        await type_text(pilot, name)
        await pilot.press("enter")
        await type_text(pilot, org)
        await pilot.press("enter")
        await pilot.pause()


def printed(kind: str) -> Path:
    """The one PDF of that kind the screen saved (no printer is configured in tests)."""
    found = list((Path(os.environ["KIOSK_DATA_DIR"]) / "print").glob(f"{kind}-*.pdf"))
    assert len(found) == 1, found
    return found[0]


def visible(app: App, text: str) -> bool:
    return text in screen_text(app)


async def test_whole_ceremony_by_keys(world, tmp_path):
    app = CeremonyApp(world["operator"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_task(pilot, app)
        draw_id = screen.draw_id
        assert app.screen.v.state == "prepared"
        # The three digests are on screen in full, at 80 columns.
        for kind in ("pool", "inspectors", "conflicts"):
            assert visible(app, screen.v.digests[kind])
        await sign_in_two(pilot, app)
        assert [w["name"] for w in screen.v.witnesses] == ["王见证", "李监督"]
        assert screen.v.state == "witnesses"
        await pilot.press("p")  # the pre-draw sheet, with the witnesses' signature lines
        await pilot.pause()
        sheet = printed("predraw")
        assert sheet.read_bytes().startswith(b"%PDF") and str(sheet) in text_of(app, "#msg")
        await pilot.press("c")
        await pilot.pause()
        v = screen.v
        assert v.state == "committed" and len(v.commitment) == 64
        assert visible(app, v.commitment)  # the whole commitment fits at 80×24

        await type_text(pilot, "7 3 1 9")
        await pilot.press("enter")
        await pilot.pause()
        assert visible(app, "随机数：7 3 1 9")
        await type_text(pilot, "20260520")
        await pilot.press("enter")
        await pilot.pause()
        assert screen.v.state == "entropy"
        await pilot.press("enter")  # no beacon
        await pilot.pause()
        v = screen.v
        assert v.state == "revealed" and v.beacon is None
        selected = [s["uscc"] for s in v.selected]
        n = len(selected)
        # 4 special targets at 50% and 8 others at 25%.
        assert n == 4
        assert text_of(app, "#counter") == f"0/{n}"

        for k in range(n):
            await pilot.press("space")
            await pilot.pause()
            assert text_of(app, "#counter") == f"{k + 1}/{n}"
            assert text_of(app, "#pick-uscc").replace(" ", "") == selected[k]
            assert visible(app, text_of(app, "#pick-uscc"))
        assert Draw.get_by_id(draw_id).reveal_index == n
        assert ceremony.view(draw_id).selected and \
            [s["uscc"] for s in ceremony.view(draw_id).selected] == selected

        await pilot.press("m")
        await pilot.pause()
        v = screen.v
        assert v.state == "matched"
        first = v.selected[0]
        before = [m["cert_no"] for m in first["team"]]
        assert text_of(app, "#pick-uscc").replace(" ", "") == first["uscc"]
        assert all(c in text_of(app, "#pick-team") for c in before)

        # On-the-spot recusal on the first team: the second member, with a reason.
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("2")
        await type_text(pilot, "曾在该单位任职")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        amendment = ceremony.view(draw_id).amendments
        assert len(amendment) == 1
        assert amendment[0]["target"] == first["uscc"]
        assert amendment[0]["inspector"] == before[1]
        replacement = amendment[0]["replacement"]
        after = [m["cert_no"] for m in screen.v.selected[0]["team"]]
        assert after != before and before[1] not in after and replacement in after
        assert replacement in text_of(app, "#pick-team")
        assert f"由协议抽取替补：{replacement}" in text_of(app, "#msg")

        for _ in range(n):  # the remaining teams, then the full list
            await pilot.press("space")
            await pilot.pause()
        assert screen.full_list
        table = app.screen.query_one("#teams", DataTable)
        assert table.row_count == n

        for _ in range(2):  # each witness confirms
            await pilot.press("k")
            await pilot.pause()
            await pilot.press("y")
            await pilot.pause()
        assert screen.v.state == "confirmed"
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        await pilot.pause()
        assert screen.v.state == "sealed"
        assert visible(app, "摇号已封存")
        # Art. 12: no names on the shared screen after sealing.
        assert not screen.v.names_shown

        await pilot.press("p")
        await pilot.pause()
        assert printed("protocol").read_bytes().startswith(b"%PDF")
        await pilot.press("t")
        await pilot.pause()
        assert printed("slips").read_bytes().startswith(b"%PDF")

        await pilot.press("e")
        await pilot.pause()
        path = screen.export_path
        assert path is not None and path.exists()
        assert f"kiosk verify {path}" in text_of(app, "#verify-cmd")

    draw = Draw.get_by_id(draw_id)
    assert draw.state == "sealed"
    assert Assignment.select().where(Assignment.draw == draw).count() == len(selected)
    record = json.loads(Path(path).read_text(encoding="utf-8"))
    assert record["selected"] == selected
    from kiosk.verify import verify_record

    code, message = _verify(verify_record, record)
    assert code == 0, message
    from kiosk import lottery

    for kind in ("pool", "inspectors", "conflicts"):
        data = (path.parent / f"{kind}.tsv").read_bytes()
        assert lottery.sha_hex(data) == record["digests"][kind]


def _verify(verify_record, record):
    out = verify_record(record)
    if isinstance(out, tuple):
        return out
    return out, ""


async def test_abort_keeps_the_attempt_and_numbers_the_next(world):
    app = CeremonyApp(world["operator"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_task(pilot, app)
        draw_id = screen.draw_id
        await sign_in_two(pilot, app)
        await pilot.press("ctrl+x")
        await pilot.pause()
        await pilot.press("enter")  # an empty reason is refused
        await pilot.pause()
        assert Draw.get_by_id(draw_id).state == "witnesses"
        await type_text(pilot, "见证人临时离场")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        assert screen.v.state == "aborted"
        assert visible(app, "见证人临时离场")
        await pilot.press("escape")  # an aborted draw is left without asking
        await pilot.pause()
        assert isinstance(app.screen, TaskPickerScreen)
        draw = Draw.get_by_id(draw_id)
        assert draw.state == "aborted" and draw.abort_reason == "见证人临时离场"
        assert PlanTask.get_by_id(world["task"].id).state == "planned"

        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        second = app.screen
        assert isinstance(second, CeremonyScreen) and second.draw_id != draw_id
        assert Draw.get_by_id(second.draw_id).attempt_no == 2
        assert second.v.attempt == 2


async def test_escape_asks_before_leaving(world):
    app = CeremonyApp(world["operator"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_task(pilot, app)
        await pilot.press("escape")
        await pilot.pause()
        assert visible(app, LEAVE_QUESTION)
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("escape")  # Escape on the question means "stay"
        await pilot.pause()
        assert app.screen is screen
        # The app's quit key asks the same question instead of quitting.
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.is_running and visible(app, LEAVE_QUESTION)
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is screen
        assert Draw.get_by_id(screen.draw_id).lock_owner == ceremony.TERMINAL_ID
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, TaskPickerScreen)
        # Leaving pauses: the lock is released and the attempt stays open.
        draw = Draw.get_by_id(screen.draw_id)
        assert draw.lock_owner == "" and draw.state == "prepared"


def _reveal_all(draw_id: int) -> list[str]:
    ceremony.sign_in_witness(draw_id, "王见证", "纪检组", "czy")
    ceremony.sign_in_witness(draw_id, "李监督", "司法局", "czy")
    ceremony.commit(draw_id, "czy")
    ceremony.enter_entropy(draw_id, 0, "1 2 3", "czy")
    ceremony.enter_entropy(draw_id, 1, "4 5 6", "czy")
    selected = ceremony.reveal(draw_id, "czy")
    ceremony.advance_reveal(draw_id, 1)
    return selected


@pytest.mark.parametrize("role, shown", [("witness", False), ("operator", True)])
async def test_target_names_only_for_roles_with_need(world, role, shown):
    draw = ceremony.prepare(world["task"].code, "czy")
    selected = _reveal_all(draw.id)
    name = Target.get(Target.uscc == selected[0]).name
    user = world["witness"] if role == "witness" else world["operator"]
    app = CeremonyApp(user, first=CeremonyScreen(draw.id))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CeremonyScreen)
        # A restart shows the same count as before it.
        assert text_of(app, "#counter") == f"1/{len(selected)}"
        assert screen.v.names_shown is shown
        assert (name in text_of(app, "#pick-meta")) is shown
        assert (name in screen_text(app)) is shown


async def test_other_roles_cannot_start_a_draw(world):
    app = CeremonyApp(world["witness"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, TaskPickerScreen)
        assert "只有抽签操作员或管理员" in text_of(app, "#picker-msg")
        assert Draw.select().count() == 0


async def test_second_terminal_is_refused_plainly(world):
    ceremony.prepare(world["task"].code, "czy", terminal="other-host:1:abc")
    app = CeremonyApp(world["operator"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, TaskPickerScreen)
        assert "另一终端" in text_of(app, "#picker-msg")
