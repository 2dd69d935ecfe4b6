"""Art. 12 at every exit: a drawn list leaves the kiosk only through these guarded writers.

Each asks kiosk.access.may_see_draw_result, logs a refusal (audit event `confidential.refused`)
before saying one sentence, and writes what it permits through audited_export (the file's
SHA-256 in the chain, owner-only 0600).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from db.models import Assignment, Draw, User
from kiosk import access, audit
from kiosk.errors import UserError
from kiosk.store import write_tx


def user_of(actor: User | str | None) -> User | None:
    """The account behind a login (services that were handed a login string)."""
    if actor is None or isinstance(actor, User):
        return actor
    return User.get_or_none(User.username == actor)


def _login(actor: User | str | None) -> str:
    if isinstance(actor, User):
        return actor.username
    return actor or "unknown"


def display_name(login: str | None) -> str:
    """A login's real name for printed matter (GB/T 9704: names, not accounts)."""
    if not login:
        return ""
    name = User.select(User.display_name).where(User.username == login).scalar()
    return name or login


def refuse(actor: User | str | None, draw: Draw, purpose: str, **detail: object) -> UserError:
    """Log the refusal in its own transaction (it must outlive the caller's) and return the
    sentence to raise."""
    user = user_of(actor)
    with write_tx():
        audit.record(_login(actor), "confidential.refused", "draw", draw.id, purpose=purpose,
                     role=user.role if user else None, task=draw.task.code, **detail)
    return UserError(access.MAY_NOT_SEE_RESULT)


def require(actor: User | str | None, draw: Draw | int, purpose: str,
            assignment: Assignment | int | None = None) -> User:
    """The account, if it may have this draw's result for `purpose`; else logged and refused."""
    draw = draw if isinstance(draw, Draw) else _draw(draw)
    user = user_of(actor)
    if not access.may_see_draw_result(actor, draw, purpose, assignment):
        extra = {"assignment": getattr(assignment, "id", assignment)} if assignment else {}
        raise refuse(actor, draw, purpose, **extra)
    return user


def _draw(draw_id: int) -> Draw:
    draw = Draw.get_or_none(Draw.id == draw_id)
    if draw is None:
        raise UserError(f"摇号记录 {draw_id} 不存在。")
    return draw


def write_file(actor: User | str | None, draw: Draw, purpose: str, path: Path,
               write_fn: Callable[[Path], object], **detail: object) -> Path:
    """One permitted file: audited with its hash, owner-only, atomic."""
    audit.audited_export(_login(actor), "draw", path, write_fn, action=f"draw.{purpose}",
                         draw=draw.id, task=draw.task.code,
                         published=access.is_published(draw.id), **detail)
    return path


def write_record(draw_id: int, path, actor: User | str | None) -> Path:
    """The sealed draw's record at `path` and its three listings beside it, each audited."""
    from kiosk.draw import record
    from kiosk.draw.pool import listing_bytes

    draw = _draw(draw_id)
    require(actor, draw, "record")
    rec = record.export_record(draw)
    path = Path(path)
    record.check_writable(path)
    for kind in record.LISTINGS:
        data = listing_bytes(draw, kind)
        write_file(actor, draw, "record", path.parent / f"{kind}.tsv",
                   lambda p, data=data: p.write_bytes(data), listing=kind)
    body = json.dumps(rec, ensure_ascii=False, indent=1).encode()
    return write_file(actor, draw, "record", path, lambda p: p.write_bytes(body))


def render_document(draw_id: int, kind: str, out: Path, actor: User | str | None) -> Path:
    """The protocol or the pre-draw sheet, rendered for an account that may have it."""
    from kiosk import printing
    from kiosk.draw.view import print_info

    draw = _draw(draw_id)
    require(actor, draw, kind)
    info = print_info(draw_id)
    info["confidential"] = not access.is_published(draw.id)
    info["draw_id"] = draw.id
    info["operator_name"] = display_name(draw.operator)
    # Art. 11: the joint departments, from the match on (the sealed record keeps them).
    joint = (json.loads(draw.record_json or "{}").get("joint")
             or json.loads(draw.results_json or "{}").get("joint"))
    if joint:
        info["joint"] = joint
    render = printing.render_protocol if kind == "protocol" else printing.render_predraw_sheet
    return write_file(actor, draw, kind, Path(out), lambda p: render(info, p))


def mask_names(user: User | None, rows: list, name_field: str = "target_name") -> list:
    """List rows (dataclasses with `task_code`) with the firm's name replaced by the task code
    where the user has no need for it before publication (Art. 12: Deadlines, Review)."""
    import dataclasses

    if not rows:
        return rows
    codes = sorted({r.task_code for r in rows})
    tasks: dict[str, Assignment] = {}
    for i in range(0, len(codes), 500):
        tasks.update((a.task_code, a) for a in Assignment.select()
                     .where(Assignment.task_code.in_(codes[i:i + 500])))
    seen: dict[str, bool] = {}
    for code, a in tasks.items():
        seen[code] = access.may_see_draw_result(user, a.draw_id, "list", a)
    return [r if seen.get(r.task_code) else dataclasses.replace(r, **{name_field: r.task_code})
            for r in rows]
