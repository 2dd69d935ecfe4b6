"""`kiosk exchange export --year N --out DIR`: the provincial platform's files (Art. 16)."""
from __future__ import annotations

from kiosk.errors import UserError


def cmd_exchange(args) -> int:
    from kiosk import access
    from kiosk.cli import _account, _connect
    from kiosk.publication.kit import export_exchange

    if args.action != "export":
        raise UserError(f"未知的操作“{args.action}”：目前只有 kiosk exchange export。")
    if not args.out:
        raise UserError("请用 --out 指定导出目录。")
    _connect(args)
    user = _account(args, may=access.may_publish, refusal=access.MAY_NOT_PUBLISH)
    res = export_exchange(args.year, args.out, user)
    print(f"已导出 {args.year} 年度已公示的抽查结果 {res.counts.get('results', 0)} 条到 "
          f"{res.folder}（exchange.json 及 tasks/draws/results/rectifications.csv）。")
    return 0


def register(sub, common) -> None:
    s = sub.add_parser("exchange", parents=[common],
                       help="省级平台数据交换：kiosk exchange export --year 年度 --out 目录")
    s.add_argument("action", choices=["export"], metavar="export")
    s.add_argument("--year", type=int, required=True)
    s.add_argument("--out")
    s.set_defaults(func=cmd_exchange)
