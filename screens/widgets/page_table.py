"""A DataTable that holds exactly one page; paging keys ask the screen for another page."""
from __future__ import annotations

from textual.binding import Binding

from screens.widgets.plain_table import PlainTable


class PageTable(PlainTable):
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
                tooltip="第一页", show=False),
        Binding("end", "screen.last_page", "末页", key_display="End", id="table.last_page",
                tooltip="最后一页", show=False),
        # Wider lists than 80 columns: the arrows scroll the columns, and the footer says so.
        Binding("right", "scroll_columns(1)", "左右看列", key_display="←→",
                id="table.scroll_right", tooltip="向右翻一列，查看其余各列"),
        Binding("left", "scroll_columns(-1)", "左移", key_display="←", id="table.scroll_left",
                tooltip="向左翻一列", show=False),
        Binding("enter", "select_cursor", "详情", key_display="Enter", id="table.details",
                tooltip="查看这一行的全部内容"),
    ]

    def rows_that_fit(self) -> int:
        # One line for the header and one kept for a horizontal scrollbar (wide CJK names).
        return max(3, self.size.height - 2)

    def action_scroll_columns(self, step: int) -> None:
        """Scroll so the next (or previous) column starts at the left edge: one key press
        shows a new column, where the default arrow scrolls a cell at a time."""
        starts, x = [], 0
        for column in self.ordered_columns:
            starts.append(x)
            x += column.get_render_width(self)
        here = round(self.scroll_x)
        if step > 0:
            target = next((s for s in starts if s > here), here)
        else:
            target = max((s for s in starts if s < here), default=0)
        self.scroll_to(x=target, animate=False)
