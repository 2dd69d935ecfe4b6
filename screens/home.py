"""Home dashboard: who is logged in, the bureau's figures, and one key per function."""
from __future__ import annotations

import importlib
from typing import NamedTuple

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from db.connection import database
from screens.widgets.menu_panel import MenuPanel
from screens.widgets.summary_panel import SummaryPanel


class MenuEntry(NamedTuple):
    """One function reachable from home.

    target: "registry:<kind>" for a registry screen, else "module:Class" of a Screen that is
    imported only when the key is pressed (so a screen not written yet cannot break the app)
    and built without arguments (it reads `app.user`).
    """

    key: str
    target: str
    label: str  # full label, shown in the menu panel
    short: str  # footer label (the footer has 80 columns for every key)
    id: str
    tooltip: str


MENU: list[MenuEntry] = [
    MenuEntry("1", "registry:items", "事项清单", "事项", "home.items", "浏览、搜索、导入导出抽查事项清单"),
    MenuEntry("2", "registry:inspectors", "执法人员名录", "人员", "home.inspectors", "浏览、搜索、导入导出执法检查人员名录"),
    MenuEntry("3", "registry:targets", "检查对象名录", "对象", "home.targets", "浏览、搜索、导入导出检查对象名录"),
    MenuEntry("4", "registry:conflicts", "回避关系", "回避", "home.conflicts", "执法人员与检查对象的回避关系"),
    MenuEntry("5", "registry:trainings", "培训记录", "培训", "home.trainings", "执法人员培训记录"),
    MenuEntry("6", "registry:inspections", "他部门检查结果", "他检", "home.inspections", "其他部门的检查结果，避免重复检查"),
    MenuEntry("d", "screens.ceremony:TaskPickerScreen", "摇号（选择计划任务）", "摇号", "home.draw", "选择计划任务，在见证人面前摇号"),
    MenuEntry("s", "screens.scan:ScanScreen", "扫码 / 录入检查报告", "扫码", "home.scan", "扫描任务单二维码，录入检查报告"),
    MenuEntry("l", "screens.deadlines:DeadlinesScreen", "报告期限", "期限", "home.deadlines", "检查报告的提交期限与逾期情况"),
    MenuEntry("v", "screens.reports:ReviewScreen", "报告审核", "审核", "home.review", "审核检查报告，记录处理意见"),
]

NOT_READY = "此功能尚未启用。"


def load_screen(target: str):
    """Build the screen a menu entry names, or None when its module is not installed yet."""
    if target.startswith("registry:"):
        from screens.registry import RegistryScreen

        return RegistryScreen(target.split(":", 1)[1])
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        # Only the screen's own module missing means "not yet"; anything else is a real bug.
        if e.name and module_name.startswith(e.name):
            return None
        raise
    cls = getattr(module, class_name, None)
    return cls() if cls is not None else None


class HomeScreen(Screen[None]):
    BINDINGS = [
        *[Binding(e.key, f"open('{e.target}')", e.short, id=e.id, tooltip=e.tooltip)
          for e in MENU],
        Binding("o", "app.logout", "注销", id="home.logout", tooltip="退出登录，回到登录画面"),
    ]

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        with Vertical(id="home-body"):
            yield Static("", id="home-user")
            with Horizontal(id="home-panels"):
                yield SummaryPanel(id="home-summary")
                yield MenuPanel([(e.key, e.label) for e in MENU]
                                + [("o", "注销（退出登录）")], id="home-menu")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.refresh_summary()

    def on_screen_resume(self) -> None:
        self.refresh_summary()

    def refresh_summary(self) -> None:
        from screens.app import user_label

        user = getattr(self.app, "user", None)
        who = user_label(user) if user is not None else ""
        self.query_one("#home-user", Static).update(
            f"{getattr(self.app, 'bureau_name', '')}  ·  当前用户：{who}")
        self._load_summary()

    @work(thread=True, exclusive=True, group="home-summary")
    def _load_summary(self) -> None:
        # COUNTs over a million targets take a few hundred ms: keep the keys responsive.
        from kiosk.dashboard import summary

        with database.connection_context():
            s = summary()
        self.app.call_from_thread(self.query_one(SummaryPanel).show, s)

    def action_open(self, target: str) -> None:
        screen = load_screen(target)
        if screen is None:
            self.notify(NOT_READY, severity="warning")
            return
        self.app.push_screen(screen)
