"""Safety net for the pool rules (Art. 5, 7, 11, 16): each test fails when its rule breaks."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import sys
from pathlib import Path

from db.models import Assignment, Draw, Inspector, Item, ItemStratum, Target
from kiosk import plans, uscc
from kiosk.draw import lottery, pool

ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.date(2026, 5, 20)


def world(sizes=("大型", "小型", "微型", "中型"), departments=""):
    item = Item.create(code="RS-09", name="测试事项", legal_basis="《劳动法》", content="检查",
                       category="用人单位", lead_office="监察大队", offices="",
                       departments=departments, team_size=2)
    ItemStratum.create(item=item, name="小微", criterion="small_micro", ratio_bp=100, position=0)
    ItemStratum.create(item=item, name="一般", criterion="default", ratio_bp=1000, position=1)
    targets = [Target.create(uscc=uscc.make("411623", f"MA{i:07d}"), name=f"单位{i}",
                             category="用人单位", size_class=sizes[i % len(sizes)])
               for i in range(8)]
    for n, dep in enumerate(("商水县人力资源和社会保障局", "商水县人力资源和社会保障局",
                             "商水县市场监督管理局")):
        Inspector.create(cert_no=f"豫人社监{n + 1:04d}", name=f"检查员{n + 1}", office="监察大队",
                         department=dep, cert_valid_until=dt.date(2028, 1, 1))
    task = plans.make_plan(2026, "tester", items=[item])[0]
    return item, targets, task


def test_small_and_micro_firms_fall_in_their_own_stratum(db):
    _item, targets, task = world()
    fr = pool.build_pool(task, TODAY)
    strata = dict(fr.pool)
    # sizes cycle 大型, 小型, 微型, 中型: positions 1, 2, 5, 6 are small or micro
    small = {targets[i].uscc for i in (1, 2, 5, 6)}
    assert {u for u, s in strata.items() if s == "小微"} == small
    assert {u for u, s in strata.items() if s == "一般"} == {t.uscc for t in targets} - small
    assert fr.counts == {"小微": 4, "一般": 4}


def test_own_sealed_draw_in_the_window_excludes_its_targets(db):
    item, targets, task = world()
    other = plans.make_plan(2026, "tester", items=[item])  # same tasks, already made
    assert other == []
    sealed = Draw.create(task=task, attempt_no=1, state="sealed", operator="op",
                         draw_date=TODAY - dt.timedelta(days=60), pool_digest="0" * 64,
                         inspectors_digest="0" * 64, conflicts_digest="0" * 64, strata_json="{}")
    old = Draw.create(task=task, attempt_no=2, state="sealed", operator="op",
                      draw_date=TODAY - dt.timedelta(days=800), pool_digest="0" * 64,
                      inspectors_digest="0" * 64, conflicts_digest="0" * 64, strata_json="{}")
    aborted = Draw.create(task=task, attempt_no=3, state="aborted", operator="op",
                          draw_date=TODAY - dt.timedelta(days=10), pool_digest="0" * 64,
                          inspectors_digest="0" * 64, conflicts_digest="0" * 64,
                          strata_json="{}")
    for n, (d, t) in enumerate(((sealed, targets[0]), (old, targets[1]), (aborted, targets[2]))):
        Assignment.create(draw=d, position=0, task_code=f"2026-01-{n:04d}", target=t,
                          stratum="一般")
    fr = pool.build_pool(task, TODAY)
    ids = set(fr.ids)
    assert targets[0].uscc not in ids  # our sealed draw 60 days ago: recognised (Art. 16)
    assert targets[1].uscc in ids  # outside the window
    assert targets[2].uscc in ids  # an aborted attempt inspected nobody
    assert fr.excluded_recent == 1 and len(ids) == 7


def test_inactive_targets_and_inspectors_stay_out(db):
    _item, targets, task = world()
    Target.update(active=False).where(Target.id == targets[3].id).execute()
    Inspector.update(active=False).where(Inspector.cert_no == "豫人社监0002").execute()
    fr = pool.build_pool(task, TODAY)
    assert targets[3].uscc not in set(fr.ids) and len(fr.ids) == 7
    assert fr.inspectors == ["豫人社监0001", "豫人社监0003"]


def test_the_items_departments_filter_the_inspectors(db):
    item, _targets, task = world(departments="商水县市场监督管理局；商水县应急管理局")
    assert pool.build_pool(task, TODAY).inspectors == ["豫人社监0003"]
    Item.update(departments="").where(Item.id == item.id).execute()
    task = type(task).get_by_id(task.id)
    assert pool.build_pool(task, TODAY).inspectors == ["豫人社监0001", "豫人社监0002",
                                                       "豫人社监0003"]


def _reference_sample(items, k, label, seed_hex):
    """The spec's partial Fisher-Yates, written out from draw-protocol.md alone."""
    a = list(items)
    seed = bytes.fromhex(seed_hex)
    for j in range(k):
        r = int.from_bytes(hashlib.sha256(seed + label.encode() + b"\x00"
                                          + j.to_bytes(8, "big")).digest(), "big")
        i = j + r % (len(a) - j)
        a[j], a[i] = a[i], a[j]
    return a[:k]


SPARSE_SEED = hashlib.sha256(b"dsr-draw/1 sparse vector").hexdigest()
SPARSE_IDS = [f"91411623MA{i:07d}X" for i in range(100)]
# Computed once with _reference_sample above and frozen here: 3 of 100 takes the sparse branch.
SPARSE_EXPECTED = ["91411623MA0000028X", "91411623MA0000030X", "91411623MA0000091X"]


def test_sparse_sampling_matches_a_fixed_vector():
    assert _reference_sample(SPARSE_IDS, 3, "target:一般", SPARSE_SEED) == SPARSE_EXPECTED
    assert lottery.sample(SPARSE_IDS, 3, "target:一般", SPARSE_SEED) == SPARSE_EXPECTED
    # 10 of 100 is still sparse (k * 4 < n); 30 of 100 is dense: both equal the reference
    for k in (10, 24, 25, 30, 100):
        assert lottery.sample(SPARSE_IDS, k, "x", SPARSE_SEED) == \
            _reference_sample(SPARSE_IDS, k, "x", SPARSE_SEED)


def test_verifier_loads_neither_database_nor_ui():
    code = ("import sys, json, kiosk.draw.verify, kiosk.draw.lottery;"
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('peewee', 'textual', 'db', 'screens', 'playhouse'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert json.loads(out.stdout) == []
