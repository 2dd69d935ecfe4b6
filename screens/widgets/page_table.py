"""A DataTable that holds exactly one page; paging keys ask the screen for another page."""
from __future__ import annotations

from textual.binding import Binding
from textual.widgets import DataTable


class PageTable(DataTable):
    """Never holds more than one page of rows: PgUp/PgDn/Home/End go to the screen's pager."""

    DEFAULT_CSS = """
    PageTable {
        height: 1fr;
        width: 100%;
    }
    """

    BINDINGS = [
        Binding("pagedown", "screen.next_page", "下页", show=False, id="table.next_page",
                tooltip="下一页"),
        Binding("pageup", "screen.prev_page", "上页", show=False, id="table.prev_page",
                tooltip="上一页"),
        Binding("home", "screen.first_page", "首页", show=False, id="table.first_page",
                tooltip="第一页"),
        Binding("end", "screen.last_page", "末页", show=False, id="table.last_page",
                tooltip="最后一页"),
    ]

    def rows_that_fit(self) -> int:
        # One line for the header and one kept for a horizontal scrollbar (wide CJK names).
        return max(3, self.size.height - 2)
