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
        Binding("pageup", "screen.prev_page", "上页", key_display="PgUp", id="table.prev_page",
                tooltip="上一页"),
        Binding("pagedown", "screen.next_page", "下页", key_display="PgDn",
                id="table.next_page", tooltip="下一页"),
        Binding("home", "screen.first_page", "首页", key_display="Home", id="table.first_page",
                tooltip="第一页"),
        Binding("end", "screen.last_page", "末页", key_display="End", id="table.last_page",
                tooltip="最后一页"),
        Binding("enter", "select_cursor", "详情", key_display="Enter", id="table.details",
                tooltip="查看这一行的全部内容"),
    ]

    def rows_that_fit(self) -> int:
        # One line for the header and one kept for a horizontal scrollbar (wide CJK names).
        return max(3, self.size.height - 2)
