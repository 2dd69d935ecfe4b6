"""What the chain covers besides its own events: one content-hash function per kind of row.

An event about a covered subject (a sealed or aborted draw with its assignments, teams,
witnesses and listings; a final report with its findings and evidence list; a rectification;
a user and role; a setting; the year's plan) carries the hash of that subject's live rows,
part by part, taken in the event's own transaction. `kiosk audit verify` hashes the live rows
again and compares them with the LAST event that covered each subject, so a row changed
behind the kiosk's back is named, with the part that changed.

Other areas register their own kinds with `register(...)` (publication, penalties, ...).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from db.models import (
    Assignment,
    AssignmentMember,
    Draw,
    DrawAmendment,
    DrawListing,
    DrawWitness,
    Evidence,
    Inspector,
    Item,
    PlanTask,
    Rectification,
    Report,
    Setting,
    Target,
    User,
)

Parts = dict[str, str]


@dataclass(frozen=True)
class Kind:
    """A kind of covered subject.

    hash: the subject's parts hashed, or None when it does not exist or is not (any more) in a
    covered state; label: how a sentence names the subject; parts: part -> Chinese label;
    derived: the other subjects an event about this one also covers; every: the ids of all
    live subjects that must have been covered at least once (None: not checked)."""

    name: str
    hash: Callable[[str], Parts | None]
    label: Callable[[str], str]
    parts: dict[str, str]
    derived: Callable[[str], Iterable[tuple[str, str]]] = lambda _id: ()
    every: Callable[[], Iterable[str]] | None = None
    entities: tuple[str, ...] = field(default=())  # other event entity names for this kind
    canon: Callable[[str], str | None] = lambda ident: ident  # the id the hash is keyed by


COVERED: dict[str, Kind] = {}
# Event entity -> kind, for entity names that differ from the kind's name.
_ENTITY_KIND: dict[str, str] = {}


def register(kind: Kind) -> None:
    COVERED[kind.name] = kind
    for e in (kind.name, *kind.entities):
        _ENTITY_KIND[e] = kind.name


def digest(value: object) -> str:
    body = json.dumps(value, separators=(",", ":"), sort_keys=True, default=str,
                      ensure_ascii=False)  # pragma: no mutate (None: falsy, the same)
    return hashlib.sha256(body.encode()).hexdigest()


def key(kind: str, ident: object) -> str:
    return f"{kind}:{ident}"


def split_key(k: str) -> tuple[str, str]:
    kind, _, ident = k.partition(":")
    return kind, ident


def subjects(entity: str, entity_id: str,
             extra: Iterable[tuple[str, object]] = ()) -> list[tuple[str, str]]:
    """The covered subjects an event about (entity, entity_id) concerns, extras included."""
    out: list[tuple[str, str]] = []
    for ent, raw in ((entity, entity_id), *extra):
        name = _ENTITY_KIND.get(ent)
        if name is None or raw == "":
            continue
        kind = COVERED[name]
        ident = kind.canon(str(raw))
        if ident is None:
            continue
        out.append((name, ident))
        out.extend((k, str(i)) for k, i in kind.derived(ident))
    return list(dict.fromkeys(out))  # each once, in order


def snapshot(entity: str, entity_id: str, extra: Iterable[tuple[str, object]] = ()) -> str:
    """The `covers` JSON of an event: the live hashes of every covered subject it concerns."""
    snap: dict[str, Parts] = {}
    for kind, ident in subjects(entity, entity_id, extra):
        parts = live(kind, ident)
        if parts is not None:
            snap[key(kind, ident)] = parts
    if not snap:
        return ""
    return json.dumps(snap, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)  # pragma: no mutate (None: falsy, the same)


def live(kind: str, ident: str) -> Parts | None:
    return COVERED[kind].hash(ident)


# ---------------------------------------------------------------- draws


def _draw(ident: str) -> Draw | None:
    return Draw.get_or_none(Draw.id == int(ident)) if ident.isdigit() else None


def _record_without_head(text: str) -> object:
    """The sealed record minus its audit_head: the head is the hash of the very event that
    covers the record, so it is checked against the chain instead of hashed into it."""
    if not text:
        return ""
    try:
        rec = json.loads(text)
    except ValueError:
        return text
    if isinstance(rec, dict):
        rec.pop("audit_head", None)
    return rec


def hash_draw(ident: str) -> Parts | None:
    draw = _draw(ident)
    if draw is None or draw.state not in ("sealed", "aborted"):
        return None
    code = PlanTask.select(PlanTask.code).where(PlanTask.id == draw.task_id).scalar()
    record = [code, draw.attempt_no, draw.state, draw.operator,
              draw.draw_date, draw.pool_digest, draw.inspectors_digest, draw.conflicts_digest,
              draw.strata_json, draw.team_size, draw.pool_size, draw.commitment,
              draw.system_entropy, draw.beacon, draw.seed, draw.results_json,
              draw.abort_reason, draw.sealed_at, _record_without_head(draw.record_json),
              draw.beacon_source]
    witnesses = [[w.position, w.name, w.organisation, w.entropy, w.account]
                 for w in DrawWitness.select().where(DrawWitness.draw == draw.id)
                 .order_by(DrawWitness.position)]
    amendments_q = DrawAmendment.select(
        DrawAmendment.seq, DrawAmendment.target_uscc, DrawAmendment.inspector_cert,
        DrawAmendment.reason, DrawAmendment.replacement_cert).where(
        DrawAmendment.draw == draw.id)
    # No mutate: the unique index (draw, seq) already yields seq order on SQLite, so the
    # mutant ORDER BY NULL cannot show there; PostgreSQL needs the ORDER BY.
    amendments = list(amendments_q.order_by(DrawAmendment.seq).tuples())  # pragma: no mutate
    targets = list(Assignment.select(Assignment.position, Assignment.task_code, Target.uscc,
                                     Assignment.stratum)
                   .join(Target).where(Assignment.draw == draw.id)
                   .order_by(Assignment.position).tuples())
    teams = list(AssignmentMember.select(Assignment.position, Inspector.cert_no,
                                         AssignmentMember.position)
                 .join(Assignment).switch().join(Inspector)
                 .where(Assignment.draw == draw.id)
                 .order_by(Assignment.position, AssignmentMember.position).tuples())
    listings = [[kind, dig, rows, hashlib.sha256(bytes(content)).hexdigest()]
                for kind, dig, rows, content in DrawListing.select(
                    DrawListing.kind, DrawListing.digest, DrawListing.rows, DrawListing.content)
                .where(DrawListing.draw == draw.id).order_by(DrawListing.kind).tuples()]
    return {"record": digest(record), "witnesses": digest([witnesses, amendments]),
            "targets": digest(targets), "teams": digest(teams), "listings": digest(listings)}


def label_draw(ident: str) -> str:
    draw = _draw(ident)
    task = PlanTask.get_or_none(PlanTask.id == draw.task_id) if draw else None
    if task is None:
        return f"摇号记录 {ident}"
    return f"任务 {task.code} 第 {draw.attempt_no} 次摇号"


def _draw_plan(ident: str) -> Iterable[tuple[str, str]]:
    draw = _draw(ident)
    task = PlanTask.get_or_none(PlanTask.id == draw.task_id) if draw else None
    return [("plan", str(task.year))] if task else []


register(Kind("draw", hash_draw, label_draw,
              {"record": "封存记录", "witnesses": "见证与更正", "targets": "抽中对象",
               "teams": "检查组成员", "listings": "冻结名单"}, derived=_draw_plan))


# ---------------------------------------------------------------- reports and rectifications


def _report(ident: str) -> Report | None:
    return Report.get_or_none(Report.id == int(ident)) if ident.isdigit() else None


_REPORT_BODY = ("inspection_start", "inspection_end", "method", "inspectors_present", "unit",
                "content_checked", "onsite_record", "evaluation", "submitted_by",
                "submitted_at", "reviewed_by", "reviewed_at", "review_note", "finalised_at")


def hash_report(ident: str) -> Parts | None:
    """A final report only: drafts change with every autosave and are not yet a record."""
    r = _report(ident)
    if r is None or r.state != "final":
        return None
    # A withdrawn file carries its mark; a file never withdrawn keeps the three fields it
    # always had, so digests recorded before withdrawal existed still verify.
    evidence = [(f, sha, size) if at is None else (f, sha, size, "withdrawn", by, why)
                for f, sha, size, at, by, why in
                Evidence.select(Evidence.filename, Evidence.sha256, Evidence.size,
                                Evidence.withdrawn_at, Evidence.withdrawn_by,
                                Evidence.withdraw_reason)
                .where(Evidence.report == r.id).order_by(Evidence.sha256).tuples()]
    return {"finding": digest([r.assignment_id, r.finding, r.rectify_deadline, r.opinion]),
            "body": digest([getattr(r, f) for f in _REPORT_BODY]),
            "evidence": digest(evidence)}


def _task_code_of_report(report_id: int) -> str | None:
    row = (Assignment.select(Assignment.task_code).join(Report)
           .where(Report.id == report_id).tuples().first())
    return row[0] if row else None


def label_report(ident: str) -> str:
    code = _task_code_of_report(int(ident)) if ident.isdigit() else None
    return f"任务 {code}" if code else f"检查报告 {ident}"


def _report_rectifications(ident: str) -> Iterable[tuple[str, str]]:
    if not ident.isdigit():
        return []
    from db.models import EnforcementCase

    return [("rectification", str(i)) for (i,) in Rectification.select(Rectification.id)
            .where(Rectification.report == int(ident)).tuples()] + [
        ("case", str(i)) for (i,) in EnforcementCase.select(EnforcementCase.id)
        .where(EnforcementCase.report == int(ident)).tuples()]


register(Kind("report", hash_report, label_report,
              {"finding": "检查结论", "body": "检查报告", "evidence": "证据清单"},
              derived=_report_rectifications))


def hash_rectification(ident: str) -> Parts | None:
    r = Rectification.get_or_none(Rectification.id == int(ident)) if ident.isdigit() else None
    if r is None:
        return None
    return {"state": digest([r.report_id, r.deadline, r.closed_at, r.closed_by, r.note])}


def label_rectification(ident: str) -> str:
    r = Rectification.get_or_none(Rectification.id == int(ident)) if ident.isdigit() else None
    code = _task_code_of_report(r.report_id) if r else None
    return f"任务 {code} 的整改" if code else f"整改记录 {ident}"


def _rectification_case(ident: str) -> Iterable[tuple[str, str]]:
    from db.models import EnforcementCase

    if not ident.isdigit():
        return []
    return [("case", str(i)) for (i,) in EnforcementCase.select(EnforcementCase.id)
            .where(EnforcementCase.rectification == int(ident)).tuples()]


register(Kind("rectification", hash_rectification, label_rectification,
              {"state": "期限与销号"}, derived=_rectification_case))


# ---------------------------------------------------------------- users, settings, plans


def hash_user(ident: str) -> Parts | None:
    u = User.get_or_none(User.username == ident)
    if u is None:
        return None
    # No inspector: `id IS NULL` finds no row, and the cert is None.
    cert = Inspector.select(Inspector.cert_no).where(Inspector.id == u.inspector_id).scalar()
    account = [u.display_name, u.password_hash, u.office, cert]
    if u.must_change:  # appended only when set: older hashes still match
        account.append("must_change")
    return {"role": digest([u.role, bool(u.active)]), "account": digest(account)}


def _all_users() -> Iterable[str]:
    return [n for (n,) in User.select(User.username).tuples()]


def _login(ident: str) -> str:
    """Users are covered by login; an event that names one by id ("user", 5) still counts."""
    if ident.isdigit() and not User.select().where(User.username == ident).exists():
        row = User.select(User.username).where(User.id == int(ident)).tuples().first()
        if row:
            return row[0]
    return ident


register(Kind("user", hash_user, lambda i: f"用户 {i}", {"role": "角色", "account": "账户"},
              every=_all_users, canon=_login))


def hash_setting(ident: str) -> Parts | None:
    row = Setting.select(Setting.value).where(Setting.key == ident).tuples().first()
    return None if row is None else {"value": digest(row[0])}


def _all_settings() -> Iterable[str]:
    return [k for (k,) in Setting.select(Setting.key).tuples()]


register(Kind("setting", hash_setting, lambda i: f"设置 {i}", {"value": "取值"},
              every=_all_settings))


def _plan_year(ident: str) -> str | None:
    if ident.isdigit():
        return ident
    row = PlanTask.select(PlanTask.year).where(PlanTask.code == ident).tuples().first()
    return str(row[0]) if row else None


def hash_plan(ident: str) -> Parts | None:
    year = _plan_year(ident)
    if year is None:
        return None
    # Approval and notes appended only when present: hashes of older plans still match.
    tasks = [[*row[:5], *(row[5:7] if row[5] else ()), *((row[7],) if row[7] else ())]
             for row in PlanTask.select(
        PlanTask.code, Item.code, PlanTask.round_no, PlanTask.planned_month, PlanTask.state,
        PlanTask.approved_by, PlanTask.approved_at, PlanTask.note)
        .join(Item).where(PlanTask.year == int(year)).order_by(PlanTask.code).tuples()]
    return {"tasks": digest(tasks)} if tasks else None


register(Kind("plan", hash_plan, lambda i: f"{i} 年度抽查计划", {"tasks": "计划任务及其状态"},
              entities=("task",), canon=_plan_year))


# ---------------------------------------------------------------- publications (issue 10)


def hash_publication(ident: str) -> Parts | None:
    """A published version: the kit's file hashes and what it said; changing a published
    version behind the kiosk's back is named (a new version is a new row)."""
    from db.models import Publication

    p = Publication.get_or_none(Publication.id == int(ident)) if ident.isdigit() else None
    if p is None:
        return None
    return {"kit": digest([p.kind, p.draw_id, p.version, p.published_by, p.published_at,
                           p.effective_date, p.files_json]),
            "results": digest(p.results_json)}


def label_publication(ident: str) -> str:
    from db.models import Publication

    p = Publication.get_or_none(Publication.id == int(ident)) if ident.isdigit() else None
    if p is None:
        return f"公示 {ident}"
    what = f"摇号 {p.draw_id} 的结果公示" if p.kind == "draw" else "公示名录"
    return f"{what}第 {p.version} 版"


register(Kind("publication", hash_publication, label_publication,
              {"kit": "公示文件及其摘要", "results": "公示的查处结果"}))


# ---------------------------------------------------------------- cases and sanctions (issue 11)


def hash_case(ident: str) -> Parts | None:
    """A finding's case (Art. 10): its state and deadline, and every field of its steps."""
    from db.models import EnforcementCase

    c = EnforcementCase.get_or_none(EnforcementCase.id == int(ident)) if ident.isdigit() else None
    if c is None:
        return None
    return {"state": digest([c.report_id, c.kind, c.state, c.opened_at, c.deadline,
                             c.closed_at, c.closed_by]),
            "fields": digest([c.rectification_id, c.reinspected_on, c.reinspection,
                              c.decision_no, c.decision_date, c.amount_fen, c.paid_on,
                              c.appealed_on, c.organ, c.transferred_on, c.receipt_no,
                              c.outcome])}


def label_case(ident: str) -> str:
    from db.models import EnforcementCase

    c = EnforcementCase.get_or_none(EnforcementCase.id == int(ident)) if ident.isdigit() else None
    code = _task_code_of_report(c.report_id) if c else None
    return f"任务 {code} 的{c.kind}案件" if code else f"执法案件 {ident}"


register(Kind("case", hash_case, label_case, {"state": "状态与期限", "fields": "办理情况"}))


def hash_sanction(ident: str) -> Parts | None:
    """A sanction on an inspector (Art. 18): who, what, when and why."""
    from db.models import Sanction

    s = Sanction.get_or_none(Sanction.id == int(ident)) if ident.isdigit() else None
    if s is None:
        return None
    cert = Inspector.select(Inspector.cert_no).where(Inspector.id == s.inspector_id).scalar()
    return {"sanction": digest([cert, s.kind, s.start_date, s.end_date, s.reason,
                                s.decided_by, s.recorded_by, s.recorded_at])}


register(Kind("sanction", hash_sanction, lambda i: f"执法人员处理记录 {i}",
              {"sanction": "处理种类、期间与理由"}))
