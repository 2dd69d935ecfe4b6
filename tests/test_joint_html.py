"""A joint draw's record (Art. 11) verifies in the published page's JavaScript as in Python:
each team takes one inspector of every department first, a lone partner who recuses is
replaced from the partner department, and the same teams without the rule are a mismatch."""
from __future__ import annotations

import copy

import pytest

from kiosk.draw import lottery
from kiosk.draw.verify import verify_record
from kiosk.uscc import make as make_uscc
from tests.test_publication_html import CHROMIUM, _page, verdict

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")

A, B = "商水县人力资源和社会保障局", "商水县市场监督管理局"


def joint_record(amend: bool) -> dict:
    pool = [[make_uscc("411623", f"MA{i:07d}"), "一般" if i % 4 else "特殊"] for i in range(30)]
    staff = {f"豫人社监{i:04d}": (B if i in (3, 7) else A) for i in range(1, 9)}
    inputs = {"pool": pool, "inspectors": sorted(staff),
              "conflicts": [["豫人社监0003", pool[1][0]]],
              "strata": {"一般": {"ratio_bp": 2000}, "特殊": {"ratio_bp": 5000}},
              "team_size": 2, "system_entropy": "ab" * 32,
              "witness_entropy": ["7 3 1 9", "联合检查"], "beacon": None, "amendments": [],
              "joint": {"departments": [B, A], "inspector_departments": staff}}
    res = lottery.run(inputs)
    if amend:  # the first team's only partner recuses on the spot
        target, team = res["teams"][0]
        partner = next(c for c in team if staff[c] == B)
        inputs["amendments"] = [{"target": target, "inspector": partner, "reason": "同学"}]
        res = lottery.run(inputs)
    return {"protocol": lottery.PROTOCOL, **inputs, "commitment": res["commitment"],
            "seed": res["seed"], "selected": res["selected"], "teams": res["teams"]}


@pytest.mark.parametrize("amend", [False, True])
def test_the_browser_and_python_agree_on_a_joint_record(amend, tmp_path):
    rec = joint_record(amend)
    of = rec["joint"]["inspector_departments"]
    for _t, team in rec["teams"]:
        assert {of[c] for c in team} == {A, B}
    code, message = verify_record(rec)
    assert code == 0 and "联合抽查" in message, message
    result, _where, text = verdict(_page(tmp_path, "joint.html", rec), tmp_path)
    assert result == "match", text
    assert "联合抽查" in text and A in text and B in text

    plain = copy.deepcopy(rec)
    del plain["joint"]  # the mapping is bound into the seed: without it the seed differs
    code, message = verify_record(plain)
    assert code == 1 and "种子不一致" in message
    result, where, _text = verdict(_page(tmp_path, "plain.html", plain), tmp_path)
    assert (result, where) == ("mismatch", "seed")
