"""Inspection reports (Art. 9, 10): scan to report, drafts, evidence, review, final, deadlines."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from peewee import JOIN

from db.connection import data_dir_for, database
from db.models import (
    Assignment,
    AssignmentMember,
    Draw,
    Evidence,
    Inspector,
    Item,
    PlanTask,
    Rectification,
    Report,
    Target,
    User,
    now,
)
from kiosk import audit
from kiosk.errors import UserError
from kiosk.store import write_tx

METHODS = ("现场检查", "书面检查")
FINDINGS = ("无问题", "责令整改", "行政处罚", "移送司法机关")
STATES = {"draft": "草稿", "submitted": "已提交待审核", "reviewed": "已审核待定稿", "final": "最终报告"}

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
OVERSIGHT_ROLES = ("reviewer", "leader", "admin")

_DT_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S",
               "%Y/%m/%d %H:%M", "%Y%m%d %H%M")
_D_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d")
# Inspection dates outside this window are typos (and 9999 overflows the deadline arithmetic).
EARLIEST_INSPECTION = dt.date(2000, 1, 1)
LATEST_INSPECTION_AHEAD = dt.timedelta(days=366)


# ---------------------------------------------------------------- who may do what

def _actor(user: User | None) -> str:
    return user.username if user is not None else "?"


def _members(assignment: Assignment) -> list[Inspector]:
    q = (Inspector.select().join(AssignmentMember)
         .where(AssignmentMember.assignment == assignment)
         .order_by(AssignmentMember.position))
    return list(q)


def _current(user: User | None) -> User | None:
    """The user's row as stored now, None when deactivated: a session logged in before an
    administrator disabled the account must lose its rights at once."""
    if user is None or user.id is None:
        return None
    return User.get_or_none((User.id == user.id) & (User.active == True))  # noqa: E712


def is_member(assignment: Assignment, user: User | None) -> bool:
    if user is None or user.inspector_id is None:
        return False
    # One query that also checks the account is still active (the session's row may be stale).
    return (AssignmentMember.select()
            .join(User, on=(User.inspector == AssignmentMember.inspector))
            .where((AssignmentMember.assignment == assignment)
                   & (AssignmentMember.inspector == user.inspector_id)
                   & (User.id == user.id) & (User.active == True))  # noqa: E712
            .exists())


def can_open(assignment: Assignment, user: User | None) -> bool:
    """A member of the task's team, a reviewer of the item's lead office, or a leader or
    administrator (Art. 9, 12: other offices do not see whom this task inspects)."""
    user = _current(user)
    if user is None:
        return False
    if user.role in ("leader", "admin"):
        return True
    if user.role == "reviewer" and user.office == _item(assignment).lead_office:
        return True
    return is_member(assignment, user)


def _item(assignment: Assignment) -> Item:
    return (Item.select().join(PlanTask).join(Draw)
            .where(Draw.id == assignment.draw_id).get())


def is_lead_reviewer(report: Report, user: User | None) -> bool:
    """Reviews belong to the item's lead office (责任股室, Art. 9)."""
    user = _current(user)
    if user is None or user.role != "reviewer":
        return False
    return user.office == _item(report.assignment).lead_office


def _require_editor(report: Report, user: User | None) -> None:
    if not is_member(report.assignment, user):
        raise UserError("只有该任务检查组成员可以填写报告。")
    if report.state != "draft":
        raise UserError(f"报告当前为“{STATES[report.state]}”，不能再修改。")


def _require_reviewer(report: Report, user: User | None) -> None:
    if not is_lead_reviewer(report, user):
        raise UserError("只有牵头股室的审核人可以审核此报告。")


# ---------------------------------------------------------------- opening

def open_report(assignment: Assignment, user: User | None) -> Report:
    """The assignment's report, created as a prefilled draft on first open."""
    if not can_open(assignment, user):
        with write_tx():
            audit.record(_actor(user), "report.refused", "assignment", assignment.task_code)
        raise UserError("您不是该任务检查组成员，无权打开此报告。")
    with write_tx():
        report = Report.get_or_none(Report.assignment == assignment)
        created = report is None
        if created:
            item = _item(assignment)
            report = Report.create(
                assignment=assignment,
                method=item.method if item.method in METHODS else METHODS[0],
                inspectors_present="、".join(i.name for i in _members(assignment)),
                unit=assignment.target.name,
                content_checked=item.content,
            )
        audit.record(_actor(user), "report.open", "report", report.id,
                     task=assignment.task_code, created=created)
    return report


def scan_to_report(payload: str, user: User | None) -> Report:
    """What the Scan screen and `kiosk open PAYLOAD` do: resolve the slip, open its report."""
    from kiosk import slips

    assignment = slips.resolve(payload, actor=_actor(user) if user else "scanner")
    return open_report(assignment, user)


def check_payload(payload: str) -> Assignment:
    """`kiosk open --check`: only validate the slip (UserError when refused)."""
    from kiosk import slips

    return slips.resolve(payload, actor="scanner")


@dataclass(frozen=True)
class ReportContext:
    """What the report form shows around the fields: the task, its target and team."""

    task_code: str
    target_name: str
    target_uscc: str
    target_address: str
    item_code: str
    item_name: str
    lead_office: str
    team: tuple[tuple[str, str], ...]  # (name, cert_no)


def context(report: Report) -> ReportContext:
    a = report.assignment
    item = _item(a)
    t = a.target
    return ReportContext(a.task_code, t.name, t.uscc, t.address, item.code, item.name,
                         item.lead_office, tuple((i.name, i.cert_no) for i in _members(a)))


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
    latest = dt.date.today() + LATEST_INSPECTION_AHEAD
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


def clean_fields(report: Report, raw: dict) -> tuple[dict, dict[str, str]]:
    """Split what a form holds into values ready to save and per-field error sentences,
    so a half-typed date never blocks saving the rest of the draft."""
    clean: dict = {}
    errors: dict[str, str] = {}
    for name, value in raw.items():
        try:
            clean[name] = _clean_one(name, value)
        except UserError as e:
            errors[name] = str(e)
    stored = {n: getattr(report, n) for n in FIELD_LABELS}
    errors.update(_drop_conflicts(stored, clean))
    return clean, errors


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


def _set_due(report: Report) -> None:
    if report.inspection_end is None:
        report.due_date, report.due_provisional = None, False
        return
    from kiosk import workdays

    report.due_date, report.due_provisional = workdays.report_due(report.inspection_end)


@dataclass
class SaveResult:
    """What save_draft did: the fields written, and the fields it left alone with why."""

    changed: list[str]
    errors: dict[str, str]  # field -> sentence (a date contradicting another date)
    conflicts: list[str]  # fields a teammate changed since this form loaded them

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


def save_draft(report: Report, fields: dict, user: User | None,
               base: dict | None = None) -> SaveResult:
    """Write the fields that changed (one transaction, one audit event).

    `base` holds, per field, the value the form showed when it loaded (or last saved) it.
    A field whose stored value no longer matches its base was changed meanwhile on another
    terminal: it is left as stored and named in `conflicts`, so a stale form never overwrites
    a teammate's text. A date contradicting another date is left out (in `errors`); the
    other fields are saved. A malformed value raises UserError (use clean_fields first).
    """
    result = SaveResult([], {}, [])
    with write_tx():
        fresh = Report.get_by_id(report.id)
        _require_editor(fresh, user)
        values = {n: _clean_one(n, v) for n, v in fields.items()}
        for name in list(values):
            if base is None or name not in base:
                continue
            stored = getattr(fresh, name)
            if not _same(name, base[name], stored) and not _same(name, values[name], stored):
                values.pop(name)
                result.conflicts.append(name)
        stored = {n: getattr(fresh, n) for n in FIELD_LABELS}
        result.errors.update(_drop_conflicts(stored, values))
        for name, value in values.items():
            if getattr(fresh, name) != value:
                setattr(fresh, name, value)
                result.changed.append(name)
        if result.changed:
            if "inspection_end" in result.changed:
                _set_due(fresh)
            fresh.updated_at = now()
            fresh.save()
            audit.record(_actor(user), "report.save", "report", fresh.id,
                         fields=sorted(result.changed))
    _refresh(report, fresh)
    return result


def _refresh(report: Report, fresh: Report) -> None:
    report.__data__.update(fresh.__data__)


def missing_fields(report: Report) -> list[str]:
    """Labels of what must be filled before the report can be submitted."""
    missing = [FIELD_LABELS[n] for n in REQUIRED if not getattr(report, n)]
    if report.method == "现场检查" and not report.onsite_record.strip():
        missing.append(FIELD_LABELS["onsite_record"])
    if report.finding == "责令整改" and report.rectify_deadline is None:
        missing.append(FIELD_LABELS["rectify_deadline"])
    return missing


# ---------------------------------------------------------------- workflow

def submit(report: Report, user: User | None) -> Report:
    """draft -> submitted, by a team member, once every required field is there."""
    with write_tx():
        fresh = Report.get_by_id(report.id)
        _require_editor(fresh, user)
        missing = missing_fields(fresh)
        if missing:
            raise UserError(f"还需填写：{'、'.join(missing)}。")
        if fresh.inspection_end > now() + dt.timedelta(minutes=5):
            raise UserError("检查结束时间不能晚于现在。")
        _set_due(fresh)
        fresh.state = "submitted"
        fresh.submitted_by = _actor(user)
        fresh.submitted_at = now()
        fresh.updated_at = now()
        fresh.save()
        Assignment.update(state="reported").where(Assignment.id == fresh.assignment_id).execute()
        late = fresh.due_date is not None and fresh.submitted_at.date() > fresh.due_date
        audit.record(_actor(user), "report.submit", "report", fresh.id,
                     task=fresh.assignment.task_code, due=fresh.due_date, late=late)
    _refresh(report, fresh)
    return report


def review(report: Report, user: User | None, note: str, approve: bool) -> Report:
    """The lead office's review: approve (submitted -> reviewed) or send back to draft."""
    note = (note or "").strip()
    with write_tx():
        fresh = Report.get_by_id(report.id)
        _require_reviewer(fresh, user)
        if fresh.state != "submitted":
            raise UserError(f"报告当前为“{STATES[fresh.state]}”，不在待审核状态。")
        if not approve and not note:
            raise UserError("退回报告时请写明退回理由。")
        fresh.state = "reviewed" if approve else "draft"
        fresh.reviewed_by = _actor(user)
        fresh.reviewed_at = now()
        fresh.review_note = note
        fresh.updated_at = now()
        fresh.save()
        if not approve:
            Assignment.update(state="assigned").where(
                Assignment.id == fresh.assignment_id).execute()
        audit.record(_actor(user), "report.approve" if approve else "report.reject", "report",
                     fresh.id, task=fresh.assignment.task_code, note=note)
    _refresh(report, fresh)
    return report


def finalise(report: Report, user: User | None) -> Report:
    """reviewed -> final (上报局党组); a 责令整改 finding opens a rectification to track."""
    with write_tx():
        fresh = Report.get_by_id(report.id)
        _require_reviewer(fresh, user)
        if fresh.state != "reviewed":
            raise UserError(f"报告当前为“{STATES[fresh.state]}”，审核通过后才能定稿。")
        fresh.state = "final"
        fresh.finalised_at = now()
        fresh.updated_at = now()
        fresh.save()
        Assignment.update(state="final").where(Assignment.id == fresh.assignment_id).execute()
        rect = None
        if fresh.finding == "责令整改":
            rect = Rectification.create(report=fresh, deadline=fresh.rectify_deadline)
        audit.record(_actor(user), "report.finalise", "report", fresh.id,
                     task=fresh.assignment.task_code, finding=fresh.finding,
                     rectification=rect.id if rect else None)
    _refresh(report, fresh)
    archive_final(report, user)
    return report


def archive_path(report: Report) -> Path:
    return data_dir_for(database.obj) / "archive" / f"{report.assignment.task_code}.pdf"


def archive_final(report: Report, user: User | None) -> Path | None:
    """File the final report's PDF in the archive (Art. 9) with its SHA-256 in the audit log.
    A missing font must not undo a finalisation: the failure is logged, printing can follow."""
    out = archive_path(report)
    if out.exists():
        return None  # an archived final report is never replaced
    try:
        tmp = render_report_pdf(report, out.with_name(f".{out.name}.tmp"))
        os.replace(tmp, out)
    except (UserError, OSError) as e:
        with write_tx():
            audit.record(_actor(user), "report.archive_failed", "report", report.id, error=str(e))
        return None
    sha, size = _sha256_file(out)
    with write_tx():
        audit.record(_actor(user), "report.archive", "report", report.id,
                     path=str(out.name), sha256=sha, size=size)
    return out


def close_rectification(rect: Rectification, user: User | None, note: str) -> Rectification:
    """Record that a rectification order was carried out (Art. 10)."""
    note = (note or "").strip()
    with write_tx():
        fresh = Rectification.get_by_id(rect.id)
        _require_reviewer(fresh.report, user)
        if fresh.closed_at is not None:
            raise UserError("该整改已销号，无需重复操作。")
        if not note:
            raise UserError("请写明整改落实情况。")
        fresh.closed_at = now()
        fresh.closed_by = _actor(user)
        fresh.note = note
        fresh.save()
        audit.record(_actor(user), "rectification.close", "rectification", fresh.id,
                     task=fresh.report.assignment.task_code, note=note)
    rect.__data__.update(fresh.__data__)
    return rect


def reports_for_review(user: User | None) -> list[Report]:
    """Submitted and reviewed reports the user may act on (their office's, or all for oversight)."""
    q = (Report.select(Report, Assignment, Target)
         .join(Assignment).join(Target)
         .switch(Assignment).join(Draw).join(PlanTask).join(Item)
         .where(Report.state.in_(("submitted", "reviewed")))
         .order_by(Report.submitted_at, Report.id))
    if user is None:
        return []
    if user.role == "reviewer":
        q = q.where(Item.lead_office == user.office)
    elif user.role not in ("leader", "admin"):
        return []
    return list(q)


def rectifications(user: User | None = None, open_only: bool = True) -> list[Rectification]:
    q = (Rectification.select(Rectification, Report, Assignment)
         .join(Report).join(Assignment).join(Draw).join(PlanTask).join(Item)
         .order_by(Rectification.deadline, Rectification.id))
    if open_only:
        q = q.where(Rectification.closed_at.is_null())
    if user is not None and user.role == "reviewer":
        q = q.where(Item.lead_office == user.office)
    return list(q)


# ---------------------------------------------------------------- evidence

def evidence_dir() -> Path:
    return data_dir_for(database.obj) / "evidence"


def evidence_path(e: Evidence) -> Path:
    p = Path(e.stored_path)
    return p if p.is_absolute() else data_dir_for(database.obj) / p


def _sha256_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _store(src: Path, sha: str, suffix: str) -> Path:
    """Copy into the content-addressed store; an existing file is reused, never overwritten."""
    folder = evidence_dir()
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / f"{sha}{suffix}"
    if dest.exists():
        if _sha256_file(dest)[0] != sha:
            raise UserError("证据库中已有同名文件但内容不符，已拒绝覆盖，请联系管理员核查。")
        return dest
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".incoming-")
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        if _sha256_file(Path(tmp))[0] != sha:
            raise UserError("文件在复制过程中发生变化，请重新添加。")
        os.chmod(tmp, 0o444)
        try:
            os.link(tmp, dest)  # fails if dest appeared meanwhile: no silent replacement
        except FileExistsError:
            if _sha256_file(dest)[0] != sha:
                raise UserError("证据库中已有同名文件但内容不符，已拒绝覆盖，请联系管理员核查。")
    finally:
        os.unlink(tmp)
    return dest


def attach_evidence(report: Report, path: str | os.PathLike, user: User | None) -> Evidence:
    """Copy a photo, video or scan into the data dir with its SHA-256 and size."""
    src = Path(str(path).strip().strip("'\"")).expanduser()
    if not src.is_file():
        raise UserError(f"找不到文件：{src}")
    # Refuse early, before spending a minute hashing a video nobody may attach.
    _require_editor(Report.get_by_id(report.id), user)
    # Hash and copy outside the write transaction: a long video must not hold the lock every
    # terminal's autosave waits on. The store is content-addressed, so an orphan copy (the
    # row insert below refused) is harmless and a concurrent identical copy is the same file.
    try:
        sha, size = _sha256_file(src)
    except OSError as e:
        raise UserError(f"无法读取文件：{src}（{e.strerror or e}），请换一个文件或重新拷贝。") from e
    if Evidence.select().where((Evidence.report == report.id) & (Evidence.sha256 == sha)).exists():
        raise UserError(f"该文件已附上（{src.name}），无需重复添加。")
    try:
        dest = _store(src, sha, src.suffix.lower()[:16])
    except OSError as e:
        raise UserError(f"无法把文件存入证据库：{e.strerror or e}，请联系管理员检查磁盘。") from e
    rel = dest.relative_to(data_dir_for(database.obj))
    with write_tx():
        fresh = Report.get_by_id(report.id)
        _require_editor(fresh, user)
        if Evidence.select().where((Evidence.report == fresh) & (Evidence.sha256 == sha)).exists():
            raise UserError(f"该文件已附上（{src.name}），无需重复添加。")
        e = Evidence.create(report=fresh, filename=src.name[:255], sha256=sha, size=size,
                            stored_path=str(rel), added_by=_actor(user))
        audit.record(_actor(user), "report.evidence", "report", fresh.id,
                     file=src.name, sha256=sha, size=size)
    return e


def verify_evidence(e: Evidence) -> bool:
    """True when the stored file is still exactly what was attached."""
    p = evidence_path(e)
    if not p.is_file():
        return False
    sha, size = _sha256_file(p)
    return sha == e.sha256 and size == e.size


# ---------------------------------------------------------------- deadlines

@dataclass(frozen=True)
class DeadlineRow:
    task_code: str
    target_name: str
    inspectors: tuple[str, ...]
    office: str
    due_date: dt.date | None  # None: the inspection end is not entered yet (未录入)
    days_left: int | None  # calendar days; negative when overdue
    overdue: bool
    provisional: bool
    state: str  # 'none' (not opened) or 'draft'

    @property
    def status(self) -> str:
        if self.due_date is None:
            return "未录入"
        if self.overdue:
            return f"已逾期 {-self.days_left} 天"
        if self.days_left == 0:
            return "今天到期"
        return f"剩 {self.days_left} 天"


def deadlines(today: dt.date | None = None) -> list[DeadlineRow]:
    """Reports still owed by inspectors (no report yet, or a draft), most urgent first."""
    today = today or dt.date.today()
    q = (Assignment.select(Assignment, Target, Draw, PlanTask, Item, Report)
         .join(Target).switch(Assignment)
         .join(Draw).join(PlanTask).join(Item).switch(Assignment)
         .join(Report, JOIN.LEFT_OUTER, on=(Report.assignment == Assignment.id), attr="rep")
         .where((Draw.state == "sealed") & (Assignment.state != "final")
                & (Report.id.is_null() | (Report.state == "draft"))))
    rows_q = list(q)
    teams: dict[int, list[str]] = {}
    if rows_q:
        mq = (AssignmentMember.select(AssignmentMember.assignment, Inspector.name)
              .join(Inspector)
              .where(AssignmentMember.assignment.in_([a.id for a in rows_q]))
              .order_by(AssignmentMember.assignment, AssignmentMember.position))
        for m in mq:
            teams.setdefault(m.assignment_id, []).append(m.inspector.name)
    out = []
    for a in rows_q:
        rep = getattr(a, "rep", None)
        if rep is not None and rep.id is None:
            rep = None
        due = rep.due_date if rep else None
        days = (due - today).days if due else None
        out.append(DeadlineRow(
            task_code=a.task_code, target_name=a.target.name,
            inspectors=tuple(teams.get(a.id, ())), office=a.draw.task.item.lead_office,
            due_date=due, days_left=days, overdue=days is not None and days < 0,
            provisional=bool(rep.due_provisional) if rep else False,
            state=rep.state if rep else "none"))
    out.sort(key=lambda r: (r.due_date is None, r.due_date or dt.date.max, r.task_code))
    return out


@dataclass(frozen=True)
class DeadlineSummary:
    name: str
    total: int
    overdue: int
    due_soon: int  # due within 2 days
    unknown: int  # inspection end not entered


def summarise(rows: list[DeadlineRow], by: str = "inspector") -> list[DeadlineSummary]:
    """Per inspector (each team member counts) or per office."""
    acc: dict[str, list[int]] = {}
    for r in rows:
        keys = r.inspectors if by == "inspector" else (r.office,)
        for k in keys:
            c = acc.setdefault(k, [0, 0, 0, 0])
            c[0] += 1
            c[1] += r.overdue
            c[2] += r.days_left is not None and 0 <= r.days_left <= 2
            c[3] += r.due_date is None
    out = [DeadlineSummary(k, *v) for k, v in acc.items()]
    out.sort(key=lambda s: (-s.overdue, -s.due_soon, s.name))
    return out


# ---------------------------------------------------------------- leadership summary

@dataclass(frozen=True)
class SummaryRow:
    item_code: str
    item_name: str
    lead_office: str
    final: int
    findings: dict  # finding -> count
    open_rectifications: int


def leadership_summary(year: int) -> tuple[list[SummaryRow], dict]:
    """Final reports of the year's plan, per item (上报局党组); totals as the second value."""
    q = (Report.select(Report, Item)
         .join(Assignment).join(Draw).join(PlanTask).join(Item)
         .where((Report.state == "final") & (PlanTask.year == year)))
    open_rect = {r.report_id for r in Rectification.select(Rectification.report)
                 .where(Rectification.closed_at.is_null())}
    per: dict[int, dict] = {}
    items: dict[int, Item] = {}
    for rep in q:
        item = rep.assignment.draw.task.item
        items[item.id] = item
        d = per.setdefault(item.id, {"final": 0, "open": 0, **{f: 0 for f in FINDINGS}})
        d["final"] += 1
        if rep.finding in FINDINGS:
            d[rep.finding] += 1
        d["open"] += rep.id in open_rect
    rows = [SummaryRow(items[i].code, items[i].name, items[i].lead_office, d["final"],
                       {f: d[f] for f in FINDINGS}, d["open"])
            for i, d in sorted(per.items(), key=lambda kv: items[kv[0]].code)]
    totals = {"final": sum(r.final for r in rows),
              "open_rectifications": sum(r.open_rectifications for r in rows),
              **{f: sum(r.findings[f] for r in rows) for f in FINDINGS}}
    return rows, totals


# ---------------------------------------------------------------- printing

def render_report_pdf(report: Report, out_path: str | os.PathLike) -> Path:
    """The report as an A4 PDF: every field, the team, evidence with SHA-256, signatures."""
    from kiosk.pdf import KioskPDF

    ctx = context(report)
    v = form_values(report)
    pdf = KioskPDF(format="A4", doc_title="双随机抽查检查报告")
    pdf.footer_note = f"任务编号 {ctx.task_code}"
    pdf.add_page()
    # KioskPDF.title() is shadowed by the `title` attribute FPDF.set_title() sets; draw it here.
    pdf.font(18, bold=True)
    pdf.cell(pdf.epw, 10, "双随机抽查检查报告", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.font(9.5)
    pdf.cell(pdf.epw, 5.5, f"任务编号 {ctx.task_code} · {STATES[report.state]}", align="C",
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.section("一、检查任务")
    pdf.kv("抽查事项", f"{ctx.item_code} {ctx.item_name}")
    pdf.kv("牵头股室", ctx.lead_office)
    pdf.kv("被检查单位", v["unit"] or ctx.target_name)
    pdf.kv("信用代码", ctx.target_uscc, mono=True)
    pdf.kv("地址", ctx.target_address)
    pdf.kv("检查组", "；".join(f"{n}（执法证号 {c}）" for n, c in ctx.team))
    pdf.section("二、检查情况")
    pdf.kv("检查时间", f"{v['inspection_start']} 至 {v['inspection_end']}")
    pdf.kv("检查方式", v["method"])
    pdf.kv("检查人员", v["inspectors_present"])
    pdf.kv("检查内容", v["content_checked"])
    pdf.kv("现场检查笔录", v["onsite_record"])
    pdf.kv("评价", v["evaluation"])
    pdf.section("三、处理")
    finding = v["finding"]
    if finding == "责令整改" and v["rectify_deadline"]:
        finding += f"（整改期限 {v['rectify_deadline']}）"
    pdf.kv("处理结果", finding)
    pdf.kv("处理意见和建议", v["opinion"])
    if report.due_date:
        pdf.kv("报告期限", report.due_date.isoformat()
               + ("（日历为临时，该年度节假日安排未公布）" if report.due_provisional else ""))
    if report.submitted_at:
        pdf.kv("提交", f"{report.submitted_by} {report.submitted_at}")
    if report.reviewed_at:
        pdf.kv("审核", f"{report.reviewed_by} {report.reviewed_at} {report.review_note}")
    if report.finalised_at:
        pdf.kv("定稿", str(report.finalised_at))
    evidence = evidence_of(report)
    pdf.section(f"四、证据材料（{len(evidence)} 件）")
    for i, e in enumerate(evidence, 1):
        pdf.para(f"{i}. {e.filename}（{e.size} 字节）")
        pdf.para(f"   SHA-256 {e.sha256}", size=8, mono=True)
    pdf.section("五、签名")
    pdf.signature_lines([f"检查人员 {n}" for n, _ in ctx.team] + ["审核人", "负责人"])
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))
    return out


def print_report(report: Report, user: User | None) -> str:
    """Render the report into the data dir and send it to the printer when one is set;
    returns the sentence to show (the saved path, or that it went to the printer)."""
    from kiosk.pdf import print_or_save

    if not can_open(report.assignment, user):
        raise UserError("您不是该任务检查组成员，无权打印此报告。")
    fresh = Report.get_by_id(report.id)
    out = data_dir_for(database.obj) / "reports" / f"{fresh.assignment.task_code}-{fresh.state}.pdf"
    render_report_pdf(fresh, out)
    with write_tx():
        audit.record(_actor(user), "report.print", "report", fresh.id, path=str(out))
    return print_or_save(out)


def get(report_id: int) -> Report:
    report = Report.get_or_none(Report.id == report_id)
    if report is None:
        raise UserError("找不到该报告。")
    return report


def evidence_of(report: Report) -> list[Evidence]:
    return list(Evidence.select().where(Evidence.report == report).order_by(Evidence.id))


def visible_deadlines(user: User | None, today: dt.date | None = None) -> list[DeadlineRow]:
    """Deadline rows a user needs to see (Art. 12: drawn targets only to those who need them):
    an inspector their own teams', a reviewer their office's, a leader or admin all."""
    if user is None or not user.active:
        return []
    rows = deadlines(today)
    if user.role in ("leader", "admin"):
        return rows
    if user.role == "reviewer":
        return [r for r in rows if r.office == user.office]
    if user.role == "inspector" and user.inspector_id is not None:
        codes = {a.task_code for a in Assignment.select(Assignment.task_code)
                 .join(AssignmentMember)
                 .where(AssignmentMember.inspector == user.inspector_id)}
        return [r for r in rows if r.task_code in codes]
    return []


def get_rectification(rect_id: int) -> Rectification:
    rect = Rectification.get_or_none(Rectification.id == rect_id)
    if rect is None:
        raise UserError("找不到该整改记录。")
    return rect
