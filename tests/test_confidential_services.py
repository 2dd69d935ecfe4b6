"""Art. 12 in the services: before a draw's first publication its record, listings, protocol,
pre-draw sheet, slips and report PDFs reach only the operator (the team its own report, the
lead office review); every other role is refused in one sentence and logged; what is
permitted is written 0600 with its SHA-256 in the audit chain; after publication the same
exports succeed. The conflicts registry is for admin, operator and auditor only."""
from __future__ import annotations

import hashlib
import json
import stat

import pytest

from db.models import Assignment, AssignmentMember, AuditEvent, Draw, Inspector, User
from kiosk import access, auth, confidential, registry
from kiosk.draw import documents, steps
from kiosk.errors import UserError
from kiosk.publication import publish_draw
from kiosk.reports import due
from kiosk.reports import view as report_view
from tests.draw_world import confirm_all, make_world, run_to_matched

NO_NEED = ("admin", "leader", "auditor", "reviewer", "witness1", "inspector")


@pytest.fixture
def world(db):
    _item, targets, _inspectors, tasks = make_world()
    draw_id = run_to_matched(tasks[0].code)
    confirm_all(draw_id)
    steps.seal(draw_id, "operator")
    draw = Draw.get_by_id(draw_id)
    member = AssignmentMember.select().join(Assignment).where(Assignment.draw == draw).first()
    outsider = Inspector.get(Inspector.cert_no == "豫人社监9999")  # another office's
    auth.create_user("admin", "admin123", "admin", "赵文静")
    auth.create_user("leader", "leader123", "leader", "王建国")
    auth.create_user("auditor", "auditor123", "auditor", "陈静")
    auth.create_user("reviewer", "reviewer123", "reviewer", "李红", office="劳动关系股")
    auth.create_user("inspector", "insp123", "inspector", "检查员外",
                     inspector=outsider)
    auth.create_user("teammate", "insp123", "inspector", "检查员组",
                     inspector=Inspector.get_by_id(member.inspector_id))
    return {"draw": draw, "member": member, "targets": targets}


def refusals(purpose: str | None = None) -> list[str]:
    q = AuditEvent.select().where(AuditEvent.action == "confidential.refused")
    return [e.actor for e in q.order_by(AuditEvent.seq)
            if purpose is None or json.loads(e.detail)["purpose"] == purpose]


def test_the_rule_by_role_and_purpose(world):
    draw = world["draw"]
    a = world["member"].assignment
    for purpose in ("record", "protocol", "predraw", "slips"):
        assert access.may_see_draw_result("operator", draw, purpose)
        for login in (*NO_NEED, "teammate"):
            user = User.get(User.username == login)
            assert not access.may_see_draw_result(user, draw, purpose), (login, purpose)
    teammate = User.get(User.username == "teammate")
    assert access.may_see_draw_result(teammate, draw, "report", a)
    assert access.may_see_draw_result(User.get(User.username == "reviewer"), draw, "review", a)
    for login in ("leader", "admin", "auditor", "inspector", "witness1"):
        assert not access.may_see_draw_result(User.get(User.username == login), draw, "report", a)
    with pytest.raises(ValueError):
        access.may_see_draw_result("operator", draw, "gossip")


def test_every_export_path_refuses_each_role_without_need_and_logs_it(world, tmp_path):
    draw = world["draw"]
    for login in NO_NEED:
        out = tmp_path / login
        out.mkdir()
        attempts = [
            lambda out=out, login=login: confidential.write_record(draw.id, out / "record.json",
                                                                   login),
            lambda login=login: documents.export(draw.id, login),
            lambda login=login: documents.print_document(draw.id, "protocol", login),
            lambda login=login: documents.print_document(draw.id, "predraw", login),
            lambda login=login: documents.print_document(draw.id, "slips", login),
        ]
        for attempt in attempts:
            with pytest.raises(UserError) as e:
                attempt()
            assert str(e.value) == access.MAY_NOT_SEE_RESULT
        assert list(out.iterdir()) == []
    assert refusals() == [login for login in NO_NEED for _ in range(5)]
    assert refusals("slips") == list(NO_NEED)
    ev = AuditEvent.select().where(AuditEvent.action == "confidential.refused").first()
    assert json.loads(ev.detail)["task"] == draw.task.code
    assert json.loads(ev.detail)["role"] == "admin"


def test_the_operator_exports_0600_files_whose_hashes_are_in_the_chain(world, tmp_path):
    draw = world["draw"]
    out = tmp_path / "out"
    out.mkdir()
    path = confidential.write_record(draw.id, out / "record.json", "operator")
    names = sorted(p.name for p in out.iterdir())
    assert names == ["conflicts.tsv", "inspectors.tsv", "pool.tsv", "record.json"]
    events = {json.loads(e.detail)["file"]: json.loads(e.detail) for e in AuditEvent.select()
              .where(AuditEvent.action == "draw.record")}
    for name in names:
        p = out / name
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, name
        assert events[name]["sha256"] == hashlib.sha256(p.read_bytes()).hexdigest()
        assert events[name]["published"] is False
    assert json.loads(path.read_text())["seed"] == draw.seed
    documents.print_document(draw.id, "protocol", "operator")
    pdf = documents.folder("print") / f"protocol-{draw.task.code}-1.pdf"
    ev = AuditEvent.select().where(AuditEvent.action == "draw.protocol").get()
    assert json.loads(ev.detail)["sha256"] == hashlib.sha256(pdf.read_bytes()).hexdigest()
    assert stat.S_IMODE(pdf.stat().st_mode) == 0o600
    documents.print_document(draw.id, "slips", "operator")
    slips = documents.folder("print") / f"slips-{draw.task.code}-1.pdf"
    ev = AuditEvent.select().where(AuditEvent.action == "slips.print").get()
    assert json.loads(ev.detail)["sha256"] == hashlib.sha256(slips.read_bytes()).hexdigest()
    assert stat.S_IMODE(slips.stat().st_mode) == 0o600


def test_after_publication_the_same_exports_succeed(world, tmp_path):
    draw = world["draw"]
    leader = User.get(User.username == "leader")
    publish_draw(draw.id, tmp_path / "kit", leader)
    assert access.is_published(draw)
    for login in ("leader", "auditor"):
        out = tmp_path / login
        out.mkdir()
        confidential.write_record(draw.id, out / "record.json", login)
        assert (out / "pool.tsv").exists()
        assert documents.print_document(draw.id, "protocol", login)
    assert refusals() == []
    ev = AuditEvent.select().where(AuditEvent.action == "draw.record").order_by(
        AuditEvent.seq.desc()).first()
    assert ev.actor == "auditor" and json.loads(ev.detail)["published"] is True


def test_lists_show_task_codes_to_those_without_need_until_published(world, tmp_path):
    draw = world["draw"]
    leader = User.get(User.username == "leader")
    teammate = User.get(User.username == "teammate")
    rows = due.visible_deadlines(leader)
    names = {a.target.name for a in Assignment.select().where(Assignment.draw == draw)}
    assert rows and all(r.target_name == r.task_code for r in rows)
    assert not names & {r.target_name for r in rows}
    mine = due.visible_deadlines(teammate)
    assert mine and all(r.target_name in names for r in mine)
    reviewer = User.get(User.username == "reviewer")
    assert {r.target_name for r in due.visible_deadlines(reviewer)} <= names
    publish_draw(draw.id, tmp_path / "kit", leader)
    assert {r.target_name for r in due.visible_deadlines(leader)} == names
    assert report_view.review_queue(leader) == []  # nothing submitted: the queue stays empty


def test_the_conflicts_registry_is_for_admin_operator_and_auditor(world, tmp_path):
    for login in ("admin", "operator", "auditor"):
        user = User.get(User.username == login)
        assert registry.search("conflicts", user=user)[0]["inspector_name"] == "检查员1"
        assert registry.count_capped("conflicts", user=user) == (1, False)
    for login in ("leader", "reviewer", "witness1", "inspector"):
        user = User.get(User.username == login)
        with pytest.raises(UserError, match="只有管理员、抽签操作员和纪检审计人员"):
            registry.search("conflicts", user=user)
        with pytest.raises(UserError, match="只有管理员、抽签操作员和纪检审计人员"):
            registry.export_file("conflicts", tmp_path / f"{login}.csv", login)
        assert not (tmp_path / f"{login}.csv").exists()
    assert registry.search("items", user=User.get(User.username == "witness1"))
    refused = [e.actor for e in AuditEvent.select()
               .where(AuditEvent.action == "registry.refused").order_by(AuditEvent.seq)]
    assert refused == ["leader", "leader", "reviewer", "reviewer", "witness1", "witness1",
                       "inspector", "inspector"]
    registry.export_file("conflicts", tmp_path / "ok.csv", "auditor")
    assert stat.S_IMODE((tmp_path / "ok.csv").stat().st_mode) == 0o600


def test_a_protocol_that_cannot_be_written_is_one_sentence_and_leaves_nothing(world,
                                                                             monkeypatch):
    from kiosk.printing.base import KioskPDF

    draw = world["draw"]

    def full_disk(self, name, *args, **kwargs):
        with open(name, "wb") as f:
            f.write(b"%PDF-1.7 half a protocol")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(KioskPDF, "output", full_disk)
    with pytest.raises(UserError, match=r"无法写入文书“protocol-.*No space left on device"):
        documents.print_document(draw.id, "protocol", "operator")
    folder = documents.folder("print")
    assert sorted(p.name for p in folder.iterdir()) == []  # neither the PDF nor a partial
    assert not AuditEvent.select().where(AuditEvent.action == "draw.protocol").exists()
