"""A registry list (items, inspectors, targets…): one page at a time, searchable, import/export."""
from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, Label, Static
from textual.worker import get_current_worker

from screens.base import SignedIn
from screens.dialogs import ExportModal, ImportModal, MessageModal, default_export_path
from screens.widgets.page_table import PageTable
from screens.workers import store_connection

KIND_LABELS = {
    "items": "事项清单",
    "inspectors": "执法人员名录",
    "targets": "检查对象名录",
    "conflicts": "回避关系",
    "trainings": "培训记录",
    "inspections": "他部门检查结果",
}

# Names the search rows carry besides the file's columns, shown next to the code they explain.
EXTRA_COLUMNS = {
    "conflicts": [("inspector_name", "姓名", "cert_no"), ("target_name", "单位名称", "uscc")],
    "trainings": [("inspector_name", "姓名", "cert_no")],
    "inspections": [("target_name", "单位名称", "uscc")],
}

# Fixed column widths (terminal cells): a new page then never re-lays the table out; longer text
# is cropped on screen and shown whole by Enter.
# The first columns of the targets list fit 80 columns (uscc, name, category, township); the
# rest scroll with the arrow keys named in the footer. Dates and office names are never cut.
WIDE = {"name": 26, "title": 24, "address": 30, "legal_basis": 24, "content": 24, "reason": 20,
        "target_name": 26, "strata": 24, "category": 20, "organizer": 20, "department": 22,
        "office": 16, "lead_office": 16, "offices": 24, "township": 8, "phone": 11}
CODE = {"uscc": 18, "cert_no": 12, "code": 8}
DATES = {"date": 10, "cert_valid_from": 10, "cert_valid_until": 10, "declared_at": 16}

SEARCH_DELAY = 0.15  # seconds of quiet typing before a search runs
MAX_CELL = 40  # cells beyond this are cut in the table (Enter shows the whole record)


def cell(value: object) -> str:
    if value is None:
        return ""
    if value is True:
        return "是"
    if value is False:
        return "否"
    text = str(value).replace("\n", " ")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def page_count(total: int, page_size: int) -> int:
    return max(1, -(-total // page_size))


def display_columns(kind: str) -> list[tuple[str, str]]:
    from kiosk import registry

    cols = list(registry.columns(kind))
    for field, label, after in EXTRA_COLUMNS.get(kind, []):
        at = next((i + 1 for i, (f, _) in enumerate(cols) if f == after), len(cols))
        cols.insert(at, (field, label))
    return cols


def count_matches(kind: str, text: str, user=None) -> tuple[int, bool]:
    """(matches, capped): a search may stop counting at the registry's cap to stay fast."""
    from kiosk import registry

    return registry.count_capped(kind, text, user=user)


class RegistryScreen(SignedIn, Screen[None]):
    """Shows one page from kiosk.registry.search; queries run in a thread so typing never waits."""

    BINDINGS = [
        Binding("slash", "focus_search", "搜索", key_display="/", id="registry.search",
                tooltip="输入名称、统一社会信用代码或类别搜索"),
        Binding("pagedown", "next_page", "下页", key_display="PgDn", priority=True,
                id="registry.next_page", tooltip="下一页"),
        Binding("pageup", "prev_page", "上页", key_display="PgUp", priority=True,
                id="registry.prev_page", tooltip="上一页"),
        # Home/End work but leave the footer's room to the column-scrolling arrows.
        Binding("home", "first_page", "首页", key_display="Home", id="registry.first_page",
                tooltip="第一页", show=False),
        Binding("end", "last_page", "末页", key_display="End", id="registry.last_page",
                tooltip="最后一页", show=False),
        Binding("i", "import", "导入", key_display="i", id="registry.import",
                tooltip="从 CSV 或 XLSX 文件导入"),
        Binding("e", "export", "导出", key_display="e", id="registry.export",
                tooltip="导出为 XLSX 或 CSV 文件"),
        Binding("escape", "back", "返回", key_display="Esc", id="registry.back",
                tooltip="回到主页（在搜索框中时先回到表格）"),
    ]

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.label = KIND_LABELS.get(kind, kind)
        self.columns: list[tuple[str, str]] = display_columns(kind)
        self.text = ""  # the search text of the page on screen
        self.page = 0
        self.page_size = 15
        self.total: int | None = None
        self.capped = False  # the search count stopped at the registry's cap
        self.rows: list[dict] = []
        self._search_timer: Timer | None = None
        self._generation = 0  # results of an older request are dropped

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        with Horizontal(id="registry-search-row"):
            yield Label(f"{self.label} 搜索：", id="registry-search-label")
            yield Input(placeholder="按 / 输入关键词（名称、代码、类别）", id="registry-search",
                        compact=True)
        yield PageTable(id="registry-table", cursor_type="row", zebra_stripes=True)
        yield Static("正在读取……", id="registry-status", markup=False)  # echoes the search
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = self.label
        from kiosk.errors import UserError
        from kiosk.registry.search import require_kind

        try:  # the conflicts registry is not for every role (Art. 5, 12): refused and logged
            require_kind(self.kind, self.user)
        except UserError as e:
            self.app.notify(str(e), severity="error", markup=False)
            self.app.call_later(self.app.pop_screen)
            return
        table = self.query_one(PageTable)
        from rich.cells import cell_len

        for field, label in self.columns:
            width = (WIDE.get(field) or CODE.get(field) or DATES.get(field)
                     or max(cell_len(label), 6))
            table.add_column(label, key=field, width=max(width, cell_len(label)))
        table.focus()
        self.call_after_refresh(self._first_load)

    def _first_load(self) -> None:
        self.page_size = self.query_one(PageTable).rows_that_fit()
        self.load(count=True)

    def on_resize(self) -> None:
        size = self.query_one(PageTable).rows_that_fit()
        if size != self.page_size and self.total is not None:
            first = self.page * self.page_size
            self.page_size = size
            self.page = first // size
            self.load()

    # --- loading -----------------------------------------------------------------------------

    def load(self, *, count: bool = False, last: bool = False) -> None:
        self._generation += 1
        self._fetch(self._generation, self.text, self.page, self.page_size, count or last, last)

    @work(thread=True, exclusive=True, group="registry-page")
    def _fetch(self, generation: int, text: str, page: int, size: int, count: bool,
               last: bool) -> None:
        from kiosk import registry

        worker = get_current_worker()
        # Each worker is its own thread with its own connection: close it when done.
        with store_connection():
            total, capped = self.total, self.capped
            if last:
                total, capped = count_matches(self.kind, text, self.app.user)
                page = page_count(total, size) - 1
            rows = registry.search(self.kind, text, offset=page * size, limit=size,
                                   user=self.app.user)
            if worker.is_cancelled:
                return
            if count and not last:
                # Rows first: counting a million rows must not hold back the page.
                self.app.call_from_thread(self._apply, generation, text, page, None, False, rows)
                total, capped = count_matches(self.kind, text, self.app.user)
                if worker.is_cancelled:
                    return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._apply, generation, text, page, total, capped, rows)

    def _apply(self, generation: int, text: str, page: int, total: int | None, capped: bool,
               rows: list[dict]) -> None:
        if generation != self._generation:
            return
        same_rows = rows is self.rows  # the count arriving after its page: status only
        self.text, self.page, self.total, self.capped, self.rows = text, page, total, capped, rows
        if not same_rows:
            table = self.query_one(PageTable)
            table.clear()
            for row in rows:
                table.add_row(*(cell(row.get(field)) for field, _ in self.columns),
                              key=str(row.get("id")))
        self._show_status()

    def _show_status(self) -> None:
        status = self.query_one("#registry-status", Static)
        where = f"“{self.text}”的搜索结果 · " if self.text else ""
        if self.total is None:
            status.update(f"{where}第 {self.page + 1} 页 · 正在计数……")
            return
        total = self.total
        if total == 0:
            status.update(f"{where}没有记录 · 共 0 条")
            return
        pages = page_count(total, self.page_size)
        more = "+" if self.capped else ""
        status.update(f"{where}第 {self.page + 1}/{pages}{more} 页 · 共 {total}{more} 条")

    # --- search ------------------------------------------------------------------------------

    @on(Input.Changed, "#registry-search")
    def _typed(self, event: Input.Changed) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DELAY, self._search_now)

    @on(Input.Submitted, "#registry-search")
    def _submitted(self, event: Input.Submitted) -> None:
        self._search_now()
        self.query_one(PageTable).focus()

    def _search_now(self) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
            self._search_timer = None
        self.text = self.query_one("#registry-search", Input).value.strip()
        self.page = 0
        self.load(count=True)

    def action_focus_search(self) -> None:
        self.query_one("#registry-search", Input).focus()

    # --- paging ------------------------------------------------------------------------------

    def _go(self, page: int) -> None:
        if self.total is not None:
            page = min(page, page_count(self.total, self.page_size) - 1)
        elif len(self.rows) < self.page_size:
            page = min(page, self.page)  # still counting, but this page is the last one
        page = max(0, page)
        if page != self.page:
            self.page = page
            self.load()

    def action_next_page(self) -> None:
        self._go(self.page + 1)

    def action_prev_page(self) -> None:
        self._go(self.page - 1)

    def action_first_page(self) -> None:
        self._go(0)

    def action_last_page(self) -> None:
        if self.total is not None:
            self._go(page_count(self.total, self.page_size) - 1)

    # --- record, import, export, back --------------------------------------------------------

    @on(PageTable.RowSelected)
    def _show_record(self, event: PageTable.RowSelected) -> None:
        index = event.cursor_row
        if not 0 <= index < len(self.rows):
            return
        row = self.rows[index]
        text = "\n".join(f"{label}：{'' if row.get(f) is None else row.get(f)}"
                         for f, label in self.columns)
        self.app.push_screen(MessageModal(f"{self.label} · 记录详情", text))

    def _actor(self) -> str:
        user = self.user
        return user.username if user is not None else "?"

    def action_import(self) -> None:
        def done(result) -> None:
            if result is not None:
                self.page = 0
                self.load(count=True)

        self.app.push_screen(ImportModal(self.kind, self.label, self._actor()), done)

    def action_export(self) -> None:
        self.app.push_screen(ExportModal(self.kind, self.label, self._actor(),
                                         default_export_path(self.kind)))

    def action_back(self) -> None:
        search = self.query_one("#registry-search", Input)
        if search.has_focus:
            self.query_one(PageTable).focus()
            return
        self.app.pop_screen()
