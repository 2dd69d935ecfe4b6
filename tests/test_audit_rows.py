"""Every covered column of a final report, a rectification, a user and a setting: change it
behind the kiosk's back and verify names the subject and the part."""
from __future__ import annotations

import datetime as dt

import pytest

from db.models import (
    Assignment,
    AuditEvent,
    Evidence,
    Inspector,
    Item,
    Rectification,
    Report,
    Target,
    User,
)
from kiosk import audit, auth
from tests.draw_world import sealed_draw


@pytest.fixture
def world(db):
    item = Item.create(code="RS-01", name="n", legal_basis="b", content="c", category="x",
                       lead_office="o")
    _, draw = sealed_draw(item, 2026, 3)
    insp = [Inspector.create(cert_no=f"豫人社监{i:04d}", name=f"员{i}", office="大队")
            for i in range(2)]
    reports = []
    for i in range(2):
        t = Target.create(uscc=f"91411623MA000{i}AA{i}X", name=f"厂{i}", category="x")
        a = Assignment.create(draw=draw, position=i, task_code=f"2026-07-000{i + 1}", target=t)
        r = Report.create(
            assignment=a, state="final", finding="责令整改", rectify_deadline=dt.date(2026, 9, 1),
            opinion="限期整改", inspection_start=dt.datetime(2026, 7, 20, 9),
            inspection_end=dt.datetime(2026, 7, 20, 11), method="现场检查",
            inspectors_present="员0、员1", unit="厂", content_checked="合同",
            onsite_record="笔录", evaluation="未签合同", submitted_by="insp01",
            submitted_at=dt.datetime(2026, 7, 21, 9), reviewed_by="reviewer",
            reviewed_at=dt.datetime(2026, 7, 22, 9), review_note="同意",
            finalised_at=dt.datetime(2026, 7, 22, 10))
        Evidence.create(report=r, filename=f"照片{i}.jpg", sha256=f"{i}" * 64, size=10,
                        stored_path=f"evidence/{i}.jpg", added_by="insp01")
        Rectification.create(report=r, deadline=dt.date(2026, 9, 1))
        audit.record("reviewer", "report.finalise", "report", r.id)
        reports.append(r)
    auth.create_user("insp01", "insp0123", "inspector", "员0", inspector=insp[0],
                     office="大队", actor="admin")
    auth.create_user("other", "other123", "inspector", "员1", inspector=insp[1],
                     office="大队", actor="admin")
    return {"report": reports[1], "insp": insp, "item": item}


REPORT = {
    "finding": [("finding", "无问题"), ("rectify_deadline", dt.date(2026, 10, 1)),
                ("opinion", "无")],
    "body": [("inspection_start", dt.datetime(2026, 7, 20, 8)),
             ("inspection_end", dt.datetime(2026, 7, 20, 12)), ("method", "书面检查"),
             ("inspectors_present", "员0"), ("unit", "店"), ("content_checked", "工资"),
             ("onsite_record", "无"), ("evaluation", "良好"), ("submitted_by", "mole"),
             ("submitted_at", dt.datetime(2026, 7, 21, 10)), ("reviewed_by", "mole"),
             ("reviewed_at", dt.datetime(2026, 7, 22, 8)), ("review_note", "无"),
             ("finalised_at", dt.datetime(2026, 7, 23, 10))],
}
LABEL = {"finding": "检查结论", "body": "检查报告"}


@pytest.mark.parametrize("part, field, value",
                         [(p, f, v) for p, fv in REPORT.items() for f, v in fv])
def test_every_column_of_a_final_report_is_covered(world, part, field, value):
    r = world["report"]
    seq = AuditEvent.get((AuditEvent.entity == "report")
                         & (AuditEvent.entity_id == str(r.id))).seq
    Report.update({getattr(Report, field): value}).where(Report.id == r.id).execute()
    assert audit.verify().message == f"任务 2026-07-0002 的{LABEL[part]}与第 {seq} 条审计记录不符。"


def test_a_report_moved_to_another_assignment_is_named(world):
    r = world["report"]
    a = r.assignment
    spare = Assignment.create(draw=a.draw, position=9, task_code="2026-07-0009",
                              target=Target.create(uscc="91411623MA0009AA9X", name="九",
                                                   category="x"))
    Report.update(assignment=spare).where(Report.id == r.id).execute()
    assert audit.verify().message.startswith("任务 2026-07-0009 的检查结论与第 ")


@pytest.mark.parametrize("field, value", [("filename", "别的.jpg"), ("sha256", "f" * 64),
                                          ("size", 11)])
def test_the_evidence_list_of_a_final_report_is_covered(world, field, value):
    r = world["report"]
    Evidence.update({getattr(Evidence, field): value}).where(Evidence.report == r).execute()
    assert audit.verify(files=False).message.startswith("任务 2026-07-0002 的证据清单与第 ")


@pytest.mark.parametrize("field, value", [("deadline", dt.date(2026, 12, 1)),
                                          ("closed_at", dt.datetime(2026, 8, 1)),
                                          ("closed_by", "mole"), ("note", "已整改")])
def test_every_column_of_a_rectification_is_covered(world, field, value):
    r = world["report"]
    Rectification.update({getattr(Rectification, field): value}).where(
        Rectification.report == r).execute()
    assert audit.verify().message.startswith("任务 2026-07-0002 的整改的期限与销号与第 ")


@pytest.mark.parametrize("field, value, part", [
    ("role", "admin", "角色"), ("active", False, "角色"), ("display_name", "冒名", "账户"),
    ("password_hash", "x", "账户"), ("office", "别处", "账户")])
def test_every_column_of_a_user_is_covered(world, field, value, part):
    User.update({getattr(User, field): value}).where(User.username == "other").execute()
    assert audit.verify().message.startswith(f"用户 other 的{part}与第 ")


def test_a_users_inspector_link_is_covered(world):
    User.update(inspector=world["insp"][0]).where(User.username == "other").execute()
    assert audit.verify().message.startswith("用户 other 的账户与第 ")
    User.update(inspector=None).where(User.username == "insp01").execute()
    assert audit.verify().message.startswith("用户 insp01 的账户与第 ")
