"""One registry cell: its text read into a stored value with a plain reason when it is bad, and
a stored value written back as the cell text of an export."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from kiosk import uscc
from kiosk.registry.kinds import CRITERIA, FALSE_WORDS, RISK_CLASSES, TRUE_WORDS, Column

INT_MAX = 2**31 - 1  # the integer columns are 32-bit on PostgreSQL


class Bad(Exception):
    """A cell that cannot be stored; the message is the reason, in Chinese."""


CTRL = re.compile(r"[\x00-\x1f\x7f]")  # PostgreSQL refuses NUL; the rest break files and slips
_DATE_RE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_DT_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def cell_text(raw) -> str:
    """A cell as text: integral numbers without ".0", dates in ISO form, nothing as ""."""
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, (dt.datetime, dt.date)):
        return raw.isoformat(sep=" ") if isinstance(raw, dt.datetime) else raw.isoformat()
    return str(raw)


def excel_serial(raw) -> dt.datetime | None:
    """An Excel serial day number (1900 system) as a datetime; None for other numbers."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and 1 <= raw < 2958466:
        return dt.datetime(1899, 12, 30) + dt.timedelta(days=float(raw))
    return None


def _parse_date(raw) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, (int, float)) and not 19000101 <= raw <= 29991231:
        serial = excel_serial(raw)
        if serial is not None:
            return serial.date()
    s = cell_text(raw).strip()
    m = _DATE_RE.match(s) or (re.match(r"^(\d{4})(\d{2})(\d{2})$", s))
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            pass
    raise Bad(f"“{s}”不是有效日期（应写成 2026-03-01）")


def _parse_datetime(raw) -> dt.datetime:
    serial = excel_serial(raw)
    if serial is not None:
        return (serial + dt.timedelta(microseconds=500_000)).replace(microsecond=0)
    if isinstance(raw, dt.datetime):
        return raw.replace(microsecond=0)
    if isinstance(raw, dt.date):
        return dt.datetime.combine(raw, dt.time())
    s = cell_text(raw).strip()
    m = _DT_RE.match(s)
    if m:
        try:
            return dt.datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4] or 0), int(m[5] or 0),
                               int(m[6] or 0))
        except ValueError:
            pass
    raise Bad(f"“{s}”不是有效的日期时间（应写成 2026-03-01 09:30）")


def _parse_percent(s: str) -> int:
    s = s.replace("％", "%").strip()
    m = re.match(r"^(\d+(?:\.\d{1,2})?)\s*%$", s)
    if not m:
        raise Bad(f"“{s}”不是百分数（应写成 1% 或 0.5%）")
    bp = round(float(m[1]) * 100)
    if not 0 < bp <= 10000:
        raise Bad(f"比例“{s}”应大于 0% 且不超过 100%")
    return bp


def _format_percent(bp: int) -> str:
    return f"{bp / 100:.2f}".rstrip("0").rstrip(".") + "%"


def _parse_strata(s: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    s = s.replace("；", ";").replace("：", ":")
    for part in [p.strip() for p in s.split(";") if p.strip()]:
        bits = [b.strip() for b in part.split(":")]
        if len(bits) < 3:
            raise Bad(f"分层“{part}”应写成 名称:条件:比例")
        name, criterion, ratio = bits[0], ":".join(bits[1:-1]), bits[-1]
        if not name or len(name) > 32:
            raise Bad(f"分层“{part}”的名称为空或过长")
        if criterion.startswith("risk:"):
            if criterion[5:] not in RISK_CLASSES:
                raise Bad(f"分层“{part}”的信用风险等级应为 {'/'.join(RISK_CLASSES)}")
        elif criterion not in CRITERIA:
            raise Bad(f"分层“{part}”的条件应为 special、small_micro、risk:等级 或 default")
        if any(n == name for n, _, _ in out):
            raise Bad(f"分层名称“{name}”重复")
        out.append((name, criterion, _parse_percent(ratio)))
    return out


def _format_strata(strata: list[tuple[str, str, int]]) -> str:
    return ";".join(f"{n}:{c}:{_format_percent(r)}" for n, c, r in strata)


def parse_cell(c: Column, raw):
    """The stored value of one cell; raises Bad with a reason. Empty optional cells give None
    (the caller substitutes the model default)."""
    if isinstance(raw, str) and CTRL.search(raw):
        if "\t" in raw or "\n" in raw or "\r" in raw:
            raise Bad(f"“{c.label}”含有制表符或换行")
        raise Bad(f"“{c.label}”含有控制字符 U+{ord(CTRL.search(raw)[0]):04X}")
    s = cell_text(raw).strip()
    if s == "":
        if c.required:
            raise Bad(f"缺少必填项“{c.label}”")
        return None
    t = c.type
    if t == "uscc":
        code = uscc.normalise(s)
        reason = uscc.check(code)
        if reason:
            raise Bad(reason)
        return code
    if t == "int":
        if isinstance(raw, float) and not raw.is_integer():
            raise Bad(f"“{c.label}”应为整数，实为“{raw}”")
        if not re.fullmatch(r"[+-]?\d+", s):
            raise Bad(f"“{c.label}”应为整数，实为“{s}”")
        v = int(s)
        if c.minimum is not None and v < c.minimum:
            raise Bad(f"“{c.label}”不能小于 {c.minimum}")
        if v > INT_MAX:
            raise Bad(f"“{c.label}”不能大于 {INT_MAX}")
        if v < -INT_MAX - 1:
            raise Bad(f"“{c.label}”不能小于 {-INT_MAX - 1}")
        return v
    if t == "bool":
        low = s.lower()
        if low in TRUE_WORDS:
            return True
        if low in FALSE_WORDS:
            return False
        raise Bad(f"“{c.label}”应为“{c.words[0]}”或“{c.words[1]}”，实为“{s}”")
    if t == "date":
        try:
            return _parse_date(raw)
        except Bad as e:
            raise Bad(f"“{c.label}”{e}") from None
    if t == "datetime":
        try:
            return _parse_datetime(raw)
        except Bad as e:
            raise Bad(f"“{c.label}”{e}") from None
    if t == "choice":
        if s not in c.choices:
            raise Bad(f"“{c.label}”应为 {'/'.join(c.choices)} 之一，实为“{s}”")
        return s
    if t == "percent":
        return _parse_percent(s)
    if t == "strata":
        return _parse_strata(s)
    if t == "lines":
        return "\n".join(p.strip() for p in s.split("|") if p.strip())
    if c.max_len and len(s) > c.max_len:
        raise Bad(f"“{c.label}”过长（最多 {c.max_len} 字）")
    return s


MISS = object()  # what a quick check returns for a cell it leaves to parse_cell


def fast_parser(c: Column):
    """A quick check for the usual well-formed cell text of a typed column (and, for integer
    columns, a spreadsheet's number); it returns MISS for anything else, which then goes
    through parse_cell for its value or its reason. None for columns without one."""
    t = c.type
    if t == "choice":
        ok = frozenset(c.choices)
        return lambda raw: raw if raw in ok else MISS
    if t == "bool":
        words = _bool_words()
        return lambda raw: words.get(raw, MISS)
    if t == "int":
        lo = c.minimum if c.minimum is not None else 0  # negatives take the checked path

        def parse_int(raw):  # text, or a number cell of a spreadsheet (always a float)
            if raw.__class__ is float:
                if not raw.is_integer():
                    return MISS
            elif not (raw.isdigit() and raw.isascii()):
                return MISS
            v = int(raw)
            return v if lo <= v <= INT_MAX else MISS
        return parse_int
    if t == "uscc":
        check = uscc.check
        return lambda raw: raw if len(raw) == 18 and check(raw) is None else MISS
    return None


def _bool_words() -> dict[str, bool]:
    return {w: True for w in TRUE_WORDS} | {w: False for w in FALSE_WORDS if w}


def fast_column(c: Column, raws: Sequence) -> list | None:
    """The stored values of a whole column when every cell is the usual well-formed text (or,
    for an integer column, every cell a spreadsheet's whole number), as fast_parser and
    parse_cell would give them; None when some cell needs a closer look. Set, map and join
    go over the column in C, where a Python call per cell costs more than the rest of the
    check on a large file."""
    types = set(map(type, raws))
    t = c.type
    if t == "int" and types == {float}:
        if not all(map(float.is_integer, raws)):
            return None
        out = list(map(int, raws))
    elif types != {str}:  # numbers, dates, missing cells, CellProblems, or an empty column
        return None
    elif t == "text":
        if CTRL.search("".join(raws)):
            return None
        out = list(map(str.strip, raws))
        # An empty cell is refused (required) or stored as None: left to the cell by cell path.
        if not all(out) or (c.max_len and max(map(len, out)) > c.max_len):
            return None
        return out
    elif t == "int":
        digits = "".join(raws)
        if not (all(raws) and digits.isdigit() and digits.isascii()):
            return None
        out = list(map(int, raws))
    elif t == "choice":
        return list(raws) if set(raws) <= frozenset(c.choices) else None
    elif t == "bool":
        words = _bool_words()
        return list(map(words.__getitem__, raws)) if set(raws) <= words.keys() else None
    elif t == "uscc":
        # check() passes only 18 characters of the code's alphabet, which normalise() keeps.
        return None if any(map(uscc.check, raws)) else list(raws)
    else:
        return None
    lo = c.minimum if c.minimum is not None else 0
    return out if lo <= min(out) and max(out) <= INT_MAX else None


def format_cell(c: Column, v) -> str | int:
    """A stored value as the cell the export writes (text, or an int for int columns)."""
    if v is None:
        return ""
    t = c.type
    if t == "bool":
        return c.words[0] if v else c.words[1]
    if t == "date":
        return v.isoformat() if isinstance(v, dt.date) else str(v)
    if t == "datetime":
        if isinstance(v, dt.datetime):
            return v.strftime("%Y-%m-%d %H:%M:%S")
        return str(v)
    if t == "percent":
        return _format_percent(v)
    if t == "strata":
        return _format_strata(v)
    if t == "lines":
        return "|".join(str(v).splitlines())
    if t == "int":
        return int(v)
    return str(v)


def serial_1904(raw) -> dt.datetime | None:
    """An Excel serial day number of a 1904-based workbook as a datetime (to the second)."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and 0 <= raw < 2958466 - 1462:
        moment = dt.datetime(1904, 1, 1) + dt.timedelta(days=float(raw))
        return (moment + dt.timedelta(microseconds=500_000)).replace(microsecond=0)
    return None

