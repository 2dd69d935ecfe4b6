"""Who may do and see what: every role set and every "may X see/do Y" rule (Art. 9, 12, 14, 18).

The services ask this module; the screens and the CLI never keep role lists of their own.
"""
from __future__ import annotations

import datetime as dt

from db.models import (
    Assignment,
    AssignmentMember,
    Draw,
    Inspector,
    Item,
    PlanTask,
    Sanction,
    User,
)
from kiosk.errors import UserError

ROLES = {
    "admin": "登记管理员",
    "operator": "抽签操作员",
    "witness": "监督见证人",
    "inspector": "执法检查人员",
    "reviewer": "责任股室审核人",
    "leader": "局领导",
    "auditor": "纪检审计",
}

# Keeps the item list, inspector and target directories, conflicts and trainings (Art. 4-6, 15).
REGISTRY_ROLES = frozenset({"admin"})
# Runs a draw at the terminal (Art. 5-7).
DRAW_ROLES = frozenset({"operator", "admin"})
# Witness a draw: sign in with their own account, give entropy, confirm (Art. 5, 14).
WITNESS_ROLES = frozenset({"witness"})
# May see drawn target names on the shared screen before publication (Art. 12).
NAME_ROLES = frozenset({"operator", "leader", "admin"})
# Review reports and handle findings (Art. 9, 10); a reviewer only for their own office.
REVIEW_ROLES = frozenset({"reviewer", "leader", "admin"})
# Open any sealed task's report without being on its team or in its lead office.
OVERSIGHT_ROLES = frozenset({"leader", "admin"})
# Read the audit trail and every dashboard (Art. 14, 17, 18, 19).
AUDIT_ROLES = frozenset({"leader", "auditor"})
# Approve the year's plan and publish results (Art. 13, 18).
LEADER_ROLES = frozenset({"leader"})
# Build and change the year's plan (Art. 7).
PLAN_ROLES = frozenset({"admin", "leader"})
# See the conflicts registry: who is related to which firm, and why (Art. 5, 12).
CONFLICT_ROLES = frozenset({"admin", "operator", "auditor"})

# Export the full (non-public) registries: the clerk who keeps them and those who oversee.
EXPORT_ROLES = frozenset({"admin", "leader", "auditor"})
# Read the year's results summary and the dashboards (Art. 17, 19).
DASHBOARD_ROLES = frozenset({"leader", "auditor", "admin"})

MAY_NOT_RUN_DRAW = "只有抽签操作员或管理员可以主持摇号。"
MAY_NOT_IMPORT = "只有登记管理员可以导入名录。"
MAY_NOT_WATCH_DRAW = "只有见证人、抽签操作员、管理员、局领导或纪检审计可以远程见证摇号。"
MAY_NOT_EXPORT_RECORD = "只有抽签操作员、管理员、局领导或纪检审计可以导出摇号核验记录。"
MAY_NOT_EXPORT = "该账户无权导出此名录。"
MAY_NOT_READ_AUDIT = "只有局领导和纪检审计人员可以查看审计日志。"
MAY_NOT_CERTIFY = "只有局领导可以打印审计链头证明。"
MAY_NOT_READ_DASHBOARD = "只有局领导、纪检审计人员和管理员可以查看汇总。"
MAY_NOT_PRINT_SLIPS = "只有抽签操作员或管理员可以打印任务单。"
MAY_NOT_PLAN = "只有管理员或局领导可以编制和调整抽查计划。"
MAY_NOT_APPROVE_PLAN = "只有局领导可以批准抽查计划（第十八条）。"
MAY_NOT_MANAGE = "只有管理员可以管理账户和设置。"
# Keep the accounts and the bureau's settings.
ACCOUNT_ROLES = frozenset({"admin"})
MAY_NOT_PUBLISH = "只有局领导可以发布抽查结果和公示名录。"


def role_label(role: str) -> str:
    return ROLES.get(role, role)


def is_role(role: str) -> bool:
    return role in ROLES


def may_run_draw(role: str | None) -> bool:
    return role in DRAW_ROLES


def may_witness(role: str | None) -> bool:
    return role in WITNESS_ROLES


def may_watch_draw(role: str | None) -> bool:
    """Follow an open ceremony from another terminal (`kiosk watch`): the witnesses, and
    those who run, oversee or audit draws. It shows credit codes, never names (Art. 12)."""
    return role in DRAW_ROLES | WITNESS_ROLES | LEADER_ROLES | AUDIT_ROLES


def may_export_record(role: str | None) -> bool:
    """A sealed draw's record names the drawn targets (Art. 12): those who ran the draw,
    and those who oversee or audit it."""
    return role in DRAW_ROLES | LEADER_ROLES | AUDIT_ROLES


def may_edit_registry(role: str | None) -> bool:
    return role in REGISTRY_ROLES


def may_review(role: str | None) -> bool:
    return role in REVIEW_ROLES


def may_oversee(role: str | None) -> bool:
    return role in OVERSIGHT_ROLES


def may_read_audit(role: str | None) -> bool:
    return role in AUDIT_ROLES


def may_see_conflicts(role: str | None) -> bool:
    return role in CONFLICT_ROLES


def may_certify_audit_head(role: str | None) -> bool:
    return role in LEADER_ROLES


def may_read_dashboards(role: str | None) -> bool:
    return role in DASHBOARD_ROLES


def may_print_slips(role: str | None) -> bool:
    return role in DRAW_ROLES


def may_publish(role: str | None) -> bool:
    """Publishing a draw's results, the public lists and the provincial exchange is the
    leaders' decision (Art. 13, 16): it ends the draw's confidentiality."""
    return role in LEADER_ROLES


def may_plan(role: str | None) -> bool:
    """Build the year's plan and move, add or cancel a round (Art. 7)."""
    return role in PLAN_ROLES


def may_approve_plan(role: str | None) -> bool:
    """Approve the year's plan: only its rounds may be drawn (Art. 18)."""
    return role in LEADER_ROLES


def may_manage_accounts(role: str | None) -> bool:
    """Add, disable and reset accounts, change roles and the bureau's settings."""
    return role in ACCOUNT_ROLES


def may_read_plan(role: str | None) -> bool:
    """The plan and its compliance view: every signed-in role (the plan names no target)."""
    return role in ROLES


def may_export(role: str | None, kind: str, public: bool = False) -> bool:
    """The conflicts registry only to those who need it (Art. 5, 12); a public list (Art. 4,
    5) to any account; the full lists to the registry clerk and those who oversee."""
    if kind == "conflicts":
        return role in CONFLICT_ROLES
    if public and kind in ("items", "inspectors"):
        return role in ROLES
    return role in EXPORT_ROLES


def may_see_drawn_names(role: str | None, sealed: bool, published: bool = False) -> bool:
    """Art. 12: before publication, names of drawn targets show on the shared screen only to
    the roles that run or oversee the draw, and only while the ceremony is open; once the
    draw is published they are public."""
    if published:
        return True
    return role in NAME_ROLES and not sealed


def require(allowed: bool, sentence: str) -> None:
    """Refuse with one plain sentence unless `allowed`."""
    if not allowed:
        raise UserError(sentence)


# ------------------------------------------------------------ inspection reports (Art. 9, 10, 12)

# Enter the reports of the tasks whose team they are on (Art. 9).
REPORT_ROLES = frozenset({"inspector"})
# What review_scope returns for those who see every office's reports.
ALL_OFFICES = "*"


def active_user(user: User | None) -> User | None:
    """The user's row as stored now, None when deactivated: a session logged in before an
    administrator disabled the account must lose its rights at once."""
    if user is None or user.id is None:
        return None
    return User.get_or_none((User.id == user.id) & (User.active == True))  # noqa: E712


def _assignment_id(assignment: Assignment | int) -> int:
    return assignment if isinstance(assignment, int) else assignment.id


def lead_office(assignment: Assignment | int) -> str:
    """The lead office (责任股室) of the item a task inspects: it reviews the task's report."""
    return (Item.select(Item.lead_office).join(PlanTask).join(Draw).join(Assignment)
            .where(Assignment.id == _assignment_id(assignment)).scalar())


def is_team_member(assignment: Assignment | int, user: User | None) -> bool:
    """On the task's inspection team, with an account that is still active (Art. 9)."""
    if user is None or user.inspector_id is None:
        return False
    if barred_query().where(Inspector.id == user.inspector_id).exists():
        return False  # 离岗, 暂扣 or 吊销 (Art. 18): off the team's reports too
    # One query that also checks the account is still active (the session's row may be stale).
    return (AssignmentMember.select()
            .join(User, on=(User.inspector == AssignmentMember.inspector))
            .where((AssignmentMember.assignment == _assignment_id(assignment))
                   & (AssignmentMember.inspector == user.inspector_id)
                   & (User.id == user.id) & (User.active == True))  # noqa: E712
            .exists())


def may_open_report(assignment: Assignment | int, user: User | None) -> bool:
    """A member of the task's team, a reviewer of the item's lead office, or a leader or
    administrator (Art. 9, 12: other offices do not see whom this task inspects)."""
    user = active_user(user)
    if user is None:
        return False
    if may_oversee(user.role):
        return True
    if user.role == "reviewer" and user.office == lead_office(assignment):
        return True
    return is_team_member(assignment, user)


def is_lead_reviewer(assignment: Assignment | int, user: User | None) -> bool:
    """Reviews and rectifications belong to the reviewers of the item's lead office (Art. 9, 10)."""
    user = active_user(user)
    if user is None or user.role != "reviewer":
        return False
    return user.office == lead_office(assignment)


def review_scope(user: User | None) -> str | None:
    """Whose reports a user sees in review queues and deadline lists (Art. 12): ALL_OFFICES
    for leaders and administrators, their own office for a reviewer, None for anyone else."""
    if user is None or not user.active:
        return None
    if may_oversee(user.role):
        return ALL_OFFICES
    if user.role == "reviewer":
        return user.office
    return None


def may_enter_reports(role: str | None) -> bool:
    return role in REPORT_ROLES


# ------------------------------------------------------------ findings and sanctions (Art. 10, 18)

# Follow a finding to its end (Art. 10): the reviewers of the item's lead office, and leaders.
CASE_ROLES = frozenset({"reviewer", "leader"})
# See the cases: those who handle them, and those who oversee or audit.
CASE_READ_ROLES = frozenset({"reviewer", "leader", "auditor", "admin"})
# Record sanctions on inspectors (Art. 18).
SANCTION_ROLES = frozenset({"admin", "leader"})
# Reassign a barred inspector's open tasks by an amendment of the sealed draw: those who run
# draws, and leaders; always before the witnesses' quorum.
REASSIGN_ROLES = DRAW_ROLES | LEADER_ROLES
# The leaders' dashboards and their year-end export (Art. 14, 15, 17, 19).
LEADER_DASHBOARD_ROLES = frozenset({"leader", "auditor"})
# Sanctions that take an inspector off inspections while in force (Art. 18); an inspector
# marked inactive in the directory (离岗) is off them too.
BARRING_SANCTIONS = ("暂扣执法证", "吊销执法证", "调离")

MAY_NOT_READ_CASES = "只有审核人、局领导、纪检审计人员或管理员可以查看执法案件。"
MAY_NOT_HANDLE_CASE = "只有牵头股室的审核人或局领导可以办理该案件。"
MAY_NOT_SANCTION = "只有管理员或局领导可以记录执法人员的处理。"
MAY_NOT_REASSIGN = "只有抽签操作员、管理员或局领导可以在见证人见证下改派任务。"
MAY_NOT_READ_SANCTIONS = "只有管理员、抽签操作员、局领导或纪检审计人员可以查看执法人员处理记录。"
MAY_NOT_READ_LEADER_DASHBOARD = "只有局领导和纪检审计人员可以查看领导看板。"


def may_read_cases(role: str | None) -> bool:
    return role in CASE_READ_ROLES


def may_handle_case(assignment: Assignment | int, user: User | None) -> bool:
    """A leader, or a reviewer of the item's lead office (Art. 10)."""
    user = active_user(user)
    if user is None or user.role not in CASE_ROLES:
        return False
    return user.role in LEADER_ROLES or is_lead_reviewer(assignment, user)


def may_sanction(role: str | None) -> bool:
    return role in SANCTION_ROLES


def may_reassign(role: str | None) -> bool:
    return role in REASSIGN_ROLES


def may_read_sanctions(role: str | None) -> bool:
    """Sanctions and the tasks they leave open: those who record them or reassign the tasks,
    and the auditors who supervise both (Art. 14, 18)."""
    return role in SANCTION_ROLES | REASSIGN_ROLES | LEADER_DASHBOARD_ROLES


def may_read_leader_dashboards(role: str | None) -> bool:
    return role in LEADER_DASHBOARD_ROLES


def barred_query(day: dt.date | None = None):
    """Ids of inspectors who may not inspect on `day` (today by default): marked inactive
    (离岗), or under a sanction in force that bars them (暂扣 until its end, 吊销, 调离)."""
    day = day or dt.date.today()
    sanctioned = (Sanction.select(Sanction.inspector)
                  .where(Sanction.kind.in_(BARRING_SANCTIONS) & (Sanction.start_date <= day)
                         & (Sanction.end_date.is_null() | (Sanction.end_date >= day))))
    return Inspector.select(Inspector.id).where(
        (Inspector.active == False) | Inspector.id.in_(sanctioned))  # noqa: E712


def barred_inspectors(day: dt.date | None = None) -> set[int]:
    return {i for (i,) in barred_query(day).tuples()}


def in_service(day: dt.date):
    """The inspectors who may be drawn and who the public directory lists on `day`: active,
    certified on that day (执法证 valid from/until), and not barred by a sanction (Art. 18)."""
    return ((Inspector.active == True)  # noqa: E712
            & Inspector.cert_valid_until.is_null(False) & (Inspector.cert_valid_until >= day)
            & (Inspector.cert_valid_from.is_null() | (Inspector.cert_valid_from <= day))
            & Inspector.id.not_in(barred_query(day)))


# ------------------------------------------------------------ drawn results, unpublished (Art. 12)

# Why someone asks for a draw's result, and what each purpose covers.
RESULT_PURPOSES = {
    "record": "摇号核验记录和名录",
    "protocol": "摇号记录",
    "predraw": "抽查前公示单",
    "slips": "任务单",
    "report": "检查报告",
    "review": "报告审核",
    "list": "任务清单",
}
# The draw's own documents (Art. 12: the operator hands them on): the record and its listings,
# the protocol, the pre-draw sheet, the slips.
OPERATOR_PURPOSES = frozenset({"record", "protocol", "predraw", "slips"})
# One task's own matter: its team (the report) and its lead office (review).
TASK_PURPOSES = frozenset({"report", "review", "list"})
# Before publication the result's documents reach only operators, or the account that ran
# this draw (an administrator may run one, Art. 5-7).
RESULT_OPERATOR_ROLES = frozenset({"operator"})

MAY_NOT_SEE_RESULT = ("该次摇号尚未公示，其抽中名单只限主持摇号的操作员、检查组和牵头股室知悉"
                      "（第十二条）。")
CONFIDENTIAL_MARK = "公示前不得外传"


def is_published(draw: Draw | int) -> bool:
    """Has a version of this draw's notice been published (the end of Art. 12's secrecy)?"""
    from kiosk.publication.kit import is_published as published  # publication is its home

    return published(draw if isinstance(draw, int) else draw.id)


def may_see_draw_result(user: User | str | None, draw: Draw | int, purpose: str,
                        assignment: Assignment | int | None = None) -> bool:
    """Art. 12: before a draw's first publication its drawn targets reach only those with a
    need - the operator (record and listings, protocol, pre-draw sheet, slips), the task's
    team (its own task) and its lead office (review). Once published they are public, and
    only the command's own role rule (may_export_record, may_print_slips...) still applies."""
    if purpose not in RESULT_PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    draw = draw if isinstance(draw, Draw) else Draw.get_by_id(draw)
    login = user if isinstance(user, str) else getattr(user, "username", None)
    # The account that ran this draw (the service was handed its authenticated login).
    if purpose in OPERATOR_PURPOSES and login and login == draw.operator:
        return True
    if isinstance(user, str):
        user = User.get_or_none(User.username == user)
    user = active_user(user)
    if user is None:
        return False
    if is_published(draw.id):
        return True
    if purpose in OPERATOR_PURPOSES:
        return user.role in RESULT_OPERATOR_ROLES
    if assignment is None:
        return False
    if purpose == "review":
        return is_lead_reviewer(assignment, user)
    # "report" and "list": the team sees its own task, the lead office reviews it.
    return is_team_member(assignment, user) or is_lead_reviewer(assignment, user)


OPS_ROLES = frozenset({"admin"})
MAY_NOT_OPERATE_STORE = "只有管理员可以备份、恢复或迁移数据库。"


def may_operate_store(role: str | None) -> bool:
    """Backup, restore and migrate-db: the store as a whole, administrators only."""
    return role in OPS_ROLES


def require_account(actor: User | str | None, may, sentence: str) -> None:
    """A service's own role check for work done in an account's name, so the CLI and the
    screens meet the same rule. `actor` is the authenticated login (or its row); a name that
    is no account (the demo builder, a migration) is the kiosk acting for itself."""
    account = actor if isinstance(actor, User) else (
        User.get_or_none(User.username == actor) if actor else None)
    if account is not None and not may(account.role):
        raise UserError(sentence)
