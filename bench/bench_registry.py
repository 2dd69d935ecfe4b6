"""Registry figures: 100k-target CSV and XLSX imports, and search / page-down at 1,000,000
targets."""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import data  # noqa: E402
from db import connect  # noqa: E402
from kiosk import registry  # noqa: E402
from kiosk.registry import tabular  # noqa: E402

N_IMPORT = 100_000
N_STORE = 1_000_000


def _fresh_store(tmp: Path, name: str):
    path = tmp / name
    return connect(path)


def _timed(fn):
    """(result, wall seconds, CPU seconds): the CPU figure stays comparable on a busy machine."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def bench_imports(tmp: Path) -> None:
    targets = list(data.make_targets(N_IMPORT, seed=7))
    csv_path = data.write_csv(tmp / "targets-100k.csv", targets)
    gb_path = data.write_csv(tmp / "targets-100k-gb18030.csv", targets, encoding="gb18030")
    xlsx_path = data.write_xlsx(tmp / "targets-100k.xlsx", targets)

    db = _fresh_store(tmp, "csv.sqlite3")
    res, wall, cpu = _timed(lambda: registry.import_file("targets", csv_path, "bench"))
    print(f"import 100k CSV (UTF-8, validated, into an empty store): {wall:.1f} s"
          f" (CPU {cpu:.1f} s)  ({res.inserted} inserted)")
    res, wall, cpu = _timed(lambda: registry.import_file("targets", gb_path, "bench"))
    print(f"re-import 100k CSV (GB18030, all updates): {wall:.1f} s (CPU {cpu:.1f} s)"
          f"  ({res.updated} updated)")
    _, wall, cpu = _timed(lambda: registry.export_file("targets", tmp / "export.csv", "bench"))
    print(f"export 100k CSV: {wall:.1f} s (CPU {cpu:.1f} s)")
    db.close()

    db = _fresh_store(tmp, "xlsx.sqlite3")
    res, wall, cpu = _timed(lambda: registry.import_file("targets", xlsx_path, "bench"))
    print(f"import 100k XLSX (python-calamine after the hostile-file checks, validated, into an "
          f"empty store): {wall:.1f} s (CPU {cpu:.1f} s)  ({res.inserted} inserted)")
    db.close()
    # Where the XLSX import's time goes: the sheet's checks, then calamine's read.
    _, wall, cpu = _timed(lambda: list(tabular.read_rows(xlsx_path)))
    _, cwall, ccpu = _timed(lambda: tabular._calamine_rows(xlsx_path, xlsx_path.name))
    print(f"  of which reading it: {wall:.1f} s (CPU {cpu:.1f} s), calamine alone "
          f"{cwall:.1f} s (CPU {ccpu:.1f} s)")


def bench_search() -> None:
    t = time.perf_counter()
    store = data.cached_store(N_STORE)
    built = time.perf_counter() - t
    if built > 1:
        print(f"built the 1M-target store: {built:.0f} s ({store})")
    db = connect(store)
    some = data.uscc_for(123_456)
    queries = [
        ("empty query, page 1", "", 0),
        ("empty query, page 5000", "", 4999 * 20),
        ("2-char name, common (建筑)", "建筑", 0),
        ("2-char name, page 50 (建筑)", "建筑", 49 * 20),
        ("2-char name, rare (鑫瑞)", "鑫瑞", 0),
        ("2-char name, absent (测试)", "测试", 0),
        ("3-char name (建筑工)", "建筑工", 0),
        ("4-char name, common (有限公司)", "有限公司", 0),
        ("4-char name, page 500 (有限公司)", "有限公司", 499 * 20),
        ("4-char name, rare (鑫瑞建筑)", "鑫瑞建筑", 0),
        ("4-char name, absent (测试名称)", "测试名称", 0),
        ("two words (商水县 物流)", "商水县 物流", 0),
        ("USCC prefix 10 chars", some[:10], 0),
        ("USCC prefix 14 chars", some[:14], 0),
        ("whole USCC", some, 0),
        ("category (劳务派遣单位)", "劳务派遣单位", 0),
        ("category, page 100 (用人单位-制造业)", "用人单位-制造业", 99 * 20),
        ("township (黄寨镇)", "黄寨镇", 0),
    ]
    print(f"search at {registry.count('targets'):,} targets"
          " (page of 20 / capped count, median of 5):")
    for label, text, offset in queries:
        page = data.median_ms(
            lambda t=text, o=offset: registry.search("targets", t, offset=o, limit=20))
        cnt = data.median_ms(lambda t=text: registry.count_capped("targets", t))
        n, capped = registry.count_capped("targets", text)
        shown = f"{n}+" if capped else str(n)
        print(f"  {label}: page {page:.1f} ms, count {cnt:.1f} ms  ({shown} matches)")
    page_down = data.median_ms(lambda: [registry.search("targets", "", offset=o, limit=20)
                             for o in range(2000, 2200, 20)], repeat=3) / 10
    print(f"  page-down, empty query (10 consecutive pages): {page_down:.1f} ms per page")
    db.close()


def main() -> None:
    with tempfile.TemporaryDirectory(dir=data.OUT if data.OUT.exists() else None) as d:
        bench_imports(Path(d))
    bench_search()


if __name__ == "__main__":
    data.OUT.mkdir(parents=True, exist_ok=True)
    main()
