"""Pilot tests of the kiosk shell at 80x24: login, home, registry screens, import and export."""
from __future__ import annotations

import csv
import datetime as dt

import pytest

from db.models import Conflict, InspectionRecord, Inspector, Item, Target, Training
from kiosk import auth, plans, uscc
from screens.app import KioskApp, make_app

SIZE = (80, 24)
N_TARGETS = 45


@pytest.fixture(autouse=True)
def _no_blink(monkeypatch):
    """A blinking cursor makes every frame different; tests don't need it."""
    from textual.widgets import Input

    monkeypatch.setattr(Input, "cursor_blink", False, raising=False)


def target_code(i: int) -> str:
    return uscc.make(body=f"MA{i:06d}")


@pytest.fixture
def store(db):
    auth.create_user("admin", "admin123", "admin", "王登记", office="法规股")
    item = Item.create(code="RS-01", name="劳动合同签订情况检查", legal_basis="《劳动合同法》",
                       content="劳动合同签订", category="用人单位", lead_office="劳动保障监察大队")
    Item.create(code="RS-02", name="工资支付情况检查", legal_basis="《保障农民工工资支付条例》",
                content="工资支付", category="用人单位", lead_office="劳动保障监察大队")
    inspectors = [Inspector.create(cert_no=f"4116230{i:02d}", name=name, office="劳动保障监察大队")
                  for i, name in enumerate(["张伟", "李娜", "赵强"], start=1)]
    targets = [Target.create(uscc=target_code(i), name=f"测试企业甲{i:03d}号有限公司",
                             category="用人单位", township="东城街道")
               for i in range(1, N_TARGETS + 1)]
    Conflict.create(inspector=inspectors[0], target=targets[0], reason="亲属关系")
    Training.create(inspector=inspectors[1], title="行政执法培训", date=dt.date(2026, 3, 1), hours=8)
    InspectionRecord.create(target=targets[1], date=dt.date(2026, 2, 1), department="市场监管局")
    plans.make_plan(dt.date.today().year, "test", items=[item])
    return db


async def settle(pilot) -> None:
    """Let timers, thread workers and their call_from_thread results land."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def login(pilot, username: str = "admin", password: str = "admin123") -> None:
    await pilot.press(*username, "enter", *password, "enter")
    await settle(pilot)


def status_text(app: KioskApp) -> str:
    return str(app.screen.query_one("#registry-status").content)


def first_cells(app: KioskApp, column: int = 0) -> list[str]:
    from screens.widgets.page_table import PageTable

    table = app.screen.query_one(PageTable)
    return [str(table.get_row_at(r)[column]) for r in range(table.row_count)]


def assert_fits(app: KioskApp) -> None:
    for widget in app.screen.query("*"):
        if widget.display:
            assert widget.region.right <= SIZE[0], widget
            assert widget.region.bottom <= SIZE[1], widget


async def test_login_fails_then_succeeds(store):
    app = make_app([("admin", "admin123", "登记管理员")])
    async with app.run_test(size=SIZE) as pilot:
        from textual.widgets import DataTable

        from screens.login import LoginScreen

        assert isinstance(app.screen, LoginScreen)
        demo = app.screen.query_one("#demo-accounts", DataTable)
        assert [str(c) for c in demo.get_row_at(0)] == ["admin", "admin123", "登记管理员"]
        assert_fits(app)

        await login(pilot, "admin", "wrong-password")
        assert "用户名或密码不正确" in str(app.screen.query_one("#login-error").content)
        assert app.user is None
        assert isinstance(app.screen, LoginScreen)

        # After a failure the password is cleared and focused: type it again.
        await pilot.press(*"admin123", "enter")
        await settle(pilot)
        assert app.user is not None and app.user.username == "admin"
        from screens.home import HomeScreen

        assert isinstance(app.screen, HomeScreen)


async def test_home_shows_numbers_and_logs_out(store):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        text = " ".join(str(app.screen.query_one("#home-summary").content).split())
        assert f"检查对象 {N_TARGETS} 家" in text
        assert "执法人员 3 人" in text
        assert "事项清单 2 项" in text
        assert "回避关系 1 条" in text
        assert f"{dt.date.today().year} 年抽查计划 共 3 次" in text
        assert "待摇号 3" in text
        assert "王登记（登记管理员）" in str(app.screen.query_one("#home-user").content)
        assert_fits(app)

        await pilot.press("o")
        await settle(pilot)
        from screens.login import LoginScreen

        assert isinstance(app.screen, LoginScreen)
        assert app.user is None


async def test_missing_screen_says_not_enabled(store):
    from screens.home import load_screen

    assert load_screen("screens.no_such_screen_yet:NopeScreen") is None
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        app.screen.action_open("screens.no_such_screen_yet:NopeScreen")
        await pilot.pause()
        assert any("此功能尚未启用" in str(n.message) for n in app._notifications)


@pytest.mark.parametrize("key,kind,expected", [
    ("1", "items", "劳动合同签订情况检查"),
    ("2", "inspectors", "张伟"),
    ("3", "targets", "测试企业甲001号有限公司"),
    ("4", "conflicts", "亲属关系"),
    ("5", "trainings", "行政执法培训"),
    ("6", "inspections", "市场监管局"),
])
async def test_each_registry_screen_shows_rows(store, key, kind, expected):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        await pilot.press(key)
        await settle(pilot)
        from screens.registry import RegistryScreen
        from screens.widgets.page_table import PageTable

        screen = app.screen
        assert isinstance(screen, RegistryScreen) and screen.kind == kind
        table = screen.query_one(PageTable)
        assert table.row_count >= 1
        cells = {str(c) for r in range(table.row_count) for c in table.get_row_at(r)}
        assert any(expected in c for c in cells), cells
        assert "共" in status_text(app)
        assert_fits(app)
        await pilot.press("escape")
        await settle(pilot)
        from screens.home import HomeScreen

        assert isinstance(app.screen, HomeScreen)


async def test_target_search_and_paging(store):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        await pilot.press("3")
        await settle(pilot)
        screen = app.screen
        size = screen.page_size
        pages = -(-N_TARGETS // size)
        assert pages >= 2
        assert status_text(app) == f"第 1/{pages} 页 · 共 {N_TARGETS} 条"
        table_rows = len(first_cells(app))
        assert table_rows == size  # exactly one page in the widget
        uscc_col = [f for f, _ in screen.columns].index("uscc")
        before = first_cells(app, uscc_col)

        await pilot.press("pagedown")
        await settle(pilot)
        after = first_cells(app, uscc_col)
        assert status_text(app) == f"第 2/{pages} 页 · 共 {N_TARGETS} 条"
        assert after[0] != before[0]
        assert not set(after) & set(before)

        await pilot.press("end")
        await settle(pilot)
        assert status_text(app) == f"第 {pages}/{pages} 页 · 共 {N_TARGETS} 条"
        assert len(first_cells(app)) == N_TARGETS - (pages - 1) * size
        await pilot.press("home")
        await settle(pilot)
        assert first_cells(app, uscc_col) == before

        # Typing searches after a short pause, without Enter.
        await pilot.press("slash", *"甲007")
        await pilot.pause(0.4)
        await settle(pilot)
        assert first_cells(app, uscc_col) == [target_code(7)]
        assert "共 1 条" in status_text(app)

        # Enter searches at once; an empty search brings every row back.
        await pilot.press(*["backspace"] * 4, "enter")
        await settle(pilot)
        assert status_text(app) == f"第 1/{pages} 页 · 共 {N_TARGETS} 条"
        assert app.screen.query_one("#registry-table").has_focus


def _export_rows(tmp_path) -> tuple[list[str], list[list[str]]]:
    from kiosk import registry

    out = tmp_path / "targets-export.csv"
    registry.export_file("targets", str(out), "test")
    with open(out, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def _write_csv(path, header, rows) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


async def test_bad_import_lists_the_line_and_changes_nothing(store, tmp_path):
    header, rows = _export_rows(tmp_path)
    name_col = next(i for i, h in enumerate(header) if "名称" in h)
    code_col = next(i for i, h in enumerate(header) if "信用代码" in h)
    good = list(rows[0])
    good[code_col], good[name_col] = target_code(900), "新导入企业甲公司"
    bad = list(rows[0])
    bad_code = target_code(901)
    bad[code_col] = bad_code[:-1] + ("0" if bad_code[-1] != "0" else "1")  # wrong check char
    bad[name_col] = "坏行企业乙公司"
    path = tmp_path / "bad.csv"
    _write_csv(path, header, [good, good[:code_col] + [target_code(902)] + good[code_col + 1:], bad])

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        await pilot.press("3")
        await settle(pilot)
        before_status, before_rows = status_text(app), first_cells(app)

        await pilot.press("i")
        await settle(pilot)
        from screens.dialogs import ImportModal

        assert isinstance(app.screen, ImportModal)
        await pilot.press(*str(path), "enter")
        await settle(pilot)
        problems = app.screen.query_one("#file-problems").text
        assert "第 4 行" in problems
        assert "未导入" in str(app.screen.query_one("#file-status").content)
        assert_fits(app)

        await pilot.press("escape")
        await settle(pilot)
        assert status_text(app) == before_status
        assert first_cells(app) == before_rows
        assert Target.select().count() == N_TARGETS


async def test_good_import_shows_new_rows(store, tmp_path):
    header, rows = _export_rows(tmp_path)
    name_col = next(i for i, h in enumerate(header) if "名称" in h)
    code_col = next(i for i, h in enumerate(header) if "信用代码" in h)
    new = list(rows[0])
    new[code_col], new[name_col] = target_code(900), "新导入企业丙公司"
    path = tmp_path / "good.csv"
    _write_csv(path, header, [new])

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("i", *str(path), "enter")
        await settle(pilot)
        assert "新增 1 条" in str(app.screen.query_one("#file-status").content)
        await pilot.press("escape")
        await settle(pilot)
        assert f"共 {N_TARGETS + 1} 条" in status_text(app)
        await pilot.press("slash", *"新导入", "enter")
        await settle(pilot)
        uscc_col = [f for f, _ in app.screen.columns].index("uscc")
        assert first_cells(app, uscc_col) == [target_code(900)]


async def test_export_writes_the_file(store, tmp_path):
    out = tmp_path / "items-out.csv"
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        await pilot.press("1", "e")
        await settle(pilot)
        from textual.widgets import Input

        path_input = app.screen.query_one("#file-path", Input)
        assert path_input.value.startswith("~/items-") and path_input.value.endswith(".xlsx")
        await pilot.press("ctrl+u", *str(out), "enter")  # ctrl+u: clear to line start
        await settle(pilot)
        assert "已导出 2 条" in str(app.screen.query_one("#file-status").content)
    assert out.exists() and "劳动合同签订情况检查" in out.read_text(encoding="utf-8-sig")


async def test_confirm_modal_arrows_and_enter(db):
    from screens.dialogs import ConfirmModal

    answers = []
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(ConfirmModal("确定要继续吗？"), answers.append)
        await pilot.pause()
        await pilot.press("enter")  # the default is the safe answer: no
        await pilot.pause()
        app.push_screen(ConfirmModal("确定要继续吗？"), answers.append)
        await pilot.pause()
        await pilot.press("left", "enter")  # the left button is yes
        await pilot.pause()
        app.push_screen(ConfirmModal("确定要继续吗？", default=True), answers.append)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    assert answers == [False, True, False]


async def test_login_modal_switches_user(store):
    auth.create_user("insp01", "insp123", "inspector", "张伟")
    got = []
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        app.require_login(got.append, prompt="请检查人员登录")
        await pilot.pause()
        from screens.login import LoginModal

        assert isinstance(app.screen, LoginModal)
        await pilot.press(*"insp01", "enter", *"bad-pass", "enter")
        await settle(pilot)
        assert "用户名或密码不正确" in str(app.screen.query_one("#login-error").content)
        await pilot.press(*"insp123", "enter")
        await settle(pilot)
        assert [u.username for u in got] == ["insp01"]
        assert app.user.username == "insp01"

        app.require_login(got.append)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert got[-1] is None and app.user.username == "insp01"


async def test_every_binding_has_id_and_tooltip(store):
    from screens.dialogs import ConfirmModal, ExportModal, ImportModal, MessageModal
    from screens.home import HomeScreen
    from screens.login import LoginModal, LoginScreen
    from screens.registry import RegistryScreen

    for cls in (KioskApp, LoginScreen, LoginModal, HomeScreen, RegistryScreen, ConfirmModal,
                MessageModal, ImportModal, ExportModal):
        for b in cls.BINDINGS:
            assert b.id and b.tooltip, (cls.__name__, b.key)
    assert KioskApp.ENABLE_COMMAND_PALETTE is False
