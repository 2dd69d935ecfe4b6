"""`kiosk slips TASK_CODE | --draw DRAW_ID --out FILE`: print the task slips of a sealed draw.

The argument names what it is: `kiosk tasks` lists task ids beside task codes, and a bare
number once printed another task's slips (issue 11), so a number alone is refused.
"""
from __future__ import annotations

from pathlib import Path

from kiosk.errors import UserError


def resolve(ref: str | None, draw_id: int | None):
    """(draw, assignment): the sealed draw to print, or the one target's task to reprint."""
    from db.models import Assignment, Draw, PlanTask

    if (ref is None) == (draw_id is None):
        raise UserError("请写任务编号（如 2026-RS-01-1），或用 --draw 摇号编号，二者选一。",
                        exit_code=2)
    if draw_id is not None:
        draw = Draw.get_or_none(Draw.id == draw_id)
        if draw is None:
            raise UserError(f"摇号编号 {draw_id} 不存在。", exit_code=2)
        return draw, None
    ref = ref.strip()
    if ref.isdigit():
        raise UserError(f"“{ref}”不是任务编号：请写任务编号（如 2026-RS-01-1），"
                        f"或用 --draw {ref} 指定摇号编号。", exit_code=2)
    task = PlanTask.get_or_none(PlanTask.code == ref)
    if task is not None:
        draw = (Draw.select().where((Draw.task == task) & (Draw.state == "sealed"))
                .order_by(Draw.attempt_no.desc()).first())
        if draw is None:
            raise UserError(f"任务 {ref} 还没有封存的摇号结果，没有任务单可打印。")
        return draw, None
    one = Assignment.get_or_none(Assignment.task_code == ref)
    if one is not None:
        return one.draw, one
    raise UserError(f"没有任务编号“{ref}”：请用 kiosk tasks 查看任务编号。", exit_code=2)


def cmd_slips(args) -> int:
    from kiosk import access, pdf, slips
    from kiosk.cli import _account, _connect

    _connect(args)
    user = _account(args, access.may_print_slips, access.MAY_NOT_PRINT_SLIPS)
    draw, one = resolve(args.task, args.draw)
    if one is not None:
        path = slips.render_slip_for(one, Path(args.out), user.username)
    else:
        path = slips.render_slips(draw.id, Path(args.out), user.username)
    what = f"任务 {one.task_code}" if one else f"任务 {draw.task.code} 第 {draw.attempt_no} 次摇号"
    print(f"{what}（摇号编号 {draw.id}）的任务单：{pdf.print_or_save(path)}")
    return 0


def register(sub, common) -> None:
    s = sub.add_parser("slips", parents=[common],
                       help="打印任务单：kiosk slips 任务编号 --out 文件，或 --draw 摇号编号")
    s.add_argument("task", nargs="?",
                   help="任务编号：计划任务（如 2026-RS-01-1，打印其封存摇号的全部任务单）"
                        "或单个检查任务（如 2026-07-0013，补打一张）")
    s.add_argument("--draw", type=int, metavar="DRAW_ID",
                   help="摇号编号（draw id，仪式画面与打印的规程上有）")
    s.add_argument("--out", required=True)
    s.set_defaults(func=cmd_slips)
