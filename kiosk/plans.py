"""The year's inspection plan: each active item gets its rounds (Art. 7: at least 3 a year)."""
from __future__ import annotations

import datetime as dt

from db.models import Item, PlanTask
from kiosk import audit
from kiosk.errors import UserError
from kiosk.store import write_tx

MIN_ROUNDS = 3  # Art. 7


def task_code(year: int, item_code: str, round_no: int) -> str:
    return f"{year}-{item_code}-{round_no}"


def make_plan(year: int, actor: str, *, items: list[Item] | None = None) -> list[PlanTask]:
    """Plan every active item for the year, spreading its rounds over the months."""
    made = []
    with write_tx():
        for item in items or Item.select().where(Item.active == True):  # noqa: E712
            rounds = max(MIN_ROUNDS, item.frequency)
            for r in range(1, rounds + 1):
                code = task_code(year, item.code, r)
                if PlanTask.get_or_none(PlanTask.code == code):
                    continue
                month = min(12, 1 + (r - 1) * 12 // rounds + 1)
                made.append(PlanTask.create(code=code, year=year, item=item, round_no=r,
                                            planned_month=month))
        audit.record(actor, "plan.make", "plan", year, tasks=[t.code for t in made])
    return made


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
         "state": t.state, "state_label": STATE_LABELS.get(t.state, t.state)}
        for t in q
    ]
    if attempts:
        from kiosk.draw.record import attempts as attempts_of

        for r in rows:
            r["attempts"] = attempts_of(r["id"])
    return rows


def this_year() -> int:
    return dt.date.today().year
