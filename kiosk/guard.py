"""What the kiosk does with input it cannot trust: echoing it, CSV cells, CLI numbers, --db."""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from kiosk.errors import UserError

ECHO_LIMIT = 200
# OWASP CSV injection: a spreadsheet reads a cell starting with these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def cut(text: object, limit: int = ECHO_LIMIT) -> str:
    """User text fit to echo back: control characters (terminal escapes) shown as \\xNN and
    at most `limit` characters, then "…" (a 10 MB scan is not repeated in full)."""
    s = str(text)
    if len(s) > limit:
        s = s[:limit] + "…"
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", s)


def csv_cell(value: object) -> object:
    """A cell a spreadsheet shows as text: one quote before a value that would start a formula
    (also before quotes already leading one, so `csv_plain` restores every value exactly)."""
    if isinstance(value, str) and value.lstrip("'").startswith(FORMULA_START):
        return "'" + value
    return value


def csv_plain(value: str) -> str:
    """The value `csv_cell` was given: the added quote removed, anything else unchanged."""
    if value.startswith("'") and value[1:].lstrip("'").startswith(FORMULA_START):
        return value[1:]
    return value


# ---------------------------------------------------------------- command-line arguments

INT_RANGES = {"year": (2000, 2100), "month": (1, 12)}
ANY_INT = (-(2**31), 2**31 - 1)  # PostgreSQL's integer; ids and counts fit in it


def check_numbers(args: object) -> None:
    """One sentence for a number argparse accepted but the kiosk cannot use
    (--year 99999999999999999999 ended in an OverflowError traceback)."""
    for name, value in sorted(vars(args).items()):
        if isinstance(value, bool) or not isinstance(value, int):
            continue
        lo, hi = INT_RANGES.get(name, ANY_INT)
        if not lo <= value <= hi:
            flag = "--" + name.replace("_", "-") if name in INT_RANGES else name
            raise UserError(f"参数 {flag} 的值 {cut(value, 24)} 超出范围，应在 {lo} 至 {hi} 之间。")


_SCHEMES = ("postgresql://", "postgres://", "postgresext://", "sqlite:///")


def check_store(target: str | os.PathLike | None) -> None:
    """Refuse a --db the kiosk would misread: a URL of another database (mysql://… became a
    SQLite file under ./mysql:/), a misspelt scheme, or a path that is no file (/dev/null)."""
    if not target:
        return
    t = str(target)
    if re.match(r"[A-Za-z][\w+.-]+:/", t) and not t.startswith(_SCHEMES):
        scheme = t.split(":", 1)[0]
        raise UserError(f"不支持的数据库地址“{cut(scheme, 40)}:…”：请使用 SQLite 文件路径或 "
                        "postgresql:// 地址。")
    if t.startswith(_SCHEMES[:3]) or t == ":memory:":
        return
    path = Path(t.removeprefix("sqlite:///"))
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    except OSError as e:
        raise UserError(f"无法打开数据库“{cut(t, 80)}”：{e.strerror or e}。") from None
    if stat.S_ISDIR(mode):
        raise UserError(f"“{cut(t, 80)}”是一个文件夹，不是数据库文件。")
    if not stat.S_ISREG(mode):
        raise UserError(f"“{cut(t, 80)}”不是普通文件，不能用作数据库。")
