"""Who may change a report now: its team while it is a draft, the lead office's reviewer after
(Art. 9, 10). The rules themselves live in kiosk.access; these turn them into refusals."""
from __future__ import annotations

from db.models import Report, User
from kiosk import access
from kiosk.errors import UserError
from kiosk.reports.form import STATES


def require_editor(report: Report, user: User | None) -> None:
    if not access.is_team_member(report.assignment_id, user):
        raise UserError("只有该任务检查组成员可以填写报告。")
    if report.state != "draft":
        raise UserError(f"报告当前为“{STATES[report.state]}”，不能再修改。")


def require_reviewer(report: Report, user: User | None) -> None:
    if not access.is_lead_reviewer(report.assignment_id, user):
        raise UserError("只有牵头股室的审核人可以审核此报告。")
