"""Benchmark: `kiosk audit verify` on a province-sized store.

1,000,000 targets, a sealed draw of 10,000 assignments (20,000 team members, a 1M-row pool
listing), 100,000 audit events. Prints the time to append a covering event (the seal) and
to verify the whole chain with every row it covers. Asserts only that the store verifies.
"""
from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import data  # noqa: E402
from db import connect  # noqa: E402
from db.models import (  # noqa: E402
    Assignment,
    AssignmentMember,
    AuditEvent,
    Draw,
    DrawListing,
    Inspector,
    Item,
    PlanTask,
)
from kiosk import audit, auth, settings  # noqa: E402
from kiosk.audit.chain import entry_hash  # noqa: E402
from kiosk.store import bulk_insert, write_tx  # noqa: E402

N_TARGETS = 1_000_000
N_EVENTS = 100_000
N_ASSIGNMENTS = 10_000
OUT = ROOT / "bench" / "out"


def filler_events(n: int) -> None:
    """n chained events after the head, hashed as audit.record would, inserted in bulk."""
    seq, prev = audit.head()
    start = dt.datetime(2026, 1, 5, 8, 0)
    rows = []
    for i in range(n):
        seq += 1
        at = (start + dt.timedelta(seconds=20 * i)).isoformat(sep=" ")
        actor, action = (("operator", "slips.print"), ("insp01", "report.save"),
                         ("admin", "auth.login"))[i % 3]
        detail = json.dumps({"n": i}, separators=(",", ":"))
        h = entry_hash(prev, seq, at, actor, action, "thing", str(i), detail)
        rows.append((seq, at, actor, action, "thing", str(i), detail, prev, h, ""))
        prev = h
    with write_tx():
        bulk_insert(AuditEvent, ["seq", "at", "actor", "action", "entity", "entity_id",
                                 "detail", "prev_hash", "hash", "covers"], rows)


def build(path: Path) -> int:
    data.copy_store(data.cached_store(N_TARGETS), path)
    connect(path)
    for login, role in (("admin", "admin"), ("operator", "operator"), ("leader", "leader")):
        auth.create_user(login, f"{login}123", role, login, actor="bench")
    settings.put("bureau_name", "商水县人力资源和社会保障局", actor="admin")
    item = Item.create(code="RS-01", name="劳动合同检查", legal_basis="《劳动合同法》",
                       content="劳动合同", category="用人单位-制造业", lead_office="劳动关系股")
    task = PlanTask.create(code="2026-RS-01-1", year=2026, item=item, round_no=1,
                           planned_month=3, state="drawn")
    audit.record("leader", "plan.make", "plan", 2026)
    certs = [f"豫人社监{i:04d}" for i in range(300)]
    with write_tx():
        bulk_insert(Inspector, ["cert_no", "name", "office", "department", "active", "phone",
                                "updated_at"],
                    [(c, f"检查员{i}", "劳动保障监察大队", "商水县人力资源和社会保障局", True, "",
                      "2026-01-01 00:00:00") for i, c in enumerate(certs)])
    insp_ids = [i for (i,) in Inspector.select(Inspector.id).order_by(Inspector.id).tuples()]
    t0 = time.perf_counter()
    filler_events(N_EVENTS)
    print(f"   {N_EVENTS:,} events hashed and inserted in {time.perf_counter() - t0:.1f} s")
    db = connect(path, migrate=False)
    pool = "\n".join(u for (u,) in db.execute_sql("SELECT uscc FROM target ORDER BY uscc"))
    pool_b = pool.encode()
    target_ids = [i for (i,) in db.execute_sql(
        f"SELECT id FROM target ORDER BY id LIMIT {N_ASSIGNMENTS}")]
    with write_tx():
        draw = Draw.create(task=task, attempt_no=1, state="sealed", operator="operator",
                           pool_digest=hashlib.sha256(pool_b).hexdigest(),
                           inspectors_digest="b" * 64, conflicts_digest="c" * 64,
                           strata_json="{}", seed="5" * 64, pool_size=N_TARGETS,
                           record_json=json.dumps({"seed": "5" * 64}),
                           sealed_at=dt.datetime(2026, 3, 14, 10, 0))
        DrawListing.create(draw=draw, kind="pool", digest=draw.pool_digest, rows=N_TARGETS,
                           content=gzip.compress(pool_b, 1))
        bulk_insert(Assignment, ["draw", "position", "task_code", "target", "stratum",
                                 "slip_version", "state"],
                    [(draw.id, k, f"2026-03-{k + 1:05d}", tid, "一般", 0, "assigned")
                     for k, tid in enumerate(target_ids)])
        a_ids = [a for (a,) in Assignment.select(Assignment.id).where(Assignment.draw == draw)
                 .order_by(Assignment.position).tuples()]
        bulk_insert(AssignmentMember, ["assignment", "inspector", "position"],
                    [(aid, insp_ids[(2 * k + m) % len(insp_ids)], m)
                     for k, aid in enumerate(a_ids) for m in range(2)])
        t0 = time.perf_counter()
        audit.record("operator", "draw.seal", "draw", draw.id, task=task.code)
        seal = time.perf_counter() - t0
    print(f"   seal event covering {N_ASSIGNMENTS:,} assignments and a "
          f"{N_TARGETS:,}-row listing: {seal * 1000:.0f} ms")
    return draw.id


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "audit.sqlite3"
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)
    # A store rebuilt at the same path is what this terminal's anchor exists to catch (the
    # last run's head is no longer in the chain): the bench keeps its own anchors, fresh.
    anchors = OUT / "anchors-audit"
    shutil.rmtree(anchors, ignore_errors=True)
    os.environ["KIOSK_ANCHOR_DIR"] = str(anchors)
    build(path)
    connect(path, migrate=False)
    n = AuditEvent.select().count()
    for label in ("first", "again"):
        t0 = time.perf_counter()
        verdict = audit.verify()
        took = time.perf_counter() - t0
        print(f"   audit verify ({label}), {n:,} events, {N_TARGETS:,} targets: {took:.2f} s")
    if not verdict.ok:
        print("   NOT OK:", verdict.message)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
