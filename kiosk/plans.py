"""The year's inspection plan (Art. 7, 18): built from the item list, changed with a reason,
approved by a leader; only an approved round may be drawn."""
from __future__ import annotations

import datetime as dt

import peewee

from db.models import Item, PlanTask, now
from kiosk import access, audit, item_rules
from kiosk.errors import UserError
from kiosk.store import write_tx

MIN_ROUNDS = item_rules.MIN_ROUNDS  # Art. 7


def task_code(year: int, item_code: str, round_no: int) -> str:
    return f"{year}-{item_code}-{round_no}"


def spread_month(round_no: int, rounds: int) -> int:
    """The month a round falls in when an item's rounds are spread over the year."""
    return min(12, 1 + (round_no - 1) * 12 // rounds + 1)


def _check_year(year: int) -> int:
    if not 2000 <= int(year) <= 2100:
        raise UserError(f"年度“{year}”不正确，应为四位年份。")
    return int(year)


def _check_month(month: int) -> int:
    if not 1 <= int(month) <= 12:
        raise UserError(f"月份“{month}”不正确，应为 1 至 12。")
    return int(month)


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise UserError("调整抽查计划必须说明理由。")
    if "\n" in reason or len(reason) > 200:
        raise UserError("理由须为一行，不超过 200 字。")
    return reason


def make_plan(year: int, actor: str, *, items: list[Item] | None = None,
              role: str | None = None) -> list[PlanTask]:
    """Plan every active item for the year: at least its frequency (the special targets' if
    higher), never fewer than 3 rounds, spread over the months. Items already planned keep
    their rounds; an item imported later gets its rounds when this runs again. The new
    rounds wait for a leader's approval (Art. 18).

    role: the logged-in user's role (None from the shell or a test, already trusted)."""
    if role is not None:
        access.require(access.may_plan(role), access.MAY_NOT_PLAN)
    year = _check_year(year)
    made = []
    with write_tx():
        chosen = items if items is not None else Item.select().where(Item.active == True)  # noqa: E712
        for item in chosen:
            rounds = item_rules.rounds(item_rules.ItemRules.of(item))
            for r in range(1, rounds + 1):
                code = task_code(year, item.code, r)
                if PlanTask.get_or_none(PlanTask.code == code):
                    continue
                made.append(PlanTask.create(code=code, year=year, item=item, round_no=r,
                                            planned_month=spread_month(r, rounds)))
        if made:  # running it again on a complete plan changes nothing and logs nothing
            audit.record(actor, "plan.make", "plan", year, tasks=[t.code for t in made])
    return made


def approve(year: int, actor: str, *, role: str | None = None) -> int:
    """A leader approves every round of the year not yet approved (Art. 18); how many."""
    if role is not None:
        access.require(access.may_approve_plan(role), access.MAY_NOT_APPROVE_PLAN)
    year = _check_year(year)
    with write_tx():
        pending = [t.code for t in PlanTask.select(PlanTask.code).where(
            (PlanTask.year == year) & (PlanTask.approved_by == "")
            & (PlanTask.state != "cancelled")).order_by(PlanTask.code)]
        if not pending:
            if not PlanTask.select().where(PlanTask.year == year).exists():
                raise UserError(f"{year} 年度还没有抽查计划：请先运行 kiosk plan new {year}。")
            raise UserError(f"{year} 年度抽查计划没有待批准的任务。")
        PlanTask.update(approved_by=actor[:32], approved_at=now()).where(
            PlanTask.code.in_(pending)).execute()
        audit.record(actor, "plan.approve", "plan", year, tasks=pending)
    return len(pending)


def _changeable(code: str) -> PlanTask:
    task = get_task(code)
    if task.state != "planned":
        label = STATE_LABELS.get(task.state, task.state)
        raise UserError(f"任务 {task.code} {label}，不能再调整。")
    return task


def _note(task: PlanTask, text: str) -> str:
    line = f"{dt.date.today():%Y-%m-%d} {text}"
    return f"{task.note}\n{line}" if task.note else line


def add_round(year: int, item_code: str, month: int, reason: str, actor: str, *,
              role: str | None = None) -> PlanTask:
    """One more round of an item in the year, waiting for a leader's approval."""
    if role is not None:
        access.require(access.may_plan(role), access.MAY_NOT_PLAN)
    year, month, reason = _check_year(year), _check_month(month), _reason(reason)
    item = Item.get_or_none(Item.code == item_code)
    if item is None:
        raise UserError(f"抽查事项“{item_code}”不在事项清单中。")
    with write_tx():
        last = (PlanTask.select(peewee.fn.MAX(PlanTask.round_no))
                .where((PlanTask.item == item) & (PlanTask.year == year)).scalar() or 0)
        task = PlanTask.create(code=task_code(year, item.code, last + 1), year=year, item=item,
                               round_no=last + 1, planned_month=month)
        task.note = _note(task, f"增加：{reason}")
        task.save()
        audit.record(actor, "plan.add", "task", task.code, month=month, reason=reason)
    return task


def move_round(code: str, month: int, reason: str, actor: str, *,
               role: str | None = None) -> PlanTask:
    """Move a round not yet drawn to another month; it waits for approval again."""
    if role is not None:
        access.require(access.may_plan(role), access.MAY_NOT_PLAN)
    month, reason = _check_month(month), _reason(reason)
    with write_tx():
        task = _changeable(code)
        before = task.planned_month
        task.note = _note(task, f"由 {before} 月调至 {month} 月：{reason}")
        task.planned_month, task.approved_by, task.approved_at = month, "", None
        task.save()
        audit.record(actor, "plan.move", "task", task.code, before=before, month=month,
                     reason=reason)
    return task


def cancel_round(code: str, reason: str, actor: str, *, role: str | None = None) -> PlanTask:
    """Cancel a round not yet drawn, with the reason kept on the round and in the log."""
    if role is not None:
        access.require(access.may_plan(role), access.MAY_NOT_PLAN)
    reason = _reason(reason)
    with write_tx():
        task = _changeable(code)
        task.note = _note(task, f"取消：{reason}")
        task.state = "cancelled"
        task.save()
        audit.record(actor, "plan.cancel", "task", task.code, reason=reason)
    return task


def require_approved(task: PlanTask) -> None:
    """Only a round of the approved plan may be drawn (Art. 18)."""
    if not task.approved_by:
        raise UserError(f"任务 {task.code} 尚未经局领导批准：只有批准的抽查计划任务才能摇号"
                        "（第十八条）。")


def get_task(code_or_id: str | int) -> PlanTask:
    """A planned task by code or numeric id; drawing anything else is refused (Art. 18)."""
    task = PlanTask.get_or_none(PlanTask.code == str(code_or_id))
    if task is None and str(code_or_id).isdigit():
        task = PlanTask.get_or_none(PlanTask.id == int(code_or_id))
    if task is None:
        raise UserError(f"任务“{code_or_id}”不在抽查计划中：未列入计划的检查不得摇号（第十八条）。")
    return task


STATE_LABELS = {"planned": "待摇号", "drawing": "摇号中", "drawn": "已摇号", "cancelled": "已取消"}


def list_tasks(year: int | None = None, attempts: bool = False) -> list[dict]:
    """The plan's tasks; with `attempts`, each task's every draw attempt, aborted ones with
    their reason and witnesses (no silent re-draw)."""
    q = PlanTask.select(PlanTask, Item).join(Item).order_by(PlanTask.year, PlanTask.planned_month,
                                                             Item.code, PlanTask.round_no)
    if year:
        q = q.where(PlanTask.year == year)
    rows = [
        {"id": t.id, "code": t.code, "year": t.year, "round": t.round_no,
         "month": t.planned_month, "item_code": t.item.code, "item": t.item.name,
         "state": t.state, "approved": bool(t.approved_by),
         # a planned round not yet approved cannot be drawn: say so where tasks are picked
         "state_label": ("待批准" if t.state == "planned" and not t.approved_by
                         else STATE_LABELS.get(t.state, t.state))}
        for t in q
    ]
    if attempts:
        from kiosk.draw.record import attempts as attempts_of

        for r in rows:
            r["attempts"] = attempts_of(r["id"])
    return rows


def this_year() -> int:
    return dt.date.today().year
