"""Inspection reports (Art. 9, 10): scan to report, drafts, evidence, review, final, deadlines.

One module per idea: `scan` (a slip to the report it opens), `workflow` (open, save, submit,
review, finalise, archive, rectifications), `form` (fields and their text), `evidence`, `due`
(deadlines and the days-left text), `summary` (for the leadership), `pdf` (the printed
report), `view` (what the screens show). Who may do what is kiosk.access. The names below
are the package's public face for the CLI, the demo, the benchmarks and the tests.
"""
from __future__ import annotations

from db.models import Report, User
from kiosk import access
from kiosk.reports.due import (
    DeadlineRow,
    DeadlineSummary,
    days_left_text,
    deadlines,
    deadlines_note,
    deadlines_overview,
    summarise,
    visible_deadlines,
)
from kiosk.reports.evidence import (
    EvidenceItem,
    add_evidence,
    attach_evidence,
    evidence_dir,
    evidence_items,
    evidence_of,
    evidence_path,
    verify_evidence,
    withdraw_evidence,
)
from kiosk.reports.form import (
    DATE_FIELDS,
    DATETIME_FIELDS,
    EARLIEST_INSPECTION,
    FIELD_LABELS,
    FINDINGS,
    LATEST_INSPECTION_AHEAD,
    METHODS,
    REQUIRED,
    STATES,
    ReportStatus,
    SaveResult,
    clean_fields,
    form_values,
    missing_fields,
    status_of,
)
from kiosk.reports.mine import MyTaskRow, my_tasks, open_my_task
from kiosk.reports.pdf import print_report, render_report_pdf
from kiosk.reports.scan import ScanResult, check_payload, scan_slip, scan_to_report
from kiosk.reports.summary import SummaryRow, leadership_summary
from kiosk.reports.task import ReportContext, context, get, get_rectification
from kiosk.reports.view import (
    RectificationRow,
    ReportView,
    ReviewRow,
    nothing_to_review_text,
    open_rectifications,
    report_view,
    review_queue,
    submit_form,
)
from kiosk.reports.workflow import (
    archive_final,
    archive_path,
    close_rectification,
    finalise,
    open_report,
    rectifications,
    reports_for_review,
    review,
    save_draft,
    save_form,
    submit,
)

# The rules live in kiosk.access; these names keep the package's callers working.
is_member = access.is_team_member
can_open = access.may_open_report


def is_lead_reviewer(report: Report, user: User | None) -> bool:
    """Reviews belong to the item's lead office (责任股室, Art. 9)."""
    return access.is_lead_reviewer(report.assignment_id, user)


__all__ = [
    "DATETIME_FIELDS",
    "DATE_FIELDS",
    "EARLIEST_INSPECTION",
    "FIELD_LABELS",
    "FINDINGS",
    "LATEST_INSPECTION_AHEAD",
    "METHODS",
    "REQUIRED",
    "STATES",
    "DeadlineRow",
    "DeadlineSummary",
    "EvidenceItem",
    "MyTaskRow",
    "RectificationRow",
    "ReportContext",
    "ReportStatus",
    "ReportView",
    "ReviewRow",
    "SaveResult",
    "ScanResult",
    "SummaryRow",
    "add_evidence",
    "archive_final",
    "archive_path",
    "attach_evidence",
    "can_open",
    "check_payload",
    "clean_fields",
    "close_rectification",
    "context",
    "days_left_text",
    "deadlines",
    "deadlines_note",
    "deadlines_overview",
    "evidence_dir",
    "evidence_items",
    "evidence_of",
    "evidence_path",
    "finalise",
    "form_values",
    "get",
    "get_rectification",
    "is_lead_reviewer",
    "is_member",
    "leadership_summary",
    "missing_fields",
    "my_tasks",
    "nothing_to_review_text",
    "open_my_task",
    "open_rectifications",
    "open_report",
    "print_report",
    "rectifications",
    "render_report_pdf",
    "report_view",
    "reports_for_review",
    "review",
    "review_queue",
    "save_draft",
    "save_form",
    "scan_slip",
    "scan_to_report",
    "status_of",
    "submit",
    "submit_form",
    "summarise",
    "verify_evidence",
    "visible_deadlines",
    "withdraw_evidence",
]
