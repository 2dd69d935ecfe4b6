"""Enforcement to the end, sanctions and the leaders' dashboard on the command line (issue 11):
`kiosk cases`, `kiosk case update`, `kiosk sanction add|list|tasks|reassign`, `kiosk dashboard`."""
from __future__ import annotations

import json

from kiosk.errors import UserError

STEP_NAMES = ("reinspect", "decide", "pay", "appeal", "transfer", "close")


def _print_json(data) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=1, default=str))


def cmd_cases(args) -> int:
    from kiosk import access, cases
    from kiosk.cli import _account, _connect

    _connect(args)
    user = _account(args, access.may_read_cases, access.MAY_NOT_READ_CASES)
    rows = cases.rows(user, open_only=not args.all, overdue_only=args.overdue)
    if args.json:
        _print_json([r.as_json() for r in rows])
        return 0
    if not rows:
        print("没有逾期的执法案件。" if args.overdue else "没有未结的执法案件。")
        return 0
    for r in rows:
        print(f"{r.id:>5}  {r.task_code:<13} {r.kind:<6} {r.status_text:<10} "
              f"期限 {r.deadline_text or '—':<10}  {r.target_name}")
        if r.detail:
            print(f"       {r.detail}")
    overdue = sum(r.overdue for r in rows)
    print(f"共 {len(rows)} 件，其中逾期 {overdue} 件。")
    return 0


def cmd_case(args) -> int:
    from kiosk import cases
    from kiosk.cli import _account, _connect

    _connect(args)
    user = _account(args)
    values = {k: getattr(args, k) for k in ("date", "result", "passed", "deadline",
                                            "decision_no", "amount", "organ", "receipt_no",
                                            "outcome")}
    case = cases.take_step(args.case_id, args.step, values, user)
    deadline = f"，期限 {case.deadline:%Y-%m-%d}" if case.deadline else ""
    print(f"案件 {case.id}（{case.kind}）：{cases.state_label(case)}{deadline}。")
    return 0


def _sanction_add(args, user) -> int:
    from kiosk import sanctions

    row = sanctions.add(args.subject, args.kind, args.start, args.reason, user, end=args.end,
                        decided_by=args.decided_by or "")
    print(f"已记录：{row.inspector.name}（{row.inspector.cert_no}）{row.kind}，"
          f"自 {row.start_date:%Y-%m-%d}" + (f" 至 {row.end_date:%Y-%m-%d}" if row.end_date
                                             else "") + "。")
    tasks = sanctions.open_tasks()
    mine = [t for t in tasks if t.cert_no == row.inspector.cert_no]
    if mine:
        print(f"其未完成任务 {len(mine)} 项待改派：kiosk sanction tasks 查看，"
              "kiosk sanction reassign 摇号编号 改派。")
    return 0


def _sanction_reassign(args, user) -> int:
    from kiosk.draw import headless
    from kiosk.draw.reassign import reassign

    if not (args.subject or "").isdigit():
        raise UserError("用法：kiosk sanction reassign 摇号编号 --witness 账号 … --reason 理由。")
    draw_id = int(args.subject)
    if not args.witness:
        raise UserError("请用 --witness 账号 指定见证改派的见证人。")
    passwords = headless.read_passwords(args.witness_passwords)
    witnesses = headless.authenticate(args.witness, passwords, user)
    done = reassign(draw_id, user, witnesses, args.reason or "")
    for r in done:
        print(f"{r.task_code}：{r.inspector}（{r.why}）→ {r.replacement}")
    print(f"已按规程改派 {len(done)} 人次；kiosk record {draw_id} --out 目录 "
          "导出记录后可用 kiosk verify 核验。")
    return 0


def cmd_sanction(args) -> int:
    from kiosk import access, sanctions
    from kiosk.cli import _account, _connect

    _connect(args)
    if args.action == "reassign":
        user = _account(args, access.may_reassign, access.MAY_NOT_REASSIGN)
        return _sanction_reassign(args, user)
    if args.action == "add":
        user = _account(args, access.may_sanction, access.MAY_NOT_SANCTION)
        if not (args.subject and args.kind and args.start):
            raise UserError("用法：kiosk sanction add 执法证号 --kind 种类 --start 日期 "
                            "[--end 日期] --reason 理由。")
        return _sanction_add(args, user)
    _account(args, access.may_read_sanctions, access.MAY_NOT_READ_SANCTIONS)
    if args.action == "list":
        rows = sanctions.rows()
        if args.json:
            _print_json([r.as_json() for r in rows])
            return 0
        for r in rows:
            end = f"至 {r.end:%Y-%m-%d}" if r.end else ""
            force = "（生效中）" if r.in_force else ""
            print(f"{r.cert_no}  {r.name}  {r.kind}{force}  {r.start:%Y-%m-%d}{end}  {r.reason}")
        print(f"共 {len(rows)} 条处理记录。")
        return 0
    tasks = sanctions.open_tasks()  # action == "tasks"
    if args.json:
        _print_json([t.as_json() for t in tasks])
        return 0
    for t in tasks:
        print(f"摇号 {t.draw_id}  {t.task_code}  {t.inspector_name}（{t.cert_no}，{t.why}）  "
              f"{t.target_name}")
    print(f"待改派的任务 {len(tasks)} 项。")
    return 0


def cmd_dashboard(args) -> int:
    from kiosk import access
    from kiosk.cli import _account, _connect
    from kiosk.dashboard import leaders, workbook

    _connect(args)
    user = _account(args, access.may_read_leader_dashboards,
                    access.MAY_NOT_READ_LEADER_DASHBOARD)
    if args.xlsx:
        path = workbook.export_xlsx(user, args.xlsx, args.year)
        print(f"已导出年度考核表：{path}")
        return 0
    b = leaders.board_for(user, args.year)
    if args.json:
        _print_json(b.as_json())
        return 0
    print(f"{b.year} 年度领导看板（{b.today:%Y-%m-%d}）")
    print(f"逾期报告 {len(b.overdue_reports)} 项，逾期案件 {len(b.overdue_cases)} 件，"
          f"中止摇号 {len(b.aborted)} 次，需培训或换证的执法人员 {len(b.gaps)} 名。")
    for title, header, rows in workbook.sheets(b):
        print(f"\n【{title}】" + "  ".join(header))
        for row in rows:
            print("  ".join(f"{v:.1%}" if isinstance(v, float) else str(v) for v in row))
    return 0


def register(sub, common) -> None:
    s = sub.add_parser("cases", parents=[common],
                       help="执法案件（责令整改、行政处罚、移送司法机关）")
    s.add_argument("--overdue", action="store_true", help="只列逾期的案件")
    s.add_argument("--all", action="store_true", help="包括已结案的")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_cases)

    s = sub.add_parser("case", parents=[common],
                       help="办理案件：kiosk case update 案件编号 步骤 [--date …] …")
    s.add_argument("action", choices=["update"], metavar="update")
    s.add_argument("case_id", type=int)
    s.add_argument("step", choices=STEP_NAMES,
                   help="reinspect 复查 / decide 处罚决定 / pay 缴纳 / appeal 复议诉讼 / "
                        "transfer 移送 / close 结案")
    for opt, help_ in (("--date", "日期（YYYY-MM-DD）"), ("--result", "复查情况"),
                       ("--passed", "整改是否到位：是/否"), ("--deadline", "未到位时的新期限"),
                       ("--decision-no", "处罚决定书文号"), ("--amount", "罚款金额（元）"),
                       ("--organ", "接收机关"), ("--receipt-no", "移送回执编号"),
                       ("--outcome", "结案情况")):
        s.add_argument(opt, help=help_)
    s.set_defaults(func=cmd_case)

    s = sub.add_parser("sanction", parents=[common],
                       help="执法人员处理（第十八条）：add / list / tasks / reassign")
    s.add_argument("action", choices=["add", "list", "tasks", "reassign"])
    s.add_argument("subject", nargs="?", help="add：执法证号；reassign：摇号编号")
    s.add_argument("--kind", help="批评教育 / 通报批评 / 暂扣执法证 / 吊销执法证 / 调离")
    s.add_argument("--start", help="起始日期")
    s.add_argument("--end", help="暂扣截止日期")
    s.add_argument("--reason", help="理由")
    s.add_argument("--decided-by", help="决定机关或文号")
    s.add_argument("--witness", action="append", help="reassign：见证人账号（可多次）")
    s.add_argument("--witness-passwords", help="reassign：见证人密码文件（每行 账号:密码）")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_sanction)

    s = sub.add_parser("dashboard", parents=[common], help="领导看板；--xlsx 导出年度考核表")
    s.add_argument("--year", type=int)
    s.add_argument("--xlsx", metavar="FILE")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_dashboard)
