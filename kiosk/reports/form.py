"""The report form's fields (Art. 9): labels, parsing and cleaning what is typed, the text shown."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from db.models import Report
from kiosk.errors import UserError
from kiosk.reports import due
from kiosk.reports.task import ReportRef, fresh

METHODS = ("现场检查", "书面检查")
FINDINGS = ("无问题", "责令整改", "行政处罚", "移送司法机关")
STATES = {"draft": "草稿", "submitted": "已提交待审核", "reviewed": "已审核待定稿",
          "final": "最终报告"}

# Everything an inspector types; the workflow columns are set only by the transitions below.
FIELD_LABELS = {
    "inspection_start": "检查开始时间",
    "inspection_end": "检查结束时间",
    "method": "检查方式",
    "inspectors_present": "检查人员",
    "unit": "被检查单位",
    "content_checked": "检查内容",
    "onsite_record": "现场检查笔录",
    "evaluation": "评价",
    "finding": "处理结果",
    "rectify_deadline": "整改期限",
    "opinion": "处理意见和建议",
}
DATETIME_FIELDS = ("inspection_start", "inspection_end")
DATE_FIELDS = ("rectify_deadline",)
REQUIRED = ("inspection_start", "inspection_end", "method", "inspectors_present", "unit",
            "content_checked", "evaluation", "finding", "opinion")

_DT_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S",
               "%Y/%m/%d %H:%M", "%Y%m%d %H%M")
_D_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d")
# Inspection dates outside this window are typos (and 9999 overflows the deadline arithmetic).
EARLIEST_INSPECTION = dt.date(2000, 1, 1)
LATEST_INSPECTION_AHEAD = dt.timedelta(days=366)


# ---------------------------------------------------------------- fields

def _parse_datetime(value: object, label: str) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    s = str(value).strip()
    if not s:
        return None
    for fmt in _DT_FORMATS:
        try:
            return dt.datetime.strptime(s, fmt)
        except ValueError:
            pass
    raise UserError(f"{label}格式应为“2026-07-03 09:30”。")


def _parse_date(value: object, label: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    s = str(value).strip()
    if not s:
        return None
    for fmt in _D_FORMATS:
        try:
            return dt.datetime.strptime(s, fmt).date()
        except ValueError:
            pass
    raise UserError(f"{label}格式应为“2026-07-20”。")


def _check_inspection_day(value: dt.datetime | None, label: str) -> dt.datetime | None:
    if value is None:
        return None
    latest = due.current_date() + LATEST_INSPECTION_AHEAD
    if not EARLIEST_INSPECTION <= value.date() <= latest:
        raise UserError(f"{label}应在 {EARLIEST_INSPECTION.isoformat()} 至 "
                        f"{latest.isoformat()} 之间，请检查年份。")
    return value


def _clean_one(name: str, value: object) -> object:
    label = FIELD_LABELS.get(name)
    if label is None:
        raise UserError(f"报告没有“{name}”这一项。")
    if name in DATETIME_FIELDS:
        return _check_inspection_day(_parse_datetime(value, label), label)
    if name in DATE_FIELDS:
        return _parse_date(value, label)
    # PostgreSQL refuses NUL in text; nobody types one on purpose (it comes with pasted junk).
    s = "" if value is None else str(value).replace("\x00", "")
    if name == "method" and s not in METHODS:
        raise UserError("检查方式只能是现场检查或书面检查。")
    if name == "finding" and s not in FINDINGS and s != "":
        raise UserError("处理结果只能是无问题、责令整改、行政处罚或移送司法机关。")
    limit = getattr(Report._meta.fields[name], "max_length", None)
    if limit is not None and len(s) > limit:
        raise UserError(f"{label}最多 {limit} 个字，现在是 {len(s)} 个字。")
    return s


# Each rule between two fields, with the field to blame first: the one most likely being typed.
_CROSS_RULES = (
    (("inspection_end", "inspection_start"), "检查结束时间不能早于开始时间。",
     lambda v: v["inspection_start"] and v["inspection_end"]
     and v["inspection_end"] < v["inspection_start"]),
    (("rectify_deadline", "inspection_end"), "整改期限不能早于检查结束日期。",
     lambda v: v["rectify_deadline"] and v["inspection_end"]
     and v["rectify_deadline"] < v["inspection_end"].date()),
)


def _drop_conflicts(stored: dict, values: dict) -> dict[str, str]:
    """Remove from `values` the date fields that contradict another date (stored or new) and
    return why, so one conflicting date never blocks saving the rest of the form."""
    errors: dict[str, str] = {}
    for blame, message, broken in _CROSS_RULES:
        merged = stored | values
        if not broken(merged):
            continue
        culprit = next((n for n in blame if n in values), None)
        if culprit is None:
            continue  # both stored already; nothing this save can be blamed for
        values.pop(culprit)
        errors[culprit] = message
    return errors


def clean_fields(report: ReportRef, raw: dict) -> tuple[dict, dict[str, str]]:
    """Split what a form holds into values ready to save and per-field error sentences,
    so a half-typed date never blocks saving the rest of the draft."""
    if not isinstance(report, Report):
        report = fresh(report)
    clean: dict = {}
    errors: dict[str, str] = {}
    for name, value in raw.items():
        try:
            clean[name] = _clean_one(name, value)
        except UserError as e:
            errors[name] = str(e)
    errors.update(before_the_draw(report, clean))
    stored = {n: getattr(report, n) for n in FIELD_LABELS}
    errors.update(_drop_conflicts(stored, clean))
    return clean, errors


def before_the_draw(report: Report, values: dict) -> dict[str, str]:
    """Drop inspection times before the draw was sealed: the target was not yet drawn then,
    so such a time is a typo or a report of another inspection (issue 11)."""
    sealed = report.assignment.draw.sealed_at
    if sealed is None:
        return {}
    sealed = sealed.replace(second=0, microsecond=0)  # the form is typed to the minute
    errors = {}
    for name in DATETIME_FIELDS:
        value = values.get(name)
        if value is not None and value < sealed:
            values.pop(name)
            errors[name] = (f"{FIELD_LABELS[name]}不能早于摇号封存时间 {sealed:%Y-%m-%d %H:%M}"
                            "（抽中后才能检查）。")
    return errors


def _display(name: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def form_values(report: Report) -> dict[str, str]:
    """The report's fields as the form shows them (text)."""
    return {name: _display(name, getattr(report, name)) for name in FIELD_LABELS}


@dataclass(frozen=True)
class ReportStatus:
    """The form's status line, as the domain words it."""

    state: str
    state_label: str
    due_text: str  # the deadline and the days left, or when it will be computed
    provisional: bool  # the year's holiday calendar is not published yet
    review_note: str  # the reviewer's reason, shown while a returned report is a draft
    archive: str = ""  # a final report: where its archived PDF went (Art. 9)

    def parts(self) -> list[str]:
        out = [self.state_label, self.due_text]
        if self.archive:
            out.append(self.archive)
        if self.provisional:
            out.append("日历为临时（该年度节假日安排未公布）")
        if self.review_note:
            out.append(f"退回意见：{self.review_note}")
        return out


def status_of(report: Report) -> ReportStatus:
    note = report.review_note if report.state == "draft" else ""
    return ReportStatus(report.state, STATES[report.state], due.due_line(report.due_date),
                        bool(report.due_provisional), note or "", archive_text(report))


def archive_text(report: Report) -> str:
    """Where a final report's PDF was filed, or that it was not (a missing font)."""
    if report.state != "final":
        return ""
    from kiosk.reports.workflow import archive_path  # workflow builds on this module

    path = archive_path(report)
    if path.is_file():
        return f"归档 PDF：{path}"
    return "归档 PDF 未生成（原因见审计日志），可按 F4 重新打印"



@dataclass
class SaveResult:
    """What save_draft did: the fields written, and the fields it left alone with why."""

    changed: list[str]
    errors: dict[str, str]  # field -> sentence (a date contradicting another date)
    conflicts: list[str]  # fields a teammate changed since this form loaded them
    status: ReportStatus | None = None  # the report's status line after the save

    @property
    def message(self) -> str:
        """One sentence for the form's error line ('' when everything was saved)."""
        parts = []
        if self.conflicts:
            labels = "、".join(FIELD_LABELS[n] for n in self.conflicts)
            parts.append(f"{labels}已被同组其他成员修改，请刷新后再改。")
        parts.extend(self.errors.values())
        return "".join(parts)


def _same(name: str, a: object, b: object) -> bool:
    """Equal as the form shows them (a loaded datetime has no seconds in the form)."""
    if isinstance(a, str):
        if a.strip() == _display(name, b):
            return True
        try:
            a = _clean_one(name, a)
        except UserError:
            return False
    return _display(name, a) == _display(name, b)


def missing_fields(report: ReportRef) -> list[str]:
    """Labels of what must be filled before the report can be submitted."""
    if not isinstance(report, Report):
        report = fresh(report)
    missing = [FIELD_LABELS[n] for n in REQUIRED if not getattr(report, n)]
    if report.method == "现场检查" and not report.onsite_record.strip():
        missing.append(FIELD_LABELS["onsite_record"])
    if report.finding == "责令整改" and report.rectify_deadline is None:
        missing.append(FIELD_LABELS["rectify_deadline"])
    return missing
