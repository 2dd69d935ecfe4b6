"""`kiosk verify`: 0 on an exact recomputation, 1 naming the first difference, 2 malformed."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.draw import lottery
from kiosk.draw.verify import verify_file, verify_record

VECTORS = sorted(Path("/work/shared/spec/vectors").glob("public-*.json"))
ROOT = Path(__file__).resolve().parent.parent


def flat_record(path=VECTORS[0]) -> dict:
    """A record as the kiosk exports it: flat, with extra keys verify must ignore."""
    v = json.loads(Path(path).read_text(encoding="utf-8"))
    return {"protocol": "dsr-draw/1", "task": "2026-01", "draw_id": 7, "item": "工资支付",
            "witnesses": [{"name": "王见证", "organisation": "纪检"}],
            **v["input"], **v["expected"]}


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.name)
def test_vector_files_verify(path):
    code, message = verify_file(path)
    expected = json.loads(path.read_text(encoding="utf-8"))["expected"]
    assert code == 0, message
    assert message == (f"核验通过：{len(expected['selected'])}个抽中对象与"
                       f"{len(expected['teams'])}个检查组全部一致。")


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.name)
def test_flat_record_verifies(path, tmp_path):
    f = tmp_path / "record.json"
    f.write_text(json.dumps(flat_record(path), ensure_ascii=False, indent=1), encoding="utf-8")
    assert verify_file(f)[0] == 0


def test_witness_entropy_as_typed_with_other_spacing_still_verifies():
    """Normalisation strips surrounding white space, so " 7 3 1 9" and "7 3 1 9　" seed alike."""
    rec = flat_record()
    rec["witness_entropy"][0] = "7 3 1 9\u3000"
    assert verify_record(rec)[0] == 0


def _mutate(rec: dict, what: str) -> None:
    if what == "pool row":
        rec["pool"][1][0] = "91411623XXXXXXXXXX"
    elif what == "pool stratum":
        rec["pool"][0][1] = "重点"
    elif what == "inspector":
        rec["inspectors"][4] = "豫人社监0099"
    elif what == "conflict":
        rec["conflicts"][0][0] = "豫人社监0001"
    elif what == "strata ratio":
        rec["strata"]["一般"]["ratio_bp"] = 2600
    elif what == "team_size":
        rec["team_size"] = 3
    elif what == "witness entropy":
        rec["witness_entropy"][0] = "7 3 1 8"
    elif what == "witness order":
        rec["witness_entropy"].reverse()
    elif what == "beacon":
        rec["beacon"] = "drand round 1"
    else:
        raise AssertionError(what)


@pytest.mark.parametrize("what", ["pool row", "pool stratum", "inspector", "conflict",
                                  "strata ratio", "team_size", "witness entropy",
                                  "witness order", "beacon"])
def test_changed_published_input_changes_the_seed(what):
    rec = flat_record()
    _mutate(rec, what)
    code, message = verify_record(rec)
    assert code == 1
    assert message.startswith("种子不一致：记录为 a67255e8")


def test_changed_system_entropy_breaks_the_commitment_first():
    rec = flat_record()
    rec["system_entropy"] = "f" + rec["system_entropy"][1:]
    code, message = verify_record(rec)
    assert code == 1
    assert message.startswith("承诺值不一致：记录为 4773d12e")


def test_changed_commitment():
    rec = flat_record()
    rec["commitment"] = "0" * 64
    assert verify_record(rec) == (1, (f"承诺值不一致：记录为 {'0' * 64}，按系统随机数重算为 "
                                      "4773d12e2371bb935b9a0f5439b4a1c3ad3f2414b86980f8418d1cfabdfadfef。"))


def test_changed_seed():
    rec = flat_record()
    rec["seed"] = "b" + rec["seed"][1:]
    code, message = verify_record(rec)
    assert code == 1
    assert message == (f"种子不一致：记录为 {rec['seed']}，重算为 "
                       "a67255e8442d7468c466b7908c7d9a280e079bb8eadb590f2b426732b50023a7。")


def test_selected_order():
    rec = flat_record()
    s = rec["selected"]
    s[2], s[3] = s[3], s[2]
    assert verify_record(rec) == (1, ("第3个抽中对象不一致：记录为 9141162397R5NQ72JX，"
                                      "重算为 914116239D4H3J9HTC。"))


def test_selected_missing_one():
    rec = flat_record()
    rec["selected"].pop()
    assert verify_record(rec) == (1, "抽中对象数量不一致：记录为 4 个，重算为 5 个。")


def test_team_member_changed():
    rec = flat_record()
    rec["teams"][1][1][0] = "豫人社监0004"
    assert verify_record(rec) == (1, ("检查对象 91411623JJC171HU4W 的检查组不一致："
                                      "记录为 豫人社监0004、豫人社监0003，"
                                      "重算为 豫人社监0005、豫人社监0003。"))


def test_team_order_within_team_matters():
    rec = flat_record()
    rec["teams"][0][1].reverse()
    code, message = verify_record(rec)
    assert code == 1 and message.startswith("检查对象 91411623J3Y7LLJY1A 的检查组不一致")


def test_team_target_changed_and_team_missing():
    rec = flat_record()
    rec["teams"][0][0] = "91411623AY4CL12THC"
    assert verify_record(rec) == (1, ("第1个检查组的检查对象不一致：记录为 91411623AY4CL12THC，"
                                      "重算为 91411623J3Y7LLJY1A。"))
    rec = flat_record()
    rec["teams"].pop()
    assert verify_record(rec) == (1, "检查组数量不一致：记录为 4 个，重算为 5 个。")


def test_amendment_inspector_changed_is_not_recomputable():
    rec = flat_record()
    rec["amendments"][0]["inspector"] = "豫人社监0001"  # not on that team
    code, message = verify_record(rec)
    assert code == 1
    assert message == ("无法重算本次抽取：第1项回避申报无效：执法证号 豫人社监0001 "
                       "不在检查对象 91411623J3Y7LLJY1A 的检查组中。")


def test_amendment_target_changed_is_not_recomputable():
    rec = flat_record()
    rec["amendments"][0]["target"] = "91411623AY4CL12THC"
    code, message = verify_record(rec)
    assert code == 1 and "不是本次抽中的检查对象" in message


def test_amendment_removed_changes_the_team():
    rec = flat_record()
    rec["amendments"] = []
    code, message = verify_record(rec)
    assert code == 1 and message.startswith("检查对象 91411623J3Y7LLJY1A 的检查组不一致")


def test_amendment_reason_is_not_bound_by_the_protocol():
    """The spec keeps the reason out of every hash: a changed reason still verifies.

    Recorded here so the gap is visible; the audit chain is what fixes the reason.
    """
    rec = flat_record()
    rec["amendments"][0]["reason"] = "另一个理由"
    assert verify_record(rec)[0] == 0


def test_infeasible_draw_is_not_recomputable():
    inp = {"pool": [["U1", "一般"], ["U2", "一般"]], "inspectors": ["I1", "I2", "I3"],
           "conflicts": [["I1", "U2"], ["I2", "U2"]], "strata": {"一般": {"ratio_bp": 10000}},
           "team_size": 2, "system_entropy": "ab" * 32, "witness_entropy": ["1"],
           "beacon": None, "amendments": []}
    d = lottery.digests(inp["pool"], inp["inspectors"], inp["conflicts"])
    seed = lottery.compute_seed(d["pool"], d["inspectors"], d["conflicts"], inp["strata"], 2,
                                inp["system_entropy"], inp["witness_entropy"], None)
    rec = {"protocol": "dsr-draw/1", **inp, "commitment": lottery.commitment(inp["system_entropy"]),
           "seed": seed, "selected": lottery.select_targets(inp["pool"], inp["strata"], seed),
           "teams": []}
    code, message = verify_record(rec)
    assert code == 1
    assert message.startswith("无法重算本次抽取：检查对象 U2 回避后可选执法人员只有 1 名")


# --- malformed: exit 2 ------------------------------------------------------------------------

def _set(path, value):
    def f(rec):
        obj = rec
        for k in path[:-1]:
            obj = obj[k]
        obj[path[-1]] = value
    return f


def _delete(key):
    return lambda rec: rec.pop(key)


MALFORMED = {
    "missing pool": (_delete("pool"), "缺少字段“pool”"),
    "missing seed": (_delete("seed"), "缺少字段“seed”"),
    "missing amendments": (_delete("amendments"), "缺少字段“amendments”"),
    "missing protocol": (_delete("protocol"), "缺少字段“protocol”"),
    "other protocol": (_set(["protocol"], "dsr-draw/2"), "不支持的协议"),
    "pool not a list": (_set(["pool"], {"a": 1}), "pool"),
    "pool row of three": (_set(["pool", 0], ["a", "一般", "x"]), "pool"),
    "inspector a number": (_set(["inspectors", 0], 12), "inspectors"),
    "team_size a string": (_set(["team_size"], "2"), "team_size"),
    "team_size a float": (_set(["team_size"], 2.0), "team_size"),
    "team_size 1": (_set(["team_size"], 1), "不能少于 2"),
    "entropy short": (_set(["system_entropy"], "00" * 31), "64 位十六进制"),
    "entropy not hex": (_set(["system_entropy"], "zz" * 32), "64 位十六进制"),
    "entropy bytes as list": (_set(["system_entropy"], [0] * 32), "64 位十六进制"),
    "duplicate pool id": (_set(["pool", 1, 0], "91411623AY4CL12THC"), "91411623AY4CL12THC 重复"),
    "unknown stratum": (_set(["pool", 1, 1], "特殊"), "“特殊”不在分层设置中"),
    "ratio not int": (_set(["strata", "一般", "ratio_bp"], 25.0), "ratio_bp"),
    "tab in pool": (_set(["pool", 1, 0], "9141\t1623"), "制表符或换行"),
    "newline in inspector": (_set(["inspectors", 1], "豫人社监\n0002"), "制表符或换行"),
    "newline in witness": (_set(["witness_entropy", 1], "王见证\n"), "制表符或换行"),
    "tab in beacon": (_set(["beacon"], "a\tb"), "制表符或换行"),
    "tab in reason": (_set(["amendments", 0, "reason"], "亲属\t关系"), "制表符或换行"),
    "beacon a number": (_set(["beacon"], 4242), "beacon"),
    "witness entropy a string": (_set(["witness_entropy"], "7 3 1 9"), "witness_entropy"),
    "amendment without inspector": (lambda r: r["amendments"][0].pop("inspector"), "回避申报"),
    "selected not a list": (_set(["selected"], "91411623J3Y7LLJY1A"), "selected"),
    "team not a pair": (_set(["teams", 0], ["91411623J3Y7LLJY1A"]), "teams"),
    "commitment a number": (_set(["commitment"], 5), "commitment"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_record_exits_2(case):
    change, fragment = MALFORMED[case]
    rec = flat_record()
    change(rec)
    code, message = verify_record(rec)
    assert code == 2, message
    assert message.startswith("记录格式不正确：") and fragment in message


def test_not_an_object():
    assert verify_record([1, 2])[0] == 2
    assert verify_record({"input": {}, "expected": []})[0] == 2


@pytest.mark.parametrize("content,fragment", [
    (b"{not json", "不是有效的 JSON"),
    (b"", "不是有效的 JSON"),
    ("{}".encode("utf-16"), "不是 UTF-8"),
    (b"[]", "JSON 对象"),
    (b"{}", "缺少字段"),
])
def test_unreadable_files_exit_2(tmp_path, content, fragment):
    f = tmp_path / "r.json"
    f.write_bytes(content)
    code, message = verify_file(f)
    assert code == 2 and fragment in message


def test_missing_file_and_directory(tmp_path):
    missing = tmp_path / "none.json"
    assert verify_file(missing) == (2, f"无法读取文件 {missing}：文件不存在。")
    assert verify_file(tmp_path)[0] == 2


def test_record_with_bom_verifies(tmp_path):
    f = tmp_path / "r.json"
    f.write_bytes(b"\xef\xbb\xbf" + json.dumps(flat_record(), ensure_ascii=False).encode())
    assert verify_file(f)[0] == 0


def test_module_command_line(tmp_path):
    """`python -m kiosk.draw.verify FILE`: message on stdout for 0, else on stderr; exit code."""
    def run(*args):
        return subprocess.run([sys.executable, "-m", "kiosk.draw.verify", *args], cwd=ROOT,
                              capture_output=True, text=True, check=False)
    ok = run(str(VECTORS[1]))
    assert (ok.returncode, ok.stdout.strip(), ok.stderr) == \
        (0, "核验通过：1个抽中对象与1个检查组全部一致。", "")
    rec = flat_record()
    rec["selected"].reverse()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
    r = run(str(bad))
    assert r.returncode == 1 and r.stdout == "" and r.stderr.startswith("第1个抽中对象不一致")
    (tmp_path / "x.json").write_text("nope")
    r = run(str(tmp_path / "x.json"))
    assert r.returncode == 2 and "不是有效的 JSON" in r.stderr
    assert run().returncode == 2


def test_verify_does_not_mutate_the_record():
    rec = flat_record()
    before = copy.deepcopy(rec)
    verify_record(rec)
    assert rec == before


def _honest_record() -> dict:
    rec = {"protocol": lottery.PROTOCOL,
           "pool": [[f"91411623MA{i:07d}X", "一般"] for i in range(30)],
           "inspectors": ["A1", "A2", "A3"], "conflicts": [["A1", "91411623MA0000001X"]],
           "strata": {"一般": {"ratio_bp": 1000}}, "team_size": 2,
           "system_entropy": "11" * 32, "witness_entropy": ["1 2 3", "今天　晴"],
           "beacon": None, "amendments": []}
    out = lottery.run(rec)
    rec.update(commitment=out["commitment"], seed=out["seed"], selected=out["selected"],
               teams=out["teams"], digests=out["digests"])
    return rec


@pytest.mark.parametrize("kind", ["pool", "inspectors", "conflicts"])
def test_wrong_digests_are_a_mismatch_named_first(kind):
    rec = _honest_record()
    assert verify_record(rec)[0] == 0
    bad = json.loads(json.dumps(rec))
    bad["digests"][kind] = "0" * 64
    code, message = verify_record(bad)
    assert code == 1 and "摘要不一致" in message and "0" * 64 in message
    # a changed list with its digest left as printed is caught by the digest, before the seed
    changed = json.loads(json.dumps(rec))
    changed["inspectors"].append("A4")
    code, message = verify_record(changed)
    assert code == 1 and "执法人员名录摘要不一致" in message


def test_wrong_digests_exit_1_from_the_command_line(tmp_path):
    rec = _honest_record()
    rec["digests"]["pool"] = "0" * 64
    path = tmp_path / "record.json"
    path.write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "kiosk.cli", "verify", str(path)], cwd=ROOT,
                       capture_output=True, text=True)
    assert p.returncode == 1 and "检查对象名录摘要不一致" in p.stderr


def test_malformed_digests_exit_2():
    rec = _honest_record()
    rec["digests"] = ["x"]
    assert verify_record(rec)[0] == 2
