"""Users, roles and log-in, with argon2 password hashes."""
from __future__ import annotations

import datetime as dt
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from db.models import AuditEvent, Inspector, User
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


# ---------------------------------------------------------------- log-in, lockout, timing

LOGIN_OK, LOGIN_FAILED, LOCKOUT, LOGIN_LOCKED = (
    "auth.login", "auth.login_failed", "auth.lockout", "auth.login_locked")
REFUSED = "用户名或密码不正确。"
_dummy: list[str] = []


def _dummy_hash() -> str:
    """A hash of a random password: an unknown or locked login is verified against it, so every
    refusal costs one argon2 verification and the time tells no one which logins exist."""
    if not _dummy:
        _dummy.append(_hasher.hash(secrets.token_hex(16)))
    return _dummy[0]


def _setting(key: str, fallback: int) -> int:
    from kiosk import settings

    try:
        return max(1, settings.get_int(key))
    except ValueError:
        return fallback


def locked_until(username: str, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the login's lockout ends, or None when it may try now.

    Counted from the audit log by login name, whether or not the account exists (a lockout
    that only known logins get would itself tell which exist): the failures since the last
    success or the last lockout; a lockout lasts login_lock_minutes from its event."""
    now = now or dt.datetime.now()
    limit = _setting("login_max_failures", 5)
    minutes = dt.timedelta(minutes=_setting("login_lock_minutes", 15))
    recent = (AuditEvent.select(AuditEvent.action, AuditEvent.at)
              .where((AuditEvent.entity == "user") & (AuditEvent.entity_id == username)
                     & AuditEvent.action.in_((LOGIN_OK, LOGIN_FAILED, LOCKOUT)))
              .order_by(AuditEvent.seq.desc()).limit(limit + 1))
    for event in recent:
        if event.action == LOGIN_OK:
            return None
        if event.action == LOCKOUT:
            at = event.at if isinstance(event.at, dt.datetime) else (
                dt.datetime.fromisoformat(str(event.at)))
            return at + minutes if at + minutes > now else None
    return None


def _failures_since_reset(username: str) -> int:
    limit = _setting("login_max_failures", 5)
    count = 0
    for event in (AuditEvent.select(AuditEvent.action)
                  .where((AuditEvent.entity == "user") & (AuditEvent.entity_id == username)
                         & AuditEvent.action.in_((LOGIN_OK, LOGIN_FAILED, LOCKOUT)))
                  .order_by(AuditEvent.seq.desc()).limit(limit + 1)):
        if event.action != LOGIN_FAILED:
            break
        count += 1
    return count


def _when(t: dt.datetime, now: dt.datetime) -> str:
    return t.strftime("%H:%M" if t.date() == now.date() else "%Y-%m-%d %H:%M")


def login(username: str, password: str, *, now: dt.datetime | None = None) -> User:
    """The user, or UserError with one sentence; every attempt is in the audit log.

    After login_max_failures failures in a row the login is locked for login_lock_minutes
    (the lockout is an audit event); the refusal says when to try again."""
    now = now or dt.datetime.now()
    dummy = _dummy_hash()
    if not 0 < len(username) <= 32:
        _check(dummy, password)  # the same cost as any other refusal
        raise UserError(REFUSED)
    user = User.get_or_none((User.username == username) & (User.active == True))  # noqa: E712
    until = locked_until(username, now)
    ok = _check(user.password_hash if user is not None and until is None else dummy, password)
    ok = ok and user is not None and until is None
    if until is not None:
        audit.record(username, LOGIN_LOCKED, "user", username, until=until.isoformat(sep=" "))
        raise UserError(f"该账号登录失败次数过多，已暂时锁定，请于 {_when(until, now)} 后再试。")
    if ok:
        audit.record(username, LOGIN_OK, "user", username)
        return user
    with write_tx():
        audit.record(username or "?", LOGIN_FAILED, "user", username)
        failures = _failures_since_reset(username)
        limit = _setting("login_max_failures", 5)
        if failures >= limit:
            end = now + dt.timedelta(minutes=_setting("login_lock_minutes", 15))
            audit.record("system", LOCKOUT, "user", username, failures=failures,
                         until=end.isoformat(sep=" "))
    if failures >= limit:
        raise UserError(f"用户名或密码不正确；已连续失败 {failures} 次，该账号锁定至 "
                        f"{_when(end, now)}，请届时再试。")
    raise UserError(REFUSED)


def _check(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
