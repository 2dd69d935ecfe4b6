"""The official Chinese working-day calendar (holidays and 调休), for report deadlines (Art. 9)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
import threading
import time
import weakref
from pathlib import Path

import chinese_calendar

from db.connection import database
from db.models import Holiday, Report
from kiosk import audit
from kiosk.errors import UserError
from kiosk.registry import tabular
from kiosk.registry.cells import cell_text
from kiosk.store import write_tx

REPORT_WORKING_DAYS = 5  # Art. 9: 检查结束之日起5个工作日内
DEADLINE_RULE = "检查结束之日起5个工作日内完成检查报告（第九条）"

# Another terminal may import a holiday file; a short lifetime bounds how long we miss it.
_CACHE_SECONDS = 60.0

_lock = threading.Lock()
# database object -> {year: (loaded_at, {date: is_workday})}; weak so a closed test store goes away.
_cache: weakref.WeakKeyDictionary[object, dict[int, tuple[float, dict[dt.date, bool]]]] = (
    weakref.WeakKeyDictionary())
_known_years: dict[int, bool] = {}


def _as_date(d: dt.date | dt.datetime) -> dt.date:
    return d.date() if isinstance(d, dt.datetime) else d


def package_knows(year: int) -> bool:
    """Whether the chinesecalendar package has the State Council's schedule for that year."""
    known = _known_years.get(year)
    if known is None:
        try:
            chinese_calendar.is_workday(dt.date(year, 6, 1))
            known = True
        except NotImplementedError:
            known = False
        _known_years[year] = known
    return known


def _bureau_rows(year: int) -> dict[dt.date, bool]:
    """The bureau's own holiday rows of one year, cached per store and year."""
    db = database.obj
    with _lock:
        per_db = _cache.setdefault(db, {})
        hit = per_db.get(year)
        if hit is not None and time.monotonic() - hit[0] < _CACHE_SECONDS:
            return hit[1]
    rows = dict(Holiday.select(Holiday.date, Holiday.is_workday)
                .where(Holiday.date.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))
                .tuples())
    rows = {(d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d))): bool(w)
            for d, w in rows.items()}
    with _lock:
        _cache.setdefault(db, {})[year] = (time.monotonic(), rows)
    return rows


def invalidate_cache() -> None:
    """Forget cached holiday rows (after an import, or when a test swaps stores)."""
    with _lock:
        _cache.clear()


def is_workday(d: dt.date | dt.datetime) -> bool:
    """A working day: the bureau's rows win, then the package, then Monday to Friday."""
    d = _as_date(d)
    own = _bureau_rows(d.year)
    if d in own:
        return own[d]
    if package_knows(d.year):
        return chinese_calendar.is_workday(d)
    return d.weekday() < 5


def is_provisional(year: int) -> bool:
    """True when that year's calendar is only Monday–Friday: neither the package nor an
    imported holiday file knows its holidays and make-up days."""
    return not package_knows(year) and not _bureau_rows(year)


def add_working_days(d: dt.date | dt.datetime, n: int) -> dt.date:
    """The n-th working day after d (d itself does not count); n = 0 gives d."""
    if n < 0:
        raise ValueError("n must be >= 0")
    day = _as_date(d)
    while n > 0:
        day += dt.timedelta(days=1)
        if is_workday(day):
            n -= 1
    return day


def report_due(end: dt.date | dt.datetime) -> tuple[dt.date, bool]:
    """(due date, provisional): inspection end + 5 working days (Art. 9); provisional when a
    year the count runs through has only the Monday–Friday fallback calendar."""
    start = _as_date(end)
    due = add_working_days(start, REPORT_WORKING_DAYS)
    provisional = any(is_provisional(y) for y in range(start.year, due.year + 1))
    return due, provisional


# ---------------------------------------------------------------- import

_KINDS = {"休": False, "班": True}


def read_holiday_rows(path: Path):
    """(line, cells) of a holiday file: an .xlsx (first sheet) or CSV in UTF-8 or GB18030,
    whatever its other suffix, read as the registry reads its files."""
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        return tabular.read_rows(path)
    return tabular.csv_rows(path)


def _parse_date(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    s = cell_text(value).strip().replace("/", "-").replace(".", "-")
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    return None


def parse_holidays(rows) -> list[tuple[dt.date, bool, str]]:
    """Rows (date, is_workday, name) of a holiday file, given as (line, cells) pairs (see
    read_holiday_rows) or as CSV text; UserError listing every bad line."""
    if isinstance(rows, str):
        rows = enumerate(csv.reader(io.StringIO(rows)), 1)
    rows = iter(rows)
    first = next(rows, None)
    cols = [cell_text(h).strip() for h in first[1]] if first else []
    need = ["日期", "类型", "名称"]
    if cols[:2] != need[:2] or (len(cols) > 2 and cols[2] != "名称"):
        raise UserError("节假日文件第1行应为表头：日期,类型,名称。")
    out: list[tuple[dt.date, bool, str]] = []
    errors: list[str] = []
    seen: dict[dt.date, int] = {}
    for line, cells in rows:
        if not any(cell_text(c).strip() for c in cells):
            continue
        d = _parse_date(cells[0])
        cells = [cell_text(c).strip() for c in cells] + ["", "", ""]
        if d is None:
            errors.append(f"第{line}行日期“{cells[0]}”无法识别（应如 2027-01-01）")
            continue
        if cells[1] not in _KINDS:
            errors.append(f"第{line}行类型“{cells[1]}”应为“休”或“班”")
            continue
        if d in seen:
            errors.append(f"第{line}行日期 {d} 与第{seen[d]}行重复")
            continue
        seen[d] = line
        out.append((d, _KINDS[cells[1]], cells[2][:64]))
    if errors:
        shown = "；".join(errors[:5])
        more = f"等 {len(errors)} 处错误" if len(errors) > 5 else ""
        raise UserError(f"节假日文件有误，未导入任何一行：{shown}{more}。")
    if not out:
        raise UserError("节假日文件没有数据行。")
    return out


def import_holidays(path: str | os.PathLike, actor: str) -> int:
    """Load the bureau's holiday file (CSV 日期,类型,名称; 类型 休 or 班), all or nothing.

    The file is the whole calendar of every year it mentions: that year's earlier rows are
    replaced, so a corrected file can also remove a wrong day. Returns the number of rows.
    """
    from kiosk import access

    access.require_account(actor, access.may_edit_registry, "只有登记管理员可以导入节假日安排。")
    path = Path(path)
    rows = parse_holidays(read_holiday_rows(path))
    years = sorted({d.year for d, _, _ in rows})
    try:
        with write_tx():
            for y in years:
                Holiday.delete().where(
                    Holiday.date.between(dt.date(y, 1, 1), dt.date(y, 12, 31))).execute()
            Holiday.insert_many(
                [{"date": d, "is_workday": w, "name": name} for d, w, name in rows]).execute()
            invalidate_cache()  # the recount below must see the rows just written
            recomputed = _recompute_due_dates(years)
            audit.record(actor, "holidays.import", "holiday", ",".join(map(str, years)),
                         file=path.name, rows=len(rows),
                         off=sum(1 for _, w, _ in rows if not w),
                         makeup=sum(1 for _, w, _ in rows if w), recomputed=recomputed)
    finally:
        invalidate_cache()  # also when rolled back: forget rows that were never committed
    return len(rows)


def _recompute_due_dates(years: list[int]) -> int:
    """Recount the stored deadline of every report not yet final whose five working days may
    run through an imported year (so the deadlines screen is right at once); returns how many
    changed. An inspection ending in December counts into the next year."""
    first = dt.datetime(min(years) - 1, 12, 1)
    last = dt.datetime(max(years) + 1, 1, 1)
    changed = 0
    q = (Report.select(Report.id, Report.inspection_end, Report.due_date, Report.due_provisional)
         .where((Report.state != "final") & (Report.inspection_end >= first)
                & (Report.inspection_end < last)))
    for rep in q:
        due, provisional = report_due(rep.inspection_end)
        if (due, provisional) != (rep.due_date, bool(rep.due_provisional)):
            Report.update(due_date=due, due_provisional=provisional).where(
                Report.id == rep.id).execute()
            changed += 1
    return changed
