"""Benchmark: PostgreSQL beside SQLite on the same data - a target import through the kiosk's
importer, a whole sealed draw, and registry searches.

BENCH_PG_N targets (default 1,000,000; heavy - 200,000 is a fair first run), imported from one
CSV into a fresh SQLite file and a fresh PostgreSQL schema (KIOSK_TEST_PG_URL or BENCH_PG_URL;
`. scripts/pg-env.sh` starts a local server). Prints figures (a draw's as the
median of the plan's first three rounds); asserts only that the draws seal and both stores
verify.
"""
from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import data  # noqa: E402
from db import connect  # noqa: E402
from db.models import Inspector, Item, ItemStratum, PlanTask  # noqa: E402

N = int(os.environ.get("BENCH_PG_N", "1000000"))
DRAWS = 3  # the plan's first three rounds
DRAW_DATE = dt.date(2026, 6, 1)
QUERIES = [("2-char name (建筑)", "建筑"), ("4-char name (有限公司)", "有限公司"),
           ("rare name (鑫瑞建筑)", "鑫瑞建筑"), ("USCC prefix 10", data.uscc_for(123)[:10]),
           ("whole USCC", data.uscc_for(4567)),
           ("USCC fragment (8 inside)", data.uscc_for(4567)[6:14]), ("township (黄寨镇)", "黄寨镇")]


def _setup() -> None:
    from kiosk import auth, plans

    item = Item.create(code="RS-01", name="用人单位劳动合同签订和履行情况的检查",
                       legal_basis="《劳动合同法》第十条", content="书面劳动合同",
                       category="用人单位", lead_office="劳动关系股", offices="", team_size=2)
    ItemStratum.create(item=item, name="特殊监管", criterion="special", ratio_bp=500, position=0)
    ItemStratum.create(item=item, name="一般", criterion="default", ratio_bp=100, position=1)
    for i in range(300):
        Inspector.create(cert_no=f"豫人社监{i + 1:04d}", name=f"检查员{i + 1}",
                         office="劳动保障监察大队", cert_valid_until=dt.date(2030, 1, 1))
    plans.make_plan(2026, "bench", items=[item])
    plans.approve(2026, "bench")
    for login in ("witness1", "witness2"):
        auth.create_user(login, f"{login}123", "witness", login, actor="bench")


def _draw() -> tuple[float, int]:
    """The next round of the plan drawn and sealed: (seconds, targets selected)."""
    from kiosk.draw import steps as ceremony
    from kiosk.draw import witnesses

    task = (PlanTask.select().where(PlanTask.state != "drawn").order_by(PlanTask.id).first())
    t = time.perf_counter()
    d = ceremony.prepare(task.code, "bench", draw_date=DRAW_DATE)
    signed = [witnesses.login(w, f"{w}123") for w in ("witness1", "witness2")]
    for w in signed:
        witnesses.sign_in(d.id, w)
    ceremony.commit(d.id, "bench")
    witnesses.enter_entropy(d.id, signed[0], "7 3 1 9")
    witnesses.enter_entropy(d.id, signed[1], "20260601")
    selected = ceremony.reveal(d.id, "bench")
    ceremony.match(d.id, "bench")
    for w in signed:
        witnesses.confirm(d.id, w)
    ceremony.seal(d.id, "bench")
    return time.perf_counter() - t, len(selected)


def run(label: str, url: str, csv_path: Path) -> dict:
    from kiosk import audit, registry

    db = connect(url)
    _setup()
    out: dict = {"engine": label}
    t, cpu = time.perf_counter(), time.process_time()
    res = registry.import_file("targets", csv_path, "bench")
    out["import"] = time.perf_counter() - t
    out["import_cpu"] = time.process_time() - cpu
    assert res.inserted == N, res
    # No ANALYZE here: the draw runs on the statistics a kiosk has right after its import
    # (on PostgreSQL the importer analyses the target table itself).
    # Each draw is the plan's next round (a round excludes the targets drawn before it, 1%
    # of the pool): the median of DRAWS, as one draw varies by a tenth of a second.
    draws = []
    for _ in range(DRAWS):
        cpu = time.process_time()
        seconds, selected = _draw()
        draws.append((seconds, time.process_time() - cpu, selected))
    out["draw"], out["draw_cpu"], out["selected"] = sorted(draws)[len(draws) // 2]
    out["draws"] = [d[0] for d in draws]
    out["search"] = {q: (data.median_ms(lambda t=text: registry.search("targets", t, limit=20)),
                         data.median_ms(lambda t=text: registry.count_capped("targets", t)))
                     for q, text in QUERIES}
    if label == "PostgreSQL":  # pg_trgm installed in another schema is not on our path
        out["trgm"] = bool(db.execute_sql("SELECT to_regclass('target_name_trgm')").fetchone()[0])
    t = time.perf_counter()
    verdict = audit.verify()
    out["verify"] = time.perf_counter() - t
    assert verdict.ok, verdict.message
    db.close()
    return out


def main() -> int:
    pg_url = os.environ.get("BENCH_PG_URL") or os.environ.get("KIOSK_TEST_PG_URL")
    if not pg_url:
        print("no PostgreSQL: set BENCH_PG_URL or source scripts/pg-env.sh; skipped")
        return 0
    import psycopg2

    data.OUT.mkdir(parents=True, exist_ok=True)
    schema = "bench_" + uuid.uuid4().hex[:8]
    raw = psycopg2.connect(pg_url)
    raw.autocommit = True
    raw.cursor().execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in pg_url else "?"
    results = []
    load = os.getloadavg()
    try:
        with tempfile.TemporaryDirectory(dir=data.OUT) as tmp:
            os.environ["KIOSK_DATA_DIR"] = str(Path(tmp) / "files")
            csv_path = data.write_csv(Path(tmp) / "targets.csv", data.make_targets(N, seed=9))
            results.append(run("SQLite", str(Path(tmp) / "bench.sqlite3"), csv_path))
            results.append(run("PostgreSQL", f"{pg_url}{sep}options=-csearch_path%3D{schema}",
                               csv_path))
    finally:
        raw.cursor().execute(f"DROP SCHEMA {schema} CASCADE")
        raw.close()
    print(f"{N:,} targets, same CSV and draw on both engines (load average before/after: "
          f"{load[0]:.2f}/{os.getloadavg()[0]:.2f}):")
    print(f"{'':32}" + "".join(f"{r['engine']:>14}" for r in results))
    print(f"{'import CSV (s)':32}" + "".join(f"{r['import']:>14.1f}" for r in results))
    print(f"{'  this process CPU (s)':32}" + "".join(f"{r['import_cpu']:>14.1f}" for r in results))
    print(f"{'draw, prepare -> sealed (s)':32}" + "".join(f"{r['draw']:>14.2f}" for r in results)
          + f"   median of {DRAWS} rounds")
    for n in range(DRAWS):
        print(f"{f'  round {n + 1} (s)':32}" + "".join(f"{r['draws'][n]:>14.2f}" for r in results))
    print(f"{'  this process CPU (s)':32}" + "".join(f"{r['draw_cpu']:>14.2f}" for r in results))
    print(f"{'  selected (median round)':32}" + "".join(f"{r['selected']:>14,}" for r in results))
    print(f"{'audit verify (s)':32}" + "".join(f"{r['verify']:>14.2f}" for r in results))
    if not results[-1]["trgm"]:
        print("PostgreSQL without its trigram name index (pg_trgm missing or in another schema)")
    for q, _ in QUERIES:
        cells = "".join(f"{r['search'][q][0]:>7.1f}/{r['search'][q][1]:<6.1f}" for r in results)
        print(f"{'search ' + q + ' (ms page/count)':36}" + cells)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
