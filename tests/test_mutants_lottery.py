"""Tests that kill the mutants `make mutate` found surviving in kiosk/draw/lottery.py: exact
sentences of every refusal, the joint draw's seed and teams, and the edges of the formulas."""
from __future__ import annotations

import hashlib
import json

import pytest

from kiosk.draw import lottery
from kiosk.draw.lottery import DrawError, MalformedRecord, Matching
from tests.test_lottery import small_inputs

ENTROPY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
JOINT = {"departments": ["人社", "市监"],
         "inspector_departments": {"I1": "人社", "I2": "人社", "I3": "市监", "I4": "市监"}}


def inputs(**over) -> dict:
    """test_lottery's small draw with a fourth inspector."""
    return small_inputs(**{"inspectors": ["I1", "I2", "I3", "I4"], **over})


def refusal(**over) -> str:
    with pytest.raises(MalformedRecord) as e:
        lottery.run(inputs(**over))
    return str(e.value)


# --- formulas at their edges ---------------------------------------------------------------

def test_quota_divides_by_ten_thousand_exactly():
    # 20002 x 50% = 10001 exactly: dividing by anything above 10000 would round it down.
    assert lottery.quota(20002, 5000) == 10001
    assert lottery.quota(3, 10000) == 3 and lottery.quota(10001, 1) == 2


def test_R_encodes_j_unsigned_past_two_to_the_63():
    seed = hashlib.sha256(b"R").digest()
    j = 2 ** 63 + 5  # a signed 8-byte encoding cannot hold it
    want = int(hashlib.sha256(seed + b"t\x00" + j.to_bytes(8, "big")).hexdigest(), 16)
    assert lottery.R(seed, "t", j) == want


def test_sample_refuses_more_than_the_list_holds_in_one_sentence():
    with pytest.raises(ValueError) as e:
        lottery.sample(["a", "b", "c"], 5, "x", ENTROPY)
    assert str(e.value) == "cannot sample 5 of 3"


def test_select_from_takes_a_stream_as_well_as_a_seed():
    by = {"一般": ["U1", "U2", "U4", "U5"], "重点": ["U3"]}
    strata = {"一般": {"ratio_bp": 5000}, "重点": {"ratio_bp": 10000}}
    want = lottery.select_from(by, strata, ENTROPY)
    assert lottery.select_from(by, strata, lottery._Stream(ENTROPY)) == want
    assert len(want) == 3 and want[-1] == "U3"


def test_feasibility_at_exactly_the_team_size():
    pool = [["U1", "一般"], ["U2", "一般"]]
    # Two inspectors for teams of two: enough, unless one recuses.
    assert lottery.feasibility(pool, ["I1", "I2"], [], 2) == []
    assert lottery.feasibility(pool, ["I1", "I2", "I3"], [["I1", "U2"]], 2) == []
    assert lottery.feasibility(pool, ["I1", "I2", "I3"], [["I1", "U2"], ["I3", "U2"]], 2) == [
        "U2"]


# --- the joint draw (Art. 11) binds its mapping into the seed --------------------------------

def test_seed_material_carries_the_joint_mapping_under_its_name():
    args = ("a" * 64, "b" * 64, "c" * 64, {"一般": {"ratio_bp": 1}}, 2, ENTROPY, ["x"], None)
    plain = json.loads(lottery.seed_material(*args))
    joint = json.loads(lottery.seed_material(*args, {"departments": ["甲"]}))
    assert "joint" not in plain
    assert joint == dict(plain, joint={"departments": ["甲"]})
    assert lottery.compute_seed(*args, {"departments": ["甲"]}) == hashlib.sha256(
        lottery.seed_material(*args, {"departments": ["甲"]})).hexdigest()
    assert lottery.compute_seed(*args, {"departments": ["甲"]}) != lottery.compute_seed(*args)


def test_a_joint_draw_seeds_and_matches_by_department():
    inp = inputs(joint=JOINT)
    out = lottery.run(inp)
    material = json.loads(lottery.seed_material(
        out["digests"]["pool"], out["digests"]["inspectors"], out["digests"]["conflicts"],
        inp["strata"], 2, ENTROPY, ["1 2 3"], None))
    material["joint"] = JOINT
    assert out["seed"] == hashlib.sha256(lottery.canon(material)).hexdigest()
    assert out["seed"] == "4bbb8d753534758ef8ebbf6833dba47ae313b8cee40d4333ae6b4c49a4cbfda2"
    assert lottery.prepare(inp)[2] == out["seed"]
    # One inspector of each department in every team (the plain draw put I2 and I3 on U1
    # but I1 with I4 on U2 and I2 with I4 on U3 from another seed).
    assert out["teams"] == [["U1", ["I2", "I4"]], ["U2", ["I1", "I3"]], ["U3", ["I1", "I3"]]]
    assert out["loads"] == {"I1": 2, "I2": 1, "I3": 2, "I4": 1}
    teams, loads = lottery.match_teams(out["selected"], inp["inspectors"], [], 2, out["seed"],
                                       joint=JOINT)
    assert teams == out["teams"] and loads == out["loads"]
    plain, _ = lottery.match_teams(out["selected"], inp["inspectors"], [], 2, out["seed"])
    assert plain != teams


def test_run_names_its_fields_and_its_replacements():
    plain = lottery.run(inputs())
    assert plain["teams"] == [["U1", ["I2", "I3"]], ["U2", ["I1", "I4"]], ["U3", ["I2", "I4"]]]
    out = lottery.run(inputs(amendments=[{"target": "U1", "inspector": "I2", "reason": "亲属"}]))
    assert sorted(out) == ["commitment", "digests", "loads", "protocol", "replacements",
                           "seed", "selected", "teams"]
    assert out["protocol"] == "dsr-draw/1" and out["replacements"] == ["I1"]
    assert out["teams"][0] == ["U1", ["I3", "I1"]]


# --- the matching's own refusals -------------------------------------------------------------

def test_initial_matching_runs_once():
    m = Matching(["U1"], ["I1", "I2"], [], 2, ENTROPY)
    m.initial()
    with pytest.raises(RuntimeError) as e:
        m.initial()
    assert str(e.value) == "initial matching already done"


def test_amendment_refusals_count_from_one_and_restore_the_recusals():
    m = Matching(["U1", "U2"], ["I1", "I2", "I3"], [], 2, ENTROPY)
    m.initial()
    first = m.teams["U1"][0]
    m.amend("U1", first)
    with pytest.raises(DrawError) as e:
        m.amend("U9", "I1")
    assert str(e.value) == "第2项回避申报无效：U9 不是本次抽中的检查对象。"
    with pytest.raises(DrawError) as e:
        Matching(["U1"], ["I1", "I2"], [], 2, ENTROPY).amend("U9", "I1")
    assert str(e.value) == "第1项回避申报无效：U9 不是本次抽中的检查对象。"
    # U1 has recused `first` and holds two others: no one is left to replace either of them.
    member = m.teams["U1"][0]
    conflicts = {t: set(s) for t, s in m.conflicts.items()}
    with pytest.raises(DrawError) as e:
        m.amend("U1", member)
    assert str(e.value) == "第2项回避申报无法执行：检查对象 U1 已没有可替换的执法人员。"
    assert m.conflicts == conflicts and member not in m.conflicts["U1"]
    two = Matching(["U1"], ["I1", "I2"], [], 2, ENTROPY)
    two.initial()
    with pytest.raises(DrawError) as e:
        two.amend("U1", "I1")
    assert str(e.value) == "第1项回避申报无法执行：检查对象 U1 已没有可替换的执法人员。"


# --- validation: each refusal in its exact sentence ------------------------------------------

def test_validate_accepts_good_inputs_and_refuses_bad_ones():
    assert lottery.validate(inputs()) is None
    with pytest.raises(MalformedRecord) as e:
        lottery.validate(inputs(team_size=1))
    assert str(e.value) == "每组执法人员数 team_size 为 1，不能少于 2。"


@pytest.mark.parametrize("over,sentence", [
    ({"protocol": "dsr-draw/2"}, "不支持的协议“dsr-draw/2”，应为 dsr-draw/1。"),
    ({"inspectors": ["I1", 2]}, "字段“inspectors”应为执法证号（文字）的列表。"),
    ({"conflicts": [["I1"]]}, "字段“conflicts”第1项格式不正确，应为 2 个文字字段。"),
    ({"conflicts": [["I1", "U1"], ["I2", 3]]},
     "字段“conflicts”第2项格式不正确，应为 2 个文字字段。"),
    ({"strata": []}, "字段“strata”应为对象。"),
    ({"strata": {"一般": {"ratio_bp": 10001}, "重点": {"ratio_bp": 1}}},
     "层级“一般”的比例 10001 超出 0–10000 个基点。"),
    ({"team_size": "2"}, "字段“team_size”应为整数。"),
    ({"system_entropy": "abc"}, "系统随机数 system_entropy 应为 64 位十六进制数字。"),
    ({"witness_entropy": "1 2 3"}, "字段“witness_entropy”应为文字列表。"),
    ({"beacon": 7}, "字段“beacon”应为文字或 null。"),
    ({"amendments": {}}, "字段“amendments”应为列表。"),
    ({"amendments": [{"target": "U1", "inspector": "I1"}]},
     "第1项回避申报应含文字字段 target、inspector、reason。"),
    ({"inspectors": ["I1", "I2", "I2", "I3", "I3"]}, "执法人员名录中执法证号 I2 重复出现。"),
    ({"pool": [["U1", "一般"], ["U3", "重点"], ["U3", "一般"], ["U4", "一般"], ["U4", "重点"]]},
     "检查对象名录中统一社会信用代码 U3 重复出现。"),
    ({"pool": [["U1\tX", "一般"]]}, "字段“pool”中的“U1\tX”含有制表符或换行。"),
    ({"strata": {"一\n般": {"ratio_bp": 1}, "一般": {"ratio_bp": 1}, "重点": {"ratio_bp": 1}}},
     "字段“strata”中的“一\n般”含有制表符或换行。"),
    ({"inspectors": ["I1", "I\t2"]}, "字段“inspectors”中的“I\t2”含有制表符或换行。"),
    ({"conflicts": [["I1", "U\n1"]]}, "字段“conflicts”中的“U\n1”含有制表符或换行。"),
    ({"witness_entropy": ["a", "b\rc"]}, "字段“witness_entropy”中的“b\rc”含有制表符或换行。"),
    ({"beacon": "第 1 期\n"}, "字段“beacon”中的“第 1 期”含有制表符或换行。"),
    ({"amendments": [{"target": "U1", "inspector": "I1", "reason": "亲\t属"}]},
     "字段“amendments”中的“亲\t属”含有制表符或换行。"),
    ({"beacon": "\udc00"}, "记录中含有无法以 UTF-8 表示的字符（孤立的代理码位）。"),
])
def test_refusals_in_their_exact_sentences(over, sentence):
    assert refusal(**over) == sentence


def test_a_record_that_is_no_object_is_refused():
    with pytest.raises(MalformedRecord) as e:
        lottery.run([])
    assert str(e.value) == "记录应为一个 JSON 对象。"


def test_a_long_field_with_a_break_is_quoted_to_forty_characters():
    long = "甲" * 50 + "\t"
    assert refusal(witness_entropy=[long]) == (
        f"字段“witness_entropy”中的“{'甲' * 40}”含有制表符或换行。")


def test_a_pool_of_lists_and_tuples_alike_draws_the_same():
    """Rows are sorted by their id only: a whole-row sort cannot compare a list with a tuple."""
    mixed = [["U1", "一般"], ("U2", "一般"), ["U3", "重点"]]
    out, plain = lottery.run(inputs(pool=mixed)), lottery.run(inputs())
    assert (out["digests"], out["selected"], out["teams"]) == (
        plain["digests"], plain["selected"], plain["teams"])
    assert lottery.select_targets(mixed, inputs()["strata"], ENTROPY) == ["U1", "U2", "U3"]


def test_listing_takes_any_iterable_and_mixed_rows():
    # A generator with a repeated first field goes through the tuple sort: it must be read once.
    assert lottery.listing(iter([["a", "2"], ["a", "1"]])) == b"a\t1\na\t2\n"
    assert lottery.listing([["b", "1"], ("a", "2")]) == b"a\t2\nb\t1\n"
    assert lottery.listing(iter([])) == b""
    assert lottery.listing([["a"], []]) == b"\na\n"  # an empty row sorts first
