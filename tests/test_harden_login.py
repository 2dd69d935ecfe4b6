"""Issue 12 part 1: a login locks after repeated failures, and refusals cost the same."""
from __future__ import annotations

import datetime as dt

import pytest

from db.models import AuditEvent
from kiosk import audit, auth, settings
from kiosk.errors import UserError


@pytest.fixture
def clerk(db):
    return auth.create_user("clerk", "right-pass", "operator", "王办事")


def fail(login: str, n: int) -> list[str]:
    said = []
    for _ in range(n):
        with pytest.raises(UserError) as e:
            auth.login(login, "wrong-pass")
        said.append(str(e.value))
    return said


def test_five_failures_lock_for_fifteen_minutes_then_the_right_password_works(clerk):
    said = fail("clerk", 5)
    assert said[:4] == ["用户名或密码不正确。"] * 4
    until = dt.datetime.now() + dt.timedelta(minutes=15)
    assert "已连续失败 5 次" in said[4] and until.strftime("%H:%M") in said[4]
    # more tries with the wrong one, then the right one: still locked
    fail("clerk", 3)
    with pytest.raises(UserError, match=r"已暂时锁定，请于 .* 后再试"):
        auth.login("clerk", "right-pass")
    lockouts = AuditEvent.select().where(AuditEvent.action == "auth.lockout")
    assert [(e.entity_id, e.actor) for e in lockouts] == [("clerk", "system")]
    assert AuditEvent.select().where(AuditEvent.action == "auth.login_locked").count() == 4
    later = dt.datetime.now() + dt.timedelta(minutes=15, seconds=61)
    assert auth.login("clerk", "right-pass", now=later).username == "clerk"
    assert audit.verify()[0]


def test_a_success_resets_the_count(clerk):
    fail("clerk", 4)
    auth.login("clerk", "right-pass")
    said = fail("clerk", 4)
    assert said == ["用户名或密码不正确。"] * 4
    assert auth.login("clerk", "right-pass").username == "clerk"


def test_the_settings_change_the_limit_and_the_time(clerk):
    settings.change("login_max_failures", "3", "admin")
    settings.change("login_lock_minutes", "60", "admin")
    said = fail("clerk", 3)
    assert "已连续失败 3 次" in said[2]
    assert auth.locked_until("clerk") is not None
    soon = dt.datetime.now() + dt.timedelta(minutes=30)
    assert auth.locked_until("clerk", soon) is not None
    assert auth.locked_until("clerk", soon + dt.timedelta(minutes=31)) is None
    with pytest.raises(UserError, match="3 至 20"):
        settings.change("login_max_failures", "0", "admin")


def test_an_unknown_login_locks_the_same_way(db):
    said = fail("nobody", 6)
    assert "已连续失败 5 次" in said[4] and "已暂时锁定" in said[5]


class CountingHasher:
    def __init__(self, real):
        self.real, self.verifies = real, 0

    def hash(self, password):
        return self.real.hash(password)

    def verify(self, h, password):
        self.verifies += 1
        return self.real.verify(h, password)


@pytest.mark.parametrize("login", ["clerk", "nobody", "gone", "x" * 40, ""])
def test_every_refusal_costs_one_argon2_verification(clerk, monkeypatch, login):
    auth.create_user("gone", "gone-pass", "operator")
    from db.models import User

    User.update(active=False).where(User.username == "gone").execute()
    auth._dummy_hash()
    counting = CountingHasher(auth._hasher)
    monkeypatch.setattr(auth, "_hasher", counting)
    with pytest.raises(UserError):
        auth.login(login, "wrong-pass")
    assert counting.verifies == 1
    auth.login("clerk", "right-pass")  # and so does a success
    assert counting.verifies == 2


def test_a_locked_login_costs_one_verification_too(clerk, monkeypatch):
    fail("clerk", 5)
    counting = CountingHasher(auth._hasher)
    monkeypatch.setattr(auth, "_hasher", counting)
    with pytest.raises(UserError, match="锁定"):
        auth.login("clerk", "right-pass")
    assert counting.verifies == 1
