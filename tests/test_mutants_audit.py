"""Tests that kill the mutants `make mutate` found surviving in kiosk/audit/: the kinds only
other areas' tests reached (cases, publications, sanctions), the export that must not remove
an earlier file, page order without relying on SQLite's scan order, the certificate's data."""
from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest

from db.models import (
    AuditEvent,
    EnforcementCase,
    Inspector,
    Item,
    Publication,
    Rectification,
    Report,
    Sanction,
    Target,
)
from kiosk import audit, auth
from kiosk.audit import query
from kiosk.audit.check import verify
from tests.draw_world import sealed_draw
from tests.test_audit_draws import draws  # noqa: F401  (the fixture)


@pytest.fixture
def world(db):
    """A sealed draw with one final report, its rectification and its case, a publication
    of the draw and a sanction, each written with its audit event."""
    item = Item.create(code="RS-01", name="n", legal_basis="b", content="c", category="x",
                       lead_office="o")
    _, draw = sealed_draw(item, 2026, 3)
    t = Target.create(uscc="91411623MA0001AA1X", name="厂", category="x")
    from db.models import Assignment

    a = Assignment.create(draw=draw, position=0, task_code="2026-07-0001", target=t)
    r = Report.create(assignment=a, state="final", finding="责令整改",
                      rectify_deadline=dt.date(2026, 9, 1), submitted_by="insp01")
    rect = Rectification.create(report=r, deadline=dt.date(2026, 9, 1))
    case = EnforcementCase.create(report=r, kind="行政处罚", deadline=dt.date(2026, 9, 1),
                                  rectification=rect, decision_no="豫人社罚〔2026〕1号",
                                  amount_fen=500000)
    audit.record("reviewer", "report.finalise", "report", r.id)
    pub = Publication.create(kind="draw", draw=draw, version=1, published_by="leader",
                             effective_date=dt.date(2026, 7, 1), files_json='{"a":"1"}',
                             results_json='{"x":1}')
    audit.record("leader", "publication.publish", "publication", pub.id)
    insp = Inspector.create(cert_no="豫人社监0001", name="员0", office="大队")
    s = Sanction.create(inspector=insp, kind="暂扣执法证", start_date=dt.date(2026, 7, 1),
                        end_date=dt.date(2026, 9, 30), reason="违规", decided_by="局党组",
                        recorded_by="leader")
    audit.record("leader", "sanction.record", "sanction", s.id)
    return {"draw": draw, "report": r, "rect": rect, "case": case, "pub": pub,
            "sanction": s, "insp": insp}


def seq_of(entity: str, ident: object) -> int:
    return (AuditEvent.select(AuditEvent.seq)
            .where((AuditEvent.entity == entity) & (AuditEvent.entity_id == str(ident)))
            .order_by(AuditEvent.seq.desc()).scalar())


def test_the_world_verifies_and_unpacks_as_before(world):
    ok, message = verify(files=False)  # a Verdict unpacks as the (ok, message) it was
    assert ok is True and message.startswith("审计日志完整：共 3 条，所涉 ")


CASE = {"状态与期限": [("kind", "责令整改"), ("state", "closed"),
                  ("opened_at", dt.datetime(2026, 1, 1)), ("deadline", dt.date(2026, 10, 1)),
                  ("closed_at", dt.datetime(2026, 8, 1)), ("closed_by", "mole")],
        "办理情况": [("reinspected_on", dt.date(2026, 8, 2)), ("reinspection", "已整改"),
                 ("decision_no", "另号"), ("decision_date", dt.date(2026, 8, 3)),
                 ("amount_fen", 1), ("paid_on", dt.date(2026, 8, 4)),
                 ("appealed_on", dt.date(2026, 8, 5)), ("organ", "公安局"),
                 ("transferred_on", dt.date(2026, 8, 6)), ("receipt_no", "回执1"),
                 ("outcome", "结案"), ("rectification", None)]}


def _other_report_with_case(world) -> EnforcementCase:
    from db.models import Assignment

    t = Target.create(uscc="91411623MA0003AA3X", name="三厂", category="x")
    a = Assignment.create(draw=world["draw"], position=3, task_code="2026-07-0003", target=t)
    r = Report.create(assignment=a, state="final", finding="罚款", submitted_by="x")
    rect = Rectification.create(report=r, deadline=dt.date(2026, 9, 1))
    return EnforcementCase.create(report=r, kind="移送司法机关", rectification=rect)


def test_kinds_find_their_own_row_among_several(world):
    from kiosk.audit import cover

    other = _other_report_with_case(world)
    assert cover.label_case(str(other.id)) == "任务 2026-07-0003 的移送司法机关案件"
    assert cover.label_case(str(world["case"].id)) == "任务 2026-07-0001 的行政处罚案件"
    assert cover.hash_case(str(other.id))["state"] == cover.digest(
        [other.report_id, "移送司法机关", "open", other.opened_at, None, None, ""])
    assert cover.label_case("abc") == "执法案件 abc"
    pub2 = Publication.create(kind="lists", version=4, published_by="leader")
    assert cover.label_publication(str(pub2.id)) == "公示名录第 4 版"
    assert cover.label_publication(str(world["pub"].id)) == (
        f"摇号 {world['draw'].id} 的结果公示第 1 版")
    assert cover.label_publication("abc") == "公示 abc"
    assert cover.hash_publication(str(pub2.id))["results"] == cover.digest("{}")
    i2 = Inspector.create(cert_no="豫人社监0002", name="员1", office="大队")
    s2 = Sanction.create(inspector=i2, kind="批评教育", start_date=dt.date(2026, 8, 1),
                         reason="迟到", recorded_by="leader",
                         recorded_at=dt.datetime(2026, 8, 1, 9))
    assert cover.hash_sanction(str(s2.id)) == {"sanction": cover.digest(
        ["豫人社监0002", "批评教育", dt.date(2026, 8, 1), None, "迟到", "", "leader",
         dt.datetime(2026, 8, 1, 9)])}
    first = world["sanction"]
    assert cover.hash_sanction(str(first.id)) == {"sanction": cover.digest(
        ["豫人社监0001", "暂扣执法证", dt.date(2026, 7, 1), dt.date(2026, 9, 30), "违规",
         "局党组", "leader", first.recorded_at])}


def test_the_chain_is_walked_in_sequence_not_in_storage_order(db):
    for i in range(4):
        audit.record("admin", "test.walk", "thing", i)
    rows = list(AuditEvent.select().order_by(AuditEvent.id.desc()).dicts())
    db.execute_sql("DROP TRIGGER IF EXISTS audit_event_no_delete")
    AuditEvent.delete().execute()
    for row in rows:  # stored newest first: only an ORDER BY seq walks them in order
        row.pop("id")
        AuditEvent.create(**row)
    assert verify(files=False).ok


@pytest.mark.parametrize("part, field, value",
                         [(p, f, v) for p, fv in CASE.items() for f, v in fv])
def test_every_column_of_a_case_is_covered(world, part, field, value):
    case = world["case"]
    seq = seq_of("report", world["report"].id)
    EnforcementCase.update({getattr(EnforcementCase, field): value}).where(
        EnforcementCase.id == case.id).execute()
    kind = value if field == "kind" else "行政处罚"
    assert verify(files=False).message == (
        f"任务 2026-07-0001 的{kind}案件的{part}与第 {seq} 条审计记录不符。")


def test_a_case_moved_to_another_report_and_a_deleted_case_are_named(world):
    case = world["case"]
    seq = seq_of("report", world["report"].id)
    EnforcementCase.delete().where(EnforcementCase.id == case.id).execute()
    assert verify(files=False).message == (
        f"执法案件 {case.id} 已不在库中或已被改回（第 {seq} 条审计记录记载了它）。")


def test_a_rectification_event_covers_its_case(world):
    rect, case = world["rect"], world["case"]
    _other_report_with_case(world)  # a case of another rectification is not covered
    audit.record("inspector", "rectification.close", "rectification", rect.id)
    seq = seq_of("rectification", rect.id)
    cover = json.loads(AuditEvent.get(AuditEvent.seq == seq).covers)
    assert sorted(cover) == [f"case:{case.id}", f"rectification:{rect.id}"]
    EnforcementCase.update(outcome="改").where(EnforcementCase.id == case.id).execute()
    assert verify(files=False).message == (
        f"任务 2026-07-0001 的行政处罚案件的办理情况与第 {seq} 条审计记录不符。")


def test_events_naming_a_subject_by_a_non_number_cover_nothing(world):
    for entity in ("report", "rectification", "case", "publication", "sanction", "draw"):
        ev = audit.record("admin", "test.odd", entity, "abc")
        assert ev.covers == ""
    assert verify(files=False).ok


PUBLICATION = {"公示文件及其摘要": [("kind", "lists"), ("version", 2), ("published_by", "mole"),
                            ("published_at", dt.datetime(2026, 1, 1)),
                            ("effective_date", dt.date(2026, 8, 1)),
                            ("files_json", '{"a":"2"}'), ("draw", None)],
               "公示的查处结果": [("results_json", '{"x":2}')]}


@pytest.mark.parametrize("part, field, value",
                         [(p, f, v) for p, fv in PUBLICATION.items() for f, v in fv])
def test_every_column_of_a_publication_is_covered(world, part, field, value):
    pub = world["pub"]
    seq = seq_of("publication", pub.id)
    Publication.update({getattr(Publication, field): value}).where(
        Publication.id == pub.id).execute()
    p = Publication.get_by_id(pub.id)
    label = (f"摇号 {p.draw_id} 的结果公示" if p.kind == "draw" else "公示名录") + \
        f"第 {p.version} 版"
    assert verify(files=False).message == f"{label}的{part}与第 {seq} 条审计记录不符。"


def test_the_publications_labels(world):
    pub = world["pub"]
    seq = seq_of("publication", pub.id)
    Publication.update(results_json="{}").where(Publication.id == pub.id).execute()
    assert verify(files=False).message == (
        f"摇号 {world['draw'].id} 的结果公示第 1 版的公示的查处结果与第 {seq} 条审计记录不符。")
    Publication.delete().where(Publication.id == pub.id).execute()
    assert verify(files=False).message == (
        f"公示 {pub.id} 已不在库中或已被改回（第 {seq} 条审计记录记载了它）。")


@pytest.mark.parametrize("field, value", [
    ("kind", "吊销执法证"), ("start_date", dt.date(2026, 7, 2)), ("end_date", None),
    ("reason", "另由"), ("decided_by", "别处"), ("recorded_by", "mole"),
    ("recorded_at", dt.datetime(2026, 1, 1)), ("inspector", "other")])
def test_every_column_of_a_sanction_is_covered(world, field, value):
    s = world["sanction"]
    seq = seq_of("sanction", s.id)
    if value == "other":
        value = Inspector.create(cert_no="豫人社监0002", name="员1", office="大队")
    Sanction.update({getattr(Sanction, field): value}).where(Sanction.id == s.id).execute()
    assert verify(files=False).message == (
        f"执法人员处理记录 {s.id} 的处理种类、期间与理由与第 {seq} 条审计记录不符。")


# ---------------------------------------------------------------- exports


def test_a_failed_export_leaves_an_earlier_file_of_that_name(db, tmp_path):
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "targets.csv"
    out.write_text("the export of last week\n", encoding="utf-8")

    def write(path):
        path.write_text("half", encoding="utf-8")
        raise ValueError("bad cell")

    with pytest.raises(ValueError):
        audit.audited_export("admin", "targets", out, write)
    assert out.read_text(encoding="utf-8") == "the export of last week\n"
    assert [p.name for p in out.parent.iterdir()] == ["targets.csv"]


def test_an_export_records_the_size_of_a_file_over_a_mebibyte(db, tmp_path):
    body = b"0123456789abcdef" * (1 << 17) + b"tail"  # 2 MiB and 4 bytes

    def write(path):
        path.write_bytes(body)

    out = tmp_path / "big.bin"
    audit.audited_export("admin", "targets", out, write)
    detail = json.loads(AuditEvent.select().order_by(AuditEvent.seq.desc()).first().detail)
    assert (detail["size"], detail["sha256"]) == (len(body), hashlib.sha256(body).hexdigest())


# ---------------------------------------------------------------- the Audit screen's pages


def test_pages_come_in_order_whatever_order_sqlite_scans_in(db):
    """reverse_unordered_selects makes SQLite return any unordered query backwards: a page
    that forgot its ORDER BY would come back wrong."""
    leader = auth.create_user("leader", "leader123", "leader", "吴建华", actor="test")
    for i in range(20):
        audit.record("admin", "test.page", "thing", i)
    db.execute_sql("PRAGMA reverse_unordered_selects = ON")
    try:
        back = query.page(leader, newer_than=5, size=4)
        assert [r.seq for r in back.rows] == [9, 8, 7, 6]
        assert (back.has_newer, back.has_older) == (True, True)
        down = query.page(leader, older_than=5, size=3)
        assert [r.seq for r in down.rows] == [4, 3, 2]
    finally:
        db.execute_sql("PRAGMA reverse_unordered_selects = OFF")


# ---------------------------------------------------------------- the year's plan


def _task(code: str, item: Item, **kw) -> object:
    from db.models import PlanTask

    return PlanTask.create(code=code, year=2030, item=item, round_no=int(code[-1]),
                           planned_month=3, **kw)


def test_a_plans_hash_keeps_its_old_form_and_grows_only_with_approval_and_notes(db):
    from kiosk.audit import cover

    item = Item.create(code="RS-09", name="n", legal_basis="b", content="c", category="x",
                       lead_office="o")
    assert cover.hash_plan("2030") is None  # no tasks, nothing to cover
    assert audit.record("admin", "plan.create", "plan", 2030).covers == ""
    _task("2030-RS-09-2", item)
    _task("2030-RS-09-1", item)
    plain = [["2030-RS-09-1", "RS-09", 1, 3, "planned"], ["2030-RS-09-2", "RS-09", 2, 3,
                                                          "planned"]]
    assert cover.hash_plan("2030") == {"tasks": cover.digest(plain)}
    from db.models import PlanTask

    at = dt.datetime(2030, 1, 2, 9, 0)
    PlanTask.update(approved_by="leader", approved_at=at).where(
        PlanTask.code == "2030-RS-09-1").execute()
    PlanTask.update(note="延期").where(PlanTask.code == "2030-RS-09-2").execute()
    grown = [[*plain[0], "leader", at], [*plain[1], "延期"]]
    assert cover.hash_plan("2030") == {"tasks": cover.digest(grown)}
    assert cover.hash_plan("2030-RS-09-2") == cover.hash_plan("2030")  # a task names its plan


def test_a_plans_tasks_are_hashed_in_code_order_whatever_sqlite_scans(db):
    from kiosk.audit import cover

    item = Item.create(code="RS-09", name="n", legal_basis="b", content="c", category="x",
                       lead_office="o")
    for code in ("2030-RS-09-1", "2030-RS-09-2", "2030-RS-09-3"):
        _task(code, item)
    want = cover.hash_plan("2030")
    db.execute_sql("PRAGMA reverse_unordered_selects = ON")
    try:
        assert cover.hash_plan("2030") == want
    finally:
        db.execute_sql("PRAGMA reverse_unordered_selects = OFF")


def test_a_plan_emptied_behind_the_kiosks_back_is_named(db):
    from db.models import PlanTask

    item = Item.create(code="RS-09", name="n", legal_basis="b", content="c", category="x",
                       lead_office="o")
    _task("2030-RS-09-1", item)
    ev = audit.record("admin", "plan.add", "task", "2030-RS-09-1")
    PlanTask.delete().execute()
    assert verify(files=False).message == (
        f"2030 年度抽查计划已不在库中或已被改回（第 {ev.seq} 条审计记录记载了它）。")


# ---------------------------------------------------------------- the certificate's data


def test_the_certificate_of_an_empty_chain_says_so(db, tmp_path):
    pdfium = pytest.importorskip("pypdfium2")
    import re

    from db.models import User
    from kiosk.audit.certificate import render_certificate

    assert not AuditEvent.select().exists()
    user = User(username="leader", display_name="吴建华", role="leader")
    out = tmp_path / "c.pdf"
    assert render_certificate(out, user, dt.date(2026, 11, 30)) == (0, "0" * 64)
    doc = pdfium.PdfDocument(str(out))
    text = re.sub(r"\s+", "", doc[0].get_textpage().get_text_range())
    doc.close()
    assert "该条时间（空日志）" in text and "2026年11月30日" in text
    assert f"kioskauditverify--head0:{'0' * 64}" in text


# ---------------------------------------------------------------- draws and reports, pinned


def test_a_draws_hashes_have_their_pinned_form(draws):  # noqa: F811 (the fixture)
    from kiosk.audit import cover

    d, ins, tg = draws["sealed"], draws["inspectors"], draws["targets"]
    parts = cover.hash_draw(str(d.id))
    assert parts["teams"] == cover.digest([[0, ins[0].cert_no, 0], [0, ins[1].cert_no, 1],
                                           [1, ins[2].cert_no, 0], [1, ins[3].cert_no, 1]])
    assert parts["targets"] == cover.digest([[0, "2027-07-20", tg[1].uscc, "层0"],
                                             [1, "2027-07-21", tg[2].uscc, "层1"]])
    witnesses = [[p, f"见证2{p}", f"单位{p}", f"2 {p}", f"witness{p + 1}"] for p in range(2)]
    amendments = [[p, tg[p].uscc, ins[p].cert_no, f"回避{p}", ins[p + 2].cert_no]
                  for p in range(2)]
    assert parts["witnesses"] == cover.digest([witnesses, amendments])


def test_draw_hashes_do_not_depend_on_sqlites_scan_order(draws, db):  # noqa: F811
    from kiosk.audit import cover

    d = draws["sealed"]
    # Rows of one draw inserted in reverse, so a missing ORDER BY shows even in a plain scan.
    from db.models import AssignmentMember, DrawAmendment

    before = cover.hash_draw(str(d.id))
    for model in (DrawAmendment, AssignmentMember):
        rows = list(model.select().order_by(model.id.desc()).dicts())
        model.delete().execute()
        for row in rows:
            row.pop("id")
            model.create(**row)
    assert cover.hash_draw(str(d.id)) == before
    db.execute_sql("PRAGMA reverse_unordered_selects = ON")
    try:
        assert cover.hash_draw(str(d.id)) == before
    finally:
        db.execute_sql("PRAGMA reverse_unordered_selects = OFF")


def test_a_reports_evidence_list_is_pinned_in_hash_order_with_withdrawals_marked(world, db):
    from db.models import Evidence
    from kiosk.audit import cover

    r = world["report"]
    Evidence.create(report=r, filename="一.jpg", sha256="b" * 64, size=1, stored_path="e/1",
                    added_by="insp01")
    Evidence.create(report=r, filename="二.jpg", sha256="a" * 64, size=2, stored_path="e/2",
                    added_by="insp01", withdrawn_at=dt.datetime(2026, 7, 22, 9),
                    withdrawn_by="reviewer", withdraw_reason="拍错")
    want = cover.digest([["二.jpg", "a" * 64, 2, "withdrawn", "reviewer", "拍错"],
                         ["一.jpg", "b" * 64, 1]])
    assert cover.hash_report(str(r.id))["evidence"] == want
    db.execute_sql("PRAGMA reverse_unordered_selects = ON")
    try:
        assert cover.hash_report(str(r.id))["evidence"] == want
    finally:
        db.execute_sql("PRAGMA reverse_unordered_selects = OFF")


def test_a_report_event_covers_its_own_rectifications_and_case_only(world):
    from db.models import Assignment

    t = Target.create(uscc="91411623MA0002AA2X", name="二厂", category="x")
    a = Assignment.create(draw=world["draw"], position=1, task_code="2026-07-0002", target=t)
    other = Report.create(assignment=a, state="final", finding="责令整改", submitted_by="x")
    rect = Rectification.create(report=other, deadline=dt.date(2026, 9, 1))
    case = EnforcementCase.create(report=other, kind="责令整改")
    ev = audit.record("reviewer", "report.finalise", "report", world["report"].id)
    assert sorted(json.loads(ev.covers)) == [
        f"case:{world['case'].id}", f"rectification:{world['rect'].id}",
        f"report:{world['report'].id}"]
    ev = audit.record("reviewer", "report.finalise", "report", other.id)
    assert sorted(json.loads(ev.covers)) == [f"case:{case.id}", f"rectification:{rect.id}",
                                             f"report:{other.id}"]


# ---------------------------------------------------------------- stores from before covers


def test_events_from_before_the_chain_covered_rows_vouch_for_their_subjects(db, monkeypatch):
    """A store older than schema v5: its user was recorded by an event without `covers`."""
    from db.models import User
    from kiosk.audit import cover

    User.create(username="old", display_name="老用户", role="admin", password_hash="x")
    with monkeypatch.context() as m:
        m.setattr(cover, "snapshot", lambda *a, **k: "")
        audit.record("admin", "user.create", "user", "old")
    assert verify(files=False).ok
    User.create(username="sneak", display_name="后门", role="admin", password_hash="x")
    assert verify(files=False).message == "用户 sneak 不在审计记录中：它未经终端写入。"


def test_a_users_hashes_have_their_pinned_form(db):
    from db.models import User
    from kiosk.audit import cover

    Inspector.create(cert_no="豫人社监0009", name="别人", office="大队")
    insp = Inspector.create(cert_no="豫人社监0001", name="员0", office="大队")
    User.create(username="a", display_name="甲", role="inspector", password_hash="h1",
                office="大队", inspector=insp)
    User.create(username="b", display_name="乙", role="leader", password_hash="h2",
                must_change=True)
    assert cover.hash_user("a") == {"role": cover.digest(["inspector", True]),
                                    "account": cover.digest(["甲", "h1", "大队", "豫人社监0001"])}
    assert cover.hash_user("b") == {"role": cover.digest(["leader", True]),
                                    "account": cover.digest(["乙", "h2", "", None,
                                                             "must_change"])}


def test_the_verdict_of_an_honest_store_in_full(world):
    v = verify(files=False)
    head = AuditEvent.select(AuditEvent.seq, AuditEvent.hash).order_by(
        AuditEvent.seq.desc()).tuples().first()
    assert (v.ok, v.events, v.head) == (True, 3, head)
    assert v.message == f"审计日志完整：共 3 条，所涉 5 项记录均未改动；链头 3:{head[1]}。"


def test_an_event_about_nothing_names_no_subject(db):
    ev = audit.record("admin", "kiosk.start")
    assert (ev.entity, ev.entity_id, ev.covers, ev.detail) == ("", "", "", "{}")


# ---------------------------------------------------------------- the local anchor's file


def test_the_anchor_lives_where_the_environment_says(monkeypatch, tmp_path):
    from kiosk.audit import anchor

    monkeypatch.setenv("KIOSK_ANCHOR_DIR", str(tmp_path / "a"))
    assert anchor.anchor_dir() == tmp_path / "a"
    monkeypatch.delenv("KIOSK_ANCHOR_DIR")
    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path / "d"))
    assert anchor.anchor_dir() == tmp_path / "d" / "anchors"
    monkeypatch.delenv("KIOSK_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert anchor.anchor_dir() == tmp_path / "xdg" / "shuangsuiji-kiosk" / "anchors"


def test_a_stores_identity_names_it_and_no_other(tmp_path):
    import hashlib
    import os

    import peewee

    from kiosk.audit import anchor

    pg = peewee.PostgresqlDatabase("kiosk", host="db.local", port=5433,
                                   options="-c search_path=t_1")
    assert anchor.store_identity(pg) == (
        "postgresql://db.local:5433/kiosk?-c search_path=t_1")
    assert anchor.store_identity(peewee.PostgresqlDatabase("k")) == "postgresql://:/k?"
    for name in ("", ":memory:", "file::memory:?cache=shared"):
        assert anchor.store_identity(peewee.SqliteDatabase(name)) is None
    f = tmp_path / "k.sqlite3"
    ident = "sqlite:" + os.path.realpath(f)
    assert anchor.store_identity(peewee.SqliteDatabase(str(f))) == ident
    assert anchor.path(peewee.SqliteDatabase(str(f))) == anchor.anchor_dir() / (
        hashlib.sha256(ident.encode()).hexdigest()[:24] + ".head")


def test_an_events_fields_are_cut_to_their_columns_and_its_detail_is_canonical(db):
    ev = audit.record("a" * 40, "test.long", "thing", "9" * 80, b="中", a=dt.date(2026, 1, 2))
    assert (ev.actor, ev.entity_id) == ("a" * 32, "9" * 64)
    assert ev.detail == '{"a": "2026-01-02", "b": "中"}'
    assert verify(files=False).ok


def test_an_export_whose_audit_fails_leaves_an_earlier_file_of_that_name(db, tmp_path,
                                                                           monkeypatch):
    from kiosk.audit import exports

    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "targets.csv"
    out.write_text("the export of last week\n", encoding="utf-8")

    def broken(*a, **k):
        raise RuntimeError("the audit table is full")

    monkeypatch.setattr(exports, "record", broken)
    with pytest.raises(RuntimeError):
        audit.audited_export("admin", "targets", out, lambda p: p.write_text("new"))
    assert out.read_text(encoding="utf-8") == "the export of last week\n"
    assert [p.name for p in out.parent.iterdir()] == ["targets.csv"]


def test_an_events_covers_text_is_pinned(db):
    from db.models import Setting, User
    from kiosk.audit import cover

    User.create(username="张三", display_name="张三", role="admin", password_hash="x")
    Setting.create(key="zz", value="县人社局")
    u, st = cover.hash_user("张三"), cover.hash_setting("zz")
    assert cover.snapshot("user", "张三", [("setting", "zz")]) == (
        f'{{"setting:zz":{{"value":"{st["value"]}"}},'
        f'"user:张三":{{"account":"{u["account"]}","role":"{u["role"]}"}}}}')


def test_an_approval_without_its_time_still_grows_the_plans_hash(db):
    from db.models import PlanTask
    from kiosk.audit import cover

    item = Item.create(code="RS-09", name="n", legal_basis="b", content="c", category="x",
                       lead_office="o")
    _task("2030-RS-09-1", item, approved_by="leader")
    assert PlanTask.get().approved_at is None
    assert cover.hash_plan("2030") == {"tasks": cover.digest(
        [["2030-RS-09-1", "RS-09", 1, 3, "planned", "leader", None]])}


def test_a_teams_members_are_hashed_in_their_position_order(draws):  # noqa: F811
    from db.models import Assignment, AssignmentMember
    from kiosk.audit import cover

    d, ins = draws["sealed"], draws["inspectors"]
    a0 = Assignment.get((Assignment.draw == d) & (Assignment.position == 0))
    # The first inspector (lowest id) now sits second: position order is not id order.
    AssignmentMember.update(position=9).where(AssignmentMember.assignment == a0,
                                              AssignmentMember.position == 0).execute()
    AssignmentMember.update(position=0).where(AssignmentMember.assignment == a0,
                                              AssignmentMember.position == 1).execute()
    AssignmentMember.update(position=1).where(AssignmentMember.assignment == a0,
                                              AssignmentMember.position == 9).execute()
    assert cover.hash_draw(str(d.id))["teams"] == cover.digest(
        [[0, ins[1].cert_no, 0], [0, ins[0].cert_no, 1], [1, ins[2].cert_no, 0],
         [1, ins[3].cert_no, 1]])


def test_an_entry_hash_is_the_spelled_out_formula():
    from kiosk.audit.chain import at_text, entry_hash

    args = ("ab" * 32, 7, "2026-01-02 03:04:05", "管理员", "draw.seal", "draw", "3", '{"a":1}')
    body = json.dumps([7, "2026-01-02 03:04:05", "管理员", "draw.seal", "draw", "3", '{"a":1}'],
                      ensure_ascii=False, separators=(",", ":"))
    assert entry_hash(*args) == hashlib.sha256(("ab" * 32 + body).encode()).hexdigest()
    with_covers = body[:-1] + ',"{\\"draw:3\\":{}}"]'
    assert entry_hash(*args, '{"draw:3":{}}') == hashlib.sha256(
        ("ab" * 32 + with_covers).encode()).hexdigest()
    assert at_text("2026-01-02 03:04:05") == "2026-01-02 03:04:05"
    assert at_text(dt.datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02 03:04:05"


def test_an_event_stores_the_time_it_hashed(db, monkeypatch):
    from kiosk.audit import chain

    monkeypatch.setattr(chain, "now", lambda: dt.datetime(2020, 2, 3, 4, 5, 6))
    ev = audit.record("admin", "test.time")
    assert AuditEvent.get_by_id(ev.id).at == dt.datetime(2020, 2, 3, 4, 5, 6)
    assert verify(files=False).ok


def test_the_anchor_of_another_store_and_odd_anchor_files(db, tmp_path):
    import peewee

    from kiosk.audit import anchor

    other = peewee.SqliteDatabase(str(tmp_path / "other.sqlite3"))
    anchor.write(anchor.path(other), 5, "a" * 64)
    assert anchor.read(other) == (5, "a" * 64) and anchor.read() is None
    for text in ("１２:" + "a" * 64, "7:" + "a" * 61 + ":bb", "7:" + "A" * 64, "7:" + "a" * 63,
                 ":" + "a" * 64):
        anchor.path(other).write_text(text + "\n", encoding="utf-8")
        assert anchor.read(other) is None, text
    anchor.path(other).write_text(" 12:" + "b" * 64 + "\n", encoding="ascii")
    assert anchor.read(other) == (12, "b" * 64)


def test_flush_with_no_store_bound_does_nothing(db):
    from db.connection import database
    from kiosk.audit import anchor

    bound = database.obj
    database.initialize(None)
    try:
        assert anchor.flush() is None
    finally:
        database.initialize(bound)
    assert anchor.read() is None


def test_an_event_about_an_uncovered_thing_still_covers_its_extras(db):
    from db.models import Setting
    from kiosk.audit import cover

    Setting.create(key="zz", value="县人社局")
    ev = audit.record("admin", "test.extra", "thing", 1, covers=[("setting", "zz"),
                                                                 ("setting", "zz")])
    assert json.loads(ev.covers) == {"setting:zz": cover.hash_setting("zz")}
    assert cover.subjects("thing", "1", [("setting", "zz"), ("user", ""),
                                         ("setting", "zz")]) == [("setting", "zz")]
    # A plan task code that names no plan is skipped, and what follows still counts.
    assert cover.subjects("plan", "2030-XX-1", [("setting", "zz")]) == [("setting", "zz")]
