"""`kiosk plan new|approve|show|add|move|cancel`: the year's plan (Art. 7, 18) from the shell."""
from __future__ import annotations

import json

from kiosk.errors import UserError


def cmd_plan(args) -> int:
    from kiosk import access, compliance, plans
    from kiosk.cli import _account, _connect

    _connect(args)
    if args.action == "show":
        _account(args, access.may_read_plan, "该账户无权查看抽查计划。")
        year = args.year or (int(args.arg) if args.arg and args.arg.isdigit() else None) \
            or plans.this_year()
        if args.json:
            print(json.dumps(compliance.as_json(year), ensure_ascii=False, indent=1))
            return 0
        _print_view(year, compliance.year_view(year))
        return 0
    if args.action == "approve":
        user = _account(args, access.may_approve_plan, access.MAY_NOT_APPROVE_PLAN)
        n = plans.approve(_year(args), user.username, role=user.role)
        print(f"已批准 {_year(args)} 年度抽查计划的 {n} 个任务，可以摇号。")
        return 0
    user = _account(args, access.may_plan, access.MAY_NOT_PLAN)
    if args.action == "new":
        made = plans.make_plan(_year(args), user.username, role=user.role)
        print(f"{_year(args)} 年度抽查计划新增 {len(made)} 个任务，待局领导批准"
              f"（kiosk plan approve {_year(args)}）。")
    elif args.action == "add":
        if not (args.arg and args.item and args.month):
            raise UserError("用法：kiosk plan add 年度 --item 事项编码 --month 月 --reason 理由。")
        task = plans.add_round(_year(args), args.item, args.month, args.reason or "",
                               user.username, role=user.role)
        print(f"已增加任务 {task.code}（{task.planned_month} 月），待局领导批准。")
    elif args.action == "move":
        if not (args.arg and args.month):
            raise UserError("用法：kiosk plan move 任务编号 --month 月 --reason 理由。")
        task = plans.move_round(args.arg, args.month, args.reason or "", user.username,
                                role=user.role)
        print(f"任务 {task.code} 已调至 {task.planned_month} 月，待局领导重新批准。")
    elif args.action == "cancel":
        if not args.arg:
            raise UserError("用法：kiosk plan cancel 任务编号 --reason 理由。")
        task = plans.cancel_round(args.arg, args.reason or "", user.username, role=user.role)
        print(f"任务 {task.code} 已取消，理由已记录。")
    return 0


def _year(args) -> int:
    if not args.arg or not args.arg.isdigit():
        raise UserError(f"请指定年度：kiosk plan {args.action} 年度（如 2027）。")
    return int(args.arg)


def _print_view(year: int, view) -> None:
    print(f"{year} 年度抽查计划执行情况")
    for v in view:
        mark = "合规" if v.ok else "不合规"
        print(f"{v.code:<8} 应抽 {v.required} 计划 {v.planned} 已抽 {v.done} 已批准 {v.approved}"
              f" 逾期 {v.late}  {mark}  {v.name}")
        for r in v.rounds:
            late = "  逾期" if r.late else ""
            ok = "已批准" if r.approved else "待批准"
            print(f"    {r.code:<16} {r.month:>2}月 {r.state_label} {ok}{late}")
        for p in v.problems:
            print(f"    ! {p}")


def register(sub, common) -> None:
    s = sub.add_parser("plan", parents=[common],
                       help="年度抽查计划：new/approve/show/add/move/cancel")
    s.add_argument("action", choices=["new", "approve", "show", "add", "move", "cancel"])
    s.add_argument("arg", nargs="?", help="年度，或任务编号（move、cancel）")
    s.add_argument("--year", type=int, help="show：年度")
    s.add_argument("--json", action="store_true", help="show：输出 JSON")
    s.add_argument("--item", help="add：事项编码")
    s.add_argument("--month", type=int, help="add、move：月份")
    s.add_argument("--reason", help="add、move、cancel：理由")
    s.set_defaults(func=cmd_plan)
