"""The leaders' dashboard (Art. 14, 15, 17, 19): what needs attention, and the year-end figures,
one table at a time, with the year's XLSX workbook for the assessment."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from kiosk import access
from kiosk.dashboard import leaders, workbook
from kiosk.errors import UserError
from screens.base import SignedIn
from screens.widgets.plain_table import PlainTable
from screens.workers import store_worker


class DashboardScreen(SignedIn, Screen[None]):
    """Leaders and auditors: overdue reports and cases, aborted attempts, training and
    certificates, the directory's coverage, per office and per inspector."""

    BINDINGS = [
        Binding("t", "section(1)", "下一表", id="dashboard.next", tooltip="切换到下一张表"),
        Binding("T", "section(-1)", "上一表", show=False, id="dashboard.previous",
                tooltip="切换到上一张表"),
        Binding("minus", "year(-1)", "上一年", key_display="-", id="dashboard.year_back",
                tooltip="查看上一年度"),
        Binding("plus,equals_sign", "year(1)", "下一年", key_display="+",
                id="dashboard.year_next", tooltip="查看下一年度"),
        Binding("x", "export", "导出", id="dashboard.export",
                tooltip="导出本年度考核表（XLSX，记入审计日志）"),
        Binding("r", "reload", "刷新", id="dashboard.reload", tooltip="重新计算"),
        Binding("escape", "back", "返回", id="dashboard.back", tooltip="返回主页"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.board: leaders.Board | None = None
        self.section = 0
        self.year: int | None = None

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        yield Static("", id="dashboard-summary")
        yield Static("", id="dashboard-caption")
        yield PlainTable(id="dashboard-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="dashboard-note", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.when_allowed(access.may_read_leader_dashboards,
                          access.MAY_NOT_READ_LEADER_DASHBOARD,
                          "领导看板：请局领导或纪检审计人员登录", self.action_reload, self._say)

    def action_reload(self) -> None:
        self._say("正在计算……")
        self._load(self.user, self.year)

    @store_worker(group="dashboard")
    def _load(self, user, year: int | None) -> None:
        # Coverage counts a million-target directory: off the key handler's thread.
        try:
            board = leaders.board_for(user, year)
        except UserError as e:
            self.app.call_from_thread(self._say, str(e), True)
            return
        self.app.call_from_thread(self._show, board)

    def _show(self, board: leaders.Board) -> None:
        self.board, self.year = board, board.year
        self.query_one("#dashboard-summary", Static).update(
            f"{board.year} 年度  逾期报告 {len(board.overdue_reports)}  "
            f"逾期案件 {len(board.overdue_cases)}  中止摇号 {len(board.aborted)}  "
            f"需培训/换证 {len(board.gaps)}")
        self._say("")
        self._fill()

    def _fill(self) -> None:
        if self.board is None:
            return
        sheets = workbook.sheets(self.board)
        self.section %= len(sheets)
        title, header, rows = sheets[self.section]
        self.query_one("#dashboard-caption", Static).update(
            f"{self.section + 1}/{len(sheets)} {title}（{len(rows)} 行，t 切换）")
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_columns(*header)
        for row in rows:
            table.add_row(*(f"{v:.1%}" if isinstance(v, float) else str(v) for v in row))
        table.focus()

    def action_section(self, step: int) -> None:
        self.section += step
        self._fill()

    def action_year(self, step: int) -> None:
        if self.board is None:
            return
        self.year = self.board.year + step
        self.action_reload()

    def action_export(self) -> None:
        if self.board is None:
            return
        from screens.dialogs import InputModal

        year = self.board.year

        def done(path: str | None) -> None:
            if not path:
                return
            try:
                from screens.dialogs.file import check_path

                out = workbook.export_xlsx(self.user, check_path(
                    path, must_exist=False, suffixes=(".xlsx",)), year)
            except UserError as e:
                self._say(str(e), error=True)
                return
            self._say(f"已导出 {year} 年度考核表：{out}")

        self.app.push_screen(InputModal("导出年度考核表（XLSX）", "保存到：",
                                        value=f"~/{year}年度考核.xlsx", required=True), done)

    def _say(self, text: str, error: bool = False) -> None:
        note = self.query_one("#dashboard-note", Static)
        note.update(text)
        note.set_class(error, "error")

    def action_back(self) -> None:
        self.app.pop_screen()
