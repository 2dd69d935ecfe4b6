"""Home dashboard: who is logged in, the bureau's figures, and one key per function."""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from kiosk import access
from screens.app import user_label
from screens.audit import AuditScreen
from screens.base import SignedIn
from screens.cases import CasesScreen
from screens.ceremony import TaskPickerScreen
from screens.dashboard import DashboardScreen
from screens.deadlines import DeadlinesScreen
from screens.my_tasks import MyTasksScreen
from screens.plan import PlanScreen
from screens.publish import PublishScreen
from screens.registry import RegistryScreen
from screens.reports import ReviewScreen
from screens.sanctions import SanctionsScreen
from screens.scan import ScanScreen
from screens.settings import SettingsScreen
from screens.users import UsersScreen
from screens.widgets.menu_panel import MenuPanel
from screens.widgets.summary_panel import SummaryPanel
from screens.workers import store_worker


class MenuEntry(NamedTuple):
    """One function reachable from home: its key, the Screen class it opens, and its labels.

    The screen is built with `args` alone (registry screens take their kind); everything else
    it reads from `app.user`."""

    key: str
    screen: type[Screen]
    args: tuple[str, ...]
    label: str  # full label, shown in the menu panel
    short: str  # footer label (the footer has 80 columns for every key)
    id: str
    tooltip: str
    footer: bool = True  # False: listed in the menu panel only (the footer has 80 columns)
    # The kiosk.access rule of the screen's own refusal: a role it would refuse on opening
    # does not see the entry. None: every signed-in role (the registries' lists, the scan, the
    # deadlines that each role sees its share of, and review, whose screen asks for a
    # reviewer's log-in: an inspector hands the terminal to the reviewer there).
    may: Callable[[str | None], bool] | None = None


MENU: list[MenuEntry] = [
    MenuEntry("1", RegistryScreen, ("items",), "事项清单", "事项", "home.items",
              "浏览、搜索、导入导出抽查事项清单"),
    MenuEntry("2", RegistryScreen, ("inspectors",), "执法人员名录", "人员", "home.inspectors",
              "浏览、搜索、导入导出执法检查人员名录"),
    MenuEntry("3", RegistryScreen, ("targets",), "检查对象名录", "对象", "home.targets",
              "浏览、搜索、导入导出检查对象名录"),
    MenuEntry("4", RegistryScreen, ("conflicts",), "回避关系", "回避", "home.conflicts",
              "执法人员与检查对象的回避关系", may=access.may_see_conflicts),
    MenuEntry("5", RegistryScreen, ("trainings",), "培训记录", "培训", "home.trainings",
              "执法人员培训记录"),
    MenuEntry("6", RegistryScreen, ("inspections",), "他部门检查结果", "他检", "home.inspections",
              "其他部门的检查结果，避免重复检查"),
    MenuEntry("d", TaskPickerScreen, (), "摇号（选择计划任务）", "摇号", "home.draw",
              "选择计划任务，在见证人面前摇号", may=access.may_run_draw),
    MenuEntry("s", ScanScreen, (), "扫码 / 录入检查报告", "扫码", "home.scan",
              "扫描任务单二维码，录入检查报告"),
    MenuEntry("m", MyTasksScreen, (), "我的任务", "我的", "home.my_tasks",
              "我所在检查组的任务、报告状态和期限（检查人员）", may=access.may_enter_reports),
    MenuEntry("l", DeadlinesScreen, (), "报告期限", "期限", "home.deadlines",
              "检查报告的提交期限与逾期情况"),
    MenuEntry("v", ReviewScreen, (), "报告审核", "审核", "home.review",
              "审核检查报告，记录处理意见"),
    MenuEntry("a", AuditScreen, (), "审计日志", "审计", "home.audit",
              "查看、筛选、核验审计日志（局领导、纪检审计）", footer=False,
              may=access.may_read_audit),
    MenuEntry("p", PlanScreen, (), "年度抽查计划", "计划", "home.plan",
              "年度计划的编制、批准和执行情况（第七、十八条）", footer=False,
              may=access.may_read_plan),
    MenuEntry("u", UsersScreen, (), "账户管理", "账户", "home.users",
              "新增、停用账户，重置密码，更改角色（管理员）", footer=False,
              may=access.may_manage_accounts),
    MenuEntry("g", SettingsScreen, (), "本局设置", "设置", "home.settings",
              "单位名称、网址、打印机、见证人数等设置（管理员）", footer=False,
              may=access.may_manage_accounts),
    MenuEntry("b", PublishScreen, (), "结果公示", "公示", "home.publish",
              "发布摇号结果公示包和公示名录（局领导，第四、五、十三条）", footer=False,
              may=access.may_publish),
    MenuEntry("c", CasesScreen, (), "执法案件", "案件", "home.cases",
              "责令整改、行政处罚、移送司法机关的办理与逾期（第十条）", footer=False,
              may=access.may_read_cases),
    MenuEntry("k", DashboardScreen, (), "领导看板", "看板", "home.dashboard",
              "逾期、培训、覆盖率与年度考核表（局领导、纪检审计）", footer=False,
              may=access.may_read_leader_dashboards),
    MenuEntry("j", SanctionsScreen, (), "执法人员处理", "处理", "home.sanctions",
              "记录执法人员处理，改派其未完成任务（第十八条）", footer=False,
              may=access.may_read_sanctions),
]
ENTRIES = {e.id: e for e in MENU}


class HomeScreen(SignedIn, Screen[None]):
    """Who is signed in, the bureau's figures, and one key per function of MENU."""

    BINDINGS = [
        *[Binding(e.key, f"open('{e.id}')", e.short, id=e.id, tooltip=e.tooltip, show=e.footer)
          for e in MENU],
        Binding("o", "app.logout", "注销", id="home.logout", tooltip="退出登录，回到登录画面"),
    ]

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        with Vertical(id="home-body"):
            yield Static("", id="home-user", markup=False)  # names as typed
            with Horizontal(id="home-panels"):
                yield SummaryPanel(id="home-summary")
                yield MenuPanel(self.menu_lines(), id="home-menu")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.refresh_summary()

    def on_screen_resume(self) -> None:
        self.refresh_summary()

    def refresh_summary(self) -> None:
        who = user_label(self.user) if self.user is not None else ""
        # Back from a lock screen another user unlocked: their menu, not the last one's.
        self.query_one(MenuPanel).show(self.menu_lines())
        self.query_one("#home-user", Static).update(
            f"{getattr(self.app, 'bureau_name', '')}  ·  当前用户：{who}")
        self._load_summary()

    @store_worker(group="home-summary")
    def _load_summary(self) -> None:
        # COUNTs over a million targets take a few hundred ms: keep the keys responsive.
        from kiosk.dashboard import summary

        s = summary()
        self.app.call_from_thread(self.query_one(SummaryPanel).show, s)

    def shows(self, entry: MenuEntry) -> bool:
        """Whether the signed-in user's role may use this entry (hidden otherwise)."""
        role = getattr(self.user, "role", None)
        return access.is_role(role) and (entry.may is None or entry.may(role))

    def menu_lines(self) -> list[tuple[str, str]]:
        return [(e.key, e.label) for e in MENU if self.shows(e)] + [("o", "注销（退出登录）")]

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "open" and parameters and parameters[0] in ENTRIES:
            return self.shows(ENTRIES[parameters[0]])
        return True

    def action_open(self, entry_id: str) -> None:
        """Open the screen of the menu entry with this id (the binding's id)."""
        entry = ENTRIES[entry_id]
        if not self.shows(entry):
            return
        self.app.push_screen(entry.screen(*entry.args))
