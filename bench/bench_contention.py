"""Benchmark: 10 kiosk processes on one SQLite store doing mixed writes for 60 s.

Each worker loops over three kinds of write, each one `write_tx` with its audit event: a bare
audit event (a login, a refusal), a target's row changed (an import row), a report draft
saved. Prints the writes, errors and the p50/p99/max latency of a write (from asking for the
lock to commit), then verifies the chain. BENCH_WORKERS and BENCH_SECONDS shorten it.
"""
from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORKERS = int(os.environ.get("BENCH_WORKERS", "10"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))


def worker(db_path: str, seconds: float, seed: int) -> None:
    """One terminal: writes until the time is up, prints its latencies as JSON."""
    from db import connect
    from db.models import Report, Target
    from kiosk import audit
    from kiosk.store import write_tx

    connect(db_path)
    rng = random.Random(seed)
    target_ids = [t for (t,) in Target.select(Target.id).tuples()]
    report_ids = [r for (r,) in Report.select(Report.id).tuples()]
    lat, errors = [], []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        kind = rng.choice(("event", "target", "report") if report_ids else ("event", "target"))
        t0 = time.monotonic()
        try:
            with write_tx():
                if kind == "target":
                    tid = rng.choice(target_ids)
                    Target.update(complaint_count=Target.complaint_count + 1).where(
                        Target.id == tid).execute()
                    audit.record(f"bench{seed}", "registry.update", "target", tid)
                elif kind == "report":
                    rid = rng.choice(report_ids)
                    Report.update(review_note=f"bench {seed} {time.time()}").where(
                        Report.id == rid).execute()
                    audit.record(f"bench{seed}", "report.autosave", "report", rid)
                else:
                    audit.record(f"bench{seed}", "auth.login", "user", seed)
        except Exception as e:  # counted and shown: the figure this bench is about
            errors.append(f"{type(e).__name__}: {e}")
            continue
        lat.append(time.monotonic() - t0)
        time.sleep(rng.uniform(0.0, 0.05))  # a person between two writes, roughly
    print(json.dumps({"lat": lat, "errors": errors[:5], "n_errors": len(errors)}))


def main() -> int:
    from db import connect
    from kiosk import demo

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["KIOSK_DATA_DIR"] = str(Path(tmp) / "files")
        db_path = str(Path(tmp) / "kiosk.sqlite3")
        connect(db_path)
        demo.build(fresh=True)
        from db.models import Assignment
        from kiosk import reports
        from tests.ops_world import member_and_assignment

        user, _ = member_and_assignment()
        for a in Assignment.select().limit(10):
            try:
                reports.open_report(a, user)
            except Exception:  # not this member's team: that report stays closed
                pass
        procs = [subprocess.Popen([sys.executable, __file__, "--worker", db_path,
                                   str(SECONDS), str(i)], cwd=ROOT, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for i in range(WORKERS)]
        lat: list[float] = []
        n_err = 0
        waits = 0
        samples: list[str] = []
        for p in procs:
            out, err = p.communicate(timeout=SECONDS + 120)
            if p.returncode:
                n_err += 1
                samples.append(err.strip().splitlines()[-1] if err.strip() else "exit")
                continue
            r = json.loads(out.strip().splitlines()[-1])
            lat += r["lat"]
            n_err += r["n_errors"]
            samples += r["errors"]
            waits += err.count("正在等待")
        lat.sort()
        from kiosk import audit

        verdict = audit.verify()
        p99 = lat[int(len(lat) * 0.99) - 1] if lat else float("nan")
        print(f"{WORKERS} processes, {SECONDS:.0f} s: {len(lat)} writes "
              f"({len(lat) / SECONDS:.0f}/s), {n_err} errors, "
              f"{waits} processes said they were waiting")
        print(f"write latency p50 {statistics.median(lat) * 1000:.1f} ms, "
              f"p99 {p99 * 1000:.1f} ms, max {lat[-1] * 1000:.1f} ms")
        print(f"audit verify: {verdict.ok} ({verdict.message[:60]})")
        for s in samples[:5]:
            print("  error:", s)
        return 0 if verdict.ok and not n_err and p99 <= 1.0 else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]))
        raise SystemExit(0)
    raise SystemExit(main())
