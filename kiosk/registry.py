"""The registries (items, inspectors, targets, conflicts, trainings, other departments' inspections):
all-or-nothing CSV/XLSX import, export, and paged search that stays fast on a million targets."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import peewee
from peewee import EXCLUDED, fn

from db.connection import database
from db.models import (Conflict, InspectionRecord, Inspector, Item, ItemStratum, Target,
                       Training, now)
from kiosk import audit, uscc
from kiosk.errors import UserError
from kiosk.store import write_tx

BATCH = 1000  # rows per INSERT: well under SQLite's 32766 bound variables at 12 columns
BULK_FTS_ROWS = 5000  # imports of at least this many targets feed the name index in one go
COUNT_CAP = 1000  # searches count at most this many matches (see count_capped())
PROBLEMS_IN_MESSAGE = 10
INT_MAX = 2**31 - 1  # the integer columns are 32-bit on PostgreSQL


# ---------------------------------------------------------------- column table


@dataclass(frozen=True)
class Column:
    field: str
    label: str
    type: str = "text"  # text lines int bool date datetime uscc choice percent strata
    required: bool = False
    max_len: int | None = None
    choices: tuple[str, ...] = ()
    words: tuple[str, str] = ("是", "否")  # how a bool is written on export
    minimum: int | None = None
    public: bool = True  # part of the public list (Art. 4, 5)
    doc: str = ""


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    doc: str = ""

    def col(self, name: str) -> Column:
        return next(c for c in self.columns if c.field == name)


TRUE_WORDS = {"是", "有", "1", "true", "yes", "y", "在用", "在岗", "有效", "正常", "启用", "√"}
FALSE_WORDS = {"否", "无", "0", "false", "no", "n", "停用", "离岗", "无效", "注销", "禁用", "×", ""}
SIZE_CLASSES = ("大型", "中型", "小型", "微型")
RISK_CLASSES = ("高", "较高", "中", "低")
METHODS = ("现场检查", "书面检查")
CRITERIA = ("special", "small_micro", "default")  # plus risk:<class>

KINDS: dict[str, Kind] = {
    "items": Kind("items", "随机抽查事项清单", (
        Column("code", "事项编码", required=True, max_len=32, doc="键，如 RS-01"),
        Column("name", "事项名称", required=True, max_len=200),
        Column("legal_basis", "检查依据", required=True),
        Column("content", "检查内容", "lines", required=True,
               doc="多个检查要点用竖线 | 分隔（文件中不能换行）"),
        Column("method", "检查方式", "choice", choices=METHODS, doc="现场检查 或 书面检查"),
        Column("category", "检查对象类别", required=True, max_len=64,
               doc="从哪一类检查对象中抽取，与检查对象名录的“类别”一致；“用人单位”也包括“用人单位-制造业”等细类"),
        Column("ratio_bp", "抽查比例", "percent", doc="百分数，如 1% 或 0.5%；默认 1%"),
        Column("frequency", "抽查频次", "int", minimum=1, doc="每年抽查次数，默认 3"),
        Column("lead_office", "责任股室", required=True, max_len=64),
        Column("offices", "可抽取股室", doc="多个用分号 ; 分隔；空为全部股室"),
        Column("departments", "联合检查部门", doc="多个用分号 ; 分隔"),
        Column("team_size", "每组检查人数", "int", minimum=2, doc="不少于 2，默认 2"),
        Column("recognition_months", "结果互认月数", "int", minimum=0,
               doc="近若干个月内已被检查的对象不再抽取，默认 12"),
        Column("strata", "分层及比例", "strata",
               doc="每层写成 名称:条件:比例，多层用分号 ; 分隔，按顺序先符合者归入该层。"
                   "条件：special（投诉举报3次及以上、有严重违法记录或信用风险为高）、"
                   "small_micro（小型、微型）、risk:等级（如 risk:较高）、default（其余）。"
                   "例：特殊监管:special:30%;小微企业:small_micro:0.5%;一般:default:1%"),
        Column("active", "状态", "bool", words=("在用", "停用"), doc="在用 或 停用，默认在用"),
    ), key=("code",), doc="公开清单（第四条）。导出即为公开的随机抽查事项清单；事项每次变更版本号加 1。"),
    "inspectors": Kind("inspectors", "执法检查人员名录", (
        Column("cert_no", "执法证号", required=True, max_len=32, doc="键"),
        Column("name", "姓名", required=True, max_len=64),
        Column("office", "股室", required=True, max_len=64),
        Column("department", "所属部门", max_len=64, doc="默认 商水县人力资源和社会保障局"),
        Column("cert_valid_from", "执法证有效期起", "date"),
        Column("cert_valid_until", "执法证有效期至", "date"),
        Column("active", "状态", "bool", words=("在岗", "离岗"), doc="在岗 或 离岗，默认在岗"),
        Column("phone", "联系电话", max_len=32, public=False),
    ), key=("cert_no",), doc="公开名录（第五条）。公开导出不含联系电话。"),
    "targets": Kind("targets", "检查对象名录", (
        Column("uscc", "统一社会信用代码", "uscc", required=True, doc="键；按 GB 32100-2015 校验"),
        Column("name", "单位名称", required=True, max_len=200),
        Column("category", "类别", required=True, max_len=64,
               doc="如 用人单位-制造业、劳务派遣单位、人力资源服务机构"),
        Column("township", "乡镇", max_len=64),
        Column("address", "地址", max_len=255),
        Column("size_class", "规模", "choice", choices=SIZE_CLASSES, doc="大型/中型/小型/微型，默认小型"),
        Column("credit_risk", "信用风险等级", "choice", choices=RISK_CLASSES, doc="高/较高/中/低，默认低"),
        Column("complaint_count", "投诉举报次数", "int", minimum=0),
        Column("serious_violation", "严重违法记录", "bool", doc="是 或 否"),
        Column("active", "状态", "bool", words=("正常", "停用"), doc="正常 或 停用，默认正常"),
    ), key=("uscc",), doc="第六条、第十九条。"),
    "conflicts": Kind("conflicts", "回避关系", (
        Column("cert_no", "执法证号", required=True, max_len=32, doc="须已在执法检查人员名录中"),
        Column("uscc", "统一社会信用代码", "uscc", required=True, doc="须已在检查对象名录中"),
        Column("reason", "回避原因"),
        Column("declared_at", "登记时间", "datetime", doc="如 2026-03-01 09:30，默认导入时间"),
    ), key=("cert_no", "uscc"), doc="第五条：有利害关系的检查人员回避。"),
    "trainings": Kind("trainings", "培训记录", (
        Column("cert_no", "执法证号", required=True, max_len=32, doc="须已在执法检查人员名录中"),
        Column("title", "培训名称", required=True, max_len=200),
        Column("date", "日期", "date", required=True),
        Column("hours", "学时", "int", minimum=0),
        Column("organizer", "主办单位", max_len=128),
    ), key=("cert_no", "title", "date"), doc="第十五条。"),
    "inspections": Kind("inspections", "其他部门检查结果", (
        Column("uscc", "统一社会信用代码", "uscc", required=True, doc="须已在检查对象名录中"),
        Column("date", "检查日期", "date", required=True),
        Column("department", "检查部门", required=True, max_len=64),
        Column("reference", "文书编号", max_len=64),
    ), key=("uscc", "date", "department"),
        doc="第十六条：检查结果互认，结果互认月数内已被检查的对象不再重复抽取。"),
}


def columns(kind: str) -> list[tuple[str, str]]:
    """(field, Chinese label) of each column, in file order."""
    return [(c.field, c.label) for c in _kind(kind).columns]


def columns_doc() -> str:
    """The import/export file formats as a Markdown section for the README."""
    out = ["## 导入导出文件的列", "",
           "`kiosk import KIND FILE` / `kiosk export KIND FILE`：CSV（UTF-8，可带 BOM，或 GB18030，"
           "自动识别；导出为带 BOM 的 UTF-8，Excel 可直接打开）或 XLSX（第一个工作表）。"
           "第一行为列名（中文列名，也可用英文字段名）；列的顺序不限，非必填列可以不出现，"
           "不出现的列在更新已有记录时保持原值。",
           "",
           "整个文件要么全部导入，要么一行也不导入：任何一行有错（统一社会信用代码无效、键重复、"
           "缺少必填项、单元格内有制表符或换行、日期或数字写错、引用的人员或对象不存在、未知列名），"
           "整个文件被拒绝，并按行号（列名行为第1行）列出每一处错误。合格的文件按键更新已有记录、"
           "新增其余记录，并写一条审计记录（含文件名和 SHA-256）。", ""]
    for k in KINDS.values():
        out.append(f"### {k.name}：{k.label}")
        out.append("")
        key = "、".join(k.col(f).label for f in k.key)
        out.append(f"键：{key}。{k.doc}")
        out.append("")
        out.append("| 列名 | 字段 | 必填 | 说明 |")
        out.append("| --- | --- | --- | --- |")
        for c in k.columns:
            desc = (c.doc or _type_doc(c)).replace("|", "\\|")
            out.append(f"| {c.label} | `{c.field}` | {'是' if c.required else ''} | {desc} |")
        out.append("")
    return "\n".join(out)


def _type_doc(c: Column) -> str:
    return {"date": "日期，如 2026-03-01", "datetime": "日期时间", "int": "整数",
            "bool": f"{c.words[0]} 或 {c.words[1]}", "choice": "/".join(c.choices)}.get(c.type, "")


def _kind(kind: str) -> Kind:
    try:
        return KINDS[kind]
    except KeyError:
        raise UserError(f"未知的名录类型“{kind}”，可用：{'、'.join(KINDS)}。") from None


# ---------------------------------------------------------------- cell parsing


class _Bad(Exception):
    pass


_CTRL = re.compile(r"[\x00-\x1f\x7f]")  # PostgreSQL refuses NUL; the rest break files and slips
_DATE_RE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_DT_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def _text(raw) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, (dt.datetime, dt.date)):
        return raw.isoformat(sep=" ") if isinstance(raw, dt.datetime) else raw.isoformat()
    return str(raw)


def _excel_serial(raw) -> dt.datetime | None:
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
        serial = _excel_serial(raw)
        if serial is not None:
            return serial.date()
    s = _text(raw).strip()
    m = _DATE_RE.match(s) or (re.match(r"^(\d{4})(\d{2})(\d{2})$", s))
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            pass
    raise _Bad(f"“{s}”不是有效日期（应写成 2026-03-01）")


def _parse_datetime(raw) -> dt.datetime:
    serial = _excel_serial(raw)
    if serial is not None:
        return (serial + dt.timedelta(microseconds=500_000)).replace(microsecond=0)
    if isinstance(raw, dt.datetime):
        return raw.replace(microsecond=0)
    if isinstance(raw, dt.date):
        return dt.datetime.combine(raw, dt.time())
    s = _text(raw).strip()
    m = _DT_RE.match(s)
    if m:
        try:
            return dt.datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4] or 0), int(m[5] or 0),
                               int(m[6] or 0))
        except ValueError:
            pass
    raise _Bad(f"“{s}”不是有效的日期时间（应写成 2026-03-01 09:30）")


def _parse_percent(s: str) -> int:
    s = s.replace("％", "%").strip()
    m = re.match(r"^(\d+(?:\.\d{1,2})?)\s*%$", s)
    if not m:
        raise _Bad(f"“{s}”不是百分数（应写成 1% 或 0.5%）")
    bp = round(float(m[1]) * 100)
    if not 0 < bp <= 10000:
        raise _Bad(f"比例“{s}”应大于 0% 且不超过 100%")
    return bp


def _format_percent(bp: int) -> str:
    return f"{bp / 100:.2f}".rstrip("0").rstrip(".") + "%"


def _parse_strata(s: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    s = s.replace("；", ";").replace("：", ":")
    for part in [p.strip() for p in s.split(";") if p.strip()]:
        bits = [b.strip() for b in part.split(":")]
        if len(bits) < 3:
            raise _Bad(f"分层“{part}”应写成 名称:条件:比例")
        name, criterion, ratio = bits[0], ":".join(bits[1:-1]), bits[-1]
        if not name or len(name) > 32:
            raise _Bad(f"分层“{part}”的名称为空或过长")
        if criterion.startswith("risk:"):
            if criterion[5:] not in RISK_CLASSES:
                raise _Bad(f"分层“{part}”的信用风险等级应为 {'/'.join(RISK_CLASSES)}")
        elif criterion not in CRITERIA:
            raise _Bad(f"分层“{part}”的条件应为 special、small_micro、risk:等级 或 default")
        if any(n == name for n, _, _ in out):
            raise _Bad(f"分层名称“{name}”重复")
        out.append((name, criterion, _parse_percent(ratio)))
    return out


def _format_strata(strata: list[tuple[str, str, int]]) -> str:
    return ";".join(f"{n}:{c}:{_format_percent(r)}" for n, c, r in strata)


def _parse_cell(c: Column, raw):
    """The stored value of one cell; raises _Bad with a reason. Empty optional cells give None
    (the caller substitutes the model default)."""
    if isinstance(raw, str) and _CTRL.search(raw):
        if "\t" in raw or "\n" in raw or "\r" in raw:
            raise _Bad(f"“{c.label}”含有制表符或换行")
        raise _Bad(f"“{c.label}”含有控制字符 U+{ord(_CTRL.search(raw)[0]):04X}")
    s = _text(raw).strip()
    if s == "":
        if c.required:
            raise _Bad(f"缺少必填项“{c.label}”")
        return None
    t = c.type
    if t == "uscc":
        code = uscc.normalise(s)
        reason = uscc.check(code)
        if reason:
            raise _Bad(reason)
        return code
    if t == "int":
        if isinstance(raw, float) and not raw.is_integer():
            raise _Bad(f"“{c.label}”应为整数，实为“{raw}”")
        if not re.fullmatch(r"[+-]?\d+", s):
            raise _Bad(f"“{c.label}”应为整数，实为“{s}”")
        v = int(s)
        if c.minimum is not None and v < c.minimum:
            raise _Bad(f"“{c.label}”不能小于 {c.minimum}")
        if v > INT_MAX:
            raise _Bad(f"“{c.label}”不能大于 {INT_MAX}")
        if v < -INT_MAX - 1:
            raise _Bad(f"“{c.label}”不能小于 {-INT_MAX - 1}")
        return v
    if t == "bool":
        low = s.lower()
        if low in TRUE_WORDS:
            return True
        if low in FALSE_WORDS:
            return False
        raise _Bad(f"“{c.label}”应为“{c.words[0]}”或“{c.words[1]}”，实为“{s}”")
    if t == "date":
        try:
            return _parse_date(raw)
        except _Bad as e:
            raise _Bad(f"“{c.label}”{e}") from None
    if t == "datetime":
        try:
            return _parse_datetime(raw)
        except _Bad as e:
            raise _Bad(f"“{c.label}”{e}") from None
    if t == "choice":
        if s not in c.choices:
            raise _Bad(f"“{c.label}”应为 {'/'.join(c.choices)} 之一，实为“{s}”")
        return s
    if t == "percent":
        return _parse_percent(s)
    if t == "strata":
        return _parse_strata(s)
    if t == "lines":
        return "\n".join(p.strip() for p in s.split("|") if p.strip())
    if c.max_len and len(s) > c.max_len:
        raise _Bad(f"“{c.label}”过长（最多 {c.max_len} 字）")
    return s


_MISS = object()


def _fast_parser(c: Column):
    """A quick check for the usual well-formed cell text of a typed column; it returns _MISS
    for anything else, which then goes through _parse_cell for its value or its reason."""
    t = c.type
    if t == "choice":
        ok = frozenset(c.choices)
        return lambda raw: raw if raw in ok else _MISS
    if t == "bool":
        words = {w: True for w in TRUE_WORDS} | {w: False for w in FALSE_WORDS if w}
        return lambda raw: words.get(raw, _MISS)
    if t == "int":
        lo = c.minimum if c.minimum is not None else 0  # negatives take the checked path

        def parse_int(raw):
            if raw.isdigit() and raw.isascii():
                v = int(raw)
                if lo <= v <= INT_MAX:
                    return v
            return _MISS
        return parse_int
    if t == "uscc":
        check = uscc.check
        return lambda raw: raw if len(raw) == 18 and check(raw) is None else _MISS
    return None


def _format_cell(c: Column, v) -> str | int:
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


# ---------------------------------------------------------------- reading files


class ImportRejected(UserError):
    """A file with bad rows: nothing was written. .problems lists (line_no, reason)."""

    def __init__(self, problems: list[tuple[int, str]]):
        self.problems = problems
        shown = "；".join(f"第{n}行：{r}" for n, r in problems[:PROBLEMS_IN_MESSAGE])
        lines = len({n for n, _ in problems})
        more = (f"；……共 {len(problems)} 处错误，涉及 {lines} 行"
                if len(problems) > PROBLEMS_IN_MESSAGE else "")
        super().__init__(f"导入被拒绝，文件未做任何更改：{shown}{more}。")


@dataclass
class ImportResult:
    inserted: int
    updated: int
    rows: int


class _CellProblem(str):
    """A spreadsheet cell that has no usable value (an error value, a formula never calculated):
    the row is bad, whatever column it is in."""


class _QuickReaderFailed(Exception):
    pass


def _decode_csv(data: bytes) -> str:
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
    wide = sum(1 for ch in rough if "\u0800" <= ch and ch != "\ufffd")
    if data.startswith(b"\xef\xbb\xbf") or wide >= 4 * bad:
        lines = sorted({n for n, line in enumerate(rough.split("\n"), 1) if "\ufffd" in line})
        raise ImportRejected([(n, "含有不是 UTF-8 编码的字节，请检查该行或将文件另存为 UTF-8 编码")
                              for n in lines])
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise UserError("无法识别文件的编码，请另存为 UTF-8 或 GB18030 编码的 CSV。") from None


def _read_rows(path: Path, info: dict | None = None, *, quick: bool = True):
    """Yield (line_no, cells) with the header as line 1. For XLSX, info["date1904"] tells
    whether serial day numbers count from 1904; the quick reader raises _QuickReaderFailed
    on a sheet it cannot read, so the caller can start again with quick=False."""
    info = {} if info is None else info
    info["date1904"] = False
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        text = _decode_csv(path.read_bytes())
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            for n, row in enumerate(reader, 1):
                yield n, row
        except csv.Error as e:
            raise UserError(f"CSV 文件格式有误：{e}。") from None
    elif suffix in (".xlsx", ".xlsm"):
        sheet = None
        if quick:
            try:
                sheet = _XlsxSheet(path)
            except Exception:
                sheet = None  # not the layout the quick reader knows: openpyxl reads it below
        if sheet is not None:
            info["date1904"] = sheet.date1904
            yield from sheet.rows()
            return
        import openpyxl
        from openpyxl.utils.datetime import CALENDAR_MAC_1904

        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception:
            raise UserError(f"无法打开 Excel 文件“{path.name}”。") from None
        info["date1904"] = wb.epoch == CALENDAR_MAC_1904
        n = 0
        try:
            ws = wb.worksheets[0]
            for n, row in enumerate(ws.iter_rows(), n + 1):
                yield n, [_CellProblem(f"单元格为错误值 {c.value}")
                          if getattr(c, "data_type", None) == "e" else c.value for c in row]
        except (UserError, GeneratorExit):
            raise
        except Exception:
            raise UserError(f"无法读取 Excel 文件“{path.name}”第{n + 1}行附近的内容，"
                            "请在 Excel 中检查后另存为 .xlsx 或 CSV。") from None
        finally:
            wb.close()
    elif suffix == ".xls":
        raise UserError("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV。")
    else:
        raise UserError(f"不支持的文件类型“{suffix or path.name}”，请使用 .csv 或 .xlsx。")


_XNS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RNS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


class _XlsxSheet:
    """The first worksheet of an .xlsx read straight from its XML: several times quicker than
    openpyxl's read-only mode on 100k rows. Cells come as text, int/float, bool or datetime
    (t="d" cells); other dates stay Excel serial numbers (the date columns convert them, see
    date1904). Error values and formulas never calculated come as _CellProblem. Rows are
    numbered as Excel shows them."""

    def __init__(self, path: Path):
        import posixpath
        import xml.etree.ElementTree as ET
        import zipfile

        self.zip = zipfile.ZipFile(path)
        wb = ET.fromstring(self.zip.read("xl/workbook.xml"))
        pr = wb.find(f"{_XNS}workbookPr")
        self.date1904 = pr is not None and (pr.get("date1904") or "").lower() in ("1", "true")
        first = wb.find(f"{_XNS}sheets/{_XNS}sheet")
        rid = first.get(f"{_RNS}id")
        rels = ET.fromstring(self.zip.read("xl/_rels/workbook.xml.rels"))
        target = next(r.get("Target") for r in rels if r.get("Id") == rid)
        self.sheet = target.lstrip("/") if target.startswith("/") else \
            posixpath.normpath(posixpath.join("xl", target))
        self.strings: list[str] = []
        if "xl/sharedStrings.xml" in self.zip.namelist():
            t_tag, r_tag = f"{_XNS}t", f"{_XNS}r"
            for si in ET.fromstring(self.zip.read("xl/sharedStrings.xml")):
                # Plain text or rich-text runs; phonetic runs (rPh) are not the cell's text.
                parts = []
                for child in si:
                    if child.tag == t_tag:
                        parts.append(child.text or "")
                    elif child.tag == r_tag:
                        parts.extend(t.text or "" for t in child.iter(t_tag))
                self.strings.append("".join(parts))
        self.zip.getinfo(self.sheet)

    def rows(self):
        try:
            yield from self._rows()
        except (UserError, GeneratorExit):
            raise
        except Exception as e:
            raise _QuickReaderFailed() from e
        finally:
            self.zip.close()

    def _rows(self):
        import xml.etree.ElementTree as ET

        c_tag, v_tag, row_tag, f_tag = f"{_XNS}c", f"{_XNS}v", f"{_XNS}row", f"{_XNS}f"
        is_tag, t_tag = f"{_XNS}is", f"{_XNS}t"
        strings = self.strings
        expected = 1
        with self.zip.open(self.sheet) as f:
            for _, el in ET.iterparse(f, events=("end",)):
                if el.tag != row_tag:
                    continue
                n = int(el.get("r") or expected)
                cells: list = []
                for c in el.iter(c_tag):
                    ref = c.get("r")
                    if ref:
                        col = 0
                        for ch in ref:
                            if ch.isdigit():
                                break
                            col = col * 26 + ord(ch) - 64
                        while len(cells) < col - 1:
                            cells.append(None)
                    t = c.get("t")
                    v = c.find(v_tag)
                    text = v.text if v is not None else None
                    if t == "inlineStr":
                        node = c.find(is_tag)
                        val = "".join(x.text or "" for x in node.iter(t_tag)) if node is not None else None
                    elif text is None and c.find(f_tag) is not None:
                        val = _CellProblem("公式单元格没有计算结果，请在 Excel 中保存后再导入")
                    elif t == "s":
                        val = strings[int(text)] if text is not None else None
                    elif t == "e":
                        val = _CellProblem(f"单元格为错误值 {text or ''}".rstrip())
                    elif t == "str":
                        val = text
                    elif t == "b":
                        val = text == "1"
                    elif text is None:
                        val = None
                    elif t == "d":
                        val = dt.datetime.fromisoformat(text.strip().rstrip("Zz"))
                    else:
                        num = float(text)
                        val = int(num) if num.is_integer() and "E" not in text.upper() else num
                        if isinstance(val, float) and val.is_integer():
                            val = int(val)
                    cells.append(val)
                el.clear()
                expected = n + 1
                yield n, cells


def _header_map(k: Kind, header: list) -> tuple[dict[int, Column], list[tuple[int, str]]]:
    by_name = {}
    for c in k.columns:
        by_name[c.label] = c
        by_name[c.field] = c
    colmap: dict[int, Column] = {}
    problems: list[tuple[int, str]] = []
    seen: set[str] = set()
    for i, cell in enumerate(header):
        name = _text(cell).replace("\ufeff", "").strip().rstrip("*＊").strip()
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
    """Parse and check every row; (present fields, [(line, record)], problems)."""
    try:
        return _parse_rows(k, path, quick=True)
    except _QuickReaderFailed:
        return _parse_rows(k, path, quick=False)


def _serial_1904(raw) -> dt.datetime | None:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and 0 <= raw < 2958466 - 1462:
        moment = dt.datetime(1904, 1, 1) + dt.timedelta(days=float(raw))
        return (moment + dt.timedelta(microseconds=500_000)).replace(microsecond=0)
    return None


def _parse_rows(k: Kind, path: Path, *, quick: bool):
    info: dict = {}
    rows = _read_rows(path, info, quick=quick)
    first = next(rows, None)
    if first is None:
        raise UserError("文件是空的，没有列名行。")
    colmap, problems = _header_map(k, first[1])
    if problems:
        return [], [], problems
    width = max(colmap) + 1
    date1904 = info.get("date1904", False)
    plan = [(i, c, c.field, c.type == "text", c.required, c.max_len or 0, _fast_parser(c),
             date1904 and c.type in ("date", "datetime"))
            for i, c in sorted(colmap.items())]
    records: list[tuple[int, dict]] = []
    seen_keys: dict[tuple, int] = {}
    key_cols = [k.col(f) for f in k.key]
    data_rows = 0
    for line, cells in rows:
        n = len(cells)
        if not any(v is not None and str(v).strip() for v in cells):
            continue
        data_rows += 1
        rec: dict = {}
        bad = False
        for i, c, f, plain, required, max_len, fast, serial1904 in plan:
            raw = cells[i] if i < n else None
            if raw.__class__ is _CellProblem:
                problems.append((line, f"{raw}（“{c.label}”列）"))
                bad = True
                continue
            if serial1904:
                raw = _serial_1904(raw) or raw
            if fast is not None and raw.__class__ is str:
                v = fast(raw)
                if v is not _MISS:
                    rec[f] = v
                    continue
            if plain and raw.__class__ is str and not _CTRL.search(raw):
                # Fast path for the common case: a text cell read from CSV.
                v = raw.strip()
                if not v:
                    if required:
                        problems.append((line, f"缺少必填项“{c.label}”"))
                        bad = True
                    v = None
                elif max_len and len(v) > max_len:
                    problems.append((line, f"“{c.label}”过长（最多 {max_len} 字）"))
                    bad = True
                rec[f] = v
                continue
            try:
                rec[f] = _parse_cell(c, raw)
            except _Bad as e:
                problems.append((line, str(e)))
                bad = True
        if n > width and any(_text(v).strip() for v in cells[width:]):
            problems.append((line, "有单元格不在任何列名之下"))
            bad = True
        if bad:
            continue
        key = tuple(rec[f] for f in k.key)
        if key in seen_keys:
            label = "、".join(c.label for c in key_cols)
            problems.append((line, f"{label}与第{seen_keys[key]}行重复"))
            continue
        seen_keys[key] = line
        records.append((line, rec))
    if not data_rows:
        raise UserError("文件没有数据行。")
    return [c.field for c in colmap.values()], records, problems


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _chunks(seq, n):
    seq = list(seq)
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def _lookup(model, keyfield, values) -> dict:
    out = {}
    for chunk in _chunks(values, 500):
        for kid, kv in model.select(model.id, keyfield).where(keyfield.in_(chunk)).tuples():
            out[kv] = kid
    return out


# ---------------------------------------------------------------- import


_DEFAULTS = {
    "items": {"method": "现场检查", "ratio_bp": 100, "frequency": 3, "offices": "", "departments": "",
              "team_size": 2, "recognition_months": 12, "active": True},
    "inspectors": {"department": "商水县人力资源和社会保障局", "cert_valid_from": None,
                   "cert_valid_until": None, "active": True, "phone": ""},
    "targets": {"township": "", "address": "", "size_class": "小型", "credit_risk": "低",
                "complaint_count": 0, "serious_violation": False, "active": True},
    "conflicts": {"reason": ""},
    "trainings": {"hours": 0, "organizer": ""},
    "inspections": {"reference": ""},
}


def _with_defaults(kind: str, rec: dict) -> dict:
    out = dict(rec)
    for f, v in _DEFAULTS[kind].items():
        if out.get(f) is None:
            out[f] = v
    return out


IMPORT_ROLES = {"admin"}


def import_file(kind: str, path, actor: str, *, role: str | None = None) -> ImportResult:
    """Validate every row of a CSV/XLSX file, then upsert all of it by key in one transaction
    with one audit event; any bad row raises ImportRejected and nothing is written.

    role: the logged-in user's role at the terminal (None from the shell). The lists decide
    who can be drawn, so only the registry clerk changes them."""
    if role is not None and role not in IMPORT_ROLES:
        raise UserError("只有登记管理员可以导入名录。")
    k = _kind(kind)
    path = Path(path)
    if not path.is_file():
        raise UserError(f"找不到文件“{path}”。")
    present, records, problems = _parse_file(k, path)
    if problems and any(n == 1 for n, _ in problems):
        raise ImportRejected(problems)
    refs: dict[str, dict] = {}
    if kind in ("conflicts", "trainings"):
        refs["cert_no"] = _lookup(Inspector, Inspector.cert_no, {r["cert_no"] for _, r in records})
    if kind in ("conflicts", "inspections"):
        refs["uscc"] = _lookup(Target, Target.uscc, {r["uscc"] for _, r in records})
    for line, rec in records:
        if "cert_no" in refs and rec["cert_no"] not in refs["cert_no"]:
            problems.append((line, f"执法证号“{rec['cert_no']}”不在执法检查人员名录中"))
        if "uscc" in refs and rec["uscc"] not in refs["uscc"]:
            problems.append((line, f"统一社会信用代码“{rec['uscc']}”不在检查对象名录中"))
    if problems:
        raise ImportRejected(sorted(problems, key=lambda p: p[0]))
    digest = _sha256(path)
    writer = {"items": _write_items, "inspections": _write_inspections}.get(kind, _write_upsert)
    try:
        with write_tx():
            inserted, updated = writer(k, present, [r for _, r in records], refs)
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
    return ImportResult(inserted=inserted, updated=updated, rows=len(records))


_MODELS = {"items": Item, "inspectors": Inspector, "targets": Target, "conflicts": Conflict,
           "trainings": Training, "inspections": InspectionRecord}


def _write_upsert(k: Kind, present: list[str], recs: list[dict], refs: dict) -> tuple[int, int]:
    model = _MODELS[k.name]
    stamp = now()
    if k.name in ("inspectors", "targets"):
        conflict_target = [getattr(model, k.key[0])]
        fields = [c.field for c in k.columns]
        updates = [f for f in present if f not in k.key] + ["updated_at"]
        rows = [{**_with_defaults(k.name, r), "updated_at": stamp} for r in recs]
    elif k.name == "conflicts":
        conflict_target = [Conflict.inspector, Conflict.target]
        fields = ["inspector", "target", "reason", "declared_at"]
        updates = [f for f in present if f in ("reason", "declared_at")]
        rows = []
        for r in recs:
            r = _with_defaults(k.name, r)
            rows.append({"inspector": refs["cert_no"][r["cert_no"]],
                         "target": refs["uscc"][r["uscc"]], "reason": r["reason"],
                         "declared_at": r.get("declared_at") or stamp})
    else:  # trainings
        conflict_target = [Training.inspector, Training.title, Training.date]
        fields = ["inspector", "title", "date", "hours", "organizer"]
        updates = [f for f in present if f in ("hours", "organizer")]
        rows = []
        for r in recs:
            r = _with_defaults(k.name, r)
            rows.append({"inspector": refs["cert_no"][r["cert_no"]], "title": r["title"],
                         "date": r["date"], "hours": r["hours"], "organizer": r["organizer"]})
    before = model.select().count()
    if k.name in ("inspectors", "targets"):
        fields = fields + ["updated_at"]
    _upsert(model, fields, [f for f in conflict_target], updates, rows)
    inserted = model.select().count() - before
    return inserted, len(rows) - inserted


def _db_value(v, sqlite: bool):
    if sqlite:
        if isinstance(v, dt.datetime):
            return v.isoformat(sep=" ")
        if isinstance(v, dt.date):
            return v.isoformat()
        if isinstance(v, bool):
            return int(v)
    return v


def _upsert(model, fields: list[str], conflict_target: list, updates: list[str],
            rows: list[dict]) -> None:
    """INSERT … ON CONFLICT DO UPDATE in batches through the driver's executemany: building
    100k rows through the query builder costs several times the write itself."""
    db = database.obj
    sqlite = isinstance(db, peewee.SqliteDatabase)
    meta = model._meta
    cols = [meta.fields[f].column_name for f in fields]
    def q(name: str) -> str:
        return f'"{name}"'
    target = ", ".join(q(f.column_name) for f in conflict_target)
    if updates:
        sets = ", ".join(f"{q(meta.fields[f].column_name)} = excluded.{q(meta.fields[f].column_name)}"
                         for f in updates)
        tail = f"ON CONFLICT ({target}) DO UPDATE SET {sets}"
    else:
        tail = f"ON CONFLICT ({target}) DO NOTHING"
    sql = (f"INSERT INTO {q(meta.table_name)} ({', '.join(q(c) for c in cols)}) "
           f"VALUES ({', '.join([db.param] * len(cols))}) {tail}")
    cursor = db.cursor()
    bulk_fts = None
    if sqlite and model is Target and len(rows) >= BULK_FTS_ROWS:
        # Feeding the trigram index once for all new rows costs about a third less than its
        # per-row trigger. The trigger is dropped and recreated inside this transaction, so
        # other terminals never see it missing and a failure rolls the drop back too.
        found = db.execute_sql("SELECT sql FROM sqlite_master WHERE type = 'trigger' "
                               "AND name = 'target_fts_ai'").fetchone()
        if found:
            bulk_fts = found[0]
            last_id = db.execute_sql("SELECT COALESCE(MAX(id), 0) FROM target").fetchone()[0]
            db.execute_sql("DROP TRIGGER target_fts_ai")
    for batch in _chunks(rows, BATCH * 10):
        params = [tuple(_db_value(r[f], sqlite) for f in fields) for r in batch]
        # The raw cursor bypasses peewee, so map driver errors to peewee's as execute_sql does.
        with peewee.__exception_wrapper__:
            if sqlite:
                cursor.executemany(sql, params)
            else:
                from psycopg2.extras import execute_batch

                execute_batch(cursor, sql, params, page_size=BATCH)
    if bulk_fts:
        db.execute_sql("INSERT INTO target_fts(rowid, name) SELECT id, name FROM target "
                       "WHERE id > ?", (last_id,))
        db.execute_sql(bulk_fts)


def _item_strata(item_id: int) -> list[tuple[str, str, int]]:
    return [(s.name, s.criterion, s.ratio_bp) for s in
            ItemStratum.select().where(ItemStratum.item == item_id)
            .order_by(ItemStratum.position, ItemStratum.id)]


def _write_items(k: Kind, present: list[str], recs: list[dict], refs: dict) -> tuple[int, int]:
    inserted = updated = 0
    plain = [c.field for c in k.columns if c.field != "strata"]
    for rec in recs:
        item = Item.get_or_none(Item.code == rec["code"])
        strata = rec.get("strata") if "strata" in present else None
        if item is None:
            vals = _with_defaults("items", {f: rec.get(f) for f in plain})
            item = Item.create(**vals, updated_at=now())
            inserted += 1
            changed_strata = bool(strata)
        else:
            vals = {f: rec[f] if rec[f] is not None else _DEFAULTS["items"].get(f)
                    for f in present if f in plain and f != "code"}
            changed = any(getattr(item, f) != v for f, v in vals.items())
            changed_strata = strata is not None and _item_strata(item.id) != strata
            if changed or changed_strata:
                Item.update(**vals, version=Item.version + 1, updated_at=now()) \
                    .where(Item.id == item.id).execute()
            updated += 1
        if changed_strata:
            ItemStratum.delete().where(ItemStratum.item == item.id).execute()
            if strata:
                ItemStratum.insert_many([
                    {"item": item.id, "name": n, "criterion": c, "ratio_bp": r, "position": i}
                    for i, (n, c, r) in enumerate(strata)]).execute()
    return inserted, updated


def _write_inspections(k: Kind, present: list[str], recs: list[dict], refs: dict) -> tuple[int, int]:
    # No unique index on (target, date, department), so match existing rows by hand.
    target_ids = {refs["uscc"][r["uscc"]] for r in recs}
    existing: dict[tuple, int] = {}
    for chunk in _chunks(target_ids, 500):
        q = (InspectionRecord.select(InspectionRecord.id, InspectionRecord.target,
                                     InspectionRecord.date, InspectionRecord.department)
             .where(InspectionRecord.target.in_(chunk)).tuples())
        for rid, tid, d, dep in q:
            if isinstance(d, str):
                d = dt.date.fromisoformat(d)
            existing[(tid, d, dep)] = rid
    new, updated = [], 0
    for r in recs:
        r = _with_defaults("inspections", r)
        key = (refs["uscc"][r["uscc"]], r["date"], r["department"])
        if key in existing:
            if "reference" in present:
                InspectionRecord.update(reference=r["reference"]) \
                    .where(InspectionRecord.id == existing[key]).execute()
            updated += 1
        else:
            new.append({"target": key[0], "date": r["date"], "department": r["department"],
                        "reference": r["reference"]})
    for batch in _chunks(new, BATCH):
        InspectionRecord.insert_many(batch).execute()
    return len(new), updated


# ---------------------------------------------------------------- rows for export and screens


def _base_query(kind: str):
    if kind == "conflicts":
        return (Conflict.select(Conflict.id, Inspector.cert_no, Target.uscc, Conflict.reason,
                                Conflict.declared_at, Inspector.name.alias("inspector_name"),
                                Target.name.alias("target_name"))
                .join(Inspector, on=(Conflict.inspector == Inspector.id))
                .switch(Conflict).join(Target, on=(Conflict.target == Target.id)))
    if kind == "trainings":
        return (Training.select(Training.id, Inspector.cert_no, Training.title, Training.date,
                                Training.hours, Training.organizer,
                                Inspector.name.alias("inspector_name"))
                .join(Inspector, on=(Training.inspector == Inspector.id)))
    if kind == "inspections":
        return (InspectionRecord.select(InspectionRecord.id, Target.uscc, InspectionRecord.date,
                                        InspectionRecord.department, InspectionRecord.reference,
                                        Target.name.alias("target_name"))
                .join(Target, on=(InspectionRecord.target == Target.id)))
    model = _MODELS[kind]
    return model.select()


def _to_python(c: Column, v):
    # Raw SQL / dicts() on SQLite can hand back dates as text.
    if isinstance(v, str) and c.type == "date" and v:
        return dt.date.fromisoformat(v[:10])
    if isinstance(v, str) and c.type == "datetime" and v:
        return dt.datetime.fromisoformat(v)
    return v


def _cells(k: Kind, row: dict, strata: dict | None = None) -> dict:
    out = {}
    for c in k.columns:
        if c.field == "strata":
            v = strata.get(row["id"], []) if strata is not None else _item_strata(row["id"])
        else:
            v = _to_python(c, row.get(c.field))
        out[c.field] = _format_cell(c, v)
    return out


def _all_strata() -> dict[int, list]:
    out: dict[int, list] = {}
    for s in ItemStratum.select().order_by(ItemStratum.item, ItemStratum.position, ItemStratum.id):
        out.setdefault(s.item_id, []).append((s.name, s.criterion, s.ratio_bp))
    return out


def export_file(kind: str, path, actor: str, *, public: bool = False) -> int:
    """Write the whole registry as .csv (UTF-8 with BOM) or .xlsx with Chinese headers; the file
    imports back unchanged. public=True leaves out non-public columns (Art. 4, 5 lists)."""
    k = _kind(kind)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise UserError(f"不支持的导出格式“{suffix or path.name}”，请使用 .csv 或 .xlsx。")
    cols = [c for c in k.columns if c.public or not public]
    strata = _all_strata() if kind == "items" else None
    query = _base_query(kind).order_by(_MODELS[kind].id).dicts()
    rows = 0

    def records():
        nonlocal rows
        for r in query.iterator():
            cells = _cells(k, r, strata)
            rows += 1
            yield [cells[c.field] for c in cols]

    header = [c.label for c in cols]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    if suffix == ".csv":
        with open(tmp, "w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(records())
    else:
        import openpyxl
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet(k.label)

        def as_cell(v):
            if not isinstance(v, str):
                return v
            # XML can't hold most control characters (imports refuse them now; older rows may
            # have them), and text like "=1+1" must stay text rather than become a formula.
            cell = WriteOnlyCell(ws, ILLEGAL_CHARACTERS_RE.sub("", v))
            cell.data_type = "s"
            return cell

        ws.append([as_cell(h) for h in header])
        for r in records():
            ws.append([as_cell(v) for v in r])
        wb.save(tmp)
    tmp.replace(path)
    with write_tx():
        audit.record(actor, "registry.export", kind, path.name, rows=rows, file=path.name,
                     sha256=_sha256(path), public=public)
    return rows


# ---------------------------------------------------------------- search and paging


# Keyed by the database object itself (weakly): an id() can be reused by the next store a
# process opens, which once sent SQLite's FTS query to PostgreSQL.
_FTS_CACHE: "weakref.WeakKeyDictionary[peewee.Database, bool]" = weakref.WeakKeyDictionary()


def _has_fts(db) -> bool:
    if db not in _FTS_CACHE:
        if isinstance(db, peewee.SqliteDatabase):
            _FTS_CACHE[db] = bool(db.execute_sql(
                "SELECT 1 FROM sqlite_master WHERE name = 'target_fts'").fetchone())
        else:
            _FTS_CACHE[db] = False
    return _FTS_CACHE[db]


_USCC_PREFIX = re.compile(r"^[0-9A-Za-z]+$")


def _contains(term: str, sqlite: bool, column: str = ""):
    """A name-contains condition. On SQLite instr() is used for terms without ASCII letters:
    it scans a million names about 40% faster than LIKE, and case folding does not matter."""
    if sqlite and not re.search(r"[A-Za-z]", term):
        if column:
            return f"instr({column}, ?) > 0", [term]
        return fn.instr(Target.name, term) > 0
    if column:
        esc = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return f"{column} LIKE ? ESCAPE '\\'", [f"%{esc}%"]
    return Target.name.contains(term)


def _target_filter(text: str):
    """(where expression, trigram terms, short terms) for a target search; see search()."""
    text = text.strip()
    if not text:
        return None, [], []
    sqlite = isinstance(database.obj, peewee.SqliteDatabase)
    if _USCC_PREFIX.match(text) and (text[0].isdigit() or len(text) >= 8):
        p = text.upper()
        if sqlite:
            # A range on the unique index; the alphabet is 0-9A-Z so '~' sorts after all of it.
            return (Target.uscc >= p) & (Target.uscc < p + "~"), [], []
        return Target.uscc.startswith(p), [], []
    if Target.select(Target.id).where(Target.category == text).exists():
        return CategoryFilter(text), [], []
    if Target.select(Target.id).where(Target.township == text).exists():
        return Target.township == text, [], []
    terms = text.split()
    # Wildcard characters can't be escaped in an FTS5 LIKE, so such words are only filters.
    fts_terms = [t for t in terms if len(t) >= 3 and not re.search(r"[%_\\]", t)] \
        if _has_fts(database.obj) else []
    short = [t for t in terms if t not in fts_terms]
    if fts_terms or sqlite:
        return None, fts_terms, short
    where = None
    for t in short:
        cond = _contains(t, sqlite)
        where = cond if where is None else where & cond
    return where, [], []


def _fts_sql(fts_terms: list[str], short: list[str]) -> tuple[str, list]:
    """Matching rowids in rowid order, straight from the trigram index (LIKE on an FTS5 trigram
    table uses the index): with ORDER BY rowid and a LIMIT inside, FTS5 stops early instead of
    listing every match of a common word."""
    conds, params = [], []
    for t in fts_terms:
        conds.append("name LIKE ?")
        params.append(f"%{t}%")
    for t in short:
        cond, p = _contains(t, True, column="name")
        conds.append(cond)
        params += p
    return f"SELECT rowid FROM target_fts WHERE {' AND '.join(conds)} ORDER BY rowid", params


class CategoryFilter(str):
    """A category search. Its rows come in the order of the (category, active) index, stopped
    (停用) ones first and then by id, so a deep page needs no sort of the whole category."""


def _target_search(text: str, offset: int, limit: int):
    where, fts_terms, short = _target_filter(text)
    q = Target.select()
    if isinstance(where, CategoryFilter):
        if isinstance(database.obj, peewee.SqliteDatabase):
            # Named, because the planner prefers the wider pool index and then sorts.
            sub = peewee.SQL("(SELECT id FROM target INDEXED BY target_category_active "
                             "WHERE category = ? ORDER BY active, id LIMIT ? OFFSET ?)",
                             [str(where), limit, offset])
            return q.where(Target.id.in_(sub)).order_by(Target.active, Target.id)
        return (q.where(Target.category == str(where)).order_by(Target.active, Target.id)
                .offset(offset).limit(limit))
    if fts_terms:
        sql, params = _fts_sql(fts_terms, short)
        sub = peewee.SQL(f"({sql} LIMIT ? OFFSET ?)", params + [limit, offset])
        return q.where(Target.id.in_(sub)).order_by(Target.id)
    if short:  # SQLite without a trigram word: scan the narrow name index, in name order
        sql, params = _short_sql(short)
        sub = peewee.SQL(f"({sql} ORDER BY name, id LIMIT ? OFFSET ?)", params + [limit, offset])
        return q.where(Target.id.in_(sub)).order_by(Target.name, Target.id)
    if where is not None:
        q = q.where(where)
    return q.order_by(Target.id).offset(offset).limit(limit)


def _short_sql(short: list[str]) -> tuple[str, list]:
    """Words under 3 characters can't use the trigram index. Scanning the name index (names
    and ids only) instead of the table reads a fraction of the pages, and in name order a
    common word fills the page after a few rows."""
    conds, params = [], []
    for t in short:
        cond, p = _contains(t, True, column="name")
        conds.append(cond)
        params += p
    return f"SELECT id FROM target INDEXED BY target_name WHERE {' AND '.join(conds)}", params


def _target_count(text: str, cap: int) -> int:
    where, fts_terms, short = _target_filter(text)
    db = database.obj
    if fts_terms:
        sql, params = _fts_sql(fts_terms, short)
        return db.execute_sql(f"SELECT COUNT(*) FROM ({sql} LIMIT ?) AS s",
                              params + [cap + 1]).fetchone()[0]
    if short:
        sql, params = _short_sql(short)
        return db.execute_sql(f"SELECT COUNT(*) FROM ({sql} LIMIT ?) AS s",
                              params + [cap + 1]).fetchone()[0]
    q = Target.select(Target.id)
    if isinstance(where, CategoryFilter):
        where = Target.category == str(where)
    if where is not None:
        q = q.where(where)
    return peewee.Select([q.limit(cap + 1).alias("s")], [fn.COUNT(peewee.SQL("*"))]) \
        .bind(db).scalar()


def _like_any(text: str, *fields):
    cond = None
    for f in fields:
        c = f.contains(text)
        cond = c if cond is None else cond | c
    return cond


def _other_query(kind: str, text: str):
    q = _base_query(kind)
    text = text.strip()
    if not text:
        return q
    if kind == "items":
        return q.where(_like_any(text, Item.code, Item.name, Item.category, Item.lead_office))
    if kind == "inspectors":
        return q.where(_like_any(text, Inspector.name, Inspector.cert_no, Inspector.office))
    if kind == "conflicts":
        return q.where(_like_any(text, Inspector.cert_no, Inspector.name, Target.name)
                       | Target.uscc.startswith(text.upper()))
    if kind == "trainings":
        return q.where(_like_any(text, Inspector.cert_no, Inspector.name, Training.title,
                                 Training.organizer))
    return q.where(Target.uscc.startswith(text.upper())
                   | _like_any(text, InspectionRecord.department, Target.name))


def search(kind: str, text: str = "", offset: int = 0, limit: int = 20) -> list[dict]:
    """One page of a registry, in id order (targets found by words under 3 characters: in name
    order), as dicts of the export's cell text keyed by field
    (see columns()) plus 'id'; conflicts/trainings add 'inspector_name', conflicts/inspections
    'target_name'.

    Targets: text of digits/letters starting with a digit (or 8+ long) is a USCC prefix; text
    equal to a category or township filters on it; otherwise each blank-separated word must occur
    in the name (words of 3+ characters use the trigram index, shorter ones a LIKE scan that
    stops at the page). A category's rows come stopped (停用) ones first, then by id. Other kinds match name, code, certificate number, office and so on."""
    k = _kind(kind)
    offset, limit = max(0, int(offset)), max(0, int(limit))
    if kind == "targets":
        q = _target_search(text, offset, limit).dicts()
    else:
        q = _other_query(kind, text).order_by(_MODELS[kind].id).offset(offset).limit(limit).dicts()
    strata = None
    rows = list(q)
    if kind == "items":
        strata = {}
        ids = [r["id"] for r in rows]
        for s in (ItemStratum.select().where(ItemStratum.item.in_(ids))
                  .order_by(ItemStratum.item, ItemStratum.position, ItemStratum.id)):
            strata.setdefault(s.item_id, []).append((s.name, s.criterion, s.ratio_bp))
    out = []
    for r in rows:
        d = _cells(k, r, strata)
        d["id"] = r["id"]
        for extra in ("inspector_name", "target_name"):
            if extra in r:
                d[extra] = r[extra]
        out.append(d)
    return out


def count_capped(kind: str, text: str = "", cap: int = COUNT_CAP) -> tuple[int, bool]:
    """(matches, capped): an exact count of the whole registry for empty text; for a search,
    counting stops after cap matches so a common word stays fast ((cap, True) then)."""
    _kind(kind)
    model = _MODELS[kind]
    if not text.strip():
        return model.select().count(), False
    if kind == "targets":
        n = _target_count(text, cap)
        return (cap, True) if n > cap else (n, False)
    q = _other_query(kind, text).select(model.id)
    n = peewee.Select([q.limit(cap + 1).alias("s")], [fn.COUNT(peewee.SQL("*"))]) \
        .bind(database.obj).scalar()
    return (cap, True) if n > cap else (n, False)


def count(kind: str, text: str = "") -> int:
    """Matches for search(kind, text); at most COUNT_CAP for a non-empty text (count_capped
    says whether it was capped)."""
    return count_capped(kind, text)[0]
