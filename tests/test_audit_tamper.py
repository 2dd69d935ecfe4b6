"""`kiosk audit verify` against an intruder with write access to the store (the `sqlite3`
shell, a PostgreSQL DBA): every change below is named, on SQLite and on PostgreSQL.

The intruder drops the append-only triggers first, as a DBA could. The store is built with
the models and audit.record directly, so these tests do not depend on how a ceremony or a
report workflow happens to write its rows: only on what the chain covers.
"""
from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json

import peewee
import pytest

from db.connection import data_dir_for
from db.migrations import drop_audit_triggers
from db.models import (
    Assignment,
    AssignmentMember,
    AuditEvent,
    Draw,
    DrawListing,
    DrawWitness,
    Evidence,
    Inspector,
    Item,
    PlanTask,
    Report,
    Setting,
    Target,
    User,
)
from kiosk import audit, auth, settings
from kiosk.audit import anchor
from kiosk.audit.chain import at_text, entry_hash

YEAR = 2026
CERTS = [f"豫人社监{n:04d}" for n in range(1, 7)]
USCCS = ["91411623MA0001AA1X", "91411623MA0002BB2Y", "91411623MA0003CC3Z",
         "91411623MA0004DD4A"]


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.postgres)])
def store(request):
    return request.getfixturevalue("db" if request.param == "sqlite" else "pg_db")


def intrude(db):
    """What a DBA can do first: lift the append-only triggers (left off afterwards)."""
    with db.atomic():
        drop_audit_triggers(db)


def _seal_draw(task: PlanTask, attempt: int, picks: list[int], targets, inspectors) -> Draw:
    """A sealed attempt of `task` written the way the ceremony leaves it, with its events."""
    audit.record("operator", "draw.prepare", "draw", "", task=task.code, attempt=attempt)
    draw = Draw.create(task=task, attempt_no=attempt, state="sealed", operator="operator",
                       draw_date=dt.date(YEAR, 7, 14), pool_digest="a" * 64,
                       inspectors_digest="b" * 64, conflicts_digest="c" * 64,
                       strata_json='{"一般": {"ratio_bp": 100}}', seed=f"{attempt:064x}",
                       record_json=json.dumps({"seed": f"{attempt:064x}", "audit_head": "x"}),
                       sealed_at=dt.datetime(YEAR, 7, 14, 10, 30))
    pool = "\n".join(t.uscc for t in targets).encode()
    DrawListing.create(draw=draw, kind="pool", digest=hashlib.sha256(pool).hexdigest(),
                       rows=len(targets), content=gzip.compress(pool))
    for pos, name in enumerate(["witness1", "witness2"]):
        DrawWitness.create(draw=draw, position=pos, name=name, entropy=f"{pos} 3 5")
    for pos, k in enumerate(picks):
        a = Assignment.create(draw=draw, position=pos, task_code=f"{YEAR}-07-{attempt}{pos:03d}",
                              target=targets[k], stratum="一般")
        for m in range(2):
            AssignmentMember.create(assignment=a, inspector=inspectors[(2 * pos + m) % 6],
                                    position=m)
    task.state = "drawn"
    task.save()
    audit.record("operator", "draw.seal", "draw", draw.id, task=task.code, seed=draw.seed)
    return draw


def build(today_files=True) -> dict:
    """Users, settings, a plan, a sealed draw, a final report with evidence and its archive."""
    auth.create_user("admin", "admin123", "admin", "赵文静", actor="test")
    auth.create_user("leader", "leader123", "leader", "吴建华", actor="admin")
    settings.put("bureau_name", "商水县人力资源和社会保障局", actor="admin")
    settings.put("witness_quorum", "2", actor="admin")
    item = Item.create(code="RS-01", name="劳动合同检查", legal_basis="《劳动合同法》",
                       content="劳动合同", category="用人单位", lead_office="劳动关系股")
    tasks = [PlanTask.create(code=f"{YEAR}-RS-01-{r}", year=YEAR, item=item, round_no=r,
                             planned_month=3 * r) for r in (1, 2, 3)]
    audit.record("leader", "plan.make", "plan", YEAR, tasks=[t.code for t in tasks])
    inspectors = [Inspector.create(cert_no=c, name=f"检查员{n}", office="劳动保障监察大队")
                  for n, c in enumerate(CERTS)]
    targets = [Target.create(uscc=u, name=f"商水县第{n}有限公司", category="用人单位")
               for n, u in enumerate(USCCS)]
    draw = _seal_draw(tasks[0], 1, [0, 2], targets, inspectors)
    a = Assignment.get((Assignment.draw == draw) & (Assignment.position == 0))
    report = Report.create(assignment=a, state="final", finding="行政处罚", opinion="罚款",
                           evaluation="未签劳动合同", submitted_by="insp01")
    base = data_dir_for(AuditEvent._meta.database)
    (base / "evidence").mkdir(parents=True, exist_ok=True)
    photo = b"\xff\xd8 a photo of the payroll"
    sha = hashlib.sha256(photo).hexdigest()
    (base / "evidence" / f"{sha}.jpg").write_bytes(photo)
    Evidence.create(report=report, filename="工资表.jpg", sha256=sha, size=len(photo),
                    stored_path=f"evidence/{sha}.jpg", added_by="insp01")
    audit.record("reviewer", "report.finalise", "report", report.id, finding=report.finding)
    (base / "archive").mkdir(parents=True, exist_ok=True)
    pdf = b"%PDF-1.4 the final report"
    (base / "archive" / f"{a.task_code}.pdf").write_bytes(pdf)
    audit.record("reviewer", "report.archive", "report", report.id,
                 path=f"{a.task_code}.pdf", sha256=hashlib.sha256(pdf).hexdigest(),
                 size=len(pdf))
    for i in range(10):
        audit.record("operator", "test.filler", "thing", i)
    return {"draw": draw, "report": report, "assignment": a, "tasks": tasks,
            "targets": targets, "inspectors": inspectors, "base": base}


def check(head=None):
    v = audit.verify(head)
    assert "Traceback" not in v.message
    return v


def fails(head=None) -> str:
    v = check(head)
    assert not v.ok, v.message
    return v.message


# ---------------------------------------------------------------- honest stores


def test_honest_store_verifies_and_names_its_full_head(store):
    built = build()
    v = check()
    assert v.ok, v.message
    seq, h = audit.head()
    assert v.head == (seq, h) and len(h) == 64
    assert f"链头 {seq}:{h}" in v.message
    assert anchor.read() == (seq, h)
    assert oct(anchor.path().stat().st_mode & 0o777) == "0o600"
    assert audit.head_text() == f"{seq}:{h}"
    assert check((seq, h)).ok
    # The covered subjects are in the sentence's count: draw, report, plan, users, settings.
    assert built["draw"].state == "sealed"


def test_the_audit_table_refuses_update_and_delete(store):
    build()
    for statement in (AuditEvent.update(actor="nobody").where(AuditEvent.seq == 2),
                      AuditEvent.delete().where(AuditEvent.seq == AuditEvent.select(
                          peewee.fn.MAX(AuditEvent.seq)).scalar())):
        with pytest.raises(peewee.DatabaseError, match="append-only"):
            with store.atomic():
                statement.execute()
    if isinstance(store, peewee.PostgresqlDatabase):
        with pytest.raises(peewee.DatabaseError, match="append-only"):
            with store.atomic():
                store.execute_sql("TRUNCATE audit_event")
    assert check().ok


# ---------------------------------------------------------------- the chain itself


def test_an_edited_event_is_named(store):
    build()
    intrude(store)
    AuditEvent.update(detail='{"finding":"无问题"}').where(AuditEvent.seq == 7).execute()
    assert "第 7 条" in fails() and "篡改" in fails()


@pytest.mark.parametrize("which", ["first", "middle"])
def test_a_deleted_event_is_named(store, which):
    build()
    intrude(store)
    seq = 1 if which == "first" else 6
    AuditEvent.delete().where(AuditEvent.seq == seq).execute()
    assert f"第 {seq} 条缺失" in fails()


@pytest.mark.parametrize("n", [1, 9])
def test_deleting_the_tail_is_caught_by_the_local_anchor(store, n):
    build()
    total = AuditEvent.select().count()
    intrude(store)
    AuditEvent.delete().where(AuditEvent.seq > total - n).execute()
    msg = fails()
    assert f"只有 {total - n} 条" in msg and f"第 {total} 条" in msg and "本终端" in msg


def test_emptying_the_table_is_caught_by_the_local_anchor(store):
    build()
    intrude(store)
    AuditEvent.delete().execute()
    assert "只有 0 条" in fails()


def test_two_swapped_events_are_named(store):
    build()
    intrude(store)
    a = AuditEvent.get(AuditEvent.seq == 4)
    b = AuditEvent.get(AuditEvent.seq == 5)
    AuditEvent.update(seq=-1).where(AuditEvent.id == a.id).execute()
    AuditEvent.update(seq=4).where(AuditEvent.id == b.id).execute()
    AuditEvent.update(seq=5).where(AuditEvent.id == a.id).execute()
    assert "第 4 条" in fails()


def _rehash_from(seq: int) -> None:
    """The intruder's full rewrite: every hash from `seq` on recomputed, links included."""
    prev = AuditEvent.get(AuditEvent.seq == seq - 1).hash if seq > 1 else audit.GENESIS
    for ev in AuditEvent.select().where(AuditEvent.seq >= seq).order_by(AuditEvent.seq):
        h = entry_hash(prev, ev.seq, at_text(ev.at), ev.actor, ev.action, ev.entity,
                       ev.entity_id, ev.detail, ev.covers)
        AuditEvent.update(prev_hash=prev, hash=h).where(AuditEvent.id == ev.id).execute()
        prev = h


def test_a_rewritten_and_rehashed_chain_is_caught_by_the_anchor_and_a_published_head(store):
    build()
    published = audit.head()
    audit.record("operator", "test.after", "thing", 1)
    intrude(store)
    AuditEvent.update(actor="leader").where(AuditEvent.seq == 3).execute()
    _rehash_from(3)
    assert "本终端保存的链头" in fails()
    anchor.reset()  # an intruder who also wiped this terminal's anchor
    assert check().ok  # the chain alone is self-consistent again ...
    msg = fails(published)  # ... but not with the head printed earlier
    assert f"第 {published[0]} 条与所给链头不符" in msg
    assert "只有" in fails((published[0] + 50, published[1]))


def test_the_hash_links_to_the_computed_previous_hash_not_the_stored_one(store):
    """Rewrite one event and rehash only it, fixing the next event's stored link: with the
    previous hash left out of the hash, this would verify."""
    build()
    anchor.reset()
    intrude(store)
    ev = AuditEvent.get(AuditEvent.seq == 5)
    h = entry_hash(ev.prev_hash, ev.seq, at_text(ev.at), "mole", ev.action, ev.entity,
                   ev.entity_id, ev.detail, ev.covers)
    AuditEvent.update(actor="mole", hash=h).where(AuditEvent.seq == 5).execute()
    AuditEvent.update(prev_hash=h).where(AuditEvent.seq == 6).execute()
    assert "第 6 条" in fails()


def test_a_forged_stored_link_does_not_verify(store):
    """Rewrite an event with a forged prev_hash and hash it over that forged link: a walker
    that trusted the stored prev_hash would accept it."""
    build()
    anchor.reset()
    intrude(store)
    ev = AuditEvent.get(AuditEvent.seq == 5)
    forged = "f" * 64
    h = entry_hash(forged, ev.seq, at_text(ev.at), "mole", ev.action, ev.entity,
                   ev.entity_id, ev.detail, ev.covers)
    AuditEvent.update(actor="mole", prev_hash=forged, hash=h).where(
        AuditEvent.seq == 5).execute()
    assert "第 5 条" in fails()


def test_entry_hash_depends_on_every_field_and_the_previous_hash():
    args = ["0" * 64, 3, "2026-07-14 10:30:00", "admin", "user.create", "user", "x", "{}", ""]
    base = entry_hash(*args)
    for i, other in enumerate(["1" * 64, 4, "2026-07-14 10:30:01", "adm1n", "user.creat",
                               "usr", "y", '{"a":1}', '{"user:x":{}}']):
        changed = list(args)
        changed[i] = other
        assert entry_hash(*changed) != base, i
    body = json.dumps(args[1:8], ensure_ascii=False, separators=(",", ":"))
    assert base == hashlib.sha256(("0" * 64 + body).encode()).hexdigest()


# ---------------------------------------------------------------- rows the chain covers


def test_a_changed_team_member_is_named(store):
    built = build()
    intrude(store)
    m = AssignmentMember.get((AssignmentMember.assignment == built["assignment"])
                             & (AssignmentMember.position == 1))
    m.inspector = built["inspectors"][5]
    m.save()
    msg = fails()
    assert msg.startswith(f"任务 {YEAR}-RS-01-1 第 1 次摇号的检查组成员与第 ")
    assert msg.endswith("条审计记录不符。")


def test_an_assigned_firm_changed_is_named(store):
    built = build()
    a = built["assignment"]
    Assignment.update(target=built["targets"][3]).where(Assignment.id == a.id).execute()
    assert "第 1 次摇号的抽中对象与第" in fails()


def test_a_changed_final_finding_is_named_by_task_code(store):
    built = build()
    finalise_seq = AuditEvent.get(AuditEvent.action == "report.archive").seq
    Report.update(finding="无问题").where(Report.id == built["report"].id).execute()
    assert fails() == (f"任务 {built['assignment'].task_code} 的检查结论与第 {finalise_seq} "
                       "条审计记录不符。")


def test_a_final_report_sent_back_to_draft_is_named(store):
    built = build()
    Report.update(state="submitted").where(Report.id == built["report"].id).execute()
    assert f"任务 {built['assignment'].task_code} 已不在库中或已被改回" in fails()


def test_a_changed_role_is_named(store):
    build()
    User.update(role="admin").where(User.username == "leader").execute()
    assert fails().startswith("用户 leader 的角色与第 ")


def test_a_replaced_password_hash_is_named(store):
    build()
    User.update(password_hash=auth.hash_password("stolen1")).where(
        User.username == "admin").execute()
    assert fails().startswith("用户 admin 的账户与第 ")


def test_a_user_inserted_behind_the_kiosk_is_named(store):
    build()
    User.create(username="mole", display_name="内鬼", role="admin", password_hash="x")
    assert fails() == "用户 mole 不在审计记录中：它未经终端写入。"


def test_a_changed_setting_and_the_slip_secret_are_named(store):
    build()
    settings.secret("slip_hmac")
    assert check().ok
    Setting.update(value="https://evil.example").where(Setting.key == "bureau_name").execute()
    assert fails().startswith("设置 bureau_name 的取值与第 ")
    settings.put("bureau_name", "商水县人力资源和社会保障局", actor="admin")
    assert check().ok
    Setting.update(value="00" * 32).where(Setting.key == "secret.slip_hmac").execute()
    assert fails().startswith("设置 secret.slip_hmac 的取值与第 ")


def test_a_changed_listing_row_is_named(store):
    built = build()
    pool = "\n".join(USCCS[:3]).encode()
    DrawListing.update(content=gzip.compress(pool)).where(
        DrawListing.draw == built["draw"]).execute()
    assert "第 1 次摇号的冻结名单与第" in fails()


def test_a_task_set_back_to_planned_is_named(store):
    built = build()
    PlanTask.update(state="planned").where(PlanTask.id == built["tasks"][0].id).execute()
    assert fails().startswith(f"{YEAR} 年度抽查计划的计划任务及其状态与第 ")


# ---------------------------------------------------------------- files


def test_a_replaced_evidence_file_is_named(store):
    built = build()
    ev = Evidence.get()
    (built["base"] / ev.stored_path).write_bytes(b"another photo")
    assert fails() == f"证据文件“工资表.jpg”（报告 {built['report'].id}）已被替换：SHA-256 不符。"
    (built["base"] / ev.stored_path).unlink()
    assert "已丢失" in fails()


def test_a_replaced_archive_pdf_is_named(store):
    built = build()
    path = built["base"] / "archive" / f"{built['assignment'].task_code}.pdf"
    path.write_bytes(b"%PDF-1.4 a nicer report")
    seq = AuditEvent.get(AuditEvent.action == "report.archive").seq
    assert fails() == (f"归档报告“{path.name}”已被替换：与第 {seq} 条审计记录的 SHA-256 不符。")
    path.unlink()
    assert "已丢失" in fails()


# ---------------------------------------------------------------- the silent re-draw


def test_the_silent_redraw_is_caught(store):
    """Delete a sealed draw's rows and its events from draw.prepare on, set the task back to
    planned, and draw again: "attempt 1" again, with another selection."""
    built = build()
    draw = built["draw"]
    published = audit.head()
    first = AuditEvent.get(AuditEvent.action == "draw.prepare").seq
    intrude(store)
    report = built["report"]
    Evidence.delete().where(Evidence.report == report).execute()
    Report.delete().where(Report.id == report.id).execute()
    members = AssignmentMember.select(AssignmentMember.id).join(Assignment).where(
        Assignment.draw == draw)
    AssignmentMember.delete().where(AssignmentMember.id.in_(members)).execute()
    Assignment.delete().where(Assignment.draw == draw).execute()
    DrawListing.delete().where(DrawListing.draw == draw).execute()
    DrawWitness.delete().where(DrawWitness.draw == draw).execute()
    Draw.delete().where(Draw.id == draw.id).execute()
    AuditEvent.delete().where(AuditEvent.seq >= first).execute()
    task = PlanTask.get_by_id(built["tasks"][0].id)
    task.state = "planned"
    task.save()
    assert "本终端保存的链头" in fails()  # the anchor remembers the old chain
    again = _seal_draw(task, 1, [1, 3], built["targets"], built["inspectors"])
    assert again.attempt_no == 1
    msg = fails()
    assert "本终端保存的链头" in msg
    assert "所给链头" in fails(published)
