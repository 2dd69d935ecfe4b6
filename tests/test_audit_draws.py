"""Every stored part of a sealed or aborted draw is covered: change any column of the draw,
its witnesses, amendments, assignments, teams or listings, and verify names that draw and
that part; the other draws still verify."""
from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json

import pytest

from db.models import (
    Assignment,
    AssignmentMember,
    AuditEvent,
    Draw,
    DrawAmendment,
    DrawListing,
    DrawWitness,
    Inspector,
    Item,
    PlanTask,
    Target,
)
from kiosk import audit


def _draw(task, attempt, state, targets, inspectors, salt):
    draw = Draw.create(task=task, attempt_no=attempt, state=state, operator=f"op{salt}",
                       draw_date=dt.date(task.year, 7, 14), pool_digest=f"{salt}a" * 32,
                       inspectors_digest=f"{salt}b" * 32, conflicts_digest=f"{salt}c" * 32,
                       strata_json='{"一般": {"ratio_bp": 100}}', team_size=2, pool_size=4,
                       commitment=f"{salt}d" * 32, system_entropy=f"{salt}e" * 32,
                       beacon=f"beacon {salt}", beacon_source=f"source {salt}",
                       seed=f"{salt}f" * 32, results_json=json.dumps({"salt": salt}),
                       abort_reason="结果不满意" if state == "aborted" else "",
                       sealed_at=dt.datetime(task.year, 7, 14, 10, 30),
                       record_json=json.dumps({"seed": salt, "audit_head": "h"}))
    for pos in range(2):
        DrawWitness.create(draw=draw, position=pos, name=f"见证{salt}{pos}",
                           organisation=f"单位{pos}", account=f"witness{pos + 1}",
                           entropy=f"{salt} {pos}")
        DrawAmendment.create(draw=draw, seq=pos, target_uscc=targets[pos].uscc,
                             inspector_cert=inspectors[pos].cert_no, reason=f"回避{pos}",
                             replacement_cert=inspectors[pos + 2].cert_no)
    for kind in ("inspectors", "pool"):
        body = f"{kind} {salt}".encode()
        DrawListing.create(draw=draw, kind=kind, digest=hashlib.sha256(body).hexdigest(),
                           rows=3, content=gzip.compress(body))
    for pos in range(2):
        a = Assignment.create(draw=draw, position=pos, task_code=f"{task.year}-07-{salt}{pos}",
                              target=targets[pos + 1], stratum=f"层{pos}")
        for m in range(2):
            AssignmentMember.create(assignment=a, inspector=inspectors[2 * pos + m],
                                    position=m)
    audit.record("operator", f"draw.{'seal' if state == 'sealed' else 'abort'}", "draw",
                 draw.id)
    return draw


@pytest.fixture
def draws(db):
    item = Item.create(code="RS-01", name="n", legal_basis="b", content="c", category="x",
                       lead_office="o")
    inspectors = [Inspector.create(cert_no=f"豫人社监{i:04d}", name=f"员{i}", office="大队")
                  for i in range(6)]
    targets = [Target.create(uscc=f"91411623MA000{i}AA{i}X", name=f"厂{i}", category="x")
               for i in range(5)]
    t26 = PlanTask.create(code="2026-RS-01-1", year=2026, item=item, round_no=1,
                          planned_month=3, state="planned")
    t27 = PlanTask.create(code="2027-RS-01-1", year=2027, item=item, round_no=1,
                          planned_month=3, state="drawn")
    aborted = _draw(t26, 1, "aborted", targets, inspectors, "1")
    sealed = _draw(t27, 2, "sealed", targets, inspectors, "2")
    assert audit.verify().ok
    return {"aborted": aborted, "sealed": sealed, "targets": targets,
            "inspectors": inspectors, "t26": t26}


def _seal_seq(draw) -> int:
    return AuditEvent.get((AuditEvent.entity == "draw")
                          & (AuditEvent.entity_id == str(draw.id))).seq


def test_each_draws_event_covers_its_own_years_plan(draws):
    covers = json.loads(AuditEvent.get(AuditEvent.seq == _seal_seq(draws["sealed"])).covers)
    assert set(covers) == {f"draw:{draws['sealed'].id}", "plan:2027"}
    covers = json.loads(AuditEvent.get(AuditEvent.seq == _seal_seq(draws["aborted"])).covers)
    assert set(covers) == {f"draw:{draws['aborted'].id}", "plan:2026"}


def _one(model, draw, **where):
    q = model.select().where(model.draw == draw)
    for k, v in where.items():
        q = q.where(getattr(model, k) == v)
    return q.get()


def _member(draw, pos, m):
    return (AssignmentMember.select().join(Assignment)
            .where((Assignment.draw == draw) & (Assignment.position == pos)
                   & (AssignmentMember.position == m)).get())


DRAW_FIELDS = {"attempt_no": 7, "state": "prepared", "operator": "mole",
               "draw_date": dt.date(2027, 7, 15), "pool_digest": "0" * 64,
               "inspectors_digest": "0" * 64, "conflicts_digest": "0" * 64,
               "strata_json": "{}", "team_size": 3, "pool_size": 5, "commitment": "0" * 64,
               "system_entropy": "0" * 64, "beacon": "other", "beacon_source": "other",
               "seed": "0" * 64, "results_json": "{}", "abort_reason": "x",
               "sealed_at": dt.datetime(2027, 7, 14, 11, 0),
               "record_json": json.dumps({"seed": "9", "audit_head": "h"})}


@pytest.mark.parametrize("field", sorted(DRAW_FIELDS))
def test_every_column_of_the_sealed_draw_is_covered(draws, field):
    d = draws["sealed"]
    Draw.update({getattr(Draw, field): DRAW_FIELDS[field]}).where(Draw.id == d.id).execute()
    msg = audit.verify().message
    if field == "state":  # no longer sealed: the draw as recorded is gone
        assert msg.startswith("任务 2027-RS-01-1 第 2 次摇号已不在库中或已被改回")
    else:  # the label names the draw as it now stands
        n = DRAW_FIELDS[field] if field == "attempt_no" else 2
        assert msg == (f"任务 2027-RS-01-1 第 {n} 次摇号的封存记录与第 {_seal_seq(d)} "
                       "条审计记录不符。")


def test_a_draw_moved_to_another_task_is_named(draws):
    d = draws["sealed"]
    Draw.update(task=draws["t26"]).where(Draw.id == d.id).execute()
    assert "封存记录与第" in audit.verify().message


def test_an_aborted_attempt_is_covered_too(draws):
    d = draws["aborted"]
    Draw.update(abort_reason="").where(Draw.id == d.id).execute()
    assert audit.verify().message == (f"任务 2026-RS-01-1 第 1 次摇号的封存记录与第 "
                                      f"{_seal_seq(d)} 条审计记录不符。")


CHANGES = [
    ("witnesses", lambda d, w: DrawWitness.update(entropy="9 9").where(
        DrawWitness.id == _one(DrawWitness, d, position=1).id).execute()),
    ("witnesses", lambda d, w: DrawWitness.update(account="mole").where(
        DrawWitness.id == _one(DrawWitness, d, position=1).id).execute()),
    ("witnesses", lambda d, w: DrawWitness.update(name="冒名").where(
        DrawWitness.id == _one(DrawWitness, d, position=0).id).execute()),
    ("witnesses", lambda d, w: DrawWitness.update(organisation="别处").where(
        DrawWitness.id == _one(DrawWitness, d, position=0).id).execute()),
    ("witnesses", lambda d, w: DrawWitness.update(position=5).where(
        DrawWitness.id == _one(DrawWitness, d, position=0).id).execute()),
    ("witnesses", lambda d, w: DrawAmendment.update(seq=9).where(
        DrawAmendment.id == _one(DrawAmendment, d, seq=1).id).execute()),
    ("witnesses", lambda d, w: DrawAmendment.update(target_uscc=w["targets"][4].uscc).where(
        DrawAmendment.id == _one(DrawAmendment, d, seq=1).id).execute()),
    ("witnesses", lambda d, w: DrawAmendment.update(inspector_cert="豫人社监0005").where(
        DrawAmendment.id == _one(DrawAmendment, d, seq=1).id).execute()),
    ("witnesses", lambda d, w: DrawAmendment.update(reason="改").where(
        DrawAmendment.id == _one(DrawAmendment, d, seq=1).id).execute()),
    ("witnesses", lambda d, w: DrawAmendment.update(replacement_cert="豫人社监0005").where(
        DrawAmendment.id == _one(DrawAmendment, d, seq=1).id).execute()),
    ("witnesses", lambda d, w: DrawAmendment.delete().where(
        DrawAmendment.id == _one(DrawAmendment, d, seq=0).id).execute()),
    ("targets", lambda d, w: Assignment.update(task_code="2027-07-9999").where(
        Assignment.id == _one(Assignment, d, position=1).id).execute()),
    ("targets", lambda d, w: Assignment.update(target=w["targets"][4]).where(
        Assignment.id == _one(Assignment, d, position=1).id).execute()),
    ("targets", lambda d, w: Assignment.update(stratum="特殊").where(
        Assignment.id == _one(Assignment, d, position=1).id).execute()),
    ("targets", lambda d, w: Assignment.update(position=7).where(
        Assignment.id == _one(Assignment, d, position=1).id).execute()),
    ("teams", lambda d, w: AssignmentMember.update(inspector=w["inspectors"][5]).where(
        AssignmentMember.id == _member(d, 1, 1).id).execute()),
    ("teams", lambda d, w: AssignmentMember.update(position=4).where(
        AssignmentMember.id == _member(d, 0, 1).id).execute()),
    ("teams", lambda d, w: AssignmentMember.delete().where(
        AssignmentMember.id == _member(d, 0, 0).id).execute()),
    ("listings", lambda d, w: DrawListing.update(content=gzip.compress(b"forged")).where(
        DrawListing.id == _one(DrawListing, d, kind="pool").id).execute()),
    ("listings", lambda d, w: DrawListing.update(digest="0" * 64).where(
        DrawListing.id == _one(DrawListing, d, kind="inspectors").id).execute()),
    ("listings", lambda d, w: DrawListing.update(rows=9).where(
        DrawListing.id == _one(DrawListing, d, kind="pool").id).execute()),
    ("listings", lambda d, w: DrawListing.update(kind="conflicts").where(
        DrawListing.id == _one(DrawListing, d, kind="pool").id).execute()),
]
PART = {"witnesses": "见证与更正", "targets": "抽中对象", "teams": "检查组成员",
        "listings": "冻结名单"}


@pytest.mark.parametrize("part, change", CHANGES,
                         ids=[f"{p}-{i}" for i, (p, _) in enumerate(CHANGES)])
def test_every_row_under_the_sealed_draw_is_covered(draws, part, change):
    d = draws["sealed"]
    change(d, draws)
    assert audit.verify().message == (f"任务 2027-RS-01-1 第 2 次摇号的{PART[part]}与第 "
                                      f"{_seal_seq(d)} 条审计记录不符。")


def _reinsert(model, row):
    """Delete a row and insert it again unchanged: it gets a new id and moves to the end of
    the table, as a restore or a VACUUM may leave it."""
    data = {f: getattr(row, f + "_id" if isinstance(model._meta.fields[f], type(
        Assignment.draw)) else f) for f in model._meta.fields if f != "id"}
    model.delete().where(model.id == row.id).execute()
    model.insert(**data).execute()


def test_rows_stored_in_another_order_still_verify(draws):
    """Hashes read rows in a fixed order, never in the order the database returns them."""
    d = draws["sealed"]
    _reinsert(DrawWitness, _one(DrawWitness, d, position=0))
    _reinsert(DrawAmendment, _one(DrawAmendment, d, seq=0))
    _reinsert(DrawListing, _one(DrawListing, d, kind="inspectors"))
    _reinsert(AssignmentMember, _member(d, 0, 0))
    _reinsert(AssignmentMember, _member(d, 1, 0))
    first = _one(Assignment, d, position=0)
    members = list(AssignmentMember.select().where(AssignmentMember.assignment == first))
    for m in members:
        AssignmentMember.delete().where(AssignmentMember.id == m.id).execute()
    _reinsert(Assignment, first)
    again = _one(Assignment, d, position=0)
    for m in members:
        AssignmentMember.create(assignment=again, inspector=m.inspector_id, position=m.position)
    v = audit.verify()
    assert v.ok, v.message


def test_the_draws_task_code_is_in_its_hash(draws):
    from kiosk.audit import cover

    d = draws["sealed"]
    before = cover.hash_draw(str(d.id))
    PlanTask.update(code="2027-RS-01-9").where(PlanTask.id == d.task_id).execute()
    after = cover.hash_draw(str(d.id))
    assert after["record"] != before["record"] and after["targets"] == before["targets"]
