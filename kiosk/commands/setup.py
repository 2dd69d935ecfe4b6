"""`kiosk init`, `kiosk user …` and `kiosk settings …`: a bureau sets itself up without Python."""
from __future__ import annotations

import getpass
import os
import sys

from kiosk.errors import UserError


def new_password(env: str, who: str) -> str:
    """A new password: from the environment variable `env`, else typed twice on the terminal."""
    value = os.environ.get(env)
    if value is not None:
        return value
    if not sys.stdin.isatty():
        raise UserError(f"无法在终端输入{who}的密码：请在终端运行，或设置环境变量 {env}。")
    first = getpass.getpass(f"{who}的新密码：")
    if getpass.getpass("再输入一次：") != first:
        raise UserError("两次输入的密码不一致，未做任何更改。")
    return first


def cmd_init(args) -> int:
    from kiosk import setup
    from kiosk.cli import _connect

    _connect(args)
    password = new_password("KIOSK_PASSWORD", f"管理员 {args.admin} ")
    done = setup.initialise(args.admin, password, bureau=args.bureau, region=args.region,
                            base_url=args.base_url or "", name=args.name or "")
    print(f"已初始化：管理员账户 {done.admin}，单位 {args.bureau}（{args.region}）；"
          f"密钥文件 {done.key_file}（权限 0600，请妥善备份，多终端共用数据库时复制到各终端）。")
    return 0


def cmd_user(args) -> int:
    from kiosk import access, users
    from kiosk.cli import _account, _connect

    _connect(args)
    if args.action == "passwd" and _own_password(args):
        return 0
    actor = _account(args, access.may_manage_accounts, access.MAY_NOT_MANAGE)
    if args.action == "list":
        for r in users.rows():
            state = "在用" if r.active else "停用"
            extra = "，须改密码" if r.must_change else ""
            print(f"{r.login:<16} {r.role_label:<8} {state}{extra}  {r.name}  {r.office}"
                  f"{'  ' + r.inspector if r.inspector else ''}")
        return 0
    if not args.login:
        raise UserError(f"请指定账户名：kiosk user {args.action} 账户。")
    if args.action == "add":
        if not args.role:
            raise UserError("请用 --role 指定角色：" + "、".join(access.ROLES) + "。")
        password = new_password("KIOSK_NEW_PASSWORD", f"账户 {args.login} ")
        users.add(args.login, args.role, args.name or "", password, office=args.office or "",
                  inspector_cert=args.inspector or "", actor=actor.username,
                  actor_role=actor.role)
        print(f"已新增账户 {args.login}（{access.role_label(args.role)}），首次登录须修改密码。")
    elif args.action == "disable":
        users.disable(args.login, actor=actor.username, actor_role=actor.role)
        print(f"账户 {args.login} 已停用，其历史记录保留。")
    elif args.action == "enable":
        users.enable(args.login, actor=actor.username, actor_role=actor.role)
        print(f"账户 {args.login} 已恢复使用。")
    elif args.action == "passwd":
        password = new_password("KIOSK_NEW_PASSWORD", f"账户 {args.login} ")
        users.reset_password(args.login, password, actor=actor.username, actor_role=actor.role)
        print(f"账户 {args.login} 的密码已重置，下次登录须修改密码。")
    elif args.action == "role":
        if not args.role:
            raise UserError("请用 --role 指定新角色。")
        users.change_role(args.login, args.role, office=args.office,
                          inspector_cert=args.inspector, actor=actor.username,
                          actor_role=actor.role)
        print(f"账户 {args.login} 的角色已改为 {access.role_label(args.role)}。")
    return 0


def _own_password(args) -> bool:
    """`kiosk user passwd LOGIN` run by LOGIN itself (KIOSK_USER or --user): change one's own
    password, the way out of a reset; anyone else goes on to the administrator's reset."""
    from kiosk import users
    from kiosk.cli import _account

    login = getattr(args, "user", None) or os.environ.get("KIOSK_USER", "")
    if not args.login or login != args.login:
        return False
    me = _account(args, allow_must_change=True)
    users.change_own_password(me, new_password("KIOSK_NEW_PASSWORD", f"账户 {me.username} "))
    print(f"账户 {me.username} 的密码已修改。")
    return True


def cmd_settings(args) -> int:
    from kiosk import access, settings
    from kiosk.cli import _account, _connect

    _connect(args)
    actor = _account(args, access.may_manage_accounts, access.MAY_NOT_MANAGE)
    if args.action == "set":
        if args.key is None or args.value is None:
            raise UserError("用法：kiosk settings set 设置项 值。")
        value = settings.change(args.key, args.value, actor.username, role=actor.role)
        print(f"{settings.SPECS[args.key].label}（{args.key}）已设为：{value or '（空）'}")
        return 0
    if args.key is not None:
        raise UserError("用法：kiosk settings，或 kiosk settings set 设置项 值。")
    for r in settings.rows():
        print(f"{r.key:<20} {r.value or '（空）':<28} {r.label}：{r.hint}")
    return 0


def register(sub, common) -> None:
    s = sub.add_parser("init", parents=[common], help="新建数据库：首个管理员、密钥文件和单位信息")
    s.add_argument("--admin", required=True, metavar="LOGIN", help="首个管理员账户名")
    s.add_argument("--name", help="管理员姓名（默认同账户名）")
    s.add_argument("--bureau", required=True, help="单位名称")
    s.add_argument("--region", required=True, help="行政区划代码（6 位）")
    s.add_argument("--base-url", help="任务单二维码网址前缀")
    s.set_defaults(func=cmd_init)

    s = sub.add_parser("user", parents=[common], help="账户：add/disable/enable/passwd/role/list")
    s.add_argument("action", choices=["add", "disable", "enable", "passwd", "role", "list"])
    s.add_argument("login", nargs="?")
    s.add_argument("--role", help="角色：admin/operator/witness/inspector/reviewer/leader/auditor")
    s.add_argument("--name", help="姓名")
    s.add_argument("--office", help="股室（审核人必填）")
    s.add_argument("--inspector", metavar="CERT", help="执法证号（执法检查人员必填）")
    s.set_defaults(func=cmd_user)

    s = sub.add_parser("settings", parents=[common], help="查看设置；settings set 设置项 值")
    s.add_argument("action", nargs="?", choices=["set"])
    s.add_argument("key", nargs="?")
    s.add_argument("value", nargs="?")
    s.set_defaults(func=cmd_settings)
