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
    Training.create(inspector=inspectors[1], title="行政执法培训", date=dt.date(2026, 3, 1),
                    hours=8)
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


async def test_every_menu_key_opens_its_screen_class(store):
    from screens.home import MENU, HomeScreen
    from screens.registry import RegistryScreen

    assert all(isinstance(e.screen, type) for e in MENU)  # classes, not import strings
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        for entry in MENU:
            if not app.screen.shows(entry):  # e.g. 我的任务 is an inspector's entry
                continue
            await pilot.press(entry.key)
            await settle(pilot)
            assert type(app.screen) is entry.screen, entry.id
            if entry.screen is RegistryScreen:
                assert app.screen.kind == entry.args[0]
            app.pop_screen()
            await settle(pilot)
            assert isinstance(app.screen, HomeScreen)


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
    other = [*good[:code_col], target_code(902), *good[code_col + 1:]]
    _write_csv(path, header, [good, other, bad])

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


def shell_classes() -> dict[str, type]:
    """Every App, Screen and Widget class defined anywhere in the screens package."""
    import importlib
    import inspect
    import pkgutil

    from textual.app import App
    from textual.widget import Widget

    import screens

    found = {}
    for info in pkgutil.walk_packages(screens.__path__, "screens."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and issubclass(cls, (Widget, App)):
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return found


# Actions reached through keys the footer does not list, and why that is fine.
UNSHOWN_ACTIONS = {
    ("RecusalModal", "pick"): "nine digit keys, one per team member; the dialog's line says so",
    ("RegistryScreen", "first_page"): "Home: the footer's room goes to the column arrows",
    ("RegistryScreen", "last_page"): "End: the footer's room goes to the column arrows",
}


def test_every_binding_has_id_and_tooltip():
    from textual.binding import Binding

    classes = shell_classes()
    # The walk finds them all, not a hand-kept list: at least every screen of the menu.
    assert {"screens.app.KioskApp", "screens.home.HomeScreen", "screens.login.LoginScreen",
            "screens.dialogs.login.LoginModal", "screens.dialogs.input.InputModal",
            "screens.dialogs.file.FileModal", "screens.registry.RegistryScreen",
            "screens.widgets.login_form.LoginInput"} <= set(classes)
    assert len(classes) >= 20
    bad = [(name, b) for name, cls in classes.items() for b in cls.__dict__.get("BINDINGS", [])
           if not (isinstance(b, Binding) and b.id and b.tooltip)]
    assert not bad
    assert KioskApp.ENABLE_COMMAND_PALETTE is False


def test_every_action_has_a_key_in_the_footer():
    import re

    from textual.binding import Binding

    classes = shell_classes()
    shown = {re.sub(r"\(.*", "", b.action).rpartition(".")[2]
             for cls in classes.values() for b in cls.__dict__.get("BINDINGS", [])
             if isinstance(b, Binding) and b.show}
    missing = [(cls.__name__, attr[len("action_"):]) for cls in classes.values()
               for attr in cls.__dict__ if attr.startswith("action_")
               and attr[len("action_"):] not in shown]
    assert [m for m in missing if m not in UNSHOWN_ACTIONS] == []


async def test_title_follows_the_signed_in_user(store):
    auth.create_user("insp01", "insp123", "inspector", "张伟")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert app.sub_title == ""
        await login(pilot)
        assert app.sub_title == "王登记（登记管理员）"
        app.require_login(lambda user: None)
        await pilot.pause()
        await pilot.press(*"insp01", "enter", *"insp123", "enter")
        await settle(pilot)
        assert app.sub_title == "张伟（执法检查人员）"
        await pilot.press("o")
        await settle(pilot)
        assert app.user is None and app.sub_title == ""


async def test_make_app_can_start_signed_in_on_a_screen(store):
    from screens.home import HomeScreen
    from screens.registry import RegistryScreen

    admin = auth.login("admin", "admin123")
    app = make_app(user=admin, start=RegistryScreen("items"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, RegistryScreen) and app.screen.kind == "items"
        assert app.sub_title == "王登记（登记管理员）"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)


async def test_a_guarding_screen_vetoes_app_actions(db):
    from textual.screen import Screen

    from screens.app import GuardsAppActions

    class Guarded(Screen):
        def blocks_app_action(self, action: str) -> bool:
            return action == "logout"

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert app.check_action("logout", ()) is True
        guarded = Guarded()
        assert isinstance(guarded, GuardsAppActions)
        app.push_screen(guarded)
        await pilot.pause()
        assert app.check_action("logout", ()) is False
        assert app.check_action("focus_next", ()) is True
        app.pop_screen()
        await pilot.pause()
        assert app.check_action("logout", ()) is True


async def test_input_modal_gives_text_refuses_blank_when_required(db):
    from textual.widgets import Button, Input

    from screens.dialogs import InputModal

    answers = []
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(InputModal("中止本次摇号", "请说明理由：", required=True,
                                   empty_message="理由不能为空。"), answers.append)
        await pilot.pause()
        modal = app.screen
        assert isinstance(app.focused, Input)
        await pilot.press("space", "enter")  # blank: refused, the dialog stays
        await pilot.pause()
        assert app.screen is modal and answers == []
        assert str(modal.query_one("#dialog-error").content) == "理由不能为空。"
        await pilot.press("backspace", *"断电", "enter")
        await pilot.pause()
        assert answers == ["断电"]

        # Arrows alone: down to 确定, right is still the text; down again to 取消, Enter.
        app.push_screen(InputModal("审核意见", value="同意"), answers.append)
        await pilot.pause()
        await pilot.press("down")
        assert isinstance(app.focused, Button) and app.focused.id == "dialog-ok"
        await pilot.press("enter")
        await pilot.pause()
        assert answers[-1] == "同意"
        app.push_screen(InputModal("审核意见", value="同意"), answers.append)
        await pilot.pause()
        await pilot.press("down", "down")
        assert app.focused.id == "dialog-cancel"
        await pilot.press("enter")
        await pilot.pause()
        assert answers[-1] is None
        app.push_screen(InputModal("审核意见"), answers.append)
        await pilot.pause()
        await pilot.press("enter")  # not required: empty is an answer
        await pilot.pause()
        app.push_screen(InputModal("审核意见"), answers.append)
        await pilot.pause()
        await pilot.press("x", "escape")
        await pilot.pause()
    assert answers == ["断电", "同意", None, "", None]


async def test_file_modal_checks_the_path(db, tmp_path):
    from pathlib import Path

    from screens.dialogs import FileModal

    existing = tmp_path / "holidays.csv"
    existing.write_text("date\n", encoding="utf-8")
    answers = []
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(FileModal("导入节假日", suffixes=(".csv", ".xlsx")), answers.append)
        await pilot.pause()
        modal = app.screen
        await pilot.press(*str(tmp_path / "nope.csv"), "enter")
        await pilot.pause()
        status = str(modal.query_one("#file-status").content)
        assert status == f"找不到文件：{tmp_path / 'nope.csv'}"
        await pilot.press("ctrl+u", *str(tmp_path / "holidays.txt"), "enter")
        await pilot.pause()
        assert str(modal.query_one("#file-status").content) == "文件须为 .csv 或 .xlsx 格式。"
        assert app.screen is modal and answers == []
        await pilot.press("ctrl+u", *str(existing), "enter")
        await pilot.pause()
        app.push_screen(FileModal("保存", must_exist=False), answers.append)
        await pilot.pause()
        await pilot.press(*str(tmp_path / "no-dir" / "out.pdf"), "enter")
        await pilot.pause()
        assert "文件夹不存在" in str(app.screen.query_one("#file-status").content)
        await pilot.press("escape")
        await pilot.pause()
    assert answers == [Path(existing), None]


def test_store_connection_closes_the_worker_threads_connection(db):
    import threading

    from db.connection import database
    from db.models import Item as ItemModel
    from screens.workers import store_connection

    seen = []

    def worker() -> None:
        with store_connection():
            seen.append(database.is_closed())
            seen.append(ItemModel.select().count())
        seen.append(database.is_closed())

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [False, 0, True]
    assert not database.is_closed()  # the main thread's own connection is left alone


def test_an_inactive_user_cannot_log_in(db):
    from db.models import User
    from kiosk.errors import UserError

    auth.create_user("gone", "gone12345", "inspector", "离职人员")
    assert auth.login("gone", "gone12345").username == "gone"  # the password is right
    User.update(active=False).where(User.username == "gone").execute()
    with pytest.raises(UserError, match="用户名或密码不正确"):
        auth.login("gone", "gone12345")


async def test_the_login_screen_refuses_an_inactive_user(store):
    from db.models import User
    from screens.login import LoginScreen

    User.update(active=False).where(User.username == "admin").execute()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        assert isinstance(app.screen, LoginScreen) and app.user is None
        assert "用户名或密码不正确" in str(app.screen.query_one("#login-error").content)


async def test_the_login_form_posts_who_logged_in(store):
    from screens.widgets.login_form import LoginForm

    posted = []
    app = make_app()

    def hook(message) -> None:  # called once per node the message bubbles through
        if isinstance(message, LoginForm.LoggedIn) and message not in posted:
            posted.append(message)

    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await login(pilot, "admin", "wrong-password")
        assert posted == []
        await pilot.press(*"admin123", "enter")
        await settle(pilot)
    assert [m.user.username for m in posted] == ["admin"]


async def test_login_dialog_moves_between_fields_with_arrows(store):
    from screens.dialogs import LoginModal

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(LoginModal("请检查人员登录"))
        await pilot.pause()
        assert app.focused.id == "username"
        await pilot.press("down")
        assert app.focused.id == "password"
        await pilot.press("up")
        assert app.focused.id == "username"


def test_screen_css_lives_in_the_one_stylesheet():
    """DEFAULT_CSS is for reusable widgets; screens and dialogs are styled in kiosk.tcss."""
    from textual.screen import Screen

    with_css = [name for name, cls in shell_classes().items()
                if issubclass(cls, Screen) and "DEFAULT_CSS" in cls.__dict__]
    assert with_css == []
