"""Findings followed to their end (Art. 10): one case per finding, its steps, fields and deadlines.

责令整改: open (deadline: the report's rectification deadline) → reinspected → closed.
行政处罚: open (deadline: the decision) → decided (deadline: the payment) → paid, or
          appealed → closed with the outcome.
移送司法机关: open (deadline: the transfer) → transferred (organ, date, receipt no.) → closed
          with the outcome.
A case past its step's deadline is overdue. Every step is one write transaction with its audit
event, which covers the case (kiosk/audit/cover.py).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from db.models import (
    Assignment,
    Draw,
    EnforcementCase,
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
from kiosk.reports import due
from kiosk.store import write_tx

KINDS = ("责令整改", "行政处罚", "移送司法机关")

# 行政处罚法 (2021) Art. 60: a penalty is decided within 90 days of the case being opened;
# Art. 67: a fine is paid within 15 days of the decision being served.
DECISION_DAYS = 90
PAYMENT_DAYS = 15
# 行政执法机关移送涉嫌犯罪案件的规定 Art. 5: the head decides within 3 days and the case goes
# to the organ within 24 hours of that: 3 days for the whole step.
TRANSFER_DAYS = 3

STATE_LABELS = {
    ("责令整改", "open"): "整改中",
    ("责令整改", "reinspected"): "已复查",
    ("行政处罚", "open"): "待作出决定",
    ("行政处罚", "decided"): "待缴纳罚款",
    ("行政处罚", "appealed"): "复议或诉讼中",
    ("行政处罚", "paid"): "已缴纳（结案）",
    ("移送司法机关", "open"): "待移送",
    ("移送司法机关", "transferred"): "已移送",
}
CLOSED_STATES = ("closed", "paid")


@dataclass(frozen=True)
class Step:
    """One step a case may take now: its name, label and the fields it asks for."""

    name: str
    label: str
    fields: tuple[tuple[str, str], ...]  # (field, Chinese label)


STEPS = {
    "reinspect": Step("reinspect", "复查",
                      (("date", "复查日期"), ("result", "复查情况"),
                       ("passed", "是否整改到位（是/否）"), ("deadline", "未到位时的新整改期限"))),
    "decide": Step("decide", "处罚决定",
                   (("decision_no", "决定书文号"), ("date", "决定日期"),
                    ("amount", "罚款金额（元）"))),
    "pay": Step("pay", "缴纳罚款", (("date", "缴纳日期"),)),
    "appeal": Step("appeal", "复议诉讼", (("date", "申请复议或起诉日期"),)),
    "transfer": Step("transfer", "移送",
                     (("organ", "接收机关"), ("date", "移送日期"), ("receipt_no", "回执编号"))),
    "close": Step("close", "结案", (("outcome", "结案情况"),)),
}
# The steps each (kind, state) allows: the service and the screen ask here, nowhere else.
_NEXT = {
    ("责令整改", "open"): ("reinspect",),
    ("责令整改", "reinspected"): ("close",),
    ("行政处罚", "open"): ("decide",),
    ("行政处罚", "decided"): ("pay", "appeal"),
    ("行政处罚", "appealed"): ("close",),
    ("移送司法机关", "open"): ("transfer",),
    ("移送司法机关", "transferred"): ("close",),
}


def state_label(case: EnforcementCase) -> str:
    if case.state == "closed":
        return "已结案"
    return STATE_LABELS.get((case.kind, case.state), case.state)


def next_steps(case: EnforcementCase) -> tuple[Step, ...]:
    return tuple(STEPS[n] for n in _NEXT.get((case.kind, case.state), ()))


def _days(d: dt.date | dt.datetime, n: int) -> dt.date:
    day = d.date() if isinstance(d, dt.datetime) else d
    return day + dt.timedelta(days=n)


# ---------------------------------------------------------------- opening


def open_for_report(report: Report, actor: str,
                    rectification: Rectification | None = None) -> EnforcementCase | None:
    """The case of a report just made final, inside the caller's transaction (the report's
    finalisation event names it); None for a report without a finding to follow."""
    if report.finding not in KINDS:
        return None
    opened = now()
    if report.finding == "责令整改":
        deadline = report.rectify_deadline
    elif report.finding == "行政处罚":
        deadline = _days(opened, DECISION_DAYS)
    else:
        deadline = _days(opened, TRANSFER_DAYS)
    return EnforcementCase.create(report=report, kind=report.finding, state="open",
                                  opened_at=opened, deadline=deadline,
                                  rectification=rectification)


# ---------------------------------------------------------------- fields as typed


def _text(values: dict, name: str, label: str, limit: int = 0) -> str:
    text = str(values.get(name) or "").strip()
    if not text:
        raise UserError(f"请填写{label}。")
    if limit and len(text) > limit:
        raise UserError(f"{label}不能超过 {limit} 个字。")
    return text


def _date(values: dict, name: str, label: str, today: dt.date,
          not_before: dt.date | None = None) -> dt.date:
    raw = values.get(name)
    if isinstance(raw, dt.date):
        day = raw
    else:
        try:
            day = dt.date.fromisoformat(str(raw or "").strip())
        except ValueError:
            raise UserError(f"{label}应为日期，如 2026-06-30。") from None
    if day > today:
        raise UserError(f"{label}不能晚于今天。")
    if not_before is not None and day < not_before:
        raise UserError(f"{label}不能早于{not_before:%Y-%m-%d}。")
    return day


def parse_amount(text: object) -> int:
    """Yuan as typed (e.g. 20000 or 1,500.50) to fen; a positive amount with at most 2
    decimals."""
    raw = str(text or "").strip().replace(",", "").replace("，", "")
    try:
        yuan = Decimal(raw)
    except InvalidOperation:
        raise UserError("罚款金额应为数字（元），如 20000 或 1500.50。") from None
    if not yuan.is_finite() or yuan <= 0 or yuan != yuan.quantize(Decimal("0.01")):
        raise UserError("罚款金额应为大于零的数字，最多两位小数。")
    return int(yuan * 100)


def yuan(fen: int | None) -> str:
    return "" if fen is None else f"{Decimal(fen) / 100:,.2f}"


def _yes(values: dict, name: str, label: str) -> bool:
    raw = values.get(name)
    if isinstance(raw, bool):
        return raw
    text = str(raw or "").strip().lower()
    if text in ("是", "y", "yes", "1", "到位"):
        return True
    if text in ("否", "n", "no", "0", "未到位"):
        return False
    raise UserError(f"{label}请填“是”或“否”。")


# ---------------------------------------------------------------- steps


def _get(case_id: int) -> EnforcementCase:
    case = EnforcementCase.get_or_none(EnforcementCase.id == case_id)
    if case is None:
        raise UserError(f"没有编号为 {case_id} 的执法案件。")
    return case


def _actor(user: User | None) -> str:
    return user.username if user is not None else ""


def take_step(case_id: int, step: str, values: dict, user: User | None,
              today: dt.date | None = None) -> EnforcementCase:
    """Move the case one step with the step's fields (one transaction, one audit event)."""
    today = today or due.current_date()
    if step not in STEPS:
        raise UserError(f"未知的案件办理步骤“{step}”。")
    case = _get(case_id)
    if not access.may_handle_case(Report.get_by_id(case.report_id).assignment_id, user):
        with write_tx():  # the refusal stays on file: the refused change does not
            audit.record(_actor(user) or "?", "case.refused", "case", case.id, step=step)
        raise UserError(access.MAY_NOT_HANDLE_CASE)
    with write_tx():
        case = _get(case_id)
        report = Report.get_by_id(case.report_id)
        allowed = [s.name for s in next_steps(case)]
        if step not in allowed:
            raise UserError(f"案件当前为“{state_label(case)}”，不能“{STEPS[step].label}”。")
        opened = case.opened_at.date()
        detail: dict = {}
        if step == "reinspect":
            day = _date(values, "date", "复查日期", today, opened)
            result = _text(values, "result", "复查情况")
            passed = _yes(values, "passed", "是否整改到位")
            case.reinspected_on, case.reinspection = day, result
            if passed:
                case.state, case.deadline = "reinspected", None
            else:
                # Not carried out: a new deadline, and the case stays open (再次责令整改).
                raw = str(values.get("deadline") or "").strip()
                try:
                    new = dt.date.fromisoformat(raw)
                except ValueError:
                    raise UserError("整改未到位时请填写新的整改期限，如 2026-07-31。") from None
                if new <= day:
                    raise UserError("新的整改期限应晚于复查日期。")
                case.deadline = new
            detail = {"date": day, "passed": passed, "result": result,
                      "deadline": case.deadline}
        elif step == "decide":
            number = _text(values, "decision_no", "决定书文号", 64)
            day = _date(values, "date", "决定日期", today, opened)
            amount = parse_amount(values.get("amount"))
            case.decision_no, case.decision_date, case.amount_fen = number, day, amount
            case.state, case.deadline = "decided", _days(day, PAYMENT_DAYS)
            detail = {"decision_no": number, "date": day, "amount_fen": amount}
        elif step == "pay":
            day = _date(values, "date", "缴纳日期", today, case.decision_date)
            case.paid_on, case.state, case.deadline = day, "paid", None
            case.closed_at, case.closed_by = now(), _actor(user)
            detail = {"date": day}
        elif step == "appeal":
            day = _date(values, "date", "申请复议或起诉日期", today, case.decision_date)
            case.appealed_on, case.state, case.deadline = day, "appealed", None
            detail = {"date": day}
        elif step == "transfer":
            organ = _text(values, "organ", "接收机关", 128)
            day = _date(values, "date", "移送日期", today, opened)
            receipt = _text(values, "receipt_no", "回执编号", 64)
            case.organ, case.transferred_on, case.receipt_no = organ, day, receipt
            case.state, case.deadline = "transferred", None
            detail = {"organ": organ, "date": day, "receipt_no": receipt}
        else:  # close
            outcome = _text(values, "outcome", "结案情况")
            case.outcome, case.state, case.deadline = outcome, "closed", None
            case.closed_at, case.closed_by = now(), _actor(user)
            detail = {"outcome": outcome}
        if case.kind == "责令整改" and case.state == "closed" and case.rectification_id:
            # The rectification order the review screen shows closes with its case.
            Rectification.update(closed_at=case.closed_at, closed_by=case.closed_by,
                                 note=case.reinspection or case.outcome).where(
                (Rectification.id == case.rectification_id)
                & Rectification.closed_at.is_null()).execute()
        case.updated_at = now()
        case.save()
        covers = [("rectification", case.rectification_id)] if case.rectification_id else []
        audit.record(_actor(user), f"case.{step}", "case", case.id, covers=covers,
                     kind=case.kind,
                     state=case.state, task=report.assignment.task_code, **detail)
    return case


def close_with_rectification(rect: Rectification, actor: str, note: str) -> None:
    """The rectification order was closed from the review screen: its case closes with it,
    inside the caller's transaction (its event covers the case through the report)."""
    EnforcementCase.update(state="closed", deadline=None, outcome=note, closed_at=rect.closed_at,
                           closed_by=actor, updated_at=now()).where(
        (EnforcementCase.rectification == rect.id)
        & EnforcementCase.state.not_in(CLOSED_STATES)).execute()


# ---------------------------------------------------------------- lists


@dataclass(frozen=True)
class CaseRow:
    """What the Cases screen, the CLI and the dashboard show of a case."""

    id: int
    task_code: str
    target_name: str
    uscc: str
    office: str
    kind: str
    state: str
    state_label: str
    deadline: dt.date | None
    days_over: int  # days past the deadline, 0 when not overdue
    detail: str
    steps: tuple[str, ...] = field(default=())

    @property
    def overdue(self) -> bool:
        return self.days_over > 0

    @property
    def deadline_text(self) -> str:
        return "" if self.deadline is None else f"{self.deadline:%Y-%m-%d}"

    @property
    def status_text(self) -> str:
        return f"逾期 {self.days_over} 天" if self.overdue else self.state_label

    def as_json(self) -> dict:
        return {"id": self.id, "task": self.task_code, "target": self.target_name,
                "uscc": self.uscc, "office": self.office, "kind": self.kind,
                "state": self.state, "state_label": self.state_label,
                "deadline": self.deadline_text or None, "days_over": self.days_over,
                "detail": self.detail, "steps": list(self.steps)}


def _detail(c: EnforcementCase) -> str:
    parts = []
    if c.reinspected_on:
        parts.append(f"复查 {c.reinspected_on:%Y-%m-%d}：{c.reinspection}")
    if c.decision_no:
        parts.append(f"{c.decision_no} {c.decision_date:%Y-%m-%d} 罚款 {yuan(c.amount_fen)} 元")
    if c.paid_on:
        parts.append(f"{c.paid_on:%Y-%m-%d} 已缴纳")
    if c.appealed_on:
        parts.append(f"{c.appealed_on:%Y-%m-%d} 复议或诉讼")
    if c.organ:
        parts.append(f"{c.transferred_on:%Y-%m-%d} 移送{c.organ}，回执 {c.receipt_no}")
    if c.outcome:
        parts.append(f"结案：{c.outcome}")
    return "；".join(parts)


def _query(scope: str, open_only: bool):
    q = (EnforcementCase.select(EnforcementCase, Report, Assignment, Target, Draw, PlanTask, Item)
         .join(Report).join(Assignment).join(Target)
         .switch(Assignment).join(Draw).join(PlanTask).join(Item)
         .order_by(EnforcementCase.deadline.is_null(), EnforcementCase.deadline,
                   EnforcementCase.id))
    if open_only:
        q = q.where(EnforcementCase.state.not_in(CLOSED_STATES))
    if scope != access.ALL_OFFICES:
        q = q.where(Item.lead_office == scope)
    return q


def _scope(user: User | None) -> str | None:
    """Every office's cases for leaders, auditors and administrators (and the services, with
    no user); a reviewer's own office's."""
    if user is None:
        return access.ALL_OFFICES
    if not user.active or not access.may_read_cases(user.role):
        return None
    if user.role == "reviewer":
        return user.office
    return access.ALL_OFFICES


def rows(user: User | None = None, *, open_only: bool = True, overdue_only: bool = False,
         today: dt.date | None = None) -> list[CaseRow]:
    """Cases the user may see, earliest deadline first (user None: all of them)."""
    today = today or due.current_date()
    scope = _scope(user)
    if scope is None:
        return []
    out = []
    for c in _query(scope, open_only or overdue_only):
        a = c.report.assignment
        over = (today - c.deadline).days if c.deadline and c.state not in CLOSED_STATES else 0
        if overdue_only and over <= 0:
            continue
        out.append(CaseRow(c.id, a.task_code, a.target.name, a.target.uscc,
                           c.report.assignment.draw.task.item.lead_office, c.kind, c.state,
                           state_label(c), c.deadline, max(over, 0), _detail(c),
                           tuple(s.name for s in next_steps(c))))
    if user is None:
        return out
    from kiosk.confidential import mask_names  # Art. 12: task codes until the draw is published

    return mask_names(user, mask_names(user, out), name_field="uscc")


def overdue_count(today: dt.date | None = None) -> int:
    today = today or due.current_date()
    return (EnforcementCase.select()
            .where(EnforcementCase.state.not_in(CLOSED_STATES)
                   & (EnforcementCase.deadline < today)).count())
