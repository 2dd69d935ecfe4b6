"""The audit package's parts one by one: heads, the anchor, the kinds registry, rectification
cover, the paged query of the Audit screen, verify_for and the certificate."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from db.models import (
    Assignment,
    AuditEvent,
    Draw,
    Item,
    PlanTask,
    Rectification,
    Report,
    Target,
    User,
)
from kiosk import audit, auth
from kiosk.audit import anchor, cover, query
from kiosk.audit.chain import GENESIS, parse_head
from kiosk.audit.check import verify_for
from kiosk.errors import UserError
from kiosk.store import AFTER_COMMIT


def test_heads_of_an_empty_and_a_growing_chain(db):
    assert audit.head() == (0, GENESIS)
    ev = audit.record("admin", "test.one", "thing", 1)
    assert audit.head() == (1, ev.hash) and ev.prev_hash == GENESIS
    ev2 = audit.record("admin", "test.two", "thing", 2)
    assert audit.head() == (2, ev2.hash) and ev2.prev_hash == ev.hash
    assert audit.head_text() == f"2:{ev2.hash}"
    assert audit.head_text((7, "a" * 64)) == "7:" + "a" * 64


@pytest.mark.parametrize("text", ["", "12", "x:" + "a" * 64, "12:" + "a" * 63,
                                  "12:" + "g" * 64, "-1:" + "a" * 64, "12;" + "a" * 64])
def test_a_malformed_head_is_one_sentence_exit_2(text):
    with pytest.raises(UserError) as e:
        parse_head(text)
    assert e.value.exit_code == 2 and str(e.value).startswith(f"链头“{text}”格式不对")


def test_a_head_is_read_whatever_its_case_and_spacing():
    assert parse_head(" 12:" + "AB" * 32 + "\n") == (12, "ab" * 32)


def test_a_genesis_head_other_than_zeros_is_refused(db):
    audit.record("admin", "test.one", "thing", 1)
    assert audit.verify((0, GENESIS)).ok
    v = audit.verify((0, "1" * 64))
    assert not v.ok and v.message == "所给链头第 0 条的哈希应为全零。"


def test_the_anchor_follows_each_commit_and_is_private(db, tmp_path):
    assert anchor.read() is None
    ev = audit.record("admin", "test.one", "thing", 1)
    assert anchor.read() == (1, ev.hash)
    assert anchor.path().parent == tmp_path / "files" / "anchors"
    assert oct(anchor.path().parent.stat().st_mode & 0o777) == "0o700"
    assert oct(anchor.path().stat().st_mode & 0o777) == "0o600"
    # Inside a transaction the head is pending; it is anchored once the commit is done.
    with db.atomic():
        ev2 = audit.record("admin", "test.two", "thing", 2)
        anchor.flush()
        assert anchor.read() == (1, ev.hash)
    anchor.flush()
    assert anchor.read() == (2, ev2.hash)
    # A rolled-back event is never anchored.
    with pytest.raises(RuntimeError):
        with db.atomic():
            audit.record("admin", "test.three", "thing", 3)
            raise RuntimeError("rolled back")
    anchor.flush()
    assert anchor.read() == (2, ev2.hash)


def test_the_anchor_stays_on_a_rewritten_chain(db):
    from db.migrations import drop_audit_triggers

    audit.record("admin", "test.one", "thing", 1)
    held = audit.record("admin", "test.two", "thing", 2)
    with db.atomic():
        drop_audit_triggers(db)
        AuditEvent.delete().where(AuditEvent.seq == 2).execute()
    audit.record("admin", "test.other", "thing", 2)  # seq 2 again, another hash
    assert anchor.read() == (2, held.hash)
    assert "第 2 条与本终端保存的链头不符" in audit.verify().message


def test_the_anchor_of_another_store_is_another_file(tmp_path):
    from db import connect

    a = connect(tmp_path / "a.sqlite3")
    pa = anchor.path(a)
    a.close()
    b = connect(tmp_path / "b.sqlite3")
    assert anchor.path(b) != pa
    b.close()
    import peewee

    assert anchor.store_identity(peewee.SqliteDatabase(":memory:")) is None
    assert anchor.path(peewee.SqliteDatabase(":memory:")) is None


def test_a_garbled_anchor_file_is_ignored(db):
    audit.record("admin", "test.one", "thing", 1)
    anchor.path().write_text("not a head\n")
    assert anchor.read() is None
    anchor.path().write_text("12:" + "a" * 63 + "\n")
    assert anchor.read() is None
    assert audit.verify().ok


def test_the_anchor_hook_is_registered_once():
    anchor._register()
    anchor._register()
    assert AFTER_COMMIT.count(anchor.flush) == 1
    AFTER_COMMIT.remove(anchor.flush)
    anchor._register()
    assert AFTER_COMMIT.count(anchor.flush) == 1


def test_a_registered_kind_is_covered_and_checked(db):
    from db.models import Setting

    def hash_note(ident):
        row = Setting.get_or_none(Setting.key == f"note.{ident}")
        return None if row is None else {"text": cover.digest(row.value)}

    kind = cover.Kind("note", hash_note, lambda i: f"便签 {i}", {"text": "正文"},
                      entities=("memo",))
    cover.register(kind)
    try:
        assert cover.COVERED["note"] is kind
        assert cover.subjects("memo", "7") == [("note", "7")]
        Setting.create(key="note.7", value="hello")
        audit.record("admin", "memo.write", "memo", 7)
        audit.record("admin", "setting.change", "setting", "note.7")
        assert audit.verify().ok
        Setting.update(value="bye").where(Setting.key == "note.7").execute()
        # The memo event (seq 1) is the last to cover the note; seq 2 covers the setting.
        assert audit.verify().message == "便签 7 的正文与第 1 条审计记录不符。"
    finally:
        del cover.COVERED["note"]
        del cover._ENTITY_KIND["note"], cover._ENTITY_KIND["memo"]


def test_subjects_are_derived_and_deduplicated(db):
    item = Item.create(code="RS-01", name="n", legal_basis="b", content="c", category="x",
                       lead_office="o")
    PlanTask.create(code="2026-RS-01-1", year=2026, item=item, round_no=1, planned_month=3)
    assert cover.subjects("task", "2026-RS-01-1") == [("plan", "2026")]
    assert cover.subjects("plan", "2026", [("task", "2026-RS-01-1")]) == [("plan", "2026")]
    assert cover.subjects("task", "NO-SUCH-TASK") == []
    assert cover.subjects("thing", "1") == [] and cover.subjects("user", "") == []
    assert cover.subjects("", "", [("user", "admin")]) == [("user", "admin")]


def _final_report_with_rectification():
    item = Item.create(code="RS-01", name="n", legal_basis="b", content="c", category="x",
                       lead_office="o")
    task = PlanTask.create(code="2026-RS-01-1", year=2026, item=item, round_no=1,
                           planned_month=3, state="drawn")
    draw = Draw.create(task=task, attempt_no=1, state="sealed", operator="op",
                       pool_digest="a" * 64, inspectors_digest="b" * 64,
                       conflicts_digest="c" * 64, strata_json="{}")
    t = Target.create(uscc="91411623MA0001AA1X", name="厂", category="x")
    a = Assignment.create(draw=draw, position=0, task_code="2026-07-0001", target=t)
    r = Report.create(assignment=a, state="final", finding="责令整改")
    rect = Rectification.create(report=r, deadline=dt.date(2026, 9, 1))
    audit.record("reviewer", "report.finalise", "report", r.id)
    return r, rect


def test_a_rectification_is_covered_with_its_report(db):
    _report, rect = _final_report_with_rectification()
    assert f"rectification:{rect.id}" in AuditEvent.get(
        AuditEvent.action == "report.finalise").covers
    assert audit.verify().ok
    Rectification.update(closed_at=dt.datetime(2026, 8, 1), closed_by="mole").where(
        Rectification.id == rect.id).execute()
    assert audit.verify().message == ("任务 2026-07-0001 的整改的期限与销号与第 1 条审计记录"
                                      "不符。")
    rect2 = Rectification.get_by_id(rect.id)
    assert cover.label_rectification(str(rect2.id)) == "任务 2026-07-0001 的整改"
    assert cover.label_rectification("999") == "整改记录 999"
    assert cover.hash_rectification("999") is None and cover.hash_rectification("x") is None


def test_labels_of_subjects_that_are_gone(db):
    assert cover.label_draw("999") == "摇号记录 999"
    assert cover.label_report("999") == "检查报告 999"
    assert cover.hash_draw("x") is None and cover.hash_report("x") is None
    assert cover.hash_plan("NO-SUCH") is None and cover.hash_user("nobody") is None
    assert cover.hash_setting("nothing") is None


# ---------------------------------------------------------------- the Audit screen's query


@pytest.fixture
def trail(db):
    """30 events a day apart (their times set afterwards: this chain does not verify)."""
    leader = auth.create_user("leader", "leader123", "leader", "吴建华", actor="test")
    day = dt.datetime(2026, 3, 1, 9, 0)
    for i in range(30):
        ev = audit.record(("admin", "operator")[i % 2], ("draw.witness", "registry.import")[
            i % 2], ("draw", "items")[i % 2], i, n=i)
        AuditEvent._meta.database.execute_sql("DROP TRIGGER IF EXISTS audit_event_no_update")
        AuditEvent.update(at=day + dt.timedelta(days=i)).where(AuditEvent.id == ev.id).execute()
    return leader


def test_pages_newest_first_and_back(trail):
    first = query.page(trail, size=10)
    assert [r.seq for r in first.rows] == list(range(31, 21, -1))
    assert (first.has_newer, first.has_older) == (False, True)
    second = query.page(trail, older_than=22, size=10)
    assert [r.seq for r in second.rows] == list(range(21, 11, -1))
    assert (second.has_newer, second.has_older) == (True, True)
    last = query.page(trail, older_than=2, size=10)
    assert [r.seq for r in last.rows] == [1] and (last.has_newer, last.has_older) == (True, False)
    back = query.page(trail, newer_than=21, size=10)
    assert [r.seq for r in back.rows] == list(range(31, 21, -1))
    assert (back.has_newer, back.has_older) == (False, True)
    mid = query.page(trail, newer_than=5, size=10)
    assert [r.seq for r in mid.rows] == list(range(15, 5, -1))
    assert (mid.has_newer, mid.has_older) == (True, True)
    assert query.page(trail, newer_than=31, size=10).rows == []


def test_filters_by_actor_action_subject_and_dates(trail):
    f = query.EventFilter(actor="operator", action="registry.")
    rows = query.page(trail, f, size=50).rows
    assert len(rows) == 15 and {(r.actor, r.action) for r in rows} == {
        ("operator", "registry.import")}
    rows = query.page(trail, query.EventFilter(subject="draw:4"), size=50).rows
    assert [(r.seq, r.subject) for r in rows] == [(6, "draw:4")]
    rows = query.page(trail, query.EventFilter(subject="items"), size=50).rows
    assert len(rows) == 15
    rows = query.page(trail, query.EventFilter(subject="leader"), size=50).rows
    assert [r.action for r in rows] == ["user.create"]
    f = query.EventFilter(since=dt.date(2026, 3, 3), until=dt.date(2026, 3, 5))
    rows = query.page(trail, f, size=50).rows
    assert [r.at[:10] for r in rows] == ["2026-03-05", "2026-03-04", "2026-03-03"]
    assert rows[0].detail == "n=4" and rows[0].at == "2026-03-05 09:00:00"


def test_the_trail_is_for_the_leader_and_the_auditor_only(trail):
    op = auth.create_user("op", "operator123", "operator", "孙立新", actor="test")
    for user in (op, None):
        with pytest.raises(UserError, match="只有局领导和纪检审计人员可以查看审计日志"):
            query.page(user)
        with pytest.raises(UserError, match="只有局领导和纪检审计人员"):
            verify_for(user)
    auditor = auth.create_user("aud", "auditor123", "auditor", "陈明德", actor="test")
    assert query.page(auditor, size=1).rows[0].action == "user.create"


def test_verify_for_logs_who_verified_and_the_verdict(db):
    leader = auth.create_user("leader", "leader123", "leader", "吴建华", actor="test")
    v = verify_for(leader, audit.head())
    assert v.ok
    ev = AuditEvent.select().order_by(AuditEvent.seq.desc()).first()
    assert (ev.actor, ev.action) == ("leader", "audit.verify")
    assert '"ok": true' in ev.detail and v.message[:8] in ev.detail


def test_dates_are_parsed_or_refused_in_one_sentence():
    assert query.parse_date(" 2026-07-14 ", "起始日期") == dt.date(2026, 7, 14)
    assert query.parse_date("  ", "起始日期") is None
    with pytest.raises(UserError, match="起始日期“7/14”不是日期"):
        query.parse_date("7/14", "起始日期")


def test_details_are_shown_as_key_value_pairs():
    assert query._detail('{"a": 1, "b": "x"}') == "a=1；b=x"
    assert query._detail("not json") == "not json"
    assert query._detail("[1, 2]") == "[1, 2]"


# ---------------------------------------------------------------- the certificate


def leader_bureau() -> str:
    from kiosk import settings

    return settings.get("bureau_name")


def test_the_certificate_names_the_head_and_is_logged(db, tmp_path):
    pdfium = pytest.importorskip("pypdfium2")
    leader = auth.create_user("leader", "leader123", "leader", "吴建华", actor="test")
    for i in range(3):  # the head is not the first event
        ev = audit.record("admin", "test.more", "thing", i)
        AuditEvent._meta.database.execute_sql("DROP TRIGGER IF EXISTS audit_event_no_update")
        AuditEvent.update(at=dt.datetime(2026, 3, 1 + i, 9, 0)).where(
            AuditEvent.id == ev.id).execute()
    anchor.reset()
    seq, h = audit.head()
    from kiosk.audit.certificate import print_certificate

    out = tmp_path / "cert.pdf"
    msg = print_certificate(out, leader)
    assert msg.startswith(f"审计链头证明（链头 {seq}:{h[:16]}…）")
    doc = pdfium.PdfDocument(str(out))
    # Compared without white space: the PDF layout may break a line at a space or not.
    text = re.sub(r"\s+", "", doc[0].get_textpage().get_text_range())
    assert len(doc) == 1
    doc.close()
    assert h in text and f"kioskauditverify--head{seq}:{h}" in text
    when = AuditEvent.get(AuditEvent.seq == seq).at
    assert str(when) == "2026-03-03 09:00:00"
    for line in ("本终端的审计日志是一条哈希链：每条记录都包含前一条记录的哈希。",
                 "此后对其中任何一条的删除、修改或重排，都会使核验命令 kiosk audit verify --head "
                 "序号:哈希 报告不符。", f"链头序号 {seq}", f"链头哈希 {h}",
                 "打印人 吴建华（leader）",
                 "本证明一式两份，一份由局领导存档，一份交纪检监察部门存档。",
                 "局领导签名 / 日期纪检监察签名 / 日期"):
        assert re.sub(r"\s+", "", line) in text, line
    assert text.startswith(f"{leader_bureau()}审计链头证明")
    assert f"审计链头证明{dt.date.today():%Y年%m月%d日}" in text
    assert f"该条时间{when}".replace(" ", "") in text and f"审计链头{seq}:{h[:16]}第1页" in text
    page = pdfium.PdfDocument(str(out))[0]
    assert (round(page.get_width() / 72 * 25.4), round(page.get_height() / 72 * 25.4)) == (
        210, 297)
    ev = AuditEvent.select().order_by(AuditEvent.seq.desc()).first()
    assert (ev.actor, ev.action, ev.entity_id) == ("leader", "audit.certificate", str(seq))
    assert not list(tmp_path.glob(".cert-*"))
    with pytest.raises(UserError, match="只有局领导可以打印审计链头证明"):
        print_certificate(out, User.create(username="x", display_name="x", role="auditor",
                                           password_hash="x"))
    assert ev.entity == "audit" and json.loads(ev.detail) == {"head": f"{seq}:{h}",
                                                             "file": "cert.pdf"}
    with pytest.raises(UserError) as e:
        print_certificate(tmp_path / "cert.txt", leader)
    assert str(e.value) == "证明文件须为 .pdf。"


# ---------------------------------------------------------------- verify, part by part


def test_a_sentence_spaces_a_code_but_not_chinese():
    from kiosk.audit.check import _sentence

    assert _sentence("任务 2026-07-0001", "的检查结论") == "任务 2026-07-0001 的检查结论"
    assert _sentence("摇号A", "的封存记录") == "摇号A 的封存记录"
    assert _sentence("2026 年度抽查计划", "的计划任务") == "2026 年度抽查计划的计划任务"


def test_the_earliest_covering_event_is_named_first(db):
    auth.create_user("zed", "zed12345", "admin", "甲", actor="test")  # seq 1
    from kiosk import settings

    settings.put("a_setting", "1", actor="zed")  # seq 2; "setting:a…" sorts before "user:…"
    User.update(role="leader").where(User.username == "zed").execute()
    from db.models import Setting

    Setting.update(value="2").where(Setting.key == "a_setting").execute()
    assert audit.verify().message == "用户 zed 的角色与第 1 条审计记录不符。"


def test_an_unknown_kind_in_the_chain_does_not_stop_the_check(db):
    def hash_ghost(ident):
        return {"text": "x"}

    cover.register(cover.Kind("ghost", hash_ghost, lambda i: f"幽灵 {i}", {}))
    try:
        audit.record("admin", "ghost.write", "ghost", 1)
    finally:
        del cover.COVERED["ghost"], cover._ENTITY_KIND["ghost"]
    auth.create_user("zed", "zed12345", "admin", "甲", actor="test")
    assert audit.verify().ok
    User.update(role="leader").where(User.username == "zed").execute()
    assert audit.verify().message == "用户 zed 的角色与第 2 条审计记录不符。"


def test_a_part_without_a_label_is_named_by_its_key(db):
    from db.models import Setting

    cover.register(cover.Kind("note", lambda i: (
        {"text": cover.digest(Setting.get(Setting.key == i).value)}), lambda i: f"便签 {i}", {}))
    try:
        Setting.create(key="n1", value="a")
        audit.record("admin", "note.write", "note", "n1")
        Setting.update(value="b").where(Setting.key == "n1").execute()
        assert audit.verify().message.startswith("便签 n1 的text与第 1 条审计记录不符")
    finally:
        del cover.COVERED["note"], cover._ENTITY_KIND["note"]


def test_a_subject_id_with_a_colon_is_still_checked(db):
    from db.models import Setting
    from kiosk import settings

    settings.put("printer:a4", "lp0", actor="admin")
    assert cover.split_key("setting:printer:a4") == ("setting", "printer:a4")
    Setting.update(value="evil").where(Setting.key == "printer:a4").execute()
    assert audit.verify().message.startswith("设置 printer:a4 的取值与第 1 条")


def test_the_sealed_record_is_covered_but_not_its_audit_head(db):
    r, _rect = _final_report_with_rectification()
    draw = r.assignment.draw
    draw.record_json = json.dumps({"seed": "1" * 64, "audit_head": "a" * 64})
    draw.save()
    audit.record("operator", "draw.seal", "draw", draw.id)
    seal = AuditEvent.select().order_by(AuditEvent.seq.desc()).first().seq
    # The head written into the record after its own seal event is not part of the hash ...
    Draw.update(record_json=json.dumps({"seed": "1" * 64, "audit_head": "b" * 64})).where(
        Draw.id == draw.id).execute()
    assert audit.verify().ok
    # ... everything else in it is.
    Draw.update(record_json=json.dumps({"seed": "2" * 64, "audit_head": "b" * 64})).where(
        Draw.id == draw.id).execute()
    assert audit.verify().message == (f"任务 2026-RS-01-1 第 1 次摇号的封存记录与第 {seal} "
                                      "条审计记录不符。")
    Draw.update(record_json="not json").where(Draw.id == draw.id).execute()
    assert not audit.verify().ok
    assert cover._record_without_head("") == "" and cover._record_without_head("[1]") == [1]
    assert cover._record_without_head("x{") == "x{"


def _evidence(report, base, name, data, absolute=False):
    import hashlib

    from db.models import Evidence

    sha = hashlib.sha256(data).hexdigest()
    path = base / "evidence" / f"{sha}.bin"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return Evidence.create(report=report, filename=name, sha256=sha, size=len(data),
                           stored_path=str(path) if absolute else f"evidence/{sha}.bin",
                           added_by="insp01")


def _archive(report, base, name, data):
    import hashlib

    (base / "archive").mkdir(parents=True, exist_ok=True)
    (base / "archive" / name).write_bytes(data)
    audit.record("reviewer", "report.archive", "report", report.id, path=name,
                 sha256=hashlib.sha256(data).hexdigest(), size=len(data))


def test_files_are_counted_and_the_first_changed_one_is_named(db, tmp_path, monkeypatch):
    """Without KIOSK_DATA_DIR the files live beside the SQLite store, in <store>.files."""
    monkeypatch.delenv("KIOSK_DATA_DIR")
    monkeypatch.setenv("KIOSK_ANCHOR_DIR", str(tmp_path / "anchors"))
    base = tmp_path / "kiosk.files"
    r, _rect = _final_report_with_rectification()
    e1 = _evidence(r, base, "一.jpg", b"one")
    e2 = _evidence(r, base, "二.jpg", b"two", absolute=True)
    _archive(r, base, "b.pdf", b"%PDF first")   # archived first, named later in the alphabet
    _archive(r, base, "a.pdf", b"%PDF second")
    v = audit.verify()
    assert v.ok and "与 4 个文件均未改动" in v.message, v.message
    (base / "archive" / "a.pdf").write_bytes(b"%PDF other")
    (base / "archive" / "b.pdf").write_bytes(b"%PDF other")
    assert audit.verify().message.startswith("归档报告“b.pdf”已被替换")
    from pathlib import Path

    Path(e2.stored_path).write_bytes(b"2")
    (base / e1.stored_path).write_bytes(b"1")
    assert audit.verify().message.startswith("证据文件“一.jpg”")
    (base / e1.stored_path).write_bytes(b"one")
    assert audit.verify().message.startswith("证据文件“二.jpg”")


def test_the_baseline_vouches_once_as_the_system(db):
    from kiosk.audit.chain import ensure_baseline

    assert ensure_baseline() is False  # an empty chain needs none
    with db.atomic():
        AuditEvent.create(seq=1, actor="old", action="user.create", entity="user",
                          entity_id="old", detail="{}", prev_hash=GENESIS,
                          hash=audit.entry_hash(GENESIS, 1, "2021-01-01 00:00:00", "old",
                                                "user.create", "user", "old", "{}"),
                          at=dt.datetime(2021, 1, 1))
    auth.create_user("old", "old12345", "admin", "旧", actor="x")  # covers: no baseline due
    assert ensure_baseline() is False
    db.execute_sql("DROP TRIGGER IF EXISTS audit_event_no_delete")
    AuditEvent.delete().where(AuditEvent.seq == 2).execute()
    assert ensure_baseline() is True
    ev = AuditEvent.get(AuditEvent.seq == 2)
    assert (ev.actor, ev.action, ev.entity, ev.entity_id) == ("system", "audit.baseline",
                                                              "audit", "")
    assert json.loads(ev.detail) == {"subjects": 1} and "user:old" in ev.covers


def test_reset_forgets_only_the_current_stores_anchor(tmp_path):
    from db import connect

    a = connect(tmp_path / "a.sqlite3")
    audit.record("admin", "test.a", "thing", 1)
    pa = anchor.path(a)
    a.close()
    b = connect(tmp_path / "b.sqlite3")
    audit.record("admin", "test.b", "thing", 1)
    pb = anchor.path(b)
    assert pa.exists() and pb.exists()
    anchor.reset()
    assert pa.exists() and not pb.exists()
    anchor.reset()  # nothing left to forget: no error
    with b.atomic():
        audit.record("admin", "test.b2", "thing", 2)
        anchor.reset()  # the head pending in this transaction is forgotten too
    anchor.flush()
    assert not pb.exists()
    b.close()


def test_verify_for_passes_the_head_and_the_progress_on(db):
    leader = auth.create_user("leader", "leader123", "leader", "吴建华", actor="test")
    calls = []
    seq, _ = audit.head()
    v = verify_for(leader, (seq, "0" * 64), progress=lambda d, t: calls.append((d, t)))
    assert not v.ok and v.message.startswith(f"审计日志第 {seq} 条与所给链头不符")
    assert calls == [], calls  # a broken chain ends before the progress is complete
    ev = AuditEvent.select().order_by(AuditEvent.seq.desc()).first()
    assert (ev.action, ev.entity, ev.entity_id) == ("audit.verify", "audit", "")
    detail = json.loads(ev.detail)
    assert detail == {"ok": False, "head": f"{seq}:{'0' * 64}", "verdict": v.message}
    v = verify_for(leader, progress=lambda d, t: calls.append((d, t)))
    assert v.ok and calls[-1] == (calls[-1][1], calls[-1][1]) and calls[-1][1] == seq + 1
    assert json.loads(AuditEvent.select().order_by(AuditEvent.seq.desc()).first()
                      .detail)["head"] == ""


@pytest.mark.parametrize("n, calls", [(50, 51), (1050, 106), (1100, 101)])
def test_progress_is_reported_about_a_hundred_times(db, n, calls):
    from tests.test_screens_audit import bulk_events

    bulk_events(n)
    seen = []
    assert audit.verify(progress=lambda d, t: seen.append((d, t))).ok
    assert len(seen) == calls and seen[-1] == (n, n)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_the_walk_follows_sequence_numbers_not_insertion_order(db):
    """An honest chain whose rows were stored in another order (a restore, a merge)."""
    from kiosk.store import bulk_insert, write_tx

    prev, rows = GENESIS, []
    for seq in range(1, 6):
        at = f"2026-03-0{seq} 09:00:00"
        h = audit.entry_hash(prev, seq, at, "admin", "test.x", "thing", str(seq), "{}")
        rows.append((seq, at, "admin", "test.x", "thing", str(seq), "{}", prev, h, ""))
        prev = h
    with write_tx():
        bulk_insert(AuditEvent, ["seq", "at", "actor", "action", "entity", "entity_id",
                                 "detail", "prev_hash", "hash", "covers"], rows[::-1])
    v = audit.verify()
    assert v.ok and v.head == (5, prev), v.message


def test_a_malformed_head_names_the_expected_form():
    with pytest.raises(UserError) as e:
        parse_head("12:abc")
    assert str(e.value) == ("链头“12:abc”格式不对：应为 序号:64位十六进制哈希"
                            "（kiosk audit head 的输出）。")
    assert parse_head("3:" + "0123456789abcdef" * 4) == (3, "0123456789abcdef" * 4)


def test_a_user_named_by_id_is_covered_by_login(db):
    u = auth.create_user("zed", "zed12345", "admin", "甲", actor="test")
    auth.create_user("42", "pw123456", "leader", "数字", actor="test")
    assert cover.subjects("user", str(u.id)) == [("user", "zed")]
    assert cover.subjects("user", "42") == [("user", "42")]  # a login that looks like an id
    assert cover.subjects("user", "999") == [("user", "999")]
    User.update(role="leader").where(User.id == u.id).execute()
    audit.record("admin", "user.role", "user", u.id, role="leader")
    assert audit.verify().ok


def test_a_page_holds_exactly_its_size_and_knows_its_ends(trail):
    exact = query.page(trail, query.EventFilter(actor="admin"), size=15)
    assert len(exact.rows) == 15 and (exact.has_newer, exact.has_older) == (False, False)
    up = query.page(trail, query.EventFilter(actor="admin"), newer_than=0, size=5)
    assert [r.seq for r in up.rows] == [10, 8, 6, 4, 2]
    assert (up.has_newer, up.has_older) == (True, False)
    down = query.page(trail, query.EventFilter(actor="admin"), older_than=10, size=4)
    assert [r.seq for r in down.rows] == [8, 6, 4, 2] and (down.has_newer, down.has_older) == (
        True, False)
    assert query.page(trail, older_than=1).rows == []
    assert query.page(trail, query.EventFilter(actor="nobody")) == query.Page([], False, False)


def test_filters_one_at_a_time_and_at_their_bounds(db):
    from kiosk.store import bulk_insert, write_tx

    leader = auth.create_user("leader", "leader123", "leader", "吴建华", actor="test")
    rows = [(2, "2026-03-03 00:00:00", "admin", "a.x", "setting", "printer:a4", "{}"),
            (3, "2026-03-05 23:59:59.500000", "op", "a.y", "store", "", "{}"),
            (4, "2026-03-06 00:00:00", "admin", "b.x", "", "loose", "not json"),
            (5, "2026-03-06 00:00:01", "op", "b.y", "thing", "9", '{"t": "' + "长" * 300 + '"}')]
    with write_tx():  # times and subjects chosen for the bounds; hashes do not matter here
        bulk_insert(AuditEvent, ["seq", "at", "actor", "action", "entity", "entity_id",
                                 "detail", "prev_hash", "hash", "covers"],
                    [(*r, GENESIS, GENESIS, "") for r in rows])
    def seqs(**kw):
        return [r.seq for r in query.page(leader, query.EventFilter(**kw), size=50).rows]

    assert seqs(actor="op") == [5, 3]
    assert seqs(subject="setting:printer:a4") == [2]
    assert seqs(since=dt.date(2026, 3, 3), until=dt.date(2026, 3, 3)) == [2]
    assert seqs(since=dt.date(2026, 3, 4), until=dt.date(2026, 3, 5)) == [3]
    assert seqs(since=dt.date(2026, 3, 6), until=dt.date(2026, 3, 6)) == [5, 4]
    page = {r.seq: r for r in query.page(leader, size=50).rows}
    assert page[3].subject == "store" and page[4].subject == "loose"
    assert page[2].subject == "setting:printer:a4"
    assert page[3].at == "2026-03-05 23:59:59" and page[4].detail == "not json"
    assert page[5].detail == "t=" + "长" * 198 and len(page[5].detail) == query.DETAIL_CHARS


def test_labels_name_the_right_task_and_refuse_nothing(db):
    _final_report_with_rectification()
    item = Item.get()
    other = PlanTask.create(code="2026-RS-01-2", year=2026, item=item, round_no=2,
                            planned_month=6, state="drawn")
    draw2 = Draw.create(task=other, attempt_no=3, state="sealed", operator="op",
                        pool_digest="a" * 64, inspectors_digest="b" * 64,
                        conflicts_digest="c" * 64, strata_json="{}")
    t2 = Target.create(uscc="91411623MA0002BB2Y", name="店", category="x")
    a2 = Assignment.create(draw=draw2, position=0, task_code="2026-07-0002", target=t2)
    r2 = Report.create(assignment=a2, state="final", finding="无问题")
    rect2 = Rectification.create(report=r2, deadline=dt.date(2026, 9, 1))
    assert cover.label_draw(str(draw2.id)) == "任务 2026-RS-01-2 第 3 次摇号"
    assert cover.label_report(str(r2.id)) == "任务 2026-07-0002"
    assert cover.label_rectification(str(rect2.id)) == "任务 2026-07-0002 的整改"
    assert cover.label_report("x") == "检查报告 x"
    assert cover.label_rectification("x") == "整改记录 x"


def test_the_plan_is_covered_year_by_year_field_by_field(db):
    item = Item.create(code="RS-01", name="n", legal_basis="b", content="c", category="x",
                       lead_office="o")
    item2 = Item.create(code="RS-02", name="n", legal_basis="b", content="c", category="x",
                        lead_office="o")
    for year in (2026, 2027):
        PlanTask.create(code=f"{year}-RS-01-1", year=year, item=item, round_no=1,
                        planned_month=3)
        audit.record("leader", "plan.make", "plan", year)
    assert audit.verify().ok
    for change in ({"planned_month": 4}, {"round_no": 2}, {"item": item2}, {"state": "drawn"},
                   {"code": "2027-RS-01-9"}):
        task = PlanTask.get(PlanTask.year == 2027)
        before = {k: getattr(task, k) for k in change}
        PlanTask.update(**change).where(PlanTask.id == task.id).execute()
        assert audit.verify().message == ("2027 年度抽查计划的计划任务及其状态与第 2 条"
                                          "审计记录不符。")
        PlanTask.update(**before).where(PlanTask.id == task.id).execute()
        assert audit.verify().ok
    assert cover._record_without_head('{"a": 1}') == {"a": 1}


def test_pages_are_twenty_by_default_and_in_sequence_order(db):
    from kiosk.store import bulk_insert, write_tx

    leader = auth.create_user("leader", "leader123", "leader", "吴建华", actor="test")
    rows = [(seq, "2026-03-03 00:00:00", "admin", "a.x", "thing", str(seq), "{}", GENESIS,
             GENESIS, "") for seq in range(2, 40)]
    with write_tx():
        bulk_insert(AuditEvent, ["seq", "at", "actor", "action", "entity", "entity_id",
                                 "detail", "prev_hash", "hash", "covers"], rows[::-1])
    assert [r.seq for r in query.page(leader).rows] == list(range(39, 19, -1))
    assert [r.seq for r in query.page(leader, newer_than=1, size=3).rows] == [4, 3, 2]


def test_a_failed_login_cannot_vouch_for_a_user_inserted_later(db):
    auth.create_user("admin", "admin123", "admin", "赵", actor="test")
    with pytest.raises(UserError):
        auth.login("mole", "whatever")  # an event about "user:mole", covering nothing
    User.create(username="mole", display_name="内鬼", role="admin", password_hash="x")
    assert audit.verify().message == "用户 mole 不在审计记录中：它未经终端写入。"


def test_an_archive_event_without_a_hash_is_not_a_file_to_check(db):
    audit.record("reviewer", "report.archive", "report", 1, path="x.pdf")
    audit.record("reviewer", "report.archive", "report", 2, sha256="0" * 64)
    assert audit.verify().ok


def test_files_can_be_left_out_and_progress_knows_the_total(db, tmp_path):
    r, _rect = _final_report_with_rectification()
    e = _evidence(r, tmp_path / "files", "一.jpg", b"one")
    audit.record("insp01", "report.evidence", "report", r.id)
    assert audit.verify().ok
    (tmp_path / "files" / e.stored_path).write_bytes(b"changed")
    seen = []
    v = audit.verify(files=False, progress=lambda d, t: seen.append(t))
    assert v.ok and "个文件" not in v.message, v.message
    assert set(seen) == {AuditEvent.select().count()}
    assert not audit.verify().ok


def test_the_row_digest_format_is_fixed():
    """Stores keep these hashes for years: the format may never drift (sorted keys, compact
    separators, UTF-8 text, dates as text)."""
    import hashlib

    value = {"b": [1, dt.date(2026, 7, 14)], "a": "中文"}
    body = '{"a":"中文","b":[1,"2026-07-14"]}'
    assert cover.digest(value) == hashlib.sha256(body.encode()).hexdigest()
