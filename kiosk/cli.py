"""The `kiosk` command: the UI, the demo, imports/exports, headless draws, verification, slips."""
from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from kiosk.errors import UserError


def _connect(args):
    from db import connect

    try:
        return connect(args.db)
    except UserError:
        raise
    except Exception as e:  # a store that cannot be opened is a user-facing condition
        raise UserError(f"无法打开数据库 {args.db or '（默认）'}：{e}") from None


def _actor(args) -> str:
    return getattr(args, "operator", None) or getpass.getuser() or "cli"


def cmd_ui(args) -> int:
    _connect(args)
    from screens.app import run  # the only place the kiosk layer starts Textual

    run(args.db)
    return 0


def cmd_demo(args) -> int:
    from kiosk import demo

    db = _connect(args)
    if not demo.is_empty() and not demo.is_demo():
        raise UserError("该数据库不是演示数据库：演示只能在空库或演示库上运行"
                        "（--reset 会清空全部数据和审计日志），已拒绝。")
    if args.reset or demo.is_empty():
        print(demo.build(fresh=True))
    else:
        print("演示数据库已存在，直接打开（重新生成请加 --reset）。")
    if args.no_ui:
        return 0
    db.close()
    from screens.app import run

    run(args.db, demo_accounts=demo.ACCOUNTS)
    return 0


def cmd_import(args) -> int:
    from kiosk import registry

    _connect(args)
    res = registry.import_file(args.kind, Path(args.file), _actor(args))
    print(f"导入完成：{args.kind} 共 {res.rows} 行，新增 {res.inserted}，更新 {res.updated}。")
    return 0


def cmd_export(args) -> int:
    from kiosk import registry

    _connect(args)
    n = registry.export_file(args.kind, Path(args.file), _actor(args),
                             public=getattr(args, "public", False))
    print(f"已导出 {n} 行到 {args.file}。")
    return 0


def cmd_tasks(args) -> int:
    from kiosk import plans

    _connect(args)
    rows = plans.list_tasks(args.year)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        for r in rows:
            print(f"{r['id']:>4}  {r['code']:<18} {r['month']:>2}月  {r['state_label']:<4}  {r['item']}")
    return 0


def _parse_witness(text: str) -> tuple[str, str]:
    name, sep, entropy = text.partition("=")
    if not sep or not name.strip():
        raise UserError(f"见证人参数“{text}”格式应为 姓名=随机数。")
    return name.strip(), entropy


def cmd_draw(args) -> int:
    from kiosk import ceremony

    witnesses = [_parse_witness(w) for w in args.witness]
    out = Path(args.out)
    # The record must be writable before the draw is sealed: a sealed task is never re-drawn.
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "a", encoding="utf-8"):
            pass
    except OSError as e:
        raise UserError(f"无法写入记录文件“{out}”：{e.strerror or e}。") from None
    _connect(args)
    actor = _actor(args)
    draw = ceremony.prepare(args.task, actor)
    if draw.state != "prepared" or draw.witnesses.count():
        raise UserError(f"任务 {args.task} 已有进行中的摇号（第 {draw.attempt_no} 次，"
                        f"{ceremony.STEP_LABELS[draw.state]}）；请在终端上继续或先中止。")
    try:
        for name, _ in witnesses:
            ceremony.sign_in_witness(draw.id, name, "", actor)
        ceremony.commit(draw.id, actor)
        for pos, (_, entropy) in enumerate(witnesses):
            ceremony.enter_entropy(draw.id, pos, entropy, actor)
        if args.beacon:
            ceremony.set_beacon(draw.id, args.beacon, actor)
        ceremony.reveal(draw.id, actor)
        ceremony.match(draw.id, actor)
        for pos in range(len(witnesses)):
            ceremony.confirm(draw.id, pos, actor)
        record = ceremony.seal(draw.id, actor)
    except UserError as e:
        ceremony.abort(draw.id, f"命令行摇号未完成：{e}", actor)
        raise
    out.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
    from db.models import Draw

    ceremony.write_listings(Draw.get_by_id(draw.id), out.parent)
    print(f"摇号已封存：任务 {record['task']} 第 {record['attempt']} 次，"
          f"抽中 {len(record['selected'])} 个对象，种子 {record['seed'][:16]}…；记录已写入 {out}。")
    return 0


def cmd_verify(args) -> int:
    from kiosk.verify import verify_file

    code, message = verify_file(Path(args.record))
    print(message, file=sys.stdout if code == 0 else sys.stderr)
    return code


def cmd_slips(args) -> int:
    from kiosk import pdf, slips

    _connect(args)
    path = slips.render_slips(args.draw_id, Path(args.out), _actor(args))
    print(pdf.print_or_save(path))
    return 0


def cmd_open(args) -> int:
    from kiosk import reports

    _connect(args)
    assignment = reports.check_payload(args.payload)
    if args.check:
        print(f"任务单有效：{assignment.task_code}。")
        return 0
    from screens.app import run

    run(args.db, open_payload=args.payload)
    return 0


def cmd_audit(args) -> int:
    from kiosk import audit

    _connect(args)
    ok, message = audit.verify()
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def cmd_summary(args) -> int:
    from dataclasses import asdict

    from kiosk import plans, reports

    _connect(args)
    year = args.year or plans.this_year()
    rows, totals = reports.leadership_summary(year)
    if args.json:
        print(json.dumps({"year": year, "rows": [asdict(r) for r in rows], "totals": totals},
                         ensure_ascii=False, indent=1))
        return 0
    print(f"{year}年度“双随机、一公开”抽查结果汇总（上报局党组）")
    head = "  ".join(reports.FINDINGS)
    print(f"事项      最终报告  {head}  整改未结")
    for r in rows:
        counts = "  ".join(f"{r.findings[f]:>{len(f) * 2}}" for f in reports.FINDINGS)
        print(f"{r.item_code:<8}  {r.final:>8}  {counts}  {r.open_rectifications:>8}  {r.item_name}")
    counts = "  ".join(f"{totals[f]:>{len(f) * 2}}" for f in reports.FINDINGS)
    print(f"{'合计':<6}  {totals['final']:>8}  {counts}  {totals['open_rectifications']:>8}")
    return 0


def cmd_holidays(args) -> int:
    from kiosk import workdays

    _connect(args)
    n = workdays.import_holidays(Path(args.file), _actor(args))
    print(f"已导入 {n} 条节假日安排。")
    return 0


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one plain sentence, exit 2, no usage dump
        print(f"参数错误：{message}（kiosk --help 查看用法）", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS,
                        help="SQLite 文件路径或 postgresql:// URL（默认：KIOSK_DB 或用户数据目录）")
    p = _Parser(prog="kiosk", description="双随机、一公开 抽查终端", parents=[common])
    p.set_defaults(func=cmd_ui)
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    s = sub.add_parser("demo", parents=[common], help="生成演示数据库并打开终端")
    s.add_argument("--no-ui", action="store_true", help="只生成数据，不打开界面")
    s.add_argument("--reset", action="store_true", help="清空并重新生成演示数据")
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

    s = sub.add_parser("draw", parents=[common], help="无界面完成一次摇号并封存")
    s.add_argument("task")
    s.add_argument("--witness", action="append", required=True, metavar="NAME=ENTROPY")
    s.add_argument("--beacon")
    s.add_argument("--out", required=True)
    s.add_argument("--operator")
    s.set_defaults(func=cmd_draw)

    s = sub.add_parser("verify", parents=[common], help="核验摇号记录（无需数据库）")
    s.add_argument("record")
    s.set_defaults(func=cmd_verify)

    s = sub.add_parser("slips", parents=[common], help="打印任务单")
    s.add_argument("draw_id", type=int)
    s.add_argument("--out", required=True)
    s.set_defaults(func=cmd_slips)

    s = sub.add_parser("open", parents=[common], help="解析扫描的任务单")
    s.add_argument("payload")
    s.add_argument("--check", action="store_true", help="只校验（有效 0，无效 1）")
    s.set_defaults(func=cmd_open)

    s = sub.add_parser("audit", parents=[common], help="审计日志")
    s.add_argument("action", choices=["verify"])
    s.set_defaults(func=cmd_audit)

    s = sub.add_parser("summary", parents=[common], help="年度抽查结果汇总（上报局党组）")
    s.add_argument("--year", type=int)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_summary)

    s = sub.add_parser("holidays", parents=[common], help="导入本局节假日安排")
    s.add_argument("action", choices=["import"])
    s.add_argument("file")
    s.set_defaults(func=cmd_holidays)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # --db may stand before or after the subcommand; absent, the default store.
    args.db = getattr(args, "db", None)
    try:
        code = args.func(args)
    except UserError as e:
        print(str(e), file=sys.stderr)
        code = e.exit_code
    except OSError as e:
        name = f"“{e.filename}”" if getattr(e, "filename", None) else ""
        print(f"无法读写文件{name}：{e.strerror or e}。", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        code = 130
    except BrokenPipeError:
        code = 0
    if argv is None:
        raise SystemExit(code)
    return code


if __name__ == "__main__":
    main()
