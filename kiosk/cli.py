"""The `kiosk` command: the UI, the demo, imports/exports, headless draws, verification, slips."""
from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path

from kiosk.errors import UserError


def _connect(args):
    from db import connect
    from kiosk.guard import check_store

    check_store(args.db or os.environ.get("KIOSK_DB"))
    try:
        db = connect(args.db)
    except UserError:
        raise
    except Exception as e:  # a store that cannot be opened is a user-facing condition
        raise UserError(f"无法打开数据库 {args.db or '（默认）'}：{e}") from None
    from kiosk.audit.chain import ensure_baseline

    ensure_baseline()  # once, on a store older than the covering chain
    return db


NO_ACCOUNT = ("此命令需要以终端账户登录：请设置环境变量 KIOSK_USER 和 KIOSK_PASSWORD，"
              "或用 --user 指定账户并在终端输入密码。")


def _account(args, may=None, refusal: str = "该账户无权执行此操作。", *,
             allow_must_change: bool = False):
    """The kiosk account this command acts as (one helper for every command).

    KIOSK_USER and KIOSK_PASSWORD, else --user LOGIN with the password asked on the terminal.
    `may(role)` from kiosk.access decides whether the account may run the command; a refusal
    is logged under the account's name. Call after _connect."""
    import os

    from kiosk import audit, auth

    env_user = os.environ.get("KIOSK_USER", "")
    login = getattr(args, "user", None) or env_user
    if not login:
        raise UserError(NO_ACCOUNT)
    password = os.environ.get("KIOSK_PASSWORD")
    if password is None or login != env_user:
        if not sys.stdin.isatty():
            raise UserError(f"无法在终端输入账户“{login}”的密码：请在终端运行，"
                            "或设置 KIOSK_USER 和 KIOSK_PASSWORD。")
        password = getpass.getpass(f"账户 {login} 的密码：")
    user = auth.login(login, password)
    if user.must_change and not allow_must_change:  # reset by an administrator
        from kiosk.users import MUST_CHANGE

        raise UserError(MUST_CHANGE)
    if may is not None and not may(user.role):
        audit.record(user.username, "cli.refused", "command", getattr(args, "command", ""),
                     role=user.role)
        raise UserError(refusal)
    return user


def cmd_ui(args) -> int:
    _connect(args)
    from kiosk import setup, users

    if not users.has_admin():  # a login screen nobody could pass: say how to begin
        raise UserError(setup.NO_ADMIN)
    from screens.app import run  # the only place the kiosk layer starts Textual

    run(args.db)
    return 0


def cmd_demo(args) -> int:
    from kiosk import demo

    db = _connect(args)
    empty = demo.is_empty()
    if not empty and not demo.is_demo():
        raise UserError("该数据库不是演示数据库：演示只能在空库或演示库上运行"
                        "（--reset 会清空全部数据和审计日志），已拒绝。")
    if args.reset and not empty:
        foreign = demo.foreign_data()
        if foreign:
            raise UserError(f"该数据库不只有演示数据（{foreign}），不能用 --reset 清空，已拒绝。")
        _confirm_reset(args)
    if args.reset or empty:
        print(demo.build(fresh=True))
    else:
        print("演示数据库已存在，直接打开（重新生成请加 --reset）。")
    if args.no_ui:
        return 0
    db.close()
    from screens.app import run

    run(args.db, demo_accounts=demo.ACCOUNTS)
    return 0


def _confirm_reset(args) -> None:
    """A reset empties the store and its audit chain: asked once, typed, or --yes."""
    if getattr(args, "yes", False):
        return
    if not sys.stdin.isatty():
        raise UserError("清空演示数据库需要确认：请在终端运行并输入“是”，或加 --yes。")
    answer = input("将清空演示数据库的全部数据和审计日志。确认请输入“是”或 yes：").strip()
    if answer.lower() not in ("是", "yes"):
        raise UserError("未确认，演示数据库保持不变。")


def cmd_import(args) -> int:
    from kiosk import access, registry

    _connect(args)
    user = _account(args, access.may_edit_registry, access.MAY_NOT_IMPORT)
    res = registry.import_file(args.kind, Path(args.file), user.username, role=user.role)
    print(f"导入完成：{args.kind} 共 {res.rows} 行，新增 {res.inserted}，更新 {res.updated}。")
    return 0


def cmd_export(args) -> int:
    from kiosk import access, registry

    _connect(args)
    public = getattr(args, "public", False)
    user = _account(args, lambda role: access.may_export(role, args.kind, public),
                    access.MAY_NOT_EXPORT)
    n = registry.export_file(args.kind, Path(args.file), user.username,
                             public=getattr(args, "public", False))
    print(f"已导出 {n} 行到 {args.file}。")
    return 0


def cmd_tasks(args) -> int:
    from kiosk import plans

    _connect(args)
    rows = plans.list_tasks(args.year, attempts=args.json)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        for r in rows:
            print(f"{r['id']:>4}  {r['code']:<18} {r['month']:>2}月  {r['state_label']:<4}  "
                  f"{r['item']}")
    return 0


def cmd_draw(args) -> int:
    from kiosk import access
    from kiosk.draw import headless

    if args.task == "abort":  # `kiosk draw abort TASK --reason TEXT`
        return _draw_abort(args)
    if args.extra:
        raise UserError(f"多余的参数“{args.extra}”：含空格的随机数请整体加引号，"
                        "如 --witness 账号=\"今天天气晴朗，掷骰 3 5 6\"。")
    if not args.out:
        raise UserError("请用 --out 指定核验记录文件。")
    witnesses = [headless.parse_witness(w) for w in args.witness or []]
    passwords = headless.read_passwords(args.witness_passwords)
    _connect(args)
    operator = _account(args, may=access.may_run_draw, refusal=access.MAY_NOT_RUN_DRAW)
    record = headless.run(args.task, operator, witnesses, passwords, out=Path(args.out),
                          beacon=args.beacon, beacon_source=args.beacon_source,
                          resume=args.resume, progress=lambda s: print(s, file=sys.stderr))
    print(f"摇号已封存：任务 {record['task']} 第 {record['attempt']} 次，"
          f"抽中 {len(record['selected'])} 个对象，种子 {record['seed'][:16]}…；"
          f"记录已写入 {args.out}。")
    return 0


def _draw_abort(args) -> int:
    from kiosk import access
    from kiosk.draw import headless

    if not args.extra:
        raise UserError("用法：kiosk draw abort 任务编号 --reason 理由。")
    if not (args.reason or "").strip():
        raise UserError("中止摇号必须说明理由（--reason）。")
    passwords = headless.read_passwords(args.witness_passwords)
    _connect(args)
    operator = _account(args, may=access.may_run_draw, refusal=access.MAY_NOT_RUN_DRAW)
    draw = headless.abort(args.extra, args.reason, operator, passwords)
    print(f"任务 {args.extra} 第 {draw.attempt_no} 次摇号已中止，记录保留；理由：{args.reason}")
    return 0


def cmd_record(args) -> int:
    from kiosk import access, confidential

    _connect(args)
    user = _account(args, may=access.may_export_record, refusal=access.MAY_NOT_EXPORT_RECORD)
    path = confidential.write_record(args.draw_id, Path(args.out) / "record.json", user)
    print(f"已写入 {path} 及 pool.tsv、inspectors.tsv、conflicts.tsv。")
    return 0


def cmd_watch(args) -> int:
    from kiosk import access

    _connect(args)
    user = _account(args, may=access.may_watch_draw, refusal=access.MAY_NOT_WATCH_DRAW)
    from screens.watch import run_watch  # the kiosk layer starts Textual only lazily

    run_watch(task=args.task, user=user)
    return 0


def cmd_verify(args) -> int:
    from kiosk.draw.verify import verify_file

    code, message = verify_file(Path(args.record))
    print(message, file=sys.stdout if code == 0 else sys.stderr)
    return code


def cmd_open(args) -> int:
    from kiosk import reports

    _connect(args)
    # The same scan service as the Scan screen; a refused slip is logged under this account.
    result = reports.scan_slip(args.payload, _account(args), check_only=True)
    if result.refused:
        raise UserError(result.message)
    if args.check:
        print(result.message)
        return 0
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        # Without a terminal the form cannot draw or read keys (it spun at 99% CPU).
        raise UserError("kiosk open 需要在终端中运行才能打开报告表单；"
                        "在脚本中请加 --check 只校验任务单。")
    from screens.app import run

    run(args.db, open_payload=args.payload)
    return 0


def cmd_audit(args) -> int:
    from kiosk import access, audit

    _connect(args)
    if args.action == "certificate":
        if not args.out:
            raise UserError("请用 --out 指定证明文件（.pdf）的路径。", exit_code=2)
        user = _account(args, access.may_certify_audit_head, access.MAY_NOT_CERTIFY)
        from kiosk.audit.certificate import print_certificate

        print(print_certificate(Path(args.out), user))
        return 0
    user = _account(args, access.may_read_audit, access.MAY_NOT_READ_AUDIT)
    if args.action == "head":
        print(audit.head_text())
        return 0
    from kiosk.audit.check import verify_for

    verdict = verify_for(user, audit.parse_head(args.head) if args.head else None)
    print(verdict.message, file=sys.stdout if verdict.ok else sys.stderr)
    return 0 if verdict.ok else 1


def cmd_summary(args) -> int:
    from dataclasses import asdict

    from kiosk import access, plans, reports

    _connect(args)
    user = _account(args, access.may_read_dashboards, access.MAY_NOT_READ_DASHBOARD)
    year = args.year or plans.this_year()
    rows, totals = reports.leadership_summary(year, user)
    if args.json:
        print(json.dumps({"year": year, "rows": [asdict(r) for r in rows], "totals": totals},
                         ensure_ascii=False, indent=1))
        return 0
    print(f"{year}年度“双随机、一公开”抽查结果汇总（上报局党组）")
    head = "  ".join(reports.FINDINGS)
    print(f"事项      最终报告  {head}  整改未结")
    for r in rows:
        counts = "  ".join(f"{r.findings[f]:>{len(f) * 2}}" for f in reports.FINDINGS)
        print(f"{r.item_code:<8}  {r.final:>8}  {counts}  {r.open_rectifications:>8}  "
              f"{r.item_name}")
    counts = "  ".join(f"{totals[f]:>{len(f) * 2}}" for f in reports.FINDINGS)
    print(f"{'合计':<6}  {totals['final']:>8}  {counts}  {totals['open_rectifications']:>8}")
    return 0


def cmd_holidays(args) -> int:
    from kiosk import access, workdays

    _connect(args)
    user = _account(args, access.may_edit_registry, "只有登记管理员可以导入节假日安排。")
    n = workdays.import_holidays(Path(args.file), user.username)
    print(f"已导入 {n} 条节假日安排。")
    return 0


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one plain sentence, exit 2, no usage dump
        print(f"参数错误：{guard_cut(message)}（kiosk --help 查看用法）", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS,
                        help="SQLite 文件路径或 postgresql:// URL（默认：KIOSK_DB 或用户数据目录）")
    common.add_argument("--user", default=argparse.SUPPRESS, metavar="LOGIN",
                        help="以此终端账户执行（密码在终端输入；默认：KIOSK_USER/KIOSK_PASSWORD）")
    p = _Parser(prog="kiosk", description="双随机、一公开 抽查终端", parents=[common])
    p.set_defaults(func=cmd_ui)
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    s = sub.add_parser("demo", parents=[common], help="生成演示数据库并打开终端")
    s.add_argument("--no-ui", action="store_true", help="只生成数据，不打开界面")
    s.add_argument("--reset", action="store_true", help="清空并重新生成演示数据（需确认）")
    s.add_argument("--yes", action="store_true", help="--reset 时不再询问确认")
    s.set_defaults(func=cmd_demo)

    kinds = ["items", "inspectors", "targets", "conflicts", "trainings", "inspections"]
    for name, func, help_ in (("import", cmd_import, "从 CSV/XLSX 导入名录"),
                              ("export", cmd_export, "导出名录为 CSV/XLSX")):
        s = sub.add_parser(name, parents=[common], help=help_)
        s.add_argument("kind", choices=kinds)
        s.add_argument("file")
        if name == "export":
            s.add_argument("--public", action="store_true",
                           help="公开名录（第四、五条）：不含执法人员联系电话")
        s.set_defaults(func=func)

    s = sub.add_parser("tasks", parents=[common], help="列出计划任务")
    s.add_argument("--json", action="store_true")
    s.add_argument("--year", type=int)
    s.set_defaults(func=cmd_tasks)

    s = sub.add_parser("draw", parents=[common],
                       help="无界面完成一次摇号并封存；draw abort 任务 --reason 理由 中止")
    s.add_argument("task", help="任务编号；或 abort，后接任务编号")
    s.add_argument("extra", nargs="?", help=argparse.SUPPRESS)
    s.add_argument("--witness", action="append", metavar="LOGIN=ENTROPY",
                   help="见证人账号=随机数（含空格请整体加引号），每位见证人一次")
    s.add_argument("--witness-passwords", metavar="FILE", help="见证人密码文件，每行 账号:密码")
    s.add_argument("--beacon", help="公开信标的数值")
    s.add_argument("--beacon-source", help="公开信标的来源（冻结范围时声明）")
    s.add_argument("--resume", action="store_true", help="继续被中断的摇号")
    s.add_argument("--reason", help="中止理由（draw abort）")
    s.add_argument("--out", help="核验记录文件")
    s.set_defaults(func=cmd_draw)

    s = sub.add_parser("record", parents=[common], help="重新导出已封存摇号的核验记录和名录")
    s.add_argument("draw_id", type=int)
    s.add_argument("--out", required=True, metavar="DIR")
    s.set_defaults(func=cmd_record)

    s = sub.add_parser("watch", parents=[common], help="远程见证：只读跟随进行中的摇号")
    s.add_argument("task", nargs="?", help="任务编号（默认：唯一进行中的摇号）")
    s.set_defaults(func=cmd_watch)

    s = sub.add_parser("verify", parents=[common], help="核验摇号记录（无需数据库）")
    s.add_argument("record")
    s.set_defaults(func=cmd_verify)

    s = sub.add_parser("open", parents=[common], help="解析扫描的任务单")
    s.add_argument("payload")
    s.add_argument("--check", action="store_true", help="只校验（有效 0，无效 1）")
    s.set_defaults(func=cmd_open)

    s = sub.add_parser("audit", parents=[common], help="审计日志")
    s.add_argument("action", choices=["verify", "head", "certificate"],
                   help="verify 核验；head 打印链头 SEQ:HASH；certificate 打印审计链头证明")
    s.add_argument("--head", metavar="SEQ:HASH", help="核验时要求审计链仍含此链头")
    s.add_argument("--out", help="certificate：证明 PDF 的路径")
    s.set_defaults(func=cmd_audit)

    s = sub.add_parser("summary", parents=[common], help="年度抽查结果汇总（上报局党组）")
    s.add_argument("--year", type=int)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_summary)

    s = sub.add_parser("holidays", parents=[common], help="导入本局节假日安排")
    s.add_argument("action", choices=["import"])
    s.add_argument("file")
    s.set_defaults(func=cmd_holidays)

    from kiosk.commands import register_all

    register_all(sub, common)
    return p


def main(argv: list[str] | None = None) -> int:
    # Whatever the login's umask, every file and folder the kiosk makes is its own (issue 12).
    umask = os.umask(0o077)
    try:
        return _main(argv)
    finally:
        if argv is not None:  # called in-process (tests): the caller's umask back
            os.umask(umask)


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    # --db may stand before or after the subcommand; absent, the default store.
    args.db = getattr(args, "db", None)
    args.user = getattr(args, "user", None)
    try:
        from kiosk.guard import check_numbers

        check_numbers(args)
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the try
    except UserError as e:
        print(echo_lines(str(e)), file=sys.stderr)
        code = e.exit_code
    except BrokenPipeError:  # `kiosk tasks --json | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print("输出的接收方已关闭，其余输出未写出。", file=sys.stderr)
        code = 0
    except OverflowError as e:  # a number out of range deep inside (a date, a C integer)
        print(f"输入的数值超出可处理的范围：{guard_cut(e)}。", file=sys.stderr)
        code = 2
    except OSError as e:
        name = f"“{guard_cut(e.filename)}”" if getattr(e, "filename", None) else ""
        print(f"无法读写文件{name}：{e.strerror or e}。", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        code = 130
    except Exception as e:
        # A write outside write_tx (which waits and retries) that met another terminal's
        # lock past the busy timeout: nothing was written; say so instead of a traceback.
        if type(e).__name__ != "OperationalError" or "locked" not in str(e):
            raise
        print("数据库正被另一终端长时间写入，本次操作未完成，请稍后重试。", file=sys.stderr)
        code = 1
    if argv is None:
        raise SystemExit(code)
    return code


def guard_cut(e: object) -> str:
    from kiosk.guard import cut

    return cut(e, 120)


def echo_lines(text: str) -> str:
    """A refusal as printed: what it echoes of the user's input is cut, line by line (a 100 kB
    argument was repeated in full)."""
    from kiosk.guard import cut

    return "\n".join(cut(line, 300) for line in text.split("\n"))


if __name__ == "__main__":
    main()
