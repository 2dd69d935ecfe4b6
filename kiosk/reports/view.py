"""View models for the report screens: plain dataclasses the screens show as they are."""
from __future__ import annotations

from dataclasses import dataclass

from db.models import Item, Report, User
from kiosk import access
from kiosk.errors import UserError
from kiosk.reports import due
from kiosk.reports.evidence import EvidenceItem, evidence_items
from kiosk.reports.form import STATES, ReportStatus, form_values, status_of
from kiosk.reports.task import ReportContext, ReportRef, context, fresh
from kiosk.reports.workflow import rectifications, reports_for_review, submit


@dataclass(frozen=True)
class ReportView:
    """Everything the report form shows when it opens."""

    report_id: int
    context: ReportContext
    values: dict[str, str]  # field -> text as the form shows it
    editable: bool  # the user is on the team and the report is a draft
    status: ReportStatus
    evidence: tuple[EvidenceItem, ...]


def report_view(report: ReportRef, user: User | None) -> ReportView:
    """The form of a report the user may open (UserError otherwise)."""
    row = report if isinstance(report, Report) else fresh(report)
    if not access.may_open_report(row.assignment_id, user):
        raise UserError("您不是该任务检查组成员，无权打开此报告。")
    return view_of(row, user)


def view_of(row: Report, user: User | None, member: bool | None = None) -> ReportView:
    """The form of a report whose opening was already allowed (and logged) by the caller;
    `member` when the caller already knows whether the user is on the team."""
    if member is None:
        member = access.is_team_member(row.assignment_id, user)
    editable = row.state == "draft" and member
    return ReportView(row.id, context(row), form_values(row), editable, status_of(row),
                      evidence_items(row.id))


def submit_form(report: ReportRef, user: User | None) -> ReportStatus:
    """Submit from the form; the status line it shows next."""
    return status_of(submit(report, user))


@dataclass(frozen=True)
class ReviewRow:
    """One report waiting for the lead office: to approve, return or finalise."""

    report_id: int
    task_code: str
    target_name: str
    state: str
    state_label: str
    finding: str  # '—' when none chosen
    submitted_by: str
    submitted_at: str  # 'MM-DD HH:MM', '' when never submitted

    def cells(self) -> tuple[str, ...]:
        return (self.task_code, self.target_name, self.state_label, self.finding,
                self.submitted_by, self.submitted_at)


def nothing_to_review_text(user: User | None) -> str:
    """What an empty review queue means for this user: which offices' items they review, so a
    reviewer of another office knows to sign in as that office's reviewer."""
    scope = access.review_scope(user)
    if scope is None:
        return "暂无待审核的报告。"
    if scope == access.ALL_OFFICES:
        return "暂无待审核的报告（您可审核所有责任股室的报告）。"
    codes = [c for (c,) in Item.select(Item.code).where(Item.lead_office == scope)
             .order_by(Item.code).tuples()]
    if not codes:
        return f"暂无待审核的报告：{scope}不是任何抽查事项的责任股室。"
    return f"暂无待审核的报告。您审核{scope}牵头事项（{'、'.join(codes)}）的报告。"


def review_queue(user: User | None) -> list[ReviewRow]:
    """Submitted and reviewed reports the user may act on, oldest submission first."""
    out = []
    for r in reports_for_review(user):
        a = r.assignment
        out.append(ReviewRow(r.id, a.task_code, a.target.name, r.state, STATES[r.state],
                             r.finding or "—", r.submitted_by or "",
                             f"{r.submitted_at:%m-%d %H:%M}" if r.submitted_at else ""))
    from kiosk.confidential import mask_names  # Art. 12: leaders see codes until published

    return mask_names(user, out)


@dataclass(frozen=True)
class RectificationRow:
    """One rectification order not yet closed (Art. 10)."""

    rect_id: int
    task_code: str
    target_name: str
    deadline: str
    status: str  # days left, or how long past the deadline

    def cells(self) -> tuple[str, ...]:
        return (self.task_code, self.target_name, self.deadline, self.status)


def open_rectifications(user: User | None) -> list[RectificationRow]:
    out = []
    for rect in rectifications(user):
        a = rect.report.assignment
        status = due.days_left_text(rect.deadline, late="已超期") if rect.deadline else "未定期限"
        out.append(RectificationRow(rect.id, a.task_code, a.target.name,
                                    rect.deadline.isoformat() if rect.deadline else "",
                                    status))
    from kiosk.confidential import mask_names

    return mask_names(user, out)
