"""The witnesses' part of a draw: their own accounts sign in, give entropy, confirm, and
agree to an abort after the reveal (Art. 5, 14). The operator is never a witness.

Witness actions need no terminal lock: a witness may act from the shared terminal or from
their own (`kiosk watch`); each runs in one write transaction checked against the state.
"""
from __future__ import annotations

import contextlib

from db.models import Draw, DrawWitness, User, now
from kiosk import access, audit, auth, settings
from kiosk.draw import lottery
from kiosk.draw.lock import CLOSED_LABELS
from kiosk.draw.lock import save as _save
from kiosk.errors import UserError
from kiosk.store import write_tx

NOT_A_WITNESS = "只有见证人账号（监督见证人角色）可以签到见证。"


def quorum() -> int:
    """Distinct witnesses a draw needs: at least two, whatever the setting says."""
    return max(2, settings.get_int("witness_quorum"))


def one_line(what: str, *texts: str | None) -> None:
    """Listings and the seed are line- and TAB-separated: such characters never get in."""
    if any(t and ("\t" in t or "\n" in t or "\r" in t) for t in texts):
        raise UserError(f"{what}不能包含制表符或换行。")


def login(username: str, password: str) -> User:
    """A witness's own account, by their own password."""
    user = auth.login(username.strip(), password)
    if user.must_change:  # a password an administrator set is not yet the witness's own
        from kiosk.users import MUST_CHANGE

        raise UserError(MUST_CHANGE)
    if not access.may_witness(user.role):
        raise UserError(f"账号 {user.username} 不是见证人账号：{NOT_A_WITNESS}")
    return user


@contextlib.contextmanager
def _witness_step(draw_id: int, *states: str, refusal: str):
    with write_tx():
        draw = Draw.get_by_id(draw_id)
        if draw.state in CLOSED_LABELS:
            raise UserError(f"该次摇号已{CLOSED_LABELS[draw.state]}。")
        if draw.state not in states:
            raise UserError(refusal)
        yield draw


def _signed(draw: Draw) -> list[DrawWitness]:
    return list(draw.witnesses.order_by(DrawWitness.position))


def _own_row(draw: Draw, user: User) -> DrawWitness:
    for w in _signed(draw):
        if w.account == user.username:
            return w
    raise UserError(f"{user.username} 未在本次摇号签到为见证人。")


def sign_in(draw_id: int, user: User) -> DrawWitness:
    """A witness who has just signed in with their own password joins the draw."""
    if not access.may_witness(user.role):
        raise UserError(NOT_A_WITNESS)
    with _witness_step(draw_id, "prepared", "witnesses",
                       refusal="系统随机数已承诺，不能再增加见证人。") as draw:
        if user.username == draw.operator:
            raise UserError("主持摇号的操作员不能同时担任见证人。")
        existing = _signed(draw)
        if any(w.account == user.username for w in existing):
            raise UserError(f"见证人 {user.username} 已签到，同一人不能重复计入。")
        w = DrawWitness.create(draw=draw, position=len(existing), account=user.username,
                               name=(user.display_name or user.username)[:64],
                               organisation=(user.office or "")[:128])
        _save(draw, "witnesses" if len(existing) + 1 >= quorum() else None)
        audit.record(user.username, "draw.witness", "draw", draw.id, account=user.username,
                     name=w.name, organisation=w.organisation)
    return w


def set_beacon(draw_id: int, beacon: str, actor: str) -> str:
    """The declared beacon's value, entered after the commitment and before any witness
    entropy: whoever knows the other inputs never gives the last one."""
    beacon = beacon.strip()
    if not beacon:
        raise UserError("请输入公开信标的数值。")
    one_line("公开信标", beacon)
    with _witness_step(draw_id, "committed",
                       refusal="只能在系统随机数承诺后、见证人录入随机数前填写公开信标。") as draw:
        if not draw.beacon_source:
            raise UserError("本次摇号冻结范围时未声明公开信标来源，不使用信标。")
        if any(w.entropy is not None for w in _signed(draw)):
            raise UserError("已有见证人录入随机数，公开信标不能再填写或更改。")
        draw.beacon = beacon
        _save(draw)
        audit.record(actor, "draw.beacon", "draw", draw.id, source=draw.beacon_source,
                     beacon=beacon)
    return beacon


def enter_entropy(draw_id: int, user: User, text: str) -> bool:
    """The signed-in witness `user` gives their entropy (kept exactly as typed); True when
    every witness has given theirs."""
    if not lottery.normalise_entropy(text):
        raise UserError("请输入随机数（掷骰结果、数字或一句话），不能为空。")
    one_line("随机数", text)
    with _witness_step(draw_id, "committed",
                       refusal="现在不是录入见证人随机数的步骤。") as draw:
        if draw.beacon_source and draw.beacon is None:
            raise UserError(f"请先由操作员录入公开信标（{draw.beacon_source}）的数值。")
        w = _own_row(draw, user)
        if w.entropy is not None:
            raise UserError(f"见证人 {w.account} 已录入随机数，不能更改。")
        pending = [x for x in _signed(draw) if x.entropy is None]
        if pending[0].id != w.id:
            raise UserError(f"请按签到顺序录入：先由见证人 {pending[0].account} 录入。")
        w.entropy = text
        w.save()
        done = len(pending) == 1
        _save(draw, "entropy" if done else None)
        # The text itself goes into the audit at the reveal, with everyone else's.
        audit.record(user.username, "draw.entropy", "draw", draw.id, witness=w.account,
                     position=w.position)
    return done


def confirm(draw_id: int, user: User) -> bool:
    """The witness `user` confirms what they saw; True when every witness has confirmed."""
    with _witness_step(draw_id, "matched",
                       refusal="检查组尚未匹配完成，不能确认。") as draw:
        w = _own_row(draw, user)
        if w.confirmed_at is None:
            w.confirmed_at = now()
            w.save()
            audit.record(user.username, "draw.confirm", "draw", draw.id, witness=w.account)
        done = all(x.confirmed_at for x in _signed(draw))
        _save(draw, "confirmed" if done else None)  # every change moves updated_at: watchers
    return done


def check_all_present(draw: Draw, users: list[User]) -> None:
    """After the reveal an abort needs every signed-in witness, each by their own password."""
    needed = {w.account for w in _signed(draw)}
    given = {u.username for u in users if access.may_witness(u.role)}
    missing = sorted(needed - given)
    if missing:
        raise UserError("检查对象已揭晓：中止须由全部签到见证人以各自密码确认，"
                        f"尚缺 {'、'.join(missing)}。")
