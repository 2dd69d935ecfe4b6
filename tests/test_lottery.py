"""The draw engine against the public vectors, a naive reading of the spec, and its properties."""
from __future__ import annotations

import copy
import hashlib
import json
import math
import subprocess
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.draw import lottery
from kiosk.draw.lottery import DrawError, MalformedRecord, Matching

VECTORS = sorted(Path("/work/shared/spec/vectors").glob("public-*.json"))
ENTROPY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"


def load(path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


# --- a deliberately naive reading of spec/draw-protocol.md, line by line -------------------

def ref_listing(rows) -> bytes:
    return "".join("\t".join(r) + "\n" for r in sorted(tuple(r) for r in rows)).encode()


def ref_H(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def ref_seed(inp) -> str:
    return ref_H(json.dumps({
        "protocol": "dsr-draw/1",
        "pool": ref_H(ref_listing(inp["pool"])).hex(),
        "inspectors": ref_H(ref_listing([[i] for i in inp["inspectors"]])).hex(),
        "conflicts": ref_H(ref_listing(inp["conflicts"])).hex(),
        "strata": {s: {"ratio_bp": v["ratio_bp"]} for s, v in inp["strata"].items()},
        "team_size": inp["team_size"],
        "system_entropy": inp["system_entropy"],
        "witness_entropy": [unicodedata.normalize("NFC", w).strip()
                            for w in inp["witness_entropy"]],
        "beacon": inp["beacon"],
    }, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()).hex()


def ref_R(seed: bytes, label: str, j: int) -> int:
    return int.from_bytes(ref_H(seed + label.encode() + b"\x00" + j.to_bytes(8, "big")), "big")


def ref_sample(items, k, label, seed: bytes):
    a = list(items)
    for j in range(k):
        i = j + ref_R(seed, label, j) % (len(a) - j)
        a[j], a[i] = a[i], a[j]
    return a[:k]


def ref_quota(n, r):
    return 0 if n == 0 else min(n, max(1, math.ceil(n * r / 10000)))


def ref_run(inp):
    seed_hex = ref_seed(inp)
    seed = bytes.fromhex(seed_hex)
    selected = []
    for s in sorted(inp["strata"]):
        ids = sorted(u for u, x in inp["pool"] if x == s)
        k = ref_quota(len(ids), inp["strata"][s]["ratio_bp"])
        selected += ref_sample(ids, k, "target:" + s, seed)
    conflicts = {tuple(c) for c in inp["conflicts"]}
    load = {i: 0 for i in inp["inspectors"]}

    def pick_team(eligible, count, label):
        team = []
        for v in sorted({load[i] for i in eligible}):
            short = count - len(team)
            if not short:
                break
            tier = sorted(i for i in eligible if load[i] == v)
            team += ref_sample(tier, min(short, len(tier)), label + ":" + str(v), seed)
        return team

    teams = {}
    for t in selected:
        eligible = sorted(i for i in inp["inspectors"] if (i, t) not in conflicts)
        if len(eligible) < inp["team_size"]:
            raise DrawError(t)
        teams[t] = pick_team(eligible, inp["team_size"], "team:" + t)
        for i in teams[t]:
            load[i] += 1
    for n, a in enumerate(inp["amendments"]):
        t, i = a["target"], a["inspector"]
        if t not in teams or i not in teams[t]:
            raise DrawError("invalid amendment")
        conflicts.add((i, t))
        teams[t].remove(i)
        load[i] -= 1
        eligible = sorted(x for x in inp["inspectors"]
                          if (x, t) not in conflicts and x not in teams[t])
        if not eligible:
            raise DrawError("no replacement")
        new = pick_team(eligible, 1, "replace:" + str(n) + ":" + t)[0]
        load[new] += 1
        teams[t].append(new)
    return {"seed": seed_hex, "selected": selected, "teams": [[t, teams[t]] for t in selected],
            "loads": load}


# --- the public vectors --------------------------------------------------------------------

def test_three_public_vectors_are_present():
    assert [p.name for p in VECTORS] == ["public-1.json", "public-2.json", "public-3.json"]


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.name)
def test_vector_reproduces(path):
    v = load(path)
    out = lottery.run(v["input"])
    for field in ("seed", "commitment", "selected", "teams"):
        assert out[field] == v["expected"][field], field


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.name)
def test_vector_step_by_step_api(path):
    """The functions the ceremony calls one step at a time give the same draw as run()."""
    inp, exp = load(path)["input"], load(path)["expected"]
    d = lottery.digests(inp["pool"], inp["inspectors"], inp["conflicts"])
    assert lottery.commitment(inp["system_entropy"]) == exp["commitment"]
    seed = lottery.compute_seed(d["pool"], d["inspectors"], d["conflicts"], inp["strata"],
                                inp["team_size"], inp["system_entropy"], inp["witness_entropy"],
                                inp["beacon"])
    assert seed == exp["seed"]
    selected = lottery.select_targets(inp["pool"], inp["strata"], seed)
    assert selected == exp["selected"]
    m = Matching(selected, inp["inspectors"], inp["conflicts"], inp["team_size"], seed)
    initial = m.initial()
    replaced = [m.amend(a["target"], a["inspector"]) for a in inp["amendments"]]
    assert m.result() == exp["teams"]
    teams, loads = lottery.match_teams(selected, inp["inspectors"], inp["conflicts"],
                                       inp["team_size"], seed, inp["amendments"])
    assert teams == exp["teams"]
    assert sum(loads.values()) == inp["team_size"] * len(selected)
    # The replacement is the member added to the amended team.
    a = inp["amendments"][0]
    before = {t: ms for t, ms in initial}[a["target"]]
    after = {t: ms for t, ms in m.result()}[a["target"]]
    assert a["inspector"] in before and a["inspector"] not in after
    assert after[-1] == replaced[0] and replaced[0] not in before


def test_vector_1_details():
    """Hand-checked facts of public-1: quotas 25% of 9 → 3 and 50% of 3 → 2; NFC + strip."""
    inp = load(VECTORS[0])["input"]
    assert lottery.quotas(inp["pool"], inp["strata"]) == {"一般": (9, 3), "重点": (3, 2)}
    assert [lottery.normalise_entropy(w) for w in inp["witness_entropy"]] == \
        ["7 3 1 9", "王见证 20260115"]


def test_vector_3_edge_cases():
    """public-3: an empty stratum, 1 bp quotas, a decomposed é, code-point stratum order."""
    inp = load(VECTORS[2])["input"]
    assert lottery.normalise_entropy(inp["witness_entropy"][0]) == "caf\u00e9"
    q = lottery.quotas(inp["pool"], inp["strata"])
    assert list(q) == ["A类", "低风险", "小微", "空层"]
    assert q == {"A类": (7, 1), "低风险": (6, 1), "小微": (4, 1), "空层": (0, 0)}


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.name)
def test_naive_reference_agrees_with_vectors(path):
    """Guards the reference below: it must itself reproduce the published vectors."""
    v = load(path)
    out = ref_run(v["input"])
    assert (out["seed"], out["selected"], out["teams"]) == (
        v["expected"]["seed"], v["expected"]["selected"], v["expected"]["teams"])


# --- primitives ------------------------------------------------------------------------------

def test_canon_bytes():
    assert lottery.canon({"b": 1, "a": ["王", None]}) == '{"a":["王",null],"b":1}'.encode()


def test_quota_formula_examples():
    assert [lottery.quota(n, r) for n, r in
            [(0, 100), (1, 1), (99, 100), (100, 100), (101, 100), (3, 5000), (10, 10000), (7, 0)]] \
        == [0, 1, 1, 1, 2, 2, 10, 1]


def test_listing_format():
    data = lottery.listing([["b", "一般"], ["a", "重点"], ["a", "一般"]])
    assert data == "a\t一般\na\t重点\nb\t一般\n".encode()
    assert lottery.listing([]) == b""


def test_listing_sorts_by_tuple_even_below_tab():
    """A control character below TAB would sort a joined line differently; tuples rule."""
    rows = [["a\x01", "z"], ["a", "y"]]
    assert lottery.listing(rows) == ref_listing(rows) == b"a\ty\na\x01\tz\n"


def test_R_and_sample_match_spec():
    seed = bytes(range(32))
    h = hashlib.sha256(seed + b"team:X" + b"\x00" + (3).to_bytes(8, "big")).digest()
    assert lottery.R(seed, "team:X", 3) == int.from_bytes(h, "big")
    items = [f"id{k:03d}" for k in range(500)]
    # Both the short-list and the sparse (few picks of a long list) branches.
    for k in (0, 1, 5, 100, 400, 500):
        assert lottery.sample(items, k, "target:s", seed) == ref_sample(items, k, "target:s", seed)
    assert lottery.sample(items, 5, "target:s", seed.hex()) == \
        ref_sample(items, 5, "target:s", seed)
    with pytest.raises(ValueError):
        lottery.sample(items[:2], 3, "x", seed)


def test_commitment_is_hash_of_the_bytes_not_the_text():
    assert lottery.commitment(ENTROPY) == hashlib.sha256(bytes.fromhex(ENTROPY)).hexdigest()
    assert lottery.commitment(ENTROPY.upper()) == lottery.commitment(ENTROPY)


def test_normalise_entropy_nfc_and_ideographic_space():
    assert lottery.normalise_entropy("\u3000cafe\u0301 \t") == "caf\u00e9"


def test_listings_hash_like_sha256sum(tmp_path):
    """The kiosk writes the listings as .tsv; sha256sum of each file is the published digest."""
    inp = load(VECTORS[1])["input"]
    d = lottery.digests(inp["pool"], inp["inspectors"], inp["conflicts"])
    files = {"pool": lottery.pool_listing(inp["pool"]),
             "inspectors": lottery.inspectors_listing(inp["inspectors"]),
             "conflicts": lottery.conflicts_listing(inp["conflicts"])}
    for name, data in files.items():
        path = tmp_path / f"{name}.tsv"
        path.write_bytes(data)
        try:
            out = subprocess.run(["sha256sum", str(path)], capture_output=True, text=True,
                                 check=True)
            got = out.stdout.split()[0]
        except FileNotFoundError:
            got = hashlib.sha256(path.read_bytes()).hexdigest()
        assert got == d[name], name
    assert lottery.run(inp)["digests"] == d
    assert files["inspectors"].decode().splitlines() == sorted(inp["inspectors"])


# --- feasibility and errors ---------------------------------------------------------------

def small_inputs(**over) -> dict:
    inp = {
        "pool": [["U1", "一般"], ["U2", "一般"], ["U3", "重点"]],
        "inspectors": ["I1", "I2", "I3"],
        "conflicts": [],
        "strata": {"一般": {"ratio_bp": 10000}, "重点": {"ratio_bp": 10000}},
        "team_size": 2, "system_entropy": ENTROPY, "witness_entropy": ["1 2 3"],
        "beacon": None, "amendments": [],
    }
    inp.update(over)
    return inp


def test_feasibility_lists_every_short_pool_entry():
    inp = small_inputs(conflicts=[["I1", "U2"], ["I2", "U2"], ["I3", "U3"], ["I1", "U3"],
                                  ["I9", "U1"], ["I1", "NOT-IN-POOL"], ["I2", "NOT-IN-POOL"]])
    assert lottery.feasibility(inp["pool"], inp["inspectors"], inp["conflicts"], 2) == ["U2", "U3"]
    assert lottery.feasibility(inp["pool"], inp["inspectors"], [], 2) == []
    assert lottery.feasibility(inp["pool"], ["I1"], [], 2) == ["U1", "U2", "U3"]


def test_infeasible_draw_names_the_target():
    inp = small_inputs(conflicts=[["I1", "U2"], ["I2", "U2"]])
    with pytest.raises(DrawError, match="U2") as e:
        lottery.run(inp)
    assert "回避" in str(e.value)


def test_amendment_of_unselected_target_or_absent_inspector_is_invalid():
    out = lottery.run(small_inputs())
    team = dict(out["teams"])["U1"]
    outsider = next(i for i in ["I1", "I2", "I3"] if i not in team)
    with pytest.raises(DrawError, match="不是本次抽中"):
        lottery.run(small_inputs(
            amendments=[{"target": "U9", "inspector": "I1", "reason": "亲属"}]))
    with pytest.raises(DrawError, match=outsider):
        lottery.run(small_inputs(
            amendments=[{"target": "U1", "inspector": outsider, "reason": "亲属"}]))


def test_amendment_without_replacement_leaves_state_unchanged():
    inp = small_inputs(inspectors=["I1", "I2"])
    out = lottery.run(inp)
    d = out["digests"]
    m = Matching(out["selected"], inp["inspectors"], [], 2, out["seed"])
    m.initial()
    before = (m.result(), dict(m.loads))
    with pytest.raises(DrawError, match="没有可替换"):
        m.amend("U1", "I1")
    assert (m.result(), dict(m.loads)) == before
    assert d["inspectors"] == lottery.sha_hex(b"I1\nI2\n")


def test_same_inspector_recusing_twice_on_a_later_amendment_is_invalid():
    out = lottery.run(small_inputs())
    t, team = out["teams"][0]
    a = {"target": t, "inspector": team[0], "reason": "亲属"}
    with pytest.raises(DrawError):
        lottery.run(small_inputs(amendments=[a, a]))


@pytest.mark.parametrize("change,fragment", [
    ({"pool": [["U1", "一般"], ["U1", "重点"]]}, "U1 重复"),
    ({"pool": [["U1", "其他"]]}, "其他"),
    ({"team_size": 1}, "不能少于 2"),
    ({"team_size": True}, "整数"),
    ({"system_entropy": "abc"}, "64 位"),
    ({"system_entropy": "g" * 64}, "64 位"),
    ({"inspectors": ["I1", "I1", "I2"]}, "I1 重复"),
    ({"pool": [["U1\t", "一般"]]}, "制表符或换行"),
    ({"witness_entropy": ["1\n2"]}, "制表符或换行"),
    ({"conflicts": [["I1"]]}, "conflicts"),
    ({"strata": {"一般": {"ratio_bp": "100"}, "重点": {"ratio_bp": 1}}}, "ratio_bp"),
    ({"beacon": 7}, "beacon"),
    ({"witness_entropy": ["\ud800"]}, "UTF-8"),
    ({"pool": [["U1", 5]]}, "pool”第1项"),
    ({"pool": [["U1", "一般"], [5, "一般"]]}, "pool”第2项"),
    ({"pool": [["U1", ["一般"]]]}, "pool”第1项"),
    ({"pool": [["U1", "一般", "x"]]}, "pool”第1项"),
])
def test_malformed_inputs(change, fragment):
    with pytest.raises(MalformedRecord, match=fragment):
        lottery.run(small_inputs(**change))


def test_missing_field_is_malformed():
    inp = small_inputs()
    del inp["beacon"]
    with pytest.raises(MalformedRecord, match="beacon"):
        lottery.run(inp)


# --- properties -----------------------------------------------------------------------------

ids = st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=1, max_size=4)
names = st.sampled_from(["一般", "重点", "A类", "小微", "低风险"])


def _plain_text(s: str) -> bool:
    """No TAB or line break (the kiosk refuses them) and no lone surrogate (not UTF-8)."""
    return not any(c in s for c in "\t\n\r") and not any(0xD800 <= ord(c) < 0xE000 for c in s)


@st.composite
def draws(draw, with_conflicts=True, amendments=True):
    usccs = draw(st.lists(ids, min_size=1, max_size=40, unique=True))
    strata_names = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    pool = [[u, draw(st.sampled_from(strata_names))] for u in usccs]
    strata = {s: {"ratio_bp": draw(st.integers(0, 10000))} for s in strata_names}
    team_size = draw(st.integers(2, 4))
    inspectors = draw(st.lists(st.text("甲乙丙丁戊己庚辛", min_size=1, max_size=3),
                               min_size=team_size, max_size=12, unique=True))
    conflicts = []
    if with_conflicts:
        conflicts = draw(st.lists(st.tuples(st.sampled_from(inspectors), st.sampled_from(usccs))
                                  .map(list), max_size=30))
    inp = {"pool": pool, "inspectors": inspectors, "conflicts": conflicts, "strata": strata,
           "team_size": team_size,
           "system_entropy": draw(st.binary(min_size=32, max_size=32)).hex(),
           "witness_entropy": draw(st.lists(st.text(max_size=8).filter(
               _plain_text),
               max_size=3)),
           "beacon": draw(st.none() | st.just("drand 1")), "amendments": []}
    if amendments and lottery.feasibility(pool, inspectors, conflicts, team_size) == []:
        out = lottery.run(inp)
        for _n in range(draw(st.integers(0, 3))):
            if not out["teams"]:
                break
            t, team = draw(st.sampled_from(out["teams"]))
            inp["amendments"].append({"target": t, "inspector": draw(st.sampled_from(team)),
                                      "reason": "当场申报"})
            try:
                out = lottery.run(inp)
            except DrawError:
                inp["amendments"].pop()
                break
    return inp


SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(draws())
def test_engine_agrees_with_naive_reference(inp):
    """The bucketed, sparse-sampling engine draws exactly what the spec read naively draws."""
    try:
        expected = ref_run(inp)
    except DrawError:
        with pytest.raises(DrawError):
            lottery.run(inp)
        return
    out = lottery.run(inp)
    assert (out["seed"], out["selected"], out["teams"]) == (
        expected["seed"], expected["selected"], expected["teams"])
    assert out["loads"] == expected["loads"]


@SETTINGS
@given(draws())
def test_quotas_follow_the_formula(inp):
    q = lottery.quotas(inp["pool"], inp["strata"])
    for s, (n, k) in q.items():
        assert n == sum(1 for _, x in inp["pool"] if x == s)
        assert k == (0 if n == 0 else min(n, max(1, -(-n * inp["strata"][s]["ratio_bp"] // 10000))))
    if lottery.feasibility(inp["pool"], inp["inspectors"], inp["conflicts"], inp["team_size"]):
        return
    out = lottery.run(inp)
    assert len(out["selected"]) == sum(k for _, k in q.values())
    assert len(set(out["selected"])) == len(out["selected"])


@SETTINGS
@given(draws())
def test_no_conflicted_inspector_is_ever_on_a_team(inp):
    short = lottery.feasibility(inp["pool"], inp["inspectors"], inp["conflicts"], inp["team_size"])
    try:
        out = lottery.run(inp)
    except DrawError as e:
        # Only a short pool entry that was selected stops the draw, and the message names it.
        assert any(u in str(e) for u in short)
        return
    recused = {tuple(c) for c in inp["conflicts"]}
    recused |= {(a["inspector"], a["target"]) for a in inp["amendments"]}
    for t, team in out["teams"]:
        assert len(team) == inp["team_size"] == len(set(team))
        assert set(team) <= set(inp["inspectors"])
        assert not any((i, t) in recused for i in team)


@SETTINGS
@given(draws(with_conflicts=False, amendments=False))
def test_loads_within_one_without_conflicts(inp):
    out = lottery.run(inp)
    loads = out["loads"]
    assert max(loads.values()) - min(loads.values()) <= 1
    assert sum(loads.values()) == inp["team_size"] * len(out["selected"])


@SETTINGS
@given(draws(), st.text(min_size=1, max_size=6).filter(lambda s: s.strip() and _plain_text(s)))
def test_deterministic_and_witness_sensitive(inp, extra):
    a = lottery.digests(inp["pool"], inp["inspectors"], inp["conflicts"])
    seed = lottery.compute_seed(a["pool"], a["inspectors"], a["conflicts"], inp["strata"],
                                inp["team_size"], inp["system_entropy"], inp["witness_entropy"],
                                inp["beacon"])
    again = copy.deepcopy(inp)
    again["pool"].reverse()  # publishing order does not matter, only the set
    assert lottery.select_targets(again["pool"], inp["strata"], seed) == \
        lottery.select_targets(inp["pool"], inp["strata"], seed)
    assert lottery.digests(again["pool"], again["inspectors"], again["conflicts"]) == a
    other = lottery.compute_seed(a["pool"], a["inspectors"], a["conflicts"], inp["strata"],
                                 inp["team_size"], inp["system_entropy"],
                                 inp["witness_entropy"] + [extra], inp["beacon"])
    assert other != seed
    if lottery.feasibility(inp["pool"], inp["inspectors"], inp["conflicts"], inp["team_size"]):
        return
    assert lottery.run(inp) == lottery.run(copy.deepcopy(inp))


@SETTINGS
@given(draws(amendments=False))
def test_interactive_amendments_keep_recusals(inp):
    """The ceremony's one-at-a-time amend(): a fresh, non-conflicted replacement; loads add up."""
    if lottery.feasibility(inp["pool"], inp["inspectors"], inp["conflicts"], inp["team_size"]):
        return
    out = lottery.run(inp)
    m = Matching(out["selected"], inp["inspectors"], inp["conflicts"], inp["team_size"],
                 out["seed"])
    m.initial()
    recused = {tuple(c) for c in inp["conflicts"]}
    for t, team in out["teams"][:3]:
        gone = team[0]
        try:
            new = m.amend(t, gone)
        except DrawError:
            continue
        recused.add((gone, t))
        now = {x: y for x, y in m.result()}[t]
        assert gone not in now and new == now[-1] and len(set(now)) == inp["team_size"]
        assert not any((i, t) in recused for i in now)
    counted = {i: 0 for i in inp["inspectors"]}
    for _, team in m.result():
        for i in team:
            counted[i] += 1
    assert counted == m.loads


field = st.text(alphabet=st.sampled_from(["a", "b", "\x01", "王", "é", " ", "0"]), max_size=3)


@SETTINGS
@given(st.lists(st.lists(field, min_size=1, max_size=3), max_size=30))
def test_listing_equals_the_spec_on_any_rows(rows):
    """Duplicates, prefixes, characters below TAB, rows of different widths: tuple order."""
    assert lottery.listing(rows) == ref_listing(rows)
    if rows and len({len(r) for r in rows}) == 1 and len(rows[0]) == 2 \
            and len({r[0] for r in rows}) == len(rows):
        assert lottery.pool_index(rows)[0] == ref_listing(rows)


def test_select_targets_refuses_a_pool_stratum_not_named_in_strata():
    pool = [["U1", "一般"], ["U2", "乙层"], ["U3", "甲层"]]
    with pytest.raises(MalformedRecord) as e:
        lottery.select_targets(pool, {"一般": {"ratio_bp": 5000}}, "00" * 32)
    # the first unknown stratum in code-point order is named
    assert str(e.value) == "检查对象名录中的层级“乙层”不在分层设置中。"
    assert lottery.select_targets(pool[:1], {"一般": {"ratio_bp": 5000}}, "00" * 32) == ["U1"]


def test_amendment_reasons_do_not_change_the_draw():
    """The reason is for people: the same recusal with another reason draws the same."""
    inp = small_inputs()
    out = lottery.run(inp)
    t, team = out["teams"][0]
    a = {"target": t, "inspector": team[0]}
    one = lottery.match_teams(out["selected"], inp["inspectors"], inp["conflicts"],
                              inp["team_size"], out["seed"], [dict(a, reason="亲属")])
    two = lottery.match_teams(out["selected"], inp["inspectors"], inp["conflicts"],
                              inp["team_size"], out["seed"], [a])
    assert one == two and one[0] != out["teams"]


def test_R_is_the_spec_formula():
    seed = hashlib.sha256(b"R").digest()
    for label, j in (("target:一般", 0), ("team:U1:0", 1), ("replace:0:U1", 2 ** 40 + 3)):
        want = int.from_bytes(hashlib.sha256(
            seed + label.encode("utf-8") + b"\x00" + j.to_bytes(8, byteorder="big")).digest(),
            byteorder="big")
        assert lottery.R(seed, label, j) == want
        assert lottery.R(seed.hex(), label, j) == want
