"""A scanned slip (or a typed task code) to the report it opens: one call for the Scan screen,
`kiosk open` and the benchmark, with every refusal logged under the real actor."""
from __future__ import annotations

from dataclasses import dataclass

from db.models import Assignment, Report, User
from kiosk import access, slips
from kiosk.errors import UserError
from kiosk.reports.task import actor_of
from kiosk.reports.view import ReportView, view_of
from kiosk.reports.workflow import open_report


@dataclass(frozen=True)
class ScanResult:
    """What a scan leads to: the report form to show, a team member to sign in, or a refusal."""

    message: str  # one sentence for the screen
    task_code: str = ""  # the slip's task, once the slip is recognised
    report: ReportView | None = None  # the form to open
    needs_login: bool = False  # a team member must sign in, then scan_slip(..., signed_in=True)
    refused: bool = False  # the message is a refusal (already in the audit log)


def _scanner(user: User | None) -> str:
    return actor_of(user) if user is not None else "scanner"


def scan_slip(payload: str, user: User | None, *, signed_in: bool = False,
              check_only: bool = False) -> ScanResult:
    """What the slip opens for `user`.

    A forged, altered, superseded or unknown slip is refused. The terminal is shared, so
    whoever happens to be signed in is not taken for the slip's holder: only a member of the
    task's team gets the form at once; anyone else is asked to let a team member sign in.
    Whoever then signed in for this slip (`signed_in`) gets the form if they may open it
    (team, lead office's reviewer, leader, administrator), else a refusal. `check_only` only
    validates the slip, as `kiosk open --check` does.
    """
    try:
        assignment = slips.resolve(payload, actor=_scanner(user))
    except UserError as e:
        return ScanResult(str(e), refused=True)
    code = assignment.task_code
    if check_only:
        return ScanResult(f"任务单有效：{code}。", code)
    member = access.is_team_member(assignment, user)
    if not signed_in and not member:
        return ScanResult(f"任务 {code}：请检查组成员登录。", code, needs_login=True)
    try:
        report = open_report(assignment, user, member=member)
    except UserError as e:
        return ScanResult(str(e), code, refused=True)
    return ScanResult(f"已打开任务 {code} 的检查报告。", code, view_of(report, user, member))


def scan_to_report(payload: str, user: User | None) -> Report:
    """The scanned slip's report row, for callers that work on rows (scripts, tests)."""
    assignment = slips.resolve(payload, actor=_scanner(user))
    return open_report(assignment, user)


def check_payload(payload: str) -> Assignment:
    """Only validate the slip (UserError when refused)."""
    return slips.resolve(payload, actor="scanner")
