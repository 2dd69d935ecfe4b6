"""`kiosk backup FILE`, `kiosk restore FILE`, `kiosk migrate-db --to URL`: the administrator's
store operations (issue 12, parts 6 and 7)."""
from __future__ import annotations

import sys
from pathlib import Path

from kiosk.errors import UserError


def cmd_backup(args) -> int:
    from kiosk import access
    from kiosk.cli import _account, _connect
    from kiosk.ops.backup import backup

    _connect(args)
    user = _account(args, access.may_operate_store, access.MAY_NOT_OPERATE_STORE)
    done = backup(Path(args.file), user.username)
    print(f"备份完成：{done.path}（数据库副本与 {done.files} 个证据/归档文件），"
          f"链头 {done.head[0]}:{done.head[1][:16]}…，SHA-256 {done.sha256}。")
    return 0


def _confirm(args, store: str) -> None:
    if args.yes:
        return
    if not sys.stdin.isatty():
        raise UserError("恢复备份需要确认：请在终端运行并输入“恢复”，或加 --yes。")
    answer = input(f"将用备份替换数据库 {store}，此后写入的数据会丢失。确认请输入“恢复”：")
    if answer.strip() not in ("恢复", "restore"):
        raise UserError("未确认，数据库保持不变。")


def cmd_restore(args) -> int:
    import getpass
    import tempfile

    from peewee import SqliteDatabase

    from db.connection import database
    from kiosk import access
    from kiosk.cli import _account, _connect
    from kiosk.ops import restore as r

    _connect(args)
    if r.store_is_empty():
        # A new machine: the backup brings the accounts back; the event names the OS login.
        actor = f"os:{getpass.getuser()}"
    else:
        actor = _account(args, access.may_operate_store, access.MAY_NOT_OPERATE_STORE).username
    store = getattr(database.obj, "database", "")
    # Unpacked beside a SQLite store (same disk, private dir); a PostgreSQL one in the temp dir.
    near = (Path(store).resolve().parent if isinstance(database.obj, SqliteDatabase)
            else Path(tempfile.gettempdir()))
    staged = r.stage(Path(args.file), near)
    try:
        _confirm(args, store)
        path, verdict = r.restore(staged, actor)
    finally:
        staged.cleanup()
    if not verdict.ok:
        raise UserError(f"已恢复到 {path}，但审计核验未通过：{verdict.message}")
    print(f"已从 {args.file} 恢复数据库 {path}。{verdict.message}")
    return 0


def cmd_migrate_db(args) -> int:
    from kiosk import access
    from kiosk.cli import _account, _connect
    from kiosk.ops.migrate_db import migrate_db

    _connect(args)
    user = _account(args, access.may_operate_store, access.MAY_NOT_OPERATE_STORE)
    done = migrate_db(args.to, user.username, lambda s: print(s, file=sys.stderr),
                      files_dir=args.files_dir)
    print(f"已迁移到 PostgreSQL：{len(done.counts)} 张表共 {sum(done.counts.values())} 行，"
          f"行数逐表核对一致；{done.files} 个证据/归档文件。{done.verdict.message}")
    return 0


def register(sub, common) -> None:
    s = sub.add_parser("backup", parents=[common],
                       help="在线备份数据库与证据文件到一个文件（管理员）")
    s.add_argument("file", help="备份文件（.tar.gz），不得已存在")
    s.set_defaults(func=cmd_backup)
    s = sub.add_parser("restore", parents=[common],
                       help="从备份恢复数据库（管理员，须先关闭所有终端）")
    s.add_argument("file")
    s.add_argument("--yes", action="store_true", help="不再询问确认")
    s.set_defaults(func=cmd_restore)
    s = sub.add_parser("migrate-db", parents=[common],
                       help="把 SQLite 数据库迁移到 PostgreSQL（管理员）")
    s.add_argument("--to", required=True, metavar="URL", help="空的 PostgreSQL 数据库地址")
    s.add_argument("--files-dir", default=None, metavar="DIR",
                   help="各终端共用的证据与归档目录（写入设置 files_dir）")
    s.set_defaults(func=cmd_migrate_db)
