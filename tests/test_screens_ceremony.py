"""Pilot tests of the ceremony screens at 80×24, by keys alone: a draw, abort, leaving, names."""
from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from textual import events
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
from kiosk import auth, plans, uscc
from kiosk.draw import lock, steps, witnesses
from kiosk.draw import view as draw_view
from screens.app import make_app
from screens.ceremony import LEAVE_QUESTION, CeremonyScreen, TaskPickerScreen
from tests.draw_world import make_accounts

SIZE = (80, 24)


def CeremonyApp(user: User, first=None):
    """The kiosk signed in as `user`, with the task picker (or `first`) on top."""
    return make_app(user=user, start=first or TaskPickerScreen())


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
    plans.approve(plans.this_year(), "leader")  # Art. 18: only approved rounds are drawn
    operator = auth.create_user("czy", "secret123", "operator", "操作员甲")
    witness = auth.create_user("jz", "secret123", "witness", "见证人甲")
    make_accounts()  # witness1..3 with <login>123
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
    """Type as a terminal does: ASCII as keys, other characters (Chinese punctuation, U+3000,
    what an input method sends) as key events carrying the character itself."""
    for c in text:
        if c.isascii():
            await pilot.press(c if c != " " else "space")
        else:
            pilot.app.focused.post_message(events.Key(c, c))
            await pilot.pause()


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def open_task(pilot, app, beacon_source: str = "") -> CeremonyScreen:
    await settle(pilot)
    await pilot.press("enter")  # the first row: this year's round 1
    await settle(pilot)
    await type_text(pilot, beacon_source)  # the beacon's source, declared at freeze
    await pilot.press("enter")
    await settle(pilot)
    await settle(pilot)
    assert isinstance(app.screen, CeremonyScreen), text_of(app, "#picker-msg")
    return app.screen


async def witness_modal(pilot, login: str, entropy: str | None = None,
                        password: str | None = None, prefilled: bool = False) -> None:
    """A witness types their own account (unless prefilled), password and entropy."""
    await settle(pilot)
    if not prefilled:
        await type_text(pilot, login)
        await pilot.press("enter")
    await type_text(pilot, password or f"{login}123")
    await pilot.press("enter")
    if entropy is not None:
        await type_text(pilot, entropy)
        await pilot.press("enter")
    await settle(pilot)


async def sign_in_two(pilot, app) -> None:
    for login in ("witness1", "witness2"):
        await pilot.press("w")
        await witness_modal(pilot, login)


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
        assert [w["account"] for w in screen.v.witnesses] == ["witness1", "witness2"]
        assert screen.v.state == "witnesses"
        await pilot.press("p")  # the pre-draw sheet, with the witnesses' signature lines
        await settle(pilot)
        sheet = printed("predraw")
        assert sheet.read_bytes().startswith(b"%PDF") and str(sheet) in text_of(app, "#msg")
        await pilot.press("c")
        await settle(pilot)
        v = screen.v
        assert v.state == "committed" and len(v.commitment) == 64
        assert visible(app, v.commitment)  # the whole commitment fits at 80×24

        await pilot.press("e")
        await witness_modal(pilot, "witness1", "7 3 1 9", prefilled=True)
        # masked until every witness has given theirs
        assert not visible(app, "7 3 1 9") and visible(app, "已录入（全部录入后公布）")
        await pilot.press("e")
        await witness_modal(pilot, "witness2", "20260520", prefilled=True)
        assert screen.v.state == "entropy"
        assert visible(app, "随机数：7 3 1 9")
        await pilot.press("enter")  # Enter is not a ceremony key any more
        await settle(pilot)
        assert screen.v.state == "entropy"
        await pilot.press("v")
        await settle(pilot)
        v = screen.v
        assert v.state == "revealed" and v.beacon is None
        selected = [s["uscc"] for s in v.selected]
        n = len(selected)
        # 4 special targets at 50% and 8 others at 25%.
        assert n == 4
        assert text_of(app, "#counter") == f"0/{n}"

        for k in range(n - 1):
            await pilot.press("space")
            await settle(pilot)
            assert text_of(app, "#counter") == f"{k + 1}/{n}"
            assert text_of(app, "#pick-uscc").replace(" ", "") == selected[k]
            assert visible(app, text_of(app, "#pick-uscc"))
        await pilot.press("enter")  # does not reveal the next one
        await settle(pilot)
        assert text_of(app, "#counter") == f"{n - 1}/{n}"
        await pilot.press("a")  # one key reveals all the remaining targets
        await settle(pilot)
        assert text_of(app, "#counter") == f"{n}/{n}"
        assert Draw.get_by_id(draw_id).reveal_index == n
        assert [s["uscc"] for s in draw_view.view(draw_id).selected] == selected

        await pilot.press("m")
        await settle(pilot)
        v = screen.v
        assert v.state == "matched"
        first = v.selected[0]
        before = [m["cert_no"] for m in first["team"]]
        assert text_of(app, "#pick-uscc").replace(" ", "") == first["uscc"]
        assert all(c in text_of(app, "#pick-team") for c in before)

        # On-the-spot recusal on the first team: the second member, with a reason.
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("2")
        await type_text(pilot, "曾在该单位任职")
        await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
        amendment = draw_view.view(draw_id).amendments
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
            await settle(pilot)
        assert screen.full_list
        table = app.screen.query_one("#teams", DataTable)
        assert table.row_count == n

        for login in ("witness1", "witness2"):  # each witness confirms with their password
            await pilot.press("k")
            await witness_modal(pilot, login, prefilled=True)
        assert screen.v.state == "confirmed"
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert screen.v.state == "sealed"
        assert visible(app, "摇号已封存")
        # Art. 12: no names on the shared screen after sealing.
        assert not screen.v.names_shown

        await pilot.press("p")
        await settle(pilot)
        assert printed("protocol").read_bytes().startswith(b"%PDF")
        await pilot.press("t")
        await settle(pilot)
        assert printed("slips").read_bytes().startswith(b"%PDF")

        await pilot.press("e")
        await settle(pilot)
        path = screen.export_path
        assert path is not None and path.exists()
        assert f"kiosk verify {path}" in text_of(app, "#verify-cmd")

    draw = Draw.get_by_id(draw_id)
    assert draw.state == "sealed"
    assert Assignment.select().where(Assignment.draw == draw).count() == len(selected)
    record = json.loads(Path(path).read_text(encoding="utf-8"))
    assert record["selected"] == selected
    assert [w["account"] for w in record["witnesses"]] == ["witness1", "witness2"]
    assert record["witness_entropy"] == ["7 3 1 9", "20260520"]
    from kiosk.draw.verify import verify_record

    code, message = verify_record(record)
    assert code == 0, message
    from kiosk.draw import lottery

    for kind in ("pool", "inspectors", "conflicts"):
        data = (path.parent / f"{kind}.tsv").read_bytes()
        assert lottery.sha_hex(data) == record["digests"][kind]


async def test_abort_keeps_the_attempt_and_numbers_the_next(world):
    app = CeremonyApp(world["operator"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_task(pilot, app)
        draw_id = screen.draw_id
        await sign_in_two(pilot, app)
        await pilot.press("ctrl+x")
        await settle(pilot)
        await pilot.press("enter")  # an empty reason is refused
        await settle(pilot)
        assert Draw.get_by_id(draw_id).state == "witnesses"
        await type_text(pilot, "见证人临时离场")
        await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
        assert screen.v.state == "aborted"
        assert visible(app, "见证人临时离场")
        await pilot.press("escape")  # an aborted draw is left without asking
        await settle(pilot)
        assert isinstance(app.screen, TaskPickerScreen)
        draw = Draw.get_by_id(draw_id)
        assert draw.state == "aborted" and draw.abort_reason == "见证人临时离场"
        assert PlanTask.get_by_id(world["task"].id).state == "planned"

        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("enter")  # no beacon
        await settle(pilot)
        await settle(pilot)
        second = app.screen
        assert isinstance(second, CeremonyScreen) and second.draw_id != draw_id
        assert Draw.get_by_id(second.draw_id).attempt_no == 2
        assert second.v.attempt == 2
        assert second.v.earlier_attempts == [
            {"attempt": 1, "state": "aborted", "reason": "见证人临时离场",
             "witnesses": ["witness1", "witness2"]}]
        assert visible(app, "见证人临时离场")


async def test_escape_asks_before_leaving(world):
    app = CeremonyApp(world["operator"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_task(pilot, app)
        await pilot.press("escape")
        await settle(pilot)
        assert visible(app, LEAVE_QUESTION)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("escape")  # Escape on the question means "stay"
        await settle(pilot)
        assert app.screen is screen
        # The app's quit key asks the same question instead of quitting.
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert app.is_running and visible(app, LEAVE_QUESTION)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is screen
        assert Draw.get_by_id(screen.draw_id).lock_owner == lock.TERMINAL_ID
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, TaskPickerScreen)
        # Leaving pauses: the lock is released and the attempt stays open.
        draw = Draw.get_by_id(screen.draw_id)
        assert draw.lock_owner == "" and draw.state == "prepared"


def _user(login):
    return witnesses.login(login, f"{login}123")


def _reveal_all(draw_id: int) -> list[str]:
    for login in ("witness1", "witness2"):
        witnesses.sign_in(draw_id, _user(login))
    steps.commit(draw_id, "czy")
    witnesses.enter_entropy(draw_id, _user("witness1"), "1 2 3")
    witnesses.enter_entropy(draw_id, _user("witness2"), "4 5 6")
    selected = steps.reveal(draw_id, "czy")
    steps.advance_reveal(draw_id, 1)
    return selected


@pytest.mark.parametrize("role, shown", [("witness", False), ("operator", True)])
async def test_target_names_only_for_roles_with_need(world, role, shown):
    draw = steps.prepare(world["task"].code, "czy")
    selected = _reveal_all(draw.id)
    name = Target.get(Target.uscc == selected[0]).name
    user = world["witness"] if role == "witness" else world["operator"]
    app = CeremonyApp(user, first=CeremonyScreen(draw.id))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CeremonyScreen)
        # A restart shows the same count as before it.
        assert text_of(app, "#counter") == f"1/{len(selected)}"
        # the shared screen shows credit codes only, whoever is signed in
        assert not screen.v.names_shown and name not in screen_text(app)
        await pilot.press("n")  # names on request, for a role that may see them (Art. 12)
        await settle(pilot)
        assert screen.v.names_shown is shown
        assert (name in text_of(app, "#pick-meta")) is shown
        assert (name in screen_text(app)) is shown


async def test_other_roles_cannot_start_a_draw(world):
    app = CeremonyApp(world["witness"])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TaskPickerScreen)
        assert "只有抽签操作员或管理员" in text_of(app, "#picker-msg")
        assert Draw.select().count() == 0


async def test_second_terminal_is_refused_plainly(world):
    steps.prepare(world["task"].code, "czy", terminal="other-host:1:abc")
    app = CeremonyApp(world["operator"])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # a task being drawn resumes without asking for a source
        await settle(pilot)
        await settle(pilot)
        assert isinstance(app.screen, TaskPickerScreen)
        assert "另一终端" in text_of(app, "#picker-msg")


async def test_operator_cannot_sign_in_as_a_witness_nor_give_entropy(world):
    auth.create_user("czw", "secret123", "witness", "操作员的见证人账号")
    app = CeremonyApp(world["operator"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_task(pilot, app)
        await pilot.press("w")  # the operator's own account is not a witness account
        await witness_modal(pilot, "czy", password="secret123")
        assert "不是见证人账号" in text_of(app, "#msg") and screen.v.witnesses == []
        await pilot.press("w")  # a witness's account with a guessed password
        await witness_modal(pilot, "witness1", password="123456")
        assert "用户名或密码不正确" in text_of(app, "#msg") and screen.v.witnesses == []
        await sign_in_two(pilot, app)
        await pilot.press("w")  # the same witness twice does not count twice
        await witness_modal(pilot, "witness1")
        assert "重复" in text_of(app, "#msg") and len(screen.v.witnesses) == 2
        await pilot.press("c")
        await settle(pilot)
        # witness2 cannot give entropy in witness1's turn, nor with witness1's name
        await pilot.press("e")
        await settle(pilot)
        box = app.screen.query_one("#wm-account")
        box.value = ""
        box.focus()
        await witness_modal(pilot, "witness2", "5 5 5")
        assert "签到顺序" in text_of(app, "#msg")
        assert all(not w["given"] for w in screen.v.witnesses)


ENTROPY = "今天天气晴朗，掷骰 3 5 6\u3000再掷一次：６"


async def test_entropy_with_spaces_and_punctuation_is_kept_whole_through_the_ui(world):
    app = CeremonyApp(world["operator"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_task(pilot, app)
        await sign_in_two(pilot, app)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("e")
        await witness_modal(pilot, "witness1", ENTROPY, prefilled=True)
        await pilot.press("e")
        await witness_modal(pilot, "witness2", "一 二", prefilled=True)
        assert [w["entropy"] for w in screen.v.witnesses] == [ENTROPY, "一 二"]
        await pilot.press("v")
        await settle(pilot)
        assert screen.v.state == "revealed"
    draw = Draw.get_by_id(screen.draw_id)
    assert [w.entropy for w in draw.witnesses.order_by(draw.witnesses.model.position)] == \
        [ENTROPY, "一 二"]


async def test_abort_after_reveal_needs_every_witness(world):
    draw = steps.prepare(world["task"].code, "czy")
    _reveal_all(draw.id)
    app = CeremonyApp(world["operator"], first=CeremonyScreen(draw.id))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+x")
        await settle(pilot)
        await type_text(pilot, "结果不满意")
        await pilot.press("enter")
        await witness_modal(pilot, "witness1", prefilled=True)
        await pilot.press("escape")  # witness2 does not agree
        await settle(pilot)
        assert Draw.get_by_id(draw.id).state == "revealed"
        await pilot.press("ctrl+x")
        await settle(pilot)
        await type_text(pilot, "结果不满意")
        await pilot.press("enter")
        await witness_modal(pilot, "witness1", prefilled=True)
        await witness_modal(pilot, "witness2", prefilled=True)
        await settle(pilot)
        assert Draw.get_by_id(draw.id).state == "aborted"
        assert Draw.get_by_id(draw.id).results_json  # the revealed result stays on file
