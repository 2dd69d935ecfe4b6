"""A DataTable that shows strings as typed: never as Rich markup (firm names, logins, values)."""
from __future__ import annotations

from rich.markup import escape
from textual.widgets import DataTable


def plain(value: object) -> object:
    """A str with its markup escaped (shown exactly as typed); anything else unchanged.

    DataTable reads a str cell as markup: an imported firm named "[@click=app.quit]X" became a
    link and "[/b]" stopped the screen (issue 12). Escaping keeps the cell a str, unchanged
    unless it holds something that looks like a tag."""
    return escape(value) if isinstance(value, str) else value


class PlainTable(DataTable):
    """DataTable whose str cells and row labels are literal text."""

    def add_row(self, *cells, height=1, key=None, label=None):  # DataTable's signature
        return super().add_row(*(plain(c) for c in cells), height=height, key=key,
                               label=plain(label))

    def update_cell(self, row_key, column_key, value, *, update_width=False):
        super().update_cell(row_key, column_key, plain(value), update_width=update_width)
