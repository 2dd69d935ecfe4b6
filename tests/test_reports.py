"""Inspection reports: who may open them, drafts that survive a power cut, the workflow,
evidence, deadlines, the leadership summary and the printed report."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import pytest

from db import connect
from db.models import (
    Assignment,
    AssignmentMember,
    AuditEvent,
    Draw,
    Evidence,
    Inspector,
    Item,
    PlanTask,
    Rectification,
    Report,
    Target,
    User,
)
from kiosk import audit, auth, reports
from kiosk.errors import UserError
from tests.draw_world import sealed_draw


def uscc(serial: int) -> str:
    """A unified social credit code with correct check characters (GB 32100, GB 11714)."""
    from kiosk import uscc as codes

    return codes.make(body=f"MA{serial:06d}")


PASSWORD = "secret-123"


@dataclass
class World:
    item: Item
    task: PlanTask
    draw: Draw
    targets: list[Target]
    inspectors: list[Inspector]
    assignments: list[Assignment]
    member: User  # inspector on assignments[0]
    member2: User  # the other inspector on assignments[0]
    outsider: User  # inspector on no team of assignments[0]
    reviewer: User  # reviewer of the item's lead office
    other_reviewer: User  # reviewer of another office
    leader: User


def build_world(year: int = 2025, n_assignments: int = 3) -> World:
    """A sealed draw of one item with its assignments and teams, plus users for every role."""
    item = Item.create(code="RS-01", name="用人单位遵守劳动合同制度情况的检查",
                       legal_basis="《劳动保障监察条例》第十一条",
                       content="劳动合同签订情况\n工资支付情况\n社会保险参保情况",
                       method="现场检查", category="企业", lead_office="劳动保障监察大队",
                       offices="劳动保障监察大队")
    task, draw = sealed_draw(item, year, 7, sealed_at=dt.datetime(year, 7, 1, 10, 0))
    names = ["商水县宏达纺织有限公司", "商水县金穗面业有限公司", "商水县恒安建筑工程有限公司",
             "商水县惠民超市有限公司", "商水县鑫源机械厂"]
    targets = [Target.create(uscc=uscc(1000 + i),
                             name=names[i % len(names)] + ("" if i < 5 else str(i)),
                             category="企业", township="城关乡", address=f"商水县人民路{i + 1}号")
               for i in range(n_assignments)]
    inspectors = [Inspector.create(cert_no=f"豫41160{i:04d}", name=n, office="劳动保障监察大队")
                  for i, n in enumerate(["张伟", "李娜", "王强", "赵敏"])]
    assignments = []
    for i, t in enumerate(targets):
        a = Assignment.create(draw=draw, position=i, task_code=f"{year}-07-{i + 1:04d}",
                              target=t, slip_version=1)
        team = [inspectors[0], inspectors[1]] if i % 2 == 0 else [inspectors[2], inspectors[3]]
        for p, ins in enumerate(team):
            AssignmentMember.create(assignment=a, inspector=ins, position=p)
        assignments.append(a)
    member = auth.create_user("zhangwei", PASSWORD, "inspector", "张伟", inspector=inspectors[0],
                              office="劳动保障监察大队")
    member2 = auth.create_user("lina", PASSWORD, "inspector", "李娜", inspector=inspectors[1],
                               office="劳动保障监察大队")
    outsider = auth.create_user("wangqiang", PASSWORD, "inspector", "王强",
                                inspector=inspectors[2], office="劳动保障监察大队")
    reviewer = auth.create_user("shenhe", PASSWORD, "reviewer", "审核人",
                                office="劳动保障监察大队")
    other_reviewer = auth.create_user("qita", PASSWORD, "reviewer", "其他股室",
                                      office="社会保险股")
    leader = auth.create_user("juzhang", PASSWORD, "leader", "局长")
    return World(item, task, draw, targets, inspectors, assignments, member, member2, outsider,
                 reviewer, other_reviewer, leader)


FILLED = {
    "inspection_start": "2025-09-26 09:00",
    "inspection_end": "2025-09-26 11:30",
    "method": "现场检查",
    "onsite_record": "查阅劳动合同 52 份，工资发放记录 6 个月。",
    "evaluation": "基本遵守劳动合同制度，个别合同未约定工作地点。",
    "finding": "无问题",
    "opinion": "建议完善合同范本。",
}


def _actions() -> list[str]:
    return [e.action for e in AuditEvent.select().order_by(AuditEvent.seq)]


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def workdays():
    return pytest.importorskip("kiosk.workdays")


# ------------------------------------------------------------------ membership

def test_member_opens_a_prefilled_draft(world):
    rep = reports.open_report(world.assignments[0], world.member)
    assert rep.state == "draft"
    assert rep.unit == "商水县宏达纺织有限公司"
    assert rep.content_checked == world.item.content
    assert rep.inspectors_present == "张伟、李娜"
    assert rep.method == "现场检查"
    # Opening again returns the same report, not a second one.
    again = reports.open_report(world.assignments[0], world.member2)
    assert again.id == rep.id
    assert Report.select().count() == 1
    assert _actions().count("report.open") == 2


def test_reviewer_and_leader_may_open(world):
    a = world.assignments[0]
    assert reports.can_open(a, world.reviewer)
    assert reports.can_open(a, world.leader)
    assert reports.open_report(a, world.reviewer).assignment_id == a.id


def test_non_member_is_refused_and_logged(world):
    a = world.assignments[0]
    assert not reports.can_open(a, world.outsider)
    assert not reports.can_open(a, None)
    with pytest.raises(UserError, match="您不是该任务检查组成员，无权打开此报告。"):
        reports.open_report(a, world.outsider)
    ev = AuditEvent.select().order_by(AuditEvent.seq.desc()).first()
    assert (ev.action, ev.actor, ev.entity_id) == ("report.refused", "wangqiang", a.task_code)
    assert Report.select().count() == 0
    # The outsider is a member of another team and may open that one.
    assert reports.open_report(world.assignments[1], world.outsider).state == "draft"
    assert audit.verify()[0]


def test_reviewer_cannot_edit_a_draft(world):
    rep = reports.open_report(world.assignments[0], world.reviewer)
    with pytest.raises(UserError, match="只有该任务检查组成员"):
        reports.save_draft(rep, {"evaluation": "x"}, world.reviewer)


def test_scan_to_report_with_a_real_payload(world):
    from kiosk import slips

    a = world.assignments[0]
    payload = slips.payload(a)
    assert reports.check_payload(payload).id == a.id
    assert Report.select().count() == 0  # --check only validates
    rep = reports.scan_to_report(payload, world.member)
    assert rep.assignment_id == a.id and rep.state == "draft"
    # A task code typed by hand works too.
    assert reports.scan_to_report(a.task_code, world.member2).id == rep.id
    with pytest.raises(UserError, match="无权打开"):
        reports.scan_to_report(payload, world.outsider)


def test_forged_payload_is_refused_and_logged(world):
    from kiosk import slips

    a = world.assignments[0]
    good = slips.payload(a)
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    with pytest.raises(UserError, match="校验失败"):
        reports.scan_to_report(forged, world.member)
    ev = AuditEvent.select().order_by(AuditEvent.seq.desc()).first()
    assert (ev.action, ev.entity_id) == ("slips.refused", a.task_code)
    with pytest.raises(UserError):
        reports.check_payload(good.replace(a.task_code, world.assignments[1].task_code))
    assert Report.select().count() == 0


# ------------------------------------------------------------------ drafts

def test_draft_survives_a_power_cut(world, db_path, workdays):
    rep = reports.open_report(world.assignments[0], world.member)
    changed = reports.save_draft(rep, {"onsite_record": "笔录第一段", "evaluation": "良好",
                                       "inspection_end": "2025-09-26 11:30"}, world.member)
    assert sorted(changed.changed) == ["evaluation", "inspection_end", "onsite_record"]
    report_id = rep.id
    from db.connection import database

    database.obj.close()  # the power goes out
    conn = connect(db_path)
    try:
        fresh = Report.get_by_id(report_id)
        assert fresh.onsite_record == "笔录第一段"
        assert fresh.evaluation == "良好"
        assert fresh.inspection_end == dt.datetime(2025, 9, 26, 11, 30)
        assert audit.verify()[0]
    finally:
        conn.close()


def test_save_writes_only_changed_fields(world):
    rep = reports.open_report(world.assignments[0], world.member)
    assert reports.save_draft(rep, {"evaluation": "良好", "unit": rep.unit},
                              world.member).changed == ["evaluation"]
    n = AuditEvent.select().count()
    assert reports.save_draft(rep, {"evaluation": "良好"}, world.member).changed == []
    assert AuditEvent.select().count() == n  # nothing changed, nothing logged
    ev = AuditEvent.select().order_by(AuditEvent.seq.desc()).first()
    assert ev.action == "report.save" and json.loads(ev.detail)["fields"] == ["evaluation"]


def test_field_validation(world):
    rep = reports.open_report(world.assignments[0], world.member)
    with pytest.raises(UserError, match="检查方式只能是"):
        reports.save_draft(rep, {"method": "电话检查"}, world.member)
    with pytest.raises(UserError, match="处理结果只能是"):
        reports.save_draft(rep, {"finding": "警告"}, world.member)
    with pytest.raises(UserError, match="格式应为"):
        reports.save_draft(rep, {"inspection_start": "明天上午"}, world.member)
    result = reports.save_draft(rep, {"inspection_start": "2025-09-26 10:00",
                                      "inspection_end": "2025-09-26 09:00"}, world.member)
    # The end (the later field, most likely the one being typed) is left out and named.
    assert result.changed == ["inspection_start"]
    assert result.errors == {"inspection_end": "检查结束时间不能早于开始时间。"}
    saved = Report.get_by_id(rep.id)
    assert (saved.inspection_start, saved.inspection_end) == (dt.datetime(2025, 9, 26, 10), None)


def test_clean_fields_keeps_the_good_ones(world):
    rep = reports.open_report(world.assignments[0], world.member)
    reports.save_draft(rep, {"inspection_start": "2025-09-26 10:00"}, world.member)
    clean, errors = reports.clean_fields(rep, {"evaluation": "好",
                                               "inspection_end": "2025-09-26 08:00",
                                               "rectify_deadline": "2025-1"})
    assert clean == {"evaluation": "好"}
    assert set(errors) == {"inspection_end", "rectify_deadline"}


def test_due_date_from_report_due(world, workdays):
    rep = reports.open_report(world.assignments[0], world.member)
    reports.save_draft(rep, {"inspection_start": "2025-09-26 09:00",
                             "inspection_end": "2025-09-26 11:30"}, world.member)
    expected = workdays.report_due(dt.datetime(2025, 9, 26, 11, 30))
    assert (rep.due_date, rep.due_provisional) == expected
    # 2025-09-26 (Fri) + 5 working days across National Day: 9-28 is a make-up working day,
    # 10-01..10-08 are holidays, 10-11 is a make-up working day.
    assert rep.due_date == dt.date(2025, 10, 10)
    assert Report.get_by_id(rep.id).due_date == dt.date(2025, 10, 10)


# ------------------------------------------------------------------ workflow

def _filled_report(world, workdays=None, **over) -> Report:
    rep = reports.open_report(world.assignments[0], world.member)
    reports.save_draft(rep, FILLED | over, world.member)
    return rep


def test_submit_needs_required_fields(world, workdays):
    rep = reports.open_report(world.assignments[0], world.member)
    with pytest.raises(UserError, match="还需填写：检查开始时间、检查结束时间、评价、处理结果、"
                                        "处理意见和建议、现场检查笔录"):
        reports.submit(rep, world.member)
    reports.save_draft(rep, FILLED | {"finding": "责令整改"}, world.member)
    with pytest.raises(UserError, match="还需填写：整改期限"):
        reports.submit(rep, world.member)
    assert Report.get_by_id(rep.id).state == "draft"


def test_submit_refuses_an_inspection_that_has_not_ended(world, workdays):
    """Art. 9 counts from the inspection's end: an end later than now is refused on submit
    (beyond a few minutes of clock skew between terminals), and nothing is logged as sent."""
    rep = _filled_report(world)
    now = dt.datetime.now().replace(second=0, microsecond=0)
    for ahead in (dt.timedelta(days=1), dt.timedelta(minutes=10)):
        end = now + ahead
        reports.save_draft(rep, {"inspection_start": (end - dt.timedelta(hours=2)).isoformat(" "),
                                 "inspection_end": end.isoformat(" ")}, world.member)
        assert Report.get_by_id(rep.id).inspection_end == end
        with pytest.raises(UserError) as refused:
            reports.submit(rep, world.member)
        assert str(refused.value) == "检查结束时间不能晚于现在。"
        assert Report.get_by_id(rep.id).state == "draft"
        assert Assignment.get_by_id(rep.assignment_id).state != "reported"
        assert "report.submit" not in _actions()
    # Within the skew allowance it goes through.
    end = now + dt.timedelta(minutes=2)
    reports.save_draft(rep, {"inspection_end": end.isoformat(" ")}, world.member)
    assert reports.submit(rep, world.member).state == "submitted"


def test_workflow_transitions(world, workdays):
    rep = _filled_report(world, finding="责令整改", rectify_deadline="2025-10-31")
    with pytest.raises(UserError, match="不在待审核状态"):
        reports.review(rep, world.reviewer, "", True)
    with pytest.raises(UserError, match="审核通过后才能定稿"):
        reports.finalise(rep, world.reviewer)
    reports.submit(rep, world.member2)
    assert rep.state == "submitted" and rep.submitted_by == "lina"
    assert Assignment.get_by_id(rep.assignment_id).state == "reported"
    with pytest.raises(UserError, match="不能再修改"):
        reports.save_draft(rep, {"evaluation": "改"}, world.member)
    with pytest.raises(UserError, match="只有该任务检查组成员"):
        reports.submit(rep, world.outsider)
    with pytest.raises(UserError, match="只有牵头股室的审核人"):
        reports.review(rep, world.other_reviewer, "", True)
    with pytest.raises(UserError, match="只有牵头股室的审核人"):
        reports.review(rep, world.member, "", True)
    with pytest.raises(UserError, match="退回理由"):
        reports.review(rep, world.reviewer, "  ", False)
    reports.review(rep, world.reviewer, "笔录不完整，请补充。", False)
    assert rep.state == "draft" and rep.review_note == "笔录不完整，请补充。"
    assert Assignment.get_by_id(rep.assignment_id).state == "assigned"
    reports.save_draft(rep, {"onsite_record": FILLED["onsite_record"] + "已补充。"}, world.member)
    reports.submit(rep, world.member)
    reports.review(rep, world.reviewer, "同意。", True)
    assert rep.state == "reviewed" and rep.reviewed_by == "shenhe"
    with pytest.raises(UserError, match="不在待审核状态"):
        reports.review(rep, world.reviewer, "", True)
    assert Rectification.select().count() == 0
    reports.finalise(rep, world.reviewer)
    assert rep.state == "final" and rep.finalised_at is not None
    assert Assignment.get_by_id(rep.assignment_id).state == "final"
    with pytest.raises(UserError, match="审核通过后才能定稿"):
        reports.finalise(rep, world.reviewer)
    acts = [a for a in _actions() if a.startswith("report.") and a != "report.save"]
    assert acts[:6] == ["report.open", "report.submit", "report.reject", "report.submit",
                        "report.approve", "report.finalise"]
    # The final report is filed as a PDF (Art. 9), its hash in the log. The CJK font is part
    # of the kiosk's install (fonts-noto-cjk): a failed archive is a failed test.
    archived = reports.archive_path(rep)
    assert acts[6:] == ["report.archive"]
    import hashlib

    ev = AuditEvent.select().order_by(AuditEvent.seq.desc()).first()
    data = archived.read_bytes()
    detail = json.loads(ev.detail)
    assert (ev.action, ev.entity_id) == ("report.archive", str(rep.id))
    assert detail["sha256"] == hashlib.sha256(data).hexdigest() and detail["size"] == len(data)
    flat = pdf_text(archived)
    assert f"任务编号{rep.assignment.task_code}·最终报告" in flat
    assert "商水县宏达纺织有限公司" in flat and "责令整改（整改期限2025-10-31）" in flat
    assert "审核审核人" in flat and "shenhe" not in flat and "同意。" in flat
    # An archived final report is never replaced.
    assert reports.archive_final(rep, world.reviewer) is None
    assert archived.read_bytes() == data
    assert audit.verify()[0]


def test_rectification_tracked_until_closed(world, workdays):
    rep = _filled_report(world, finding="责令整改", rectify_deadline="2025-10-31")
    reports.submit(rep, world.member)
    reports.review(rep, world.reviewer, "", True)
    reports.finalise(rep, world.reviewer)
    rect = Rectification.get(Rectification.report == rep)
    assert rect.deadline == dt.date(2025, 10, 31) and rect.closed_at is None
    assert [r.id for r in reports.rectifications(world.reviewer)] == [rect.id]
    assert reports.rectifications(world.other_reviewer) == []
    with pytest.raises(UserError, match="整改落实情况"):
        reports.close_rectification(rect, world.reviewer, "")
    with pytest.raises(UserError, match="只有牵头股室的审核人"):
        reports.close_rectification(rect, world.member, "已整改")
    reports.close_rectification(rect, world.reviewer, "已补签合同，复查合格。")
    assert rect.closed_by == "shenhe" and rect.note == "已补签合同，复查合格。"
    assert reports.rectifications(world.reviewer) == []
    with pytest.raises(UserError, match="已销号"):
        reports.close_rectification(rect, world.reviewer, "再次")


def test_no_problem_finding_makes_no_rectification(world, workdays):
    rep = _filled_report(world)
    reports.submit(rep, world.member)
    reports.review(rep, world.reviewer, "", True)
    reports.finalise(rep, world.reviewer)
    assert Rectification.select().count() == 0


def test_review_list_is_per_office(world, workdays):
    rep = _filled_report(world)
    assert reports.reports_for_review(world.reviewer) == []
    reports.submit(rep, world.member)
    assert [r.id for r in reports.reports_for_review(world.reviewer)] == [rep.id]
    assert [r.id for r in reports.reports_for_review(world.leader)] == [rep.id]
    assert reports.reports_for_review(world.other_reviewer) == []
    assert reports.reports_for_review(world.member) == []


# ------------------------------------------------------------------ evidence

def test_evidence_is_copied_with_hash_and_size(world, tmp_path):
    import hashlib

    rep = reports.open_report(world.assignments[0], world.member)
    photo = tmp_path / "现场照片1.JPG"
    data = b"\xff\xd8\xff" + bytes(range(256)) * 40
    photo.write_bytes(data)
    e = reports.attach_evidence(rep, photo, world.member)
    assert e.sha256 == hashlib.sha256(data).hexdigest()
    assert e.size == len(data)
    assert e.filename == "现场照片1.JPG"
    stored = reports.evidence_path(e)
    assert stored == tmp_path / "files" / "evidence" / f"{e.sha256}.jpg"
    assert stored.read_bytes() == data
    assert reports.verify_evidence(e)
    # The same file again, even under another name, is refused plainly.
    copy = tmp_path / "copy.jpg"
    copy.write_bytes(data)
    with pytest.raises(UserError, match="该文件已附上"):
        reports.attach_evidence(rep, copy, world.member)
    assert Evidence.select().count() == 1
    # Changing the original afterwards does not touch the stored copy.
    photo.write_bytes(b"other")
    assert stored.read_bytes() == data and reports.verify_evidence(e)


def test_stored_evidence_is_never_overwritten(world, tmp_path):
    rep = reports.open_report(world.assignments[0], world.member)
    photo = tmp_path / "a.png"
    photo.write_bytes(b"original photo")
    e = reports.attach_evidence(rep, photo, world.member)
    stored = reports.evidence_path(e)
    stored.chmod(0o644)
    stored.write_bytes(b"tampered")  # someone edits the stored file
    assert not reports.verify_evidence(e)
    # Attaching the original to another report must not "repair" by overwriting silently.
    rep2 = reports.open_report(world.assignments[2], world.member)
    with pytest.raises(UserError, match="拒绝覆盖"):
        reports.attach_evidence(rep2, photo, world.member)
    assert stored.read_bytes() == b"tampered"
    stored.unlink()
    assert not reports.verify_evidence(e)


def test_evidence_missing_file_and_wrong_state(world, tmp_path, workdays):
    rep = _filled_report(world)
    with pytest.raises(UserError, match="找不到文件"):
        reports.attach_evidence(rep, tmp_path / "nope.jpg", world.member)
    reports.submit(rep, world.member)
    f = tmp_path / "late.jpg"
    f.write_bytes(b"late")
    with pytest.raises(UserError, match="不能再修改"):
        reports.attach_evidence(rep, f, world.member)


# ------------------------------------------------------------------ deadlines

def test_deadline_rows(world, workdays):
    a0, a1, a2 = world.assignments
    rep0 = reports.open_report(a0, world.member)
    reports.save_draft(rep0, {"inspection_start": "2025-09-26 09:00",
                              "inspection_end": "2025-09-26 11:30"}, world.member)
    rep2 = reports.open_report(a2, world.member)
    reports.save_draft(rep2, FILLED | {"inspection_start": "2025-10-13 09:00",
                                       "inspection_end": "2025-10-13 10:00"}, world.member)
    rows = reports.deadlines(today=dt.date(2025, 10, 13))
    by_code = {r.task_code: r for r in rows}
    assert [r.task_code for r in rows] == [a0.task_code, a2.task_code, a1.task_code]
    r0 = by_code[a0.task_code]
    assert r0.due_date == dt.date(2025, 10, 10) and r0.overdue and r0.days_left == -3
    assert r0.status == "已逾期 3 天"
    assert r0.inspectors == ("张伟", "李娜") and r0.office == "劳动保障监察大队"
    assert r0.target_name == "商水县宏达纺织有限公司"
    r2 = by_code[a2.task_code]
    assert not r2.overdue and r2.days_left == (r2.due_date - dt.date(2025, 10, 13)).days > 0
    r1 = by_code[a1.task_code]
    assert (r1.due_date, r1.status, r1.state, r1.overdue) == (None, "未录入", "none", False)
    # A submitted report is no longer owed by the inspector.
    reports.submit(rep2, world.member)
    assert [r.task_code for r in reports.deadlines(today=dt.date(2025, 10, 13))] == [
        a0.task_code, a1.task_code]
    by_ins = {s.name: s for s in reports.summarise(reports.deadlines(dt.date(2025, 10, 13)))}
    assert (by_ins["张伟"].total, by_ins["张伟"].overdue) == (1, 1)
    assert (by_ins["王强"].total, by_ins["王强"].overdue, by_ins["王强"].unknown) == (1, 0, 1)
    by_office = reports.summarise(reports.deadlines(dt.date(2025, 10, 13)), by="office")
    assert [(s.name, s.total, s.overdue) for s in by_office] == [("劳动保障监察大队", 2, 1)]


def test_unsealed_draws_owe_nothing(world):
    Draw.update(state="aborted").execute()
    assert reports.deadlines(today=dt.date(2025, 10, 1)) == []


# ------------------------------------------------------------------ summary

def test_leadership_summary_counts_final_reports(world, workdays):
    findings = ["责令整改", "无问题", "责令整改"]
    for a, finding in zip(world.assignments, findings, strict=True):
        user = world.member if reports.is_member(a, world.member) else world.outsider
        rep = reports.open_report(a, user)
        reports.save_draft(rep, FILLED | {"finding": finding, "rectify_deadline": "2025-10-31"},
                           user)
        reports.submit(rep, user)
        reports.review(rep, world.reviewer, "", True)
        if a is not world.assignments[2]:
            reports.finalise(rep, world.reviewer)
    rows, totals = reports.leadership_summary(2025)
    assert len(rows) == 1
    row = rows[0]
    assert (row.item_code, row.final, row.open_rectifications) == ("RS-01", 2, 1)
    assert row.findings == {"无问题": 1, "责令整改": 1, "行政处罚": 0, "移送司法机关": 0}
    assert totals["final"] == 2 and totals["责令整改"] == 1
    assert reports.leadership_summary(2024) == ([], {"final": 0, "open_rectifications": 0,
                                                     "无问题": 0, "责令整改": 0, "行政处罚": 0,
                                                     "移送司法机关": 0})


# ------------------------------------------------------------------ PDF

def pdf_text(path) -> str:
    """A PDF's text as a reader's copy-paste gets it, whitespace removed."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(path))
    try:
        text = "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()
    return "".join(text.split())


def test_report_pdf_has_the_target_and_evidence(world, tmp_path, workdays):
    import pypdfium2 as pdfium

    rep = _filled_report(world)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"jpeg bytes")
    e = reports.attach_evidence(rep, photo, world.member)
    out = reports.render_report_pdf(rep, tmp_path / "out" / "report.pdf")
    doc = pdfium.PdfDocument(str(out))
    flat = pdf_text(out)
    assert "商水县宏达纺织有限公司" in flat
    assert world.assignments[0].task_code in flat
    assert e.sha256 in flat
    assert "张伟" in flat and "豫411600000" in flat
    from kiosk import audit

    seq, hash_ = audit.head()
    assert f"审计链头#{seq}{hash_[:16]}" in flat.replace(" ", "")
    w, h = doc[0].get_size()
    assert (round(w), round(h)) == (595, 842)  # A4 in points


def test_provisional_calendar_is_flagged(world, workdays, monkeypatch):
    """A year the holiday package does not know yet: weekdays, and the due date says so."""
    from kiosk.reports import due

    # Today pinned: 2027 stays inside the accepted window (one year ahead) whenever this runs.
    monkeypatch.setattr(due, "current_date", lambda: dt.date(2026, 11, 30))
    year = 2027
    assert workdays.is_provisional(year)
    rep = reports.open_report(world.assignments[0], world.member)
    reports.save_draft(rep, {"inspection_start": f"{year}-09-27 09:00",
                             "inspection_end": f"{year}-09-27 10:00"}, world.member)
    assert rep.due_provisional is True
    assert rep.due_date == workdays.report_due(dt.datetime(year, 9, 27, 10))[0]
    row = next(r for r in reports.deadlines(today=dt.date(year, 9, 28))
               if r.task_code == world.assignments[0].task_code)
    assert row.provisional and not row.overdue


@pytest.mark.postgres
def test_workflow_and_queries_on_postgres(pg_db, workdays, tmp_path):
    """The same services on PostgreSQL: joins, the deadline LEFT JOIN, the summary."""
    w = build_world()
    rep = reports.open_report(w.assignments[0], w.member)
    reports.save_draft(rep, FILLED | {"finding": "责令整改", "rectify_deadline": "2025-10-31"},
                       w.member)
    f = tmp_path / "p.jpg"
    f.write_bytes(b"pg evidence")
    assert reports.verify_evidence(reports.attach_evidence(rep, f, w.member))
    rows = reports.deadlines(today=dt.date(2025, 10, 13))
    assert (rows[0].task_code, rows[0].overdue) == (w.assignments[0].task_code, True)
    reports.submit(rep, w.member)
    assert [r.id for r in reports.reports_for_review(w.reviewer)] == [rep.id]
    reports.review(rep, w.reviewer, "", True)
    reports.finalise(rep, w.reviewer)
    rows, totals = reports.leadership_summary(2025)
    assert (totals["final"], totals["责令整改"], totals["open_rectifications"]) == (1, 1, 1)
    assert audit.verify()[0]


# ------------------------------------------------------------------ review fixes

def test_stale_form_never_overwrites_a_teammates_field(world):
    """Two terminals on one draft: A's form loaded before B typed; A's save leaves B's text."""
    rep_a = reports.open_report(world.assignments[0], world.member)
    rep_b = reports.open_report(world.assignments[0], world.member2)
    base_a = reports.form_values(rep_a)
    reports.save_draft(rep_b, {"onsite_record": "B 的笔录", "evaluation": "B 的评价"},
                       world.member2)
    # A changed evaluation too (a real conflict) and opinion (nobody else touched it).
    result = reports.save_draft(rep_a, {"evaluation": "A 的评价", "opinion": "A 的意见"},
                                world.member, base=base_a)
    assert result.changed == ["opinion"]
    assert result.conflicts == ["evaluation"]
    assert result.message == "评价已被同组其他成员修改，请刷新后再改。"
    fresh = Report.get_by_id(rep_a.id)
    assert (fresh.onsite_record, fresh.evaluation, fresh.opinion) == (
        "B 的笔录", "B 的评价", "A 的意见")


def test_a_date_conflict_drops_only_that_date(world):
    """Moving the inspection a day later, start typed first: the rest is saved."""
    rep = reports.open_report(world.assignments[0], world.member)
    reports.save_draft(rep, {"inspection_start": "2025-09-26 09:00",
                             "inspection_end": "2025-09-26 11:30"}, world.member)
    clean, errors = reports.clean_fields(rep, {"onsite_record": "长笔录",
                                               "inspection_start": "2025-09-27 09:00"})
    assert clean == {"onsite_record": "长笔录"}
    assert errors == {"inspection_start": "检查结束时间不能早于开始时间。"}
    # The stored end moved on another terminal after the form checked: still only that date.
    result = reports.save_draft(rep, {"onsite_record": "长笔录", "rectify_deadline": "2025-09-20"},
                                world.member)
    assert result.changed == ["onsite_record"]
    assert result.errors == {"rectify_deadline": "整改期限不能早于检查结束日期。"}
    assert Report.get_by_id(rep.id).onsite_record == "长笔录"


def test_inspection_dates_in_a_sane_window(world):
    rep = reports.open_report(world.assignments[0], world.member)
    clean, errors = reports.clean_fields(rep, {"inspection_end": "9999-12-31 10:00",
                                               "inspection_start": "1999-12-31 10:00",
                                               "evaluation": "好"})
    assert clean == {"evaluation": "好"}
    assert "请检查年份" in errors["inspection_end"] and "请检查年份" in errors["inspection_start"]
    with pytest.raises(UserError, match="请检查年份"):
        reports.save_draft(rep, {"inspection_end": "9999-12-31 10:00"}, world.member)
    assert Report.get_by_id(rep.id).inspection_end is None


def test_typed_text_is_checked_against_column_lengths(world):
    rep = reports.open_report(world.assignments[0], world.member)
    clean, errors = reports.clean_fields(rep, {"unit": "甲" * 201, "evaluation": "乙" * 5000})
    assert errors == {"unit": "被检查单位最多 200 个字，现在是 201 个字。"}
    assert clean == {"evaluation": "乙" * 5000}
    assert reports.save_draft(rep, {"unit": "甲" * 200}, world.member).changed == ["unit"]


@pytest.mark.postgres
def test_long_unit_is_a_sentence_on_postgres(pg_db):
    w = build_world()
    rep = reports.open_report(w.assignments[0], w.member)
    with pytest.raises(UserError, match="最多 200 个字"):
        reports.save_draft(rep, {"unit": "甲" * 201}, w.member)
    assert reports.save_draft(rep, {"unit": "甲" * 200, "opinion": "a\x00b"},
                              w.member).changed == ["unit", "opinion"]
    assert Report.get_by_id(rep.id).opinion == "ab"


def test_unreadable_evidence_is_a_sentence(world):
    import os

    if not os.path.exists("/proc/self/mem"):
        pytest.skip("needs Linux /proc")
    rep = reports.open_report(world.assignments[0], world.member)
    with pytest.raises(UserError, match="无法读取文件"):
        reports.attach_evidence(rep, "/proc/self/mem", world.member)
    assert Evidence.select().count() == 0


def test_evidence_is_hashed_and_copied_outside_the_write_lock(world, tmp_path, monkeypatch):
    from db.connection import database

    seen = []
    real_hash, real_store = reports.evidence.sha256_sized, reports.evidence._store

    def spy_hash(path):
        seen.append(("hash", database.obj.in_transaction()))
        return real_hash(path)

    def spy_store(*a):
        seen.append(("store", database.obj.in_transaction()))
        return real_store(*a)

    monkeypatch.setattr(reports.evidence, "sha256_sized", spy_hash)
    monkeypatch.setattr(reports.evidence, "_store", spy_store)
    rep = reports.open_report(world.assignments[0], world.member)
    f = tmp_path / "video.mp4"
    f.write_bytes(b"long video" * 1000)
    e = reports.attach_evidence(rep, f, world.member)
    assert ("hash", False) in seen and ("store", False) in seen
    assert not any(inside for _, inside in seen)
    assert reports.verify_evidence(e)


def test_reviewer_of_another_office_may_not_open_or_print(world, tmp_path):
    a = world.assignments[1]
    with pytest.raises(UserError, match="无权打开"):
        reports.open_report(a, world.other_reviewer)
    assert reports.can_open(a, world.reviewer) and reports.can_open(a, world.leader)
    rep = reports.open_report(a, world.reviewer)
    with pytest.raises(UserError, match="无权打印"):
        reports.print_report(rep, world.other_reviewer)


def test_deactivated_user_still_logged_in_cannot_edit(world):
    rep = reports.open_report(world.assignments[0], world.member)
    User.update(active=False).where(User.id == world.member.id).execute()
    assert world.member.active  # the session's copy is stale
    assert not reports.is_member(world.assignments[0], world.member)
    assert not reports.can_open(world.assignments[0], world.member)
    with pytest.raises(UserError, match="只有该任务检查组成员"):
        reports.save_draft(rep, {"evaluation": "x"}, world.member)
    assert Report.get_by_id(rep.id).evaluation == ""


def test_wrong_state_message_reads_well(world, workdays):
    rep = _filled_report(world)
    reports.submit(rep, world.member)
    with pytest.raises(UserError) as e:
        reports.save_draft(rep, {"evaluation": "x"}, world.member)
    assert str(e.value) == "报告当前为“已提交待审核”，不能再修改。"
