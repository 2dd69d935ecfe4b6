"""PostgreSQL's COPY FROM STDIN in its text format: many rows in one statement, which the server
neither parses nor plans row by row. Used by an import (kiosk.registry.pg_copy), every bulk
write (kiosk.store.bulk_insert) and `kiosk migrate-db`: one home for how a value is written as
a COPY cell."""
from __future__ import annotations

import datetime as dt
import io
import itertools

COPY_ROWS = 10_000  # rows formatted at a time, sent while the server stores the last

# COPY's text format: a backslash starts an escape, a tab ends a column, a newline a row.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_SPECIAL = ("\\", "\t", "\n", "\r")


def copy_column(values: list) -> list[str]:
    """One column's values as COPY text cells: None is \\N (NULL; '' stays an empty string),
    booleans t/f, dates and times in ISO form (as psycopg2 sends them), bytes as bytea's hex,
    numbers as written."""
    kinds = set(map(type, values))
    if kinds == {str}:
        if any(c in "".join(values) for c in _SPECIAL):
            return [v.translate(_ESCAPES) for v in values]
        return values
    if kinds == {bool}:
        return list(map(_BOOLS.__getitem__, values))
    if kinds == {int}:
        return list(map(str, values))
    cache: dict = {}  # the same stamp or date repeats on many rows: format it once

    def cell(v) -> str:
        if v is None:
            return "\\N"
        if isinstance(v, str):
            return v.translate(_ESCAPES)
        if isinstance(v, bool):
            return "t" if v else "f"
        if isinstance(v, bytes | memoryview):  # bytea's hex form, its backslash escaped
            return "\\\\x" + bytes(v).hex()
        if isinstance(v, dt.datetime | dt.date | dt.time):
            s = cache.get(v)
            if s is None:
                s = cache[v] = v.isoformat(sep=" ") if isinstance(v, dt.datetime) \
                    else v.isoformat()
            return s
        return str(v).translate(_ESCAPES)

    return [cell(v) for v in values]


_BOOLS = {True: "t", False: "f"}


class _Rows(io.TextIOBase):
    """The rows as COPY text, formatted COPY_ROWS at a time as the driver reads: the server
    stores one piece while the next is formatted, and only one piece is held at once."""

    def __init__(self, columns: list[list]):
        self.columns, self.at = columns, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> str:  # the driver sends whatever length it gets
        n = len(self.columns[0]) if self.columns else 0
        if self.at >= n:
            return ""
        i, self.at = self.at, self.at + COPY_ROWS
        cells = [copy_column(c[i:self.at]) for c in self.columns]
        return "".join(itertools.chain.from_iterable(
            ("\t".join(row), "\n") for row in zip(*cells, strict=True)))


def copy_rows(cursor, table: str, names: list[str], columns: list[list]) -> None:
    """COPY the rows, given column by column, into table (quoted) under the quoted names."""
    cursor.copy_expert(f"COPY {table} ({', '.join(names)}) FROM STDIN", _Rows(columns))
