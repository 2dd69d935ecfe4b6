"""`kiosk draw` without the UI: a whole witnessed draw, its resumption and its abort.

Every argument mistake (too few witnesses, one twice, the operator as a witness, a wrong
password, an empty entropy) is refused before any attempt is opened. A draw interrupted at
any step stays open for `--resume` or `kiosk draw abort`; nothing blocks the task.
"""
from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from db.models import Draw, DrawWitness, User
from kiosk.draw import lottery, record, steps, witnesses
from kiosk.errors import UserError
from kiosk.plans import get_task

CLI_BEACON_SOURCE = "操作员在命令行录入的公开信标（--beacon）"


@dataclass
class Witness:
    login: str
    entropy: str | None


def parse_witness(text: str) -> Witness:
    """LOGIN=ENTROPY, the entropy kept whole (spaces, full-width spaces, punctuation)."""
    login, sep, entropy = text.partition("=")
    if not sep or not login.strip():
        raise UserError(f"见证人参数“{text}”格式应为 账号=随机数。")
    return Witness(login.strip(), entropy)


def read_passwords(path: str | None) -> dict[str, str]:
    """`login:password` lines; blank lines and # comments ignored."""
    if not path:
        return {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise UserError(f"无法读取见证人密码文件“{path}”：{e.strerror or e}。") from None
    out: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        login, sep, password = line.partition(":")
        if not sep or not login.strip():
            raise UserError(f"见证人密码文件第 {n} 行格式应为 账号:密码。")
        out[login.strip()] = password
    return out


def _ask(login: str) -> str:
    if not sys.stdin.isatty():
        raise UserError(f"无法在终端输入见证人 {login} 的密码：请在终端运行，"
                        "或用 --witness-passwords 文件提供（每行 账号:密码）。")
    return getpass.getpass(f"见证人 {login} 的密码（由本人输入）：")


def authenticate(logins: list[str], passwords: dict[str, str], operator: User,
                 ask: Callable[[str], str] = _ask) -> list[User]:
    """Each witness by their own password; the operator is never one, nobody counts twice."""
    seen: set[str] = set()
    users = []
    for login in logins:
        if login in seen:
            raise UserError(f"见证人 {login} 重复：法定人数按不同的见证人计算。")
        seen.add(login)
        if login == operator.username:
            raise UserError("主持摇号的操作员不能同时担任见证人。")
        users.append(witnesses.login(login, passwords[login] if login in passwords
                                     else ask(login)))
    return users


def _check_witnesses(given: list[Witness], need_entropy: bool) -> None:
    if len(given) < witnesses.quorum():
        raise UserError(f"至少需要 {witnesses.quorum()} 名不同的见证人（--witness 账号=随机数），"
                        f"现有 {len(given)} 名。")
    for w in given:
        if need_entropy and not lottery.normalise_entropy(w.entropy or ""):
            raise UserError(f"见证人 {w.login} 的随机数为空。")
        witnesses.one_line("随机数", w.entropy)


def run(task_code: str, operator: User, given: list[Witness], passwords: dict[str, str], *,
        out: Path, beacon: str | None = None, beacon_source: str | None = None,
        resume: bool = False, ask: Callable[[str], str] = _ask,
        progress: Callable[[str], None] = lambda s: None) -> dict:
    """The draw from wherever it stands to sealed; the record written to `out`."""
    task = get_task(task_code)  # an unplanned task is refused before anything else
    if task.state == "drawn":
        sealed = Draw.get_or_none((Draw.task == task) & (Draw.state == "sealed"))
        hint = f"；核验记录可用 kiosk record {sealed.id} --out 目录 重新导出" if sealed else ""
        raise UserError(f"任务 {task.code} 已摇号封存，不得重复摇号{hint}。")
    _check_witnesses(given, need_entropy=not resume)
    if beacon is not None:
        beacon = beacon.strip()
        if not beacon:
            raise UserError("公开信标不能为空；不使用信标请去掉 --beacon。")
        witnesses.one_line("公开信标", beacon)
    users = authenticate([w.login for w in given], passwords, operator, ask)
    record.check_writable(out)
    draw = steps.prepare(task_code, operator.username, role=operator.role,
                         beacon_source=(beacon_source or (CLI_BEACON_SOURCE if beacon else "")))
    fresh = draw.state == "prepared" and not draw.witnesses.count()
    if not fresh and not resume:
        raise UserError(f"任务 {task_code} 已有进行中的摇号（第 {draw.attempt_no} 次，"
                        f"{steps.STEP_LABELS[draw.state]}）：用 kiosk draw {task_code} --resume "
                        f"继续，或 kiosk draw abort {task_code} --reason 理由 中止。")
    progress(f"第 {draw.attempt_no} 次摇号：{steps.STEP_LABELS[draw.state]}")
    try:
        return _advance(draw.id, operator, given, users, beacon, out, progress)
    except UserError as e:
        # A fresh draw that cannot go on before its reveal ends as an attempt on file, with
        # the reason; a resumed one stays open for another try (or `kiosk draw abort`).
        d = Draw.get_by_id(draw.id)
        if fresh and d.state not in (*steps.REVEALED_STATES, "sealed", "aborted"):
            steps.abort(draw.id, f"命令行摇号未完成：{e}", operator.username)
        raise


def _advance(draw_id: int, operator: User, given: list[Witness], users: list[User],
             beacon: str | None, out: Path, progress) -> dict:
    me = operator.username
    by_login = {u.username: u for u in users}
    entropy = {w.login: w.entropy for w in given}
    draw = Draw.get_by_id(draw_id)
    if draw.state in ("prepared", "witnesses"):
        signed = {w.account for w in draw.witnesses}
        for u in users:
            if u.username not in signed:
                witnesses.sign_in(draw_id, u)
        steps.commit(draw_id, me)
        progress(f"承诺值 {Draw.get_by_id(draw_id).commitment}")
    draw = Draw.get_by_id(draw_id)
    if draw.state == "committed":
        rows = list(draw.witnesses.order_by(DrawWitness.position))
        if draw.beacon_source and draw.beacon is None:
            if beacon is None:
                raise UserError(f"本次摇号声明了公开信标（{draw.beacon_source}），"
                                "请用 --beacon 录入其数值。")
            witnesses.set_beacon(draw_id, beacon, me)
        for w in rows:
            if w.entropy is not None:
                continue
            if w.account not in by_login or not entropy.get(w.account):
                raise UserError(f"签到的见证人 {w.account} 尚未录入随机数：请以 --witness "
                                f"{w.account}=随机数 提供。")
            witnesses.enter_entropy(draw_id, by_login[w.account], entropy[w.account])
    draw = Draw.get_by_id(draw_id)
    if draw.state == "entropy":
        steps.reveal(draw_id, me)
    draw = Draw.get_by_id(draw_id)
    if draw.state == "revealed":
        steps.match(draw_id, me)
    draw = Draw.get_by_id(draw_id)
    if draw.state == "matched":
        for w in draw.witnesses.order_by(DrawWitness.position):
            if w.confirmed_at is None:
                if w.account not in by_login:
                    raise UserError(f"见证人 {w.account} 尚未确认结果：请提供其账号和密码。")
                witnesses.confirm(draw_id, by_login[w.account])
    draw = Draw.get_by_id(draw_id)
    if draw.state == "confirmed":
        steps.seal(draw_id, me)
    from kiosk import confidential  # the operator's record: audited with its hash, 0600

    confidential.write_record(draw_id, out, operator)
    return record.export_record(Draw.get_by_id(draw_id))


def abort(task_code: str, reason: str, operator: User, passwords: dict[str, str], *,
          ask: Callable[[str], str] = _ask) -> Draw:
    """End the task's open attempt; after the reveal every signed-in witness agrees."""
    task = get_task(task_code)
    draw = steps.open_attempt(task)
    if draw is None:
        raise UserError(f"任务 {task.code} 没有进行中的摇号。")
    users: list[User] = []
    if draw.state in steps.REVEALED_STATES:
        logins = [w.account for w in draw.witnesses.order_by(DrawWitness.position)]
        users = authenticate(logins, passwords, operator, ask)
    # A killed process's lock is stale and taken over; a live terminal's is respected.
    steps.abort(draw.id, reason, operator.username, witnesses=users)
    return Draw.get_by_id(draw.id)
