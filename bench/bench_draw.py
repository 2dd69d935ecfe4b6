"""Benchmark: a whole sealed draw on a province-sized store, against the floor of reading
and hashing its pool.

1,000,000 targets, strata at 1% (一般) and 5% (特殊监管), 300 inspectors, 2% of targets with a
conflicted inspector, team of 2. Prints figures; asserts nothing about speed.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from db import connect  # noqa: E402
from db.models import Inspector, Item, ItemStratum, PlanTask  # noqa: E402
from kiosk import plans, uscc  # noqa: E402
from kiosk.draw import pool, witnesses  # noqa: E402
from kiosk.draw import steps as ceremony  # noqa: E402

N = 1_000_000
N_INSPECTORS = 300
OUT = ROOT / "bench" / "out"
DRAW_DATE = dt.date(2026, 6, 1)


def build_store(path: Path) -> None:
    """A 1M-target store, made once and copied for each run."""
    rng = random.Random(1)
    conn = connect(path)
    item = Item.create(code="RS-01", name="用人单位劳动合同签订和履行情况的检查",
                       legal_basis="《劳动合同法》第十条", content="书面劳动合同",
                       category="用人单位",
                       lead_office="劳动关系股", offices="", team_size=2)
    ItemStratum.create(item=item, name="特殊监管", criterion="special", ratio_bp=500, position=0)
    ItemStratum.create(item=item, name="一般", criterion="default", ratio_bp=100, position=1)
    for i in range(N_INSPECTORS):
        Inspector.create(cert_no=f"豫人社监{i + 1:04d}", name=f"检查员{i + 1}",
                         office="劳动保障监察大队",
                         cert_valid_until=dt.date(2030, 1, 1))
    plans.make_plan(2026, "bench", items=[item])
    conn.close()
    raw = sqlite3.connect(path)
    now = "2026-01-01 00:00:00"
    rows = []
    for i in range(N):
        special = rng.random() < 0.1
        rows.append((uscc.make("411623", f"MA{i:07d}"), f"商水县第{i}号用人单位有限公司",
                     "用人单位-制造业", "城关乡", "", "小型", "中", 5 if special else 0, 0, 1, now))
    raw.executemany(
        "INSERT INTO target (uscc, name, category, township, address, size_class, credit_risk, "
        "complaint_count, serious_violation, active, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        rows)
    ids = [r[0] for r in raw.execute("SELECT id FROM target ORDER BY random() LIMIT ?", (N // 50,))]
    raw.executemany("INSERT INTO conflict (inspector_id, target_id, reason, declared_at) "
                    "VALUES (?,?,?,?)",
                    [(rng.randint(1, N_INSPECTORS), t, "近亲属", now) for t in ids])
    raw.commit()
    raw.close()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    base = OUT / "draw-1m.sqlite3"
    if not base.exists():
        t = time.perf_counter()
        build_store(base)
        print(f"build 1M-target store (once, cached): {time.perf_counter() - t:.1f} s")
    connect(base).close()  # bring a cached store up to the current schema once
    work = OUT / "draw-run.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(str(work) + suffix).unlink(missing_ok=True)
    src = sqlite3.connect(base)
    dst = sqlite3.connect(work)
    src.backup(dst)
    src.close()
    dst.close()
    connect(work)
    if PlanTask.select().where(PlanTask.approved_by == "").exists():
        plans.approve(2026, "bench")  # only an approved plan's rounds are drawn (Art. 18)
    task = PlanTask.select().order_by(PlanTask.id).first()

    # The floor: read the pool from the database and hash its listing.
    t, c = time.perf_counter(), time.process_time()
    fr = ceremony.build_pool(task, DRAW_DATE)
    digest = hashlib.sha256(fr.listings()["pool"]).hexdigest()
    floor, floor_cpu = time.perf_counter() - t, time.process_time() - c
    print(f"floor: read pool ({len(fr.pool):,} targets) + hash its listing: {floor:.2f} s "
          f"wall, {floor_cpu:.2f} s CPU")
    pool._frozen_cache.clear()

    from kiosk import auth

    for login in ("witness1", "witness2"):  # the witnesses' own accounts (issue 8)
        auth.create_user(login, f"{login}123", "witness", login, actor="bench")
    timings = {}
    t0, c0 = time.perf_counter(), time.process_time()
    d = ceremony.prepare(task.code, "bench", draw_date=DRAW_DATE)
    timings["prepare (freeze pool, feasibility, digests, store listings)"] = \
        time.perf_counter() - t0
    assert d.pool_digest == digest
    t = time.perf_counter()
    signed = [witnesses.login(login, f"{login}123") for login in ("witness1", "witness2")]
    for w in signed:
        witnesses.sign_in(d.id, w)
    ceremony.commit(d.id, "bench")
    witnesses.enter_entropy(d.id, signed[0], "7 3 1 9")
    witnesses.enter_entropy(d.id, signed[1], "20260601")
    timings["witnesses (password log-ins), sealed commitment, entropy"] = \
        time.perf_counter() - t
    t = time.perf_counter()
    selected = ceremony.reveal(d.id, "bench")
    timings["reveal (seed, stratified selection)"] = time.perf_counter() - t
    t = time.perf_counter()
    ceremony.match(d.id, "bench")
    timings["match teams"] = time.perf_counter() - t
    t = time.perf_counter()
    for w in signed:
        witnesses.confirm(d.id, w)
    record = ceremony.seal(d.id, "bench")
    timings["confirm + seal (assignments in one transaction, record)"] = time.perf_counter() - t
    total, total_cpu = time.perf_counter() - t0, time.process_time() - c0
    for k, v in timings.items():
        print(f"  {k}: {v:.2f} s")
    print(f"draw: task chosen -> sealed record, {len(selected):,} selected of {len(fr.pool):,}: "
          f"{total:.2f} s wall, {total_cpu:.2f} s CPU (target <= 3 s)")
    print(f"ratio to the floor: {total / floor:.2f}x wall, {total_cpu / floor_cpu:.2f}x CPU "
          f"(aim <= 2x)")

    rec_path = OUT / "draw-1m-record.json"
    rec_path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "kiosk.cli", "verify", str(rec_path)], cwd=ROOT,
                       capture_output=True, text=True)
    print(f"kiosk verify on that record (a fresh process, {rec_path.stat().st_size / 1e6:.0f} MB): "
          f"{time.perf_counter() - t:.2f} s, exit {p.returncode} (target <= 5 s)")


if __name__ == "__main__":
    main()
