"""Table files read row by row: CSV in UTF-8 or GB18030, and the first sheet of an XLSX read with
python-calamine after checks that keep a hostile file from exhausting the kiosk.

Shared by the registry import and the holiday import (kiosk.workdays)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from kiosk.errors import UserError
from kiosk.guard import csv_plain

PROBLEMS_IN_MESSAGE = 10
# Unpacked bytes of the parts calamine reads (sheet, shared strings, styles…): 100,000 target
# rows written by openpyxl unpack to about 62 MB, so this leaves room for several times that.
MAX_UNPACKED = 512 * 2**20
# Rows x columns of the area calamine lays out for the sheet: it allocates every cell between
# the first and the last, so two cells far apart (A1 and XFD1048576) would need 500 GB.
MAX_CELLS = 30_000_000
_MAX_SMALL_PART = 16 * 2**20  # workbook.xml and the relationship files


class ImportRejected(UserError):
    """A file with bad rows: nothing was written. .problems lists (line_no, reason)."""

    def __init__(self, problems: list[tuple[int, str]]):
        self.problems = problems
        shown = "；".join(f"第{n}行：{r}" for n, r in problems[:PROBLEMS_IN_MESSAGE])
        lines = len({n for n, _ in problems})
        more = (f"；……共 {len(problems)} 处错误，涉及 {lines} 行"
                if len(problems) > PROBLEMS_IN_MESSAGE else "")
        super().__init__(f"导入被拒绝，文件未做任何更改：{shown}{more}。")


class CellProblem(str):
    """A spreadsheet cell that has no usable value (an error value, a formula never calculated):
    the row is bad, whatever column it is in."""


def read_rows(path: Path, info: dict | None = None) -> Iterator[tuple[int, list]]:
    """Yield (line_no, cells) with the header as line 1; XLSX rows are numbered as Excel shows
    them. For XLSX, info["date1904"] tells whether serial day numbers count from 1904 (cells
    formatted as dates already come as dates)."""
    info = {} if info is None else info
    info["date1904"] = False
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        yield from csv_rows(path)
    elif suffix in (".xlsx", ".xlsm"):
        yield from _xlsx_rows(path, info)
    elif suffix == ".xls":
        raise UserError("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV。")
    else:
        raise UserError(f"不支持的文件类型“{suffix or path.name}”，请使用 .csv 或 .xlsx。")


def csv_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of a CSV file in UTF-8 or GB18030; line counts records from 1."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UserError(f"无法读取文件“{path.name}”：{e.strerror or e}。") from None
    text = decode_csv(data)
    # A cell the export quoted against formulas ('=…) reads back as it was written; a file
    # without a single quote mark has no such cell, and its cells are used as read.
    plain = csv_plain if "'" in text else None
    reader = csv.reader(io.StringIO(text, newline=""))
    del data, text
    try:
        for line, cells in enumerate(reader, 1):
            yield line, [plain(c) for c in cells] if plain else cells
    except csv.Error as e:
        raise UserError(f"CSV 文件格式有误：{e}。") from None


# Characters of one or two UTF-8 bytes, and the replacement character: what is left once they
# are removed is the wide characters of decode_csv.
_NARROW = re.compile("[\x00-\u07ff\ufffd]+")


def decode_csv(data: bytes) -> str:
    """The text of a CSV file: UTF-8 (with or without BOM) or GB18030. A file that is UTF-8 but
    for a few bad bytes is refused with their lines rather than read as GB18030 mojibake."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    rough = data.decode("utf-8", errors="replace")
    bad = rough.count("\ufffd")
    # Characters of three or more UTF-8 bytes (all of CJK) hardly ever arise by chance from
    # GB18030 bytes; when they outnumber the bad bytes the file was meant to be UTF-8.
    wide = len(_NARROW.sub("", rough))  # in C: a loop over the characters took 0.35 s at 100k rows
    if data.startswith(b"\xef\xbb\xbf") or wide >= 4 * bad:
        lines = sorted({n for n, line in enumerate(rough.split("\n"), 1) if "\ufffd" in line})
        raise ImportRejected([(n, "含有不是 UTF-8 编码的字节，请检查该行或将文件另存为 UTF-8 编码")
                              for n in lines])
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise UserError("无法识别文件的编码，请另存为 UTF-8 或 GB18030 编码的 CSV。") from None


# ---------------------------------------------------------------- XLSX

_XNS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RNS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PNS = "{http://schemas.openxmlformats.org/package/2006/relationships}"

# The sheet's shape: letters A-Z become L, digits D, white space, ">" and "/" a blank, "'" a
# '"', and ":" a "<". Cell references and markers then have one spelling that bytes.find and
# bytes.count can look for, several times quicker than a regular expression over every cell.
# calamine knows elements by their local name, whatever the prefix (<x:c> is a cell to it,
# even with x bound to another namespace or to none): in the shape a prefixed tag still holds
# "<c " or "<f ", and only a tag without a prefix has a blank before its "<".
_SHAPE = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\t\n\r>/':",
                         b"L" * 26 + b"D" * 10 + b'     "<')
# A reference in any spelling that has the shape <c r="L…": the translation is byte for byte.
_REF = re.compile(rb'<c[\t\n\r />]r=["\']([A-Z]+)(\d+)["\']')
# A value that is not plain number text: error values, ISO dates, formula text results, or the
# garbage of a damaged file; such cells are looked at one by one (see _check_cell). "v>" also
# ends a prefixed <x:v>.
_ODD_VALUE = re.compile(rb"v>[^<]*?[^-+.0-9eE<]")
# A prefixed start tag, such as <x:v>, inside a cell the quick scan marked.
_PREFIXED = re.compile(rb"<[^\s>/:]+:")


def _xlsx_rows(path: Path, info: dict) -> Iterator[tuple[int, list]]:
    """The first sheet's rows: the package and the sheet are checked first (sizes, area,
    cells without a value), then calamine reads it; see read_rows."""
    name = path.name
    try:
        package = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UserError(f"无法打开 Excel 文件“{name}”。") from None
    with package:
        sheet, info["date1904"], shared = _first_sheet(package, name)
        unpacked = sum(i.file_size for i in package.infolist()
                       if i.filename.endswith((".xml", ".rels")))
        if unpacked > MAX_UNPACKED:
            raise UserError(f"Excel 文件“{name}”解压后超过 {MAX_UNPACKED >> 20} MB，不能导入："
                            "请只保留要导入的工作表，或另存为 CSV。")
        xml = _unpack(package, sheet, name)
        for part in shared:  # calamine reads these too: check they are what they claim to be
            _unpack(package, part, name)
        problems = _scan(xml, name)
        del xml
    rows = _calamine_rows(path, name)
    # Rows above the header are not the file's first line (as before calamine).
    first = next((i for i, cells in enumerate(rows) if any(v != "" for v in cells)), len(rows))
    for n, row_problems in problems.items():
        if first < n <= len(rows):
            cells = rows[n - 1]
            for col, problem in row_problems.items():
                cells.extend([""] * (col + 1 - len(cells)))
                cells[col] = problem
    yield from zip(itertools.count(first + 1), rows[first:])


def _first_sheet(package: zipfile.ZipFile, name: str) -> tuple[str, bool, list[str]]:
    """(path of the first worksheet inside the package, date1904, paths of the shared strings
    and styles parts the workbook names)."""
    try:
        book_path = "xl/workbook.xml"
        if "_rels/.rels" in package.namelist():
            rels = ET.fromstring(_unpack(package, "_rels/.rels", name, _MAX_SMALL_PART))
            book_path = next((r.get("Target").lstrip("/") for r in rels.iter(f"{_PNS}Relationship")
                              if r.get("Type", "").endswith("/officeDocument")), book_path)
        book = ET.fromstring(_unpack(package, book_path, name, _MAX_SMALL_PART))
        pr = book.find(f"{_XNS}workbookPr")
        date1904 = pr is not None and (pr.get("date1904") or "").lower() in ("1", "true")
        rid = book.find(f"{_XNS}sheets/{_XNS}sheet").get(f"{_RNS}id")
        folder, base = posixpath.split(book_path)
        rels = ET.fromstring(_unpack(package, posixpath.join(folder, "_rels", base + ".rels"),
                                     name, _MAX_SMALL_PART))
        target = next(r.get("Target") for r in rels if r.get("Id") == rid)
        shared = [r.get("Target") for r in rels
                  if r.get("Type", "").endswith(("/sharedStrings", "/styles"))]
    except UserError:
        raise
    except Exception:  # missing parts, bad XML: not a workbook calamine could read either
        raise UserError(f"无法打开 Excel 文件“{name}”。") from None

    def part(target: str) -> str:
        if target.startswith("/"):
            return target.lstrip("/")
        return posixpath.normpath(posixpath.join(folder, target))
    return part(target), date1904, [p for p in map(part, shared) if p in package.namelist()]


def _unpack(package: zipfile.ZipFile, member: str, name: str, limit: int = MAX_UNPACKED) -> bytes:
    """A part's bytes. zipfile stops at the size the archive declares and checks the CRC, so a
    part that lies about its size is refused rather than unpacked without end."""
    try:
        info = package.getinfo(member)
        if info.file_size > limit:
            raise UserError(f"Excel 文件“{name}”解压后超过 {limit >> 20} MB，不能导入："
                            "请只保留要导入的工作表，或另存为 CSV。")
        return package.read(info)
    except UserError:
        raise
    except (KeyError, zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError,
            RuntimeError, ValueError):
        raise UserError(f"Excel 文件“{name}”已损坏或不完整，无法读取："
                        "请在 Excel 中打开后另存为 .xlsx 或 CSV。") from None


def _scan(xml: bytes, name: str) -> dict[int, dict[int, CellProblem]]:
    """Check the sheet's XML before calamine lays it out: refuse a sheet whose used area is
    too large, and find the cells calamine reads as empty text although they hold no value
    (error values, formulas never calculated). {row: {column index: problem}}.

    A sheet whose every cell starts <c r="A1"… without a prefix (as Excel, WPS and openpyxl
    write them) is checked with a few scans of its bytes, and only its formula, error and
    odd-value cells are looked at one by one; any other sheet is walked cell by cell, which
    also measures its area exactly, whatever the XML spelling."""
    shape = xml.translate(_SHAPE)
    cells = shape.count(b"<c ")  # with a prefix or without
    # Every cell with a single-letter reference and no prefix is the usual sheet; only when
    # that count differs is the wider spelling counted (each count reads all the sheet).
    single = shape.count(b' <c r="LD')
    if cells != single and cells != shape.count(b' <c r="L'):
        return _odd_cells(xml, name)
    digits = 1
    # Rows come in order, so the longest references sit near the end: only the last miss
    # reads the whole sheet.
    while shape.rfind(b'<c r="L' + b"D" * (digits + 1)) >= 0:
        digits += 1
    # Single-letter columns and rows of at most `digits` digits bound the area cheaply; only
    # when that bound is too loose are the references read one by one.
    if cells != single or 26 * 10**digits > MAX_CELLS:
        rows = cols = 0
        for letters, number in _REF.findall(xml):
            rows = max(rows, int(number))
            cols = max(cols, _column(letters))
        _check_area(rows, cols, name)
    marked = set()
    for marker in (_FORMULA, _ERROR):
        marked.update(shape.rfind(b' <c r="', 0, m.start()) for m in marker.finditer(shape))
    marked.update(shape.rfind(b' <c r="', 0, m.start()) for m in _ODD_VALUE.finditer(xml))
    problems: dict[int, dict[int, CellProblem]] = {}
    for start in sorted(marked - {-1}):
        if _check_cell(xml, start + 1, name, problems):
            return _odd_cells(xml, name)
    return problems


# On the shape of the sheet: a formula element, an error value's type.
_FORMULA = re.compile(rb"<f ")
_ERROR = re.compile(rb't="e"')
_CELL_REF = re.compile(rb'r=["\']([A-Z]+)(\d+)["\']')
_CELL_TYPE = re.compile(rb'\st=["\'](\w+)["\']')
_VALUE = re.compile(rb"<v>([^<]*)</v>")


def _check_cell(xml: bytes, start: int, name: str,
                problems: dict[int, dict[int, CellProblem]]) -> bool:
    """Note the problem of the cell starting at `start`, as _odd_cells does for every cell;
    True when the cell holds a prefixed element (<x:f>, <x:v>) that only the walk reads."""
    tag_end = xml.find(b">", start)
    attrs = xml[start:tag_end]
    ref = _CELL_REF.search(attrs)
    row, col = int(ref[2]), _column(ref[1])
    typed = _CELL_TYPE.search(attrs)
    t = typed[1].decode() if typed else None
    if attrs.endswith(b"/") or t == "inlineStr":
        return False
    end = xml.find(b"</c>", tag_end)
    content = xml[tag_end + 1:end if end >= 0 else len(xml)]
    if _PREFIXED.search(content):
        return True
    value = _VALUE.search(content)
    text = value[1].decode("utf-8", "replace") if value and value[1] else None
    problem = None
    if text is None and _FORMULA.search(content.translate(_SHAPE)):
        problem = "公式单元格没有计算结果，请在 Excel 中保存后再导入"
    elif t == "e":
        problem = f"单元格为错误值 {text or ''}".rstrip()
    elif text is not None and t in (None, "n", "d"):
        _check_number(text, t, row, name)
    if problem:
        problems.setdefault(row, {})[col - 1] = CellProblem(problem)
    return False


def _column(letters: bytes | str) -> int:
    """1-based column number of A, B, …, XFD."""
    col = 0
    for ch in letters if isinstance(letters, str) else letters.decode():
        col = col * 26 + ord(ch) - 64
    return col


def _check_area(rows: int, cols: int, name: str) -> None:
    if rows * cols > MAX_CELLS:
        raise UserError(f"Excel 文件“{name}”的表格范围过大（{rows} 行 × {cols} 列），"
                        "请删去数据区域以外的内容，或另存为 CSV 后再导入。")


def _odd_cells(xml: bytes, name: str) -> dict[int, dict[int, CellProblem]]:
    """Walk every cell of a sheet in an unusual XML spelling: note the cells without a usable
    value, refuse number cells that hold no number (a damaged file), and measure the area.
    Elements are known by their local name, in any namespace, as calamine knows them."""
    problems: dict[int, dict[int, CellProblem]] = {}
    expected = 1
    rows = cols = 0
    try:
        for _, el in ET.iterparse(io.BytesIO(xml), events=("end",)):
            if _local(el.tag) != "row":
                continue
            n = int(el.get("r") or expected)
            col = 0
            for c in [c for c in el.iter() if _local(c.tag) == "c"]:
                ref = c.get("r")
                if ref:
                    row_at = int("".join(ch for ch in ref if ch.isdigit()) or n)
                    col = _column("".join(ch for ch in ref if ch.isalpha()).upper())
                else:
                    row_at, col = n, col + 1
                rows, cols = max(rows, row_at), max(cols, col)
                t = c.get("t")
                v = _child(c, "v")
                text = v.text if v is not None else None
                problem = None
                if t == "inlineStr":
                    pass
                elif text is None and _child(c, "f") is not None:
                    problem = "公式单元格没有计算结果，请在 Excel 中保存后再导入"
                elif t == "e":
                    problem = f"单元格为错误值 {text or ''}".rstrip()
                elif text is not None and t in (None, "n", "d"):
                    _check_number(text, t, row_at, name)
                if problem:
                    problems.setdefault(row_at, {})[col - 1] = CellProblem(problem)
            el.clear()
            expected = n + 1
    except ET.ParseError:
        raise UserError(f"Excel 文件“{name}”已损坏或不完整，无法读取："
                        "请在 Excel 中打开后另存为 .xlsx 或 CSV。") from None
    _check_area(rows, cols, name)
    return problems


def _local(tag: str) -> str:
    """An element's name without its namespace: {…/main}c and {urn:other}c are both c."""
    return tag.rpartition("}")[2]


def _child(el: ET.Element, local: str) -> ET.Element | None:
    return next((c for c in el if _local(c.tag) == local), None)


def _check_number(text: str, t: str | None, line: int, name: str) -> None:
    try:
        if t == "d":
            dt.datetime.fromisoformat(text.strip().rstrip("Zz"))
        else:
            float(text)
    except ValueError:
        raise UserError(f"无法读取 Excel 文件“{name}”第{line}行附近的内容，"
                        "请在 Excel 中检查后另存为 .xlsx 或 CSV。") from None


def _calamine_rows(path: Path, name: str) -> list[list]:
    """Every row of the first sheet from its first line, each as wide as the used area; empty
    cells are ""."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        with CalamineWorkbook.from_path(path) as book:
            return book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except (CalamineError, OSError, ValueError):
        pass
    except BaseException as e:  # a Rust panic arrives as pyo3's PanicException
        if type(e).__name__ != "PanicException":
            raise
    raise UserError(f"无法读取 Excel 文件“{name}”，请在 Excel 中检查后另存为 .xlsx 或 CSV。")
