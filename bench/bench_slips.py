"""Slip figures: 1,000 slips in one PDF (<= 3 s), a scanned payload to a report form (<= 200 ms)."""
from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

N_SLIPS = int(os.environ.get("BENCH_SLIPS", "1000"))
N_RESOLVE = int(os.environ.get("BENCH_RESOLVE", "2000"))
N_SCAN = int(os.environ.get("BENCH_SCAN", "100"))


def build_store(tmp: Path, n: int) -> int:
    """A store with one sealed draw of n assignments (teams of 2); returns the draw id."""
    from db import connect
    from db.models import (
        Assignment,
        AssignmentMember,
        Draw,
        Inspector,
        Item,
        PlanTask,
        Target,
    )
    from kiosk.store import write_tx

    connect(tmp / "bench.sqlite3")
    with write_tx():
        item = Item.create(code="RS-01", name="用人单位遵守劳动用工和社会保险法律法规情况的检查",
                           legal_basis="《劳动保障监察条例》第十条、第十一条；《中华人民共和国社会保险法》"
                                       "第七十七条；《河南省劳动保障监察条例》第十二条",
                           content="劳动合同\n工资支付\n社会保险", category="企业",
                           lead_office="劳动保障监察大队")
        task = PlanTask.create(code="2026-RS-01-2", year=2026, item=item, round_no=2,
                               planned_month=7)
        draw = Draw.create(task=task, attempt_no=1, state="sealed", operator="op",
                           pool_digest="a" * 64, inspectors_digest="b" * 64,
                           conflicts_digest="c" * 64, strata_json="{}", seed="f" * 64,
                           sealed_at=dt.datetime(2026, 7, 14, 10, 0))
        Inspector.insert_many([{"cert_no": f"411623{i:05d}", "name": f"检查员{i:03d}",
                                "office": "劳动保障监察大队"} for i in range(300)]).execute()
        insp = [i for (i,) in Inspector.select(Inspector.id).tuples()]
        rows = [{"uscc": f"91411623MA{i:07d}X", "name": f"商水县第{i}号纺织服装有限责任公司",
                 "category": "企业", "address": f"商水县城关乡阳城大道{i}号院内{i % 7 + 1}号楼"}
                for i in range(n)]
        for i in range(0, n, 500):
            Target.insert_many(rows[i:i + 500]).execute()
        tids = [t for (t,) in Target.select(Target.id).order_by(Target.id).tuples()]
        arows = [{"draw": draw.id, "position": k, "task_code": f"2026-07-{k + 1:04d}",
                  "target": tids[k], "stratum": "一般"} for k in range(n)]
        for i in range(0, n, 500):
            Assignment.insert_many(arows[i:i + 500]).execute()
        aids = [a for (a,) in Assignment.select(Assignment.id).order_by(Assignment.position)
                .tuples()]
        mrows = [{"assignment": a, "inspector": insp[(2 * k + j) % len(insp)], "position": j}
                 for k, a in enumerate(aids) for j in range(2)]
        for i in range(0, len(mrows), 500):
            AssignmentMember.insert_many(mrows[i:i + 500]).execute()
    return draw.id


def _timed(fn, *args):
    """(result, wall seconds, CPU seconds of this process)."""
    t0, c0 = time.perf_counter(), time.process_time()
    r = fn(*args)
    return r, time.perf_counter() - t0, time.process_time() - c0


def _stats(label: str, walls: list[float], cpus: list[float], target: str = "") -> None:
    walls = sorted(walls)
    print(f"{label}, {len(walls)} runs: mean {1000 * statistics.mean(walls):.3f} ms wall "
          f"({1000 * statistics.mean(cpus):.3f} ms CPU), "
          f"p99 {1000 * walls[int(0.99 * (len(walls) - 1))]:.3f} ms, "
          f"max {1000 * walls[-1]:.3f} ms{' ' + target if target else ''}")


def main() -> None:
    from db.models import Assignment, AssignmentMember, Inspector
    from kiosk import auth, reports, slips
    from kiosk.errors import UserError
    from kiosk.printing import base, qr

    print(f"slips: load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs "
          "(wall time suffers when it is high; CPU time much less)")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        os.environ.setdefault("KIOSK_DATA_DIR", str(tmp / "files"))
        draw_id = build_store(tmp, N_SLIPS)
        out, wall, cpu = _timed(slips.render_slips, draw_id, tmp / "slips.pdf", "op")
        size_mb = out.stat().st_size / 1e6
        print(f"{N_SLIPS} slips: {wall:.2f} s wall, {cpu:.2f} s CPU "
              f"({1000 * wall / N_SLIPS:.2f} ms/slip, {size_mb:.1f} MB) [target <= 3 s]")

        codes = [a for a in Assignment.select().order_by(Assignment.position)]
        payloads = [slips.payload(a) for a in codes]
        _, wall, cpu = _timed(lambda: [qr.modules(p) for p in payloads[:300]])
        print(f"slips: QR symbol of a payload (qrcode, fixed version and mask): "
              f"{1000 * wall / 300:.3f} ms wall, {1000 * cpu / 300:.3f} ms CPU "
              "(part of the figure above)")
        # The one private fpdf2 name kept (FPDF._out, for the QR path) earns its place here.
        for fast in (True, False):
            base.QR_FAST_PATH = fast and callable(base._RAW_OUT)
            doc = base.KioskPDF("A5", bureau="bench")
            doc.add_page()
            _, wall, cpu = _timed(lambda d: [d.qr(p, 90, 20, 48) for p in payloads[:300]], doc)
            how = "one path through FPDF._out" if fast else "one public rect() per run"
            print(f"slips: QR drawing incl. symbol, {how}: {1000 * wall / 300:.3f} ms wall, "
                  f"{1000 * cpu / 300:.3f} ms CPU")
        base.QR_FAST_PATH = callable(base._RAW_OUT)

        walls, cpus = [], []
        for i in range(N_RESOLVE):
            p = payloads[(i * 7919) % len(payloads)]
            _, w, c = _timed(slips.resolve, p + "\n")
            walls.append(w)
            cpus.append(c)
        _stats("slips: resolve() of a valid payload", walls, cpus, "[target <= 200 ms]")

        def refuse(bad: str) -> None:
            try:
                slips.resolve(bad)
            except UserError:
                pass
            else:
                raise AssertionError("a forged payload was accepted")

        walls, cpus = [], []
        for p in payloads[:200]:
            _, w, c = _timed(refuse, p[:-3] + ("AAA" if not p.endswith("AAA") else "BBB"))
            walls.append(w)
            cpus.append(c)
        _stats("slips: resolve() of a forged payload (refusal + audit event)", walls, cpus)

        # A scanned slip to an open report form, for a member of the slip's team: the
        # first scan creates the prefilled draft, a later scan reopens it.
        n_users = min(N_SCAN, len(codes))
        members = {}
        for a in codes[:n_users]:
            first = (AssignmentMember.select(AssignmentMember.inspector)
                     .where(AssignmentMember.assignment == a)
                     .order_by(AssignmentMember.position).scalar())
            members.setdefault(first, a)
        users = {}
        for insp_id, a in members.items():
            insp = Inspector.get_by_id(insp_id)
            users[a.id] = auth.create_user(f"u{insp_id}", "secret123", "inspector",
                                           inspector=insp)
        scanned = [(payloads[codes.index(a)], users[a.id]) for a in members.values()]
        for label in ("first scan (draft created)", "second scan (draft reopened)"):
            walls, cpus = [], []
            for p, user in scanned:
                report, w, c = _timed(reports.scan_to_report, p, user)
                assert report.assignment.task_code in p
                walls.append(w)
                cpus.append(c)
            _stats(f"slips: scan_to_report() by a team member, {label}", walls, cpus,
                   "[target <= 200 ms]")


if __name__ == "__main__":
    main()
