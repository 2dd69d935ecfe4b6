"""Registry import: every row of a CSV/XLSX file checked, then all of it upserted by key in one
transaction with one audit event, or nothing written and every bad row named by its line."""
from __future__ import annotations

import contextlib
import gc
import itertools
import operator
import threading
from dataclasses import dataclass
from pathlib import Path

import peewee

from db.models import Inspector, Item, Target
from kiosk import access, audit
from kiosk.errors import UserError
from kiosk.ops.files import sha256_file
from kiosk.registry import pg_copy
from kiosk.registry.cells import (
    CTRL,
    MISS,
    Bad,
    cell_text,
    fast_column,
    fast_parser,
    parse_cell,
    serial_1904,
)
from kiosk.registry.kinds import DEFAULTS, Column, Kind, find_kind
from kiosk.registry.rows import item_strata
from kiosk.registry.tabular import CellProblem, ImportRejected, read_rows
from kiosk.registry.writer import WRITERS, CheckedRows, chunks, write_upsert
from kiosk.store import vacuum, write_tx


@dataclass
class ImportResult:
    """What an accepted file did: rows inserted, rows updated (by key), rows in the file."""

    inserted: int
    updated: int
    rows: int


def _header_map(k: Kind, header: list) -> tuple[dict[int, Column], list[tuple[int, str]]]:
    """({cell index: column}, problems of line 1): Chinese labels or field names, in any order."""
    by_name = {}
    for c in k.columns:
        by_name[c.label] = c
        by_name[c.field] = c
    colmap: dict[int, Column] = {}
    problems: list[tuple[int, str]] = []
    seen: set[str] = set()
    for i, cell in enumerate(header):
        name = cell_text(cell).replace("\ufeff", "").strip().rstrip("*＊").strip()
        if not name:
            continue
        c = by_name.get(name)
        if c is None:
            problems.append((1, f"未知的列名“{name}”"))
        elif c.field in seen:
            problems.append((1, f"列“{c.label}”重复"))
        else:
            seen.add(c.field)
            colmap[i] = c
    for c in k.columns:
        if c.required and c.field not in seen:
            problems.append((1, f"缺少必需的列“{c.label}”"))
    return colmap, problems


def _parse_file(k: Kind, path: Path):
    """Parse and check every row; (present fields, [(line, record)], problems).

    Column by column first, each with its quickest check; a row where some cell fails it is
    then read again cell by cell, in column order, to name every problem of that row."""
    info: dict = {}
    rows = read_rows(path, info)
    first = next(rows, None)
    if first is None:
        raise UserError("文件是空的，没有列名行。")
    colmap, problems = _header_map(k, first[1])
    if problems:
        return [], [], problems
    width = max(colmap) + 1
    lines, table = [], []
    for line, cells in rows:
        head = cells[0] if cells else None
        # Most rows start with a text cell; only the others need every cell looked at.
        if (head.__class__ is str and head.strip()) or any(
                v is not None and str(v).strip() for v in cells):
            lines.append(line)
            table.append(cells)
    if not table:
        raise UserError("文件没有数据行。")
    date1904 = info.get("date1904", False)
    plan = [(i, c, date1904 and c.type in ("date", "datetime")) for i, c in sorted(colmap.items())]
    fields = [c.field for _, c, _ in plan]
    # Short rows (a CSV line with fewer fields than the header) read as empty cells.
    by_column = list(itertools.zip_longest(*table))
    by_column += [(None,) * len(table)] * (width - len(by_column))
    checked = [_column_values(c, by_column[i], serial1904) for i, c, serial1904 in plan]
    failed = set().union(*(j for _, j in checked))
    present = [c.field for c in colmap.values()]
    columns = [v for v, _ in checked]
    if not failed and max(map(len, table)) <= width:
        keys = columns[fields.index(k.key[0])] if len(k.key) == 1 else list(
            zip(*(columns[fields.index(f)] for f in k.key), strict=True))
        if len(set(keys)) == len(keys):
            return present, CheckedRows(lines, fields, columns), problems
    recs = [dict(zip(fields, vals, strict=True)) for vals in zip(*columns, strict=True)]
    # The passes below add problems line by line; import_file sorts them by line (a stable
    # sort), so each line lists its cells' problems, then stray cells, then a repeated key.
    bad: set[int] = set()
    for j in sorted(failed):
        recs[j], row_bad = _row_problems(plan, table[j], lines[j], problems)
        if row_bad:
            bad.add(j)
    for j, cells in enumerate(table):
        if len(cells) > width and any(cell_text(v).strip() for v in cells[width:]):
            problems.append((lines[j], "有单元格不在任何列名之下"))
            bad.add(j)
    key_of = operator.itemgetter(*k.key)
    label = "、".join(k.col(f).label for f in k.key)
    records: list[tuple[int, dict]] = []
    seen_keys: dict[tuple, int] = {}
    for j, rec in enumerate(recs):
        if j in bad:
            continue
        key = key_of(rec)
        if key in seen_keys:
            problems.append((lines[j], f"{label}与第{seen_keys[key]}行重复"))
            continue
        seen_keys[key] = lines[j]
        records.append((lines[j], rec))
    return present, records, problems


def _column_values(c: Column, raws: tuple, serial1904: bool) -> tuple[list, set[int]]:
    """(the stored value of each cell of one column, the indexes of its bad cells)."""
    if serial1904:
        raws = tuple(serial_1904(raw) or raw for raw in raws)
    out = fast_column(c, raws) if raws else None
    if out is not None:  # the common file: every cell of the column well-formed
        return out, set()
    fast = fast_parser(c)
    if c.type == "text":
        # A text cell read from CSV or calamine.
        search = CTRL.search
        out = [raw.strip() if raw.__class__ is str and not search(raw) else MISS
               for raw in raws]
        limit = c.max_len or 0
        if c.required:
            out = [v if v and v is not MISS and (not limit or len(v) <= limit) else MISS
                   for v in out]
        else:
            out = [None if v == "" else v if v is MISS or not limit or len(v) <= limit else MISS
                   for v in out]
    elif fast is not None:
        if c.type == "int":
            out = [fast(raw) if raw.__class__ is str or raw.__class__ is float else MISS
                   for raw in raws]
        else:
            out = [fast(raw) if raw.__class__ is str else MISS for raw in raws]
    else:
        out = [MISS] * len(raws)
    failed = set()
    # Positions still MISS, found in C (map/compress) rather than a Python loop over the column.
    for j in itertools.compress(range(len(out)), map(operator.is_, out, itertools.repeat(MISS))):
        raw = raws[j]
        if raw.__class__ is not CellProblem:
            try:
                out[j] = parse_cell(c, raw)
                continue
            except Bad:
                pass
        failed.add(j)
    return out, failed


def _row_problems(plan: list, cells: list, line: int,
                  problems: list[tuple[int, str]]) -> tuple[dict, bool]:
    """(record, bad) of a row some cell of which failed its column's check, adding a reason
    for every bad cell to problems."""
    rec: dict = {}
    bad = False
    n = len(cells)
    for i, c, serial1904 in plan:
        raw = cells[i] if i < n else None
        if raw.__class__ is CellProblem:
            problems.append((line, f"{raw}（“{c.label}”列）"))
            bad = True
            continue
        if serial1904:
            raw = serial_1904(raw) or raw
        try:
            rec[c.field] = parse_cell(c, raw)
        except Bad as e:
            problems.append((line, str(e)))
            bad = True
    return rec, bad


_collector_lock = threading.Lock()
_collector_users = 0
_collector_was_on = False


@contextlib.contextmanager
def _collector_paused():
    """Python's cycle collector paused while a file's rows are read and written: a 100k-row
    file makes some 300k lists and tuples that live until the end, and the collector would
    walk them all several times over for nothing (0.1 s). Reference counting still frees
    everything else. Nested or concurrent imports (terminal threads) count themselves in, and
    the last one out turns the collector back on if the first found it on."""
    global _collector_users, _collector_was_on
    with _collector_lock:
        if _collector_users == 0:
            _collector_was_on = gc.isenabled()
            gc.disable()
        _collector_users += 1
    try:
        yield
    finally:
        with _collector_lock:
            _collector_users -= 1
            if _collector_users == 0 and _collector_was_on:
                gc.enable()


def _lookup(model, keyfield, values) -> dict:
    out = {}
    for chunk in chunks(values, 500):
        for kid, kv in model.select(model.id, keyfield).where(keyfield.in_(chunk)).tuples():
            out[kv] = kid
    return out


def import_file(kind: str, path, actor: str, *, role: str | None = None) -> ImportResult:
    """Validate every row of a CSV/XLSX file, then upsert all of it by key in one transaction
    with one audit event; any bad row raises ImportRejected and nothing is written.

    role: the logged-in user's role at the terminal (None from the shell). The lists decide
    who can be drawn, so only the registry clerk changes them."""
    if role is not None:
        access.require(access.may_edit_registry(role), access.MAY_NOT_IMPORT)
    k = find_kind(kind)
    path = Path(path)
    if not path.is_file():
        raise UserError(f"找不到文件“{path}”。")
    with _collector_paused():
        present, records, problems = _parse_file(k, path)
    if problems and any(n == 1 for n, _ in problems):
        raise ImportRejected(problems)
    refs: dict[str, dict] = {}
    if kind in ("conflicts", "trainings"):
        refs["cert_no"] = _lookup(Inspector, Inspector.cert_no, {r["cert_no"] for _, r in records})
    if kind in ("conflicts", "inspections"):
        refs["uscc"] = _lookup(Target, Target.uscc, {r["uscc"] for _, r in records})
    if kind == "items":
        problems.extend(_item_rule_problems(present, records))
    for line, rec in records if refs else ():  # the directories refer to nothing
        if "cert_no" in refs and rec["cert_no"] not in refs["cert_no"]:
            problems.append((line, f"执法证号“{rec['cert_no']}”不在执法检查人员名录中"))
        if "uscc" in refs and rec["uscc"] not in refs["uscc"]:
            problems.append((line, f"统一社会信用代码“{rec['uscc']}”不在检查对象名录中"))
    if problems:
        raise ImportRejected(sorted(problems, key=lambda p: p[0]))
    digest = sha256_file(path)
    writer = WRITERS.get(kind, write_upsert)
    try:
        with write_tx(), _collector_paused():
            inserted, updated = writer(k, present, records, refs)
            audit.record(actor, "registry.import", kind, path.name, inserted=inserted,
                         updated=updated, rows=len(records), file=path.name, sha256=digest)
    except peewee.IntegrityError:
        # A referenced inspector or target was deleted at another terminal meanwhile.
        raise UserError("导入时名录被其他终端修改，文件未做任何更改，请重新导入。") from None
    except peewee.DatabaseError as e:
        # The rows passed every check here yet the database refused one (a bound this module
        # does not know of): the transaction is rolled back, so say so in one sentence.
        detail = str(e).strip().splitlines()[0][:120] if str(e).strip() else type(e).__name__
        raise UserError(f"数据库拒绝了导入的数据，文件未做任何更改（{detail}）。") from None
    if kind == "targets" and len(records) >= pg_copy.ANALYZE_ROWS:
        vacuum(Target)  # PostgreSQL: the next draw reads its pool from an index alone
    return ImportResult(inserted=inserted, updated=updated, rows=len(records))


def _item_rule_problems(present: list[str], records) -> list[tuple[int, str]]:
    """Art. 7's rules for each item row as it will be stored (a column the file leaves out
    keeps the stored item's value, or the default for a new item)."""
    from kiosk import settings
    from kiosk.item_rules import ItemRules, problems

    fields = ("ratio_bp", "frequency", "recognition_months", "special_frequency",
              "special_recognition_months", "small_micro_reason")
    stored = {i.code: i for i in Item.select().where(
        Item.code.in_([r["code"] for _, r in records]))} if records else {}
    defaults = {**DEFAULTS["items"], "recognition_months": settings.get_int("recognition_months")}
    out = []
    for line, rec in records:
        item = stored.get(rec["code"])
        vals = {}
        for f in fields:
            if rec.get(f) is not None:
                vals[f] = rec[f]
            elif item is not None:  # as writer.write_items stores it: kept, or emptied to default
                vals[f] = DEFAULTS["items"].get(f) if f in present else getattr(item, f)
            else:
                vals[f] = defaults.get(f)
        if "strata" in present and rec.get("strata") is not None:
            strata = rec["strata"]
        else:
            strata = item_strata(item.id) if item is not None else []
        rules = ItemRules(vals["ratio_bp"], vals["frequency"], vals["recognition_months"],
                          tuple(strata), vals["special_frequency"] or 0,
                          vals["special_recognition_months"], vals["small_micro_reason"] or "")
        out.extend((line, f"事项“{rec['code']}”：{p}") for p in problems(rules))
    return out
