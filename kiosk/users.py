"""Account management: add, disable, reset, change role; every change audited and covered.

An inspector's account is linked to its directory entry (Art. 5, 9), a reviewer's to the
office whose reports it reviews (Art. 10). A disabled account keeps its history: rows are
never deleted. A password set by an administrator must be changed at the next log-in.
"""
from __future__ import annotations

from dataclasses import dataclass

from peewee import JOIN

from db.models import Inspector, User
from kiosk import access, audit, auth
from kiosk.errors import UserError
from kiosk.store import write_tx

MIN_PASSWORD = 6
MUST_CHANGE = ("该账户的密码由管理员设置，须先修改密码：请在终端登录修改，"
               "或运行 kiosk user passwd 本人账户。")


@dataclass(frozen=True)
class UserRow:
    """One account as the Users screen and `kiosk user list` show it."""

    login: str
    name: str
    role: str
    role_label: str
    office: str
    inspector: str  # 执法证号 of the linked directory entry
    active: bool
    must_change: bool


def _require(actor_role: str | None) -> None:
    if actor_role is not None:
        access.require(access.may_manage_accounts(actor_role), access.MAY_NOT_MANAGE)


def has_admin() -> bool:
    """Whether the store has an active administrator (a fresh store has none)."""
    return User.select().where((User.role == "admin") & (User.active == True)).exists()  # noqa: E712


def _user(login: str) -> User:
    user = User.get_or_none(User.username == login)
    if user is None:
        raise UserError(f"账户“{login}”不存在。")
    return user


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise UserError(f"密码至少 {MIN_PASSWORD} 位。")
    if len(password) > 128:
        raise UserError("密码不超过 128 个字符。")
    return password


def role_code(role: str) -> str:
    """A role by its code (reviewer) or its Chinese label (责任股室审核人)."""
    role = (role or "").strip()
    return next((code for code, label in access.ROLES.items() if label == role), role)


def _links(role: str, office: str, inspector_cert: str) -> tuple[str, Inspector | None]:
    """The office and directory entry a role needs: an inspector its entry, a reviewer its
    office (one of the reviewers' offices when that setting lists them)."""
    if role not in access.ROLES:
        raise UserError(f"未知角色“{role}”，可选：{'、'.join(access.ROLES)}。")
    office = (office or "").strip()
    inspector = None
    if role == "inspector":
        if not inspector_cert:
            raise UserError("执法检查人员账户须关联其执法证号。")
        inspector = Inspector.get_or_none(Inspector.cert_no == inspector_cert.strip())
        if inspector is None:
            raise UserError(f"执法证号“{inspector_cert}”不在执法检查人员名录中，请先导入名录。")
        office = office or inspector.office
    elif inspector_cert:
        raise UserError("只有执法检查人员账户关联执法证号。")
    if role == "reviewer":
        if not office:
            raise UserError("责任股室审核人账户须指定其股室。")
        from kiosk import settings

        offices = settings.reviewer_offices()
        if offices and office not in offices:
            raise UserError(f"股室“{office}”不在设置的审核股室中（{'、'.join(offices)}）。")
    if len(office) > 64:
        raise UserError("股室名称不超过 64 字。")
    return office, inspector


def add(login: str, role: str, name: str, password: str, *, office: str = "",
        inspector_cert: str = "", actor: str, actor_role: str | None = None) -> User:
    """A new account; its first password was given by the administrator, so it must be
    changed at the first log-in (except the first administrator's, made by `kiosk init`)."""
    _require(actor_role)
    role = role_code(role)
    login = (login or "").strip()
    if not login or not login.isascii() or not login.replace("_", "").replace(".", "").isalnum():
        raise UserError("账户名只能由英文字母、数字、点和下划线组成。")
    if not (name or "").strip():
        raise UserError("请填写姓名（--name）。")
    office, inspector = _links(role, office, inspector_cert)
    check_password(password)
    with write_tx():
        user = auth.create_user(login, password, role, name.strip(), inspector=inspector,
                                office=office, actor=actor)
        if actor_role is not None:
            User.update(must_change=True).where(User.id == user.id).execute()
            user.must_change = True
            audit.record(actor, "user.must_change", "user", login)
    return user


def disable(login: str, *, actor: str, actor_role: str | None = None) -> User:
    """Disable an account; its history stays (no row is deleted)."""
    _require(actor_role)
    with write_tx():
        user = _user(login)
        if not user.active:
            raise UserError(f"账户“{login}”已停用。")
        if login == actor:
            raise UserError("不能停用自己正在使用的账户。")
        if user.role == "admin" and User.select().where(
                (User.role == "admin") & (User.active == True)).count() <= 1:  # noqa: E712
            raise UserError("这是唯一的管理员账户，不能停用。")
        user.active = False
        user.save()
        audit.record(actor, "user.disable", "user", login)
    return user


def enable(login: str, *, actor: str, actor_role: str | None = None) -> User:
    _require(actor_role)
    with write_tx():
        user = _user(login)
        if user.active:
            raise UserError(f"账户“{login}”已在使用。")
        user.active = True
        user.save()
        audit.record(actor, "user.enable", "user", login)
    return user


def reset_password(login: str, password: str, *, actor: str,
                   actor_role: str | None = None) -> User:
    """An administrator sets someone's password: they must change it at the next log-in."""
    _require(actor_role)
    check_password(password)
    with write_tx():
        user = _user(login)
        user.password_hash = auth.hash_password(password)
        user.must_change = login != actor
        user.save()
        audit.record(actor, "user.password_reset", "user", login, must_change=user.must_change)
    return user


def change_own_password(user: User, new_password: str) -> User:
    """The signed-in user sets their own password; the reset flag is cleared."""
    check_password(new_password)
    with write_tx():
        fresh = User.get_by_id(user.id)
        if auth.verify_password(fresh, new_password):
            raise UserError("新密码不能与原密码相同。")
        fresh.password_hash = auth.hash_password(new_password)
        fresh.must_change = False
        fresh.save()
        audit.record(fresh.username, "user.password_change", "user", fresh.username)
    user.password_hash, user.must_change = fresh.password_hash, False
    return fresh


def change_role(login: str, role: str, *, office: str | None = None,
                inspector_cert: str | None = None, actor: str,
                actor_role: str | None = None) -> User:
    """A new role, with the office or directory entry that role needs."""
    _require(actor_role)
    role = role_code(role)
    with write_tx():
        user = _user(login)
        cert = inspector_cert if inspector_cert is not None else (
            user.inspector.cert_no if user.inspector_id and role == "inspector" else "")
        office_, inspector = _links(role, user.office if office is None else office, cert)
        if user.role == "admin" and role != "admin" and User.select().where(
                (User.role == "admin") & (User.active == True)).count() <= 1:  # noqa: E712
            raise UserError("这是唯一的管理员账户，不能改为其他角色。")
        before = user.role
        user.role, user.office, user.inspector = role, office_, inspector
        user.save()
        audit.record(actor, "user.role", "user", login, before=before, role=role,
                     office=office_)
    return user


def rows() -> list[UserRow]:
    """Every account, active ones first."""
    q = (User.select(User, Inspector).join(Inspector, JOIN.LEFT_OUTER)
         .order_by(User.active.desc(), User.role, User.username))
    return [UserRow(u.username, u.display_name, u.role, access.role_label(u.role), u.office,
                    u.inspector.cert_no if u.inspector_id else "", bool(u.active),
                    bool(u.must_change)) for u in q]
