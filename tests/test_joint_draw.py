"""Joint tasks (Art. 11): a joint item's teams each hold an inspector of every department, the
record carries `joint` and verifies (kiosk verify, the kit's verify.py), a plain record has
no `joint` field, and the protocol names the departments."""
from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

from db.models import Draw, Inspector, Item
from kiosk.draw import documents, joint, lottery, record, steps
from kiosk.draw.verify import verify_record
from tests.draw_world import confirm_all, make_world, run_to_matched

OURS, PARTNER = "商水县人力资源和社会保障局", "商水县市场监督管理局"


def joint_world():
    item, targets, inspectors, tasks = make_world(n_targets=40, n_inspectors=8,
                                                   conflicts=())
    Item.update(departments=f"{PARTNER};{OURS}").where(Item.id == item.id).execute()
    # Two of eight in the partner department: every team must still get one of them.
    for i in inspectors[6:]:
        Inspector.update(department=PARTNER).where(Inspector.id == i.id).execute()
    return item, targets, inspectors, tasks


def sealed(tasks) -> Draw:
    draw_id = run_to_matched(tasks[0].code)
    confirm_all(draw_id)
    steps.seal(draw_id, "operator")
    return Draw.get_by_id(draw_id)


def departments_of(rec: dict, team: list[str]) -> set[str]:
    return {rec["joint"]["inspector_departments"][c] for c in team}


def test_each_team_of_a_joint_item_holds_both_departments_and_verifies(db):
    _item, _targets, _inspectors, tasks = joint_world()
    draw = sealed(tasks)
    rec = record.export_record(draw)
    assert rec["joint"]["departments"] == sorted([OURS, PARTNER])
    assert rec["joint"]["inspector_departments"]["豫人社监0007"] == PARTNER
    assert rec["joint"]["inspector_departments"]["豫人社监0001"] == OURS
    assert len(rec["teams"]) == len(rec["selected"]) >= 4
    for _uscc, team in rec["teams"]:
        assert departments_of(rec, team) == {OURS, PARTNER}
    code, message = verify_record(rec)
    assert code == 0, message
    assert f"联合抽查（{'、'.join(sorted([OURS, PARTNER]))}）" in message
    # The partner department's two inspectors share the load between them.
    partner_load = sum(c in ("豫人社监0007", "豫人社监0008") for _u, t in rec["teams"] for c in t)
    assert partner_load == len(rec["teams"])


def test_a_changed_department_or_member_is_a_mismatch(db):
    _item, _targets, _inspectors, tasks = joint_world()
    rec = record.export_record(sealed(tasks))
    bad = copy.deepcopy(rec)
    first_team = bad["teams"][0][1]
    partner = next(c for c in first_team if bad["joint"]["inspector_departments"][c] == PARTNER)
    bad["joint"]["inspector_departments"][partner] = OURS  # no partner left for that team
    assert verify_record(bad)[0] == 1
    bad = copy.deepcopy(rec)
    del bad["joint"]  # the same teams drawn without the rule
    assert verify_record(bad)[0] == 1
    bad = copy.deepcopy(rec)
    bad["joint"]["departments"] = [OURS]
    code, message = verify_record(bad)
    assert code == 2 and "joint.departments" in message


def test_the_only_partner_in_a_team_is_replaced_from_the_partner_department(db):
    _item, _targets, _inspectors, tasks = joint_world()
    draw_id = run_to_matched(tasks[0].code)
    res = steps.results(Draw.get_by_id(draw_id))
    of = res["joint"]["inspector_departments"]
    target, team = res["teams"][0]
    partner = next(c for c in team if of[c] == PARTNER)
    new = steps.amend(draw_id, target, partner, "与该单位负责人系同学", "operator")
    assert of[new] == PARTNER and new != partner
    confirm_all(draw_id)
    steps.seal(draw_id, "operator")
    rec = record.export_record(Draw.get_by_id(draw_id))
    assert rec["amendments"][0]["inspector"] == partner
    for _uscc, t in rec["teams"]:
        assert departments_of(rec, t) == {OURS, PARTNER}
    assert verify_record(rec)[0] == 0


def test_a_plain_item_keeps_its_record_without_a_joint_field(db):
    _item, _targets, _inspectors, tasks = make_world()
    rec = record.export_record(sealed(tasks))
    assert "joint" not in rec
    assert verify_record(rec)[0] == 0


def test_kit_verify_py_checks_a_joint_record_with_the_standard_library_alone(db, tmp_path):
    from kiosk.publication import verify_py

    _item, _targets, _inspectors, tasks = joint_world()
    rec = record.export_record(sealed(tasks))
    (tmp_path / "verify.py").write_text(verify_py.source(), encoding="utf-8")
    (tmp_path / "record.json").write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
    p = subprocess.run([sys.executable, "-I", "-S", "verify.py", "record.json"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "联合抽查" in p.stdout and PARTNER in p.stdout
    rec["teams"][0][1].reverse()
    (tmp_path / "record.json").write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
    p = subprocess.run([sys.executable, "-I", "-S", "verify.py", "record.json"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1


def test_the_protocol_names_the_departments(db):
    pdfium = pytest.importorskip("pypdfium2")
    _item, _targets, _inspectors, tasks = joint_world()
    draw = sealed(tasks)
    documents.print_document(draw.id, "protocol", "operator")
    from kiosk.draw.documents import folder

    path = folder("print") / f"protocol-{tasks[0].code}-1.pdf"
    doc = pdfium.PdfDocument(str(path))
    text = "".join("".join(p.get_textpage().get_text_range().split()) for p in doc)
    assert "联合抽查部门" in text and PARTNER in text and OURS in text


def test_pure_joint_matching_refuses_a_team_smaller_than_the_departments():
    spec = {"departments": ["甲", "乙", "丙"], "inspector_departments": {"a": "甲", "b": "乙"}}
    with pytest.raises(lottery.DrawError, match="3 个部门"):
        joint.JointMatching(["t"], ["a", "b"], [], 2, "00" * 32, spec)
    with pytest.raises(lottery.MalformedRecord, match="缺少执法人员 c"):
        joint.validate_joint(spec, ["a", "b", "c"])


def test_a_consistently_forged_mapping_and_teams_no_longer_verify(db):
    """The department mapping is bound into the seed: moving an inspector to the other
    department in the record, and re-drawing the teams to fit, changes the seed."""
    _item, _targets, _inspectors, tasks = joint_world()
    rec = record.export_record(sealed(tasks))
    forged = copy.deepcopy(rec)
    forged["joint"]["inspector_departments"]["豫人社监0001"] = PARTNER
    redone = lottery.run(forged)  # the teams the forged mapping would give
    forged["teams"] = redone["teams"]
    code, message = verify_record(forged)
    assert code == 1 and "种子不一致" in message
    # Re-seeding it would change the selection the notice and the slips already show.
    assert redone["seed"] != rec["seed"] and redone["selected"] != rec["selected"]


def test_a_directory_edit_after_the_reveal_does_not_change_the_teams(db):
    _item, _targets, inspectors, tasks = joint_world()
    draw_id = run_to_matched(tasks[0].code)
    before = steps.results(Draw.get_by_id(draw_id))["joint"]
    Inspector.update(department=OURS).where(Inspector.id == inspectors[6].id).execute()
    confirm_all(draw_id)
    steps.seal(draw_id, "operator")
    rec = record.export_record(Draw.get_by_id(draw_id))
    assert rec["joint"] == before
    assert verify_record(rec)[0] == 0
