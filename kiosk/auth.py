"""Users, roles and log-in, with argon2 password hashes."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from db.models import Inspector, User
from kiosk import audit
from kiosk.access import ROLES
from kiosk.errors import UserError
from kiosk.store import write_tx

# Low-cost parameters keep the kiosk's log-in quick on a small terminal; still memory-hard.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(username: str, password: str, role: str, display_name: str = "", *,
                inspector: Inspector | None = None, office: str = "",
                actor: str = "system") -> User:
    if role not in ROLES:
        raise UserError(f"未知角色“{role}”。")
    if len(password) < 6:
        raise UserError("密码至少 6 位。")
    if not username or len(username) > 32 or len(display_name) > 64:
        raise UserError("用户名须为 1 至 32 个字符，姓名不超过 64 字。")
    with write_tx():
        if User.get_or_none(User.username == username):
            raise UserError(f"用户名“{username}”已存在。")
        user = User.create(username=username, display_name=display_name or username, role=role,
                           password_hash=hash_password(password), inspector=inspector,
                           office=office)
        audit.record(actor, "user.create", "user", username, role=role)
    return user


def verify_password(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def login(username: str, password: str) -> User:
    """The user, or UserError with one sentence; every attempt is in the audit log."""
    if len(username) > 32:
        raise UserError("用户名或密码不正确。")
    user = User.get_or_none((User.username == username) & (User.active == True))  # noqa: E712
    ok = False
    if user is not None:
        try:
            ok = _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
    audit.record(username or "?", "auth.login" if ok else "auth.login_failed", "user", username)
    if not ok:
        raise UserError("用户名或密码不正确。")
    return user
