"""The report workflow (Art. 9, 10): open a draft, save it, submit, review, finalise, archive,
and follow a rectification order to its close."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from db.connection import data_dir_for, database
from db.models import (
    Assignment,
    Draw,
    Item,
    PlanTask,
    Rectification,
    Report,
    Target,
    User,
    now,
)
from kiosk import access, audit
from kiosk.errors import UserError
from kiosk.ops.files import sha256_sized, written_whole
from kiosk.reports.form import (
    FIELD_LABELS,
    METHODS,
    STATES,
    SaveResult,
    _clean_one,
    _drop_conflicts,
    _same,
    before_the_draw,
    missing_fields,
    status_of,
)
from kiosk.reports.guards import require_editor, require_reviewer
from kiosk.reports.pdf import render_report_pdf
from kiosk.reports.task import ReportRef, actor_of, get, item_of, report_id, team_of
from kiosk.store import write_tx

# An inspection end this far past the clock is taken as clock skew between terminals, not a
# report of an inspection that has not ended yet.
FUTURE_END_SLACK = dt.timedelta(minutes=5)


def _sync(report: ReportRef, row: Report) -> Report:
    """Bring the caller's row up to date with what was written, and return it (or the fresh
    row when the caller passed an id)."""
    if isinstance(report, Report):
        report.__data__.update(row.__data__)
        return report
    return row


# ---------------------------------------------------------------- opening

def open_report(assignment: Assignment, user: User | None, *, member: bool = False) -> Report:
    """The assignment's report, created as a prefilled draft on first open. `member`: the
    caller has just checked that the user is on the task's team (skips asking again)."""
    if not member and not access.may_open_report(assignment, user):
        with write_tx():
            audit.record(actor_of(user), "report.refused", "assignment", assignment.task_code)
        raise UserError("您不是该任务检查组成员，无权打开此报告。")
    with write_tx():
        report = Report.get_or_none(Report.assignment == assignment)
        created = report is None
        if created:
            item = item_of(assignment)
            report = Report.create(
                assignment=assignment,
                method=item.method if item.method in METHODS else METHODS[0],
                inspectors_present="、".join(i.name for i in team_of(assignment)),
                unit=assignment.target.name,
                content_checked=item.content,
            )
        audit.record(actor_of(user), "report.open", "report", report.id,
                     task=assignment.task_code, created=created)
    report.assignment = assignment  # the caller's row: the form's context needs no re-read
    return report


# ---------------------------------------------------------------- drafts

def _set_due(report: Report) -> None:
    if report.inspection_end is None:
        report.due_date, report.due_provisional = None, False
        return
    from kiosk import workdays

    report.due_date, report.due_provisional = workdays.report_due(report.inspection_end)


def save_draft(report: ReportRef, fields: dict, user: User | None,
               base: dict | None = None) -> SaveResult:
    """Write the fields that changed (one transaction, one audit event).

    `base` holds, per field, the value the form showed when it loaded (or last saved) it.
    A field whose stored value no longer matches its base was changed meanwhile on another
    terminal: it is left as stored and named in `conflicts`, so a stale form never overwrites
    a teammate's text. A date contradicting another date is left out (in `errors`); the
    other fields are saved. A malformed value raises UserError (use clean_fields first, or
    save_form).
    """
    result = SaveResult([], {}, [])
    with write_tx():
        row = get(report_id(report))
        require_editor(row, user)
        values = {n: _clean_one(n, v) for n, v in fields.items()}
        for name in list(values):
            if base is None or name not in base:
                continue
            stored = getattr(row, name)
            if not _same(name, base[name], stored) and not _same(name, values[name], stored):
                values.pop(name)
                result.conflicts.append(name)
        result.errors.update(before_the_draw(row, values))
        stored = {n: getattr(row, n) for n in FIELD_LABELS}
        result.errors.update(_drop_conflicts(stored, values))
        for name, value in values.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
                result.changed.append(name)
        if result.changed:
            if "inspection_end" in result.changed:
                _set_due(row)
            row.updated_at = now()
            row.save()
            audit.record(actor_of(user), "report.save", "report", row.id,
                         fields=sorted(result.changed))
    _sync(report, row)
    result.status = status_of(row)
    return result


def save_form(report: ReportRef, edits: dict[str, str], user: User | None,
              base: dict[str, str] | None = None) -> SaveResult:
    """What the form's autosave sends: the fields the user edited, as typed. A field that does
    not parse is left out and named in `errors` with the others; the rest is saved."""
    clean: dict = {}
    bad: dict[str, str] = {}
    for name, value in edits.items():
        try:
            clean[name] = _clean_one(name, value)
        except UserError as e:
            bad[name] = str(e)
    result = save_draft(report, clean, user,
                        base=None if base is None else {n: base[n] for n in clean if n in base})
    result.errors = result.errors | {n: m for n, m in bad.items() if n not in result.errors}
    return result


# ---------------------------------------------------------------- workflow

def submit(report: ReportRef, user: User | None) -> Report:
    """draft -> submitted, by a team member, once every required field is there."""
    with write_tx():
        row = get(report_id(report))
        require_editor(row, user)
        missing = missing_fields(row)
        if missing:
            raise UserError(f"还需填写：{'、'.join(missing)}。")
        if row.inspection_end > now() + FUTURE_END_SLACK:
            raise UserError("检查结束时间不能晚于现在。")
        _set_due(row)
        row.state = "submitted"
        row.submitted_by = actor_of(user)
        row.submitted_at = now()
        row.updated_at = now()
        row.save()
        Assignment.update(state="reported").where(Assignment.id == row.assignment_id).execute()
        late = row.due_date is not None and row.submitted_at.date() > row.due_date
        audit.record(actor_of(user), "report.submit", "report", row.id,
                     task=row.assignment.task_code, due=row.due_date, late=late)
    return _sync(report, row)


def review(report: ReportRef, user: User | None, note: str, approve: bool) -> Report:
    """The lead office's review: approve (submitted -> reviewed) or send back to draft."""
    note = (note or "").strip()
    with write_tx():
        row = get(report_id(report))
        require_reviewer(row, user)
        if row.state != "submitted":
            raise UserError(f"报告当前为“{STATES[row.state]}”，不在待审核状态。")
        if not approve and not note:
            raise UserError("退回报告时请写明退回理由。")
        row.state = "reviewed" if approve else "draft"
        row.reviewed_by = actor_of(user)
        row.reviewed_at = now()
        row.review_note = note
        row.updated_at = now()
        row.save()
        if not approve:
            Assignment.update(state="assigned").where(
                Assignment.id == row.assignment_id).execute()
        audit.record(actor_of(user), "report.approve" if approve else "report.reject", "report",
                     row.id, task=row.assignment.task_code, note=note)
    return _sync(report, row)


def finalise(report: ReportRef, user: User | None) -> Report:
    """reviewed -> final (上报局党组); a 责令整改 finding opens a rectification to track."""
    with write_tx():
        row = get(report_id(report))
        require_reviewer(row, user)
        if row.state != "reviewed":
            raise UserError(f"报告当前为“{STATES[row.state]}”，审核通过后才能定稿。")
        row.state = "final"
        row.finalised_at = now()
        row.updated_at = now()
        row.save()
        Assignment.update(state="final").where(Assignment.id == row.assignment_id).execute()
        rect = None
        if row.finding == "责令整改":
            rect = Rectification.create(report=row, deadline=row.rectify_deadline)
        from kiosk import cases  # lazily: kiosk.cases reads kiosk.reports' clock

        case = cases.open_for_report(row, actor_of(user), rect)
        audit.record(actor_of(user), "report.finalise", "report", row.id,
                     task=row.assignment.task_code, finding=row.finding,
                     rectification=rect.id if rect else None, case=case.id if case else None)
    out = _sync(report, row)
    archive_final(out, user)
    return out


def archive_path(report: Report) -> Path:
    return data_dir_for(database.obj) / "archive" / f"{report.assignment.task_code}.pdf"


def archive_final(report: Report, user: User | None) -> Path | None:
    """File the final report's PDF in the archive (Art. 9) with its SHA-256 in the audit log.
    A missing font must not undo a finalisation: the failure is logged, printing can follow."""
    out = archive_path(report)
    if out.exists():
        return None  # an archived final report is never replaced
    try:
        with written_whole(out) as tmp:
            render_report_pdf(report, tmp)
    except (UserError, OSError) as e:
        with write_tx():
            audit.record(actor_of(user), "report.archive_failed", "report", report.id,
                         error=str(e))
        return None
    sha, size = sha256_sized(out)
    with write_tx():
        audit.record(actor_of(user), "report.archive", "report", report.id,
                     path=str(out.name), sha256=sha, size=size)
    return out


# ---------------------------------------------------------------- rectifications

def close_rectification(rect: Rectification | int, user: User | None,
                        note: str) -> Rectification:
    """Record that a rectification order was carried out (Art. 10)."""
    note = (note or "").strip()
    rect_id = rect if isinstance(rect, int) else rect.id
    with write_tx():
        row = Rectification.get_by_id(rect_id)
        require_reviewer(row.report, user)
        if row.closed_at is not None:
            raise UserError("该整改已销号，无需重复操作。")
        if not note:
            raise UserError("请写明整改落实情况。")
        row.closed_at = now()
        row.closed_by = actor_of(user)
        row.note = note
        row.save()
        from kiosk import cases

        cases.close_with_rectification(row, actor_of(user), note)
        audit.record(actor_of(user), "rectification.close", "rectification", row.id,
                     task=row.report.assignment.task_code, note=note)
    if isinstance(rect, Rectification):
        rect.__data__.update(row.__data__)
        return rect
    return row


# ---------------------------------------------------------------- queues

def reports_for_review(user: User | None) -> list[Report]:
    """Submitted and reviewed reports the user may act on (their office's, or all for oversight)."""
    scope = access.review_scope(user)
    if scope is None:
        return []
    q = (Report.select(Report, Assignment, Target)
         .join(Assignment).join(Target)
         .switch(Assignment).join(Draw).join(PlanTask).join(Item)
         .where(Report.state.in_(("submitted", "reviewed")))
         .order_by(Report.submitted_at, Report.id))
    if scope != access.ALL_OFFICES:
        q = q.where(Item.lead_office == scope)
    return list(q)


def rectifications(user: User | None = None, open_only: bool = True) -> list[Rectification]:
    """Rectification orders, soonest deadline first: all of them (user None: the CLI and the
    services), or those of the user's review scope (a reviewer their office's)."""
    scope = access.ALL_OFFICES if user is None else access.review_scope(user)
    if scope is None:
        return []
    q = (Rectification.select(Rectification, Report, Assignment, Target)
         .join(Report).join(Assignment).join(Target)
         .switch(Assignment).join(Draw).join(PlanTask).join(Item)
         .order_by(Rectification.deadline, Rectification.id))
    if open_only:
        q = q.where(Rectification.closed_at.is_null())
    if scope != access.ALL_OFFICES:
        q = q.where(Item.lead_office == scope)
    return list(q)
