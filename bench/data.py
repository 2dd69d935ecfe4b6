"""Deterministic synthetic registry data for Shangshui County (411623), for the benchmarks."""
from __future__ import annotations

import bisect
import csv
import random
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kiosk import uscc  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
REGION = "411623"

CATEGORIES = [  # (category, weight)
    ("用人单位-制造业", 22), ("用人单位-建筑业", 14), ("用人单位-餐饮住宿业", 14),
    ("用人单位-批发零售业", 20), ("用人单位-交通运输业", 6), ("用人单位-居民服务业", 8),
    ("用人单位-农林牧渔业", 6), ("劳务派遣单位", 3), ("人力资源服务机构", 3),
    ("职业技能培训机构", 4),
]
TOWNSHIPS = [
    "新城街道", "老城街道", "东城街道", "黄寨镇", "练集镇", "魏集镇", "固墙镇", "白寺镇", "巴村镇",
    "谭庄镇", "邓城镇", "胡吉镇", "城关乡", "平店乡", "袁老乡", "化河乡", "姚集乡", "舒庄乡",
    "大武乡", "张明乡", "郝岗乡", "张庄乡", "汤庄乡",
]
SIZES = [("大型", 2), ("中型", 8), ("小型", 45), ("微型", 45)]
RISKS = [("高", 3), ("较高", 9), ("中", 28), ("低", 60)]

_PREFIX = ["商水", "周口", "豫东", "沙颍", "中原", "汾河", "阳城", "颍川", "淮阳", "河南"]
_WORDS = list("鑫源华盛泰和隆兴达丰瑞祥安宏远福康通利发恒昌永佳益诚信德顺金博广新宇天辰润邦建"
              "明鸿锦茂荣嘉耀诺晟凯亿众腾雅")
_TRADE = {
    "用人单位-制造业": ["纺织", "服装", "食品", "机械", "电子", "塑料制品", "木业", "建材", "面业",
                        "化工"],
    "用人单位-建筑业": ["建筑工程", "建设", "路桥工程", "装饰工程", "市政工程", "水利工程"],
    "用人单位-餐饮住宿业": ["餐饮", "酒店", "宾馆", "饭店", "农家乐"],
    "用人单位-批发零售业": ["商贸", "超市", "百货", "农资", "医药", "五金", "汽车销售"],
    "用人单位-交通运输业": ["物流", "运输", "快递", "客运"],
    "用人单位-居民服务业": ["家政服务", "物业服务", "保洁服务", "洗浴"],
    "用人单位-农林牧渔业": ["农业开发", "养殖", "种植专业", "林业"],
    "劳务派遣单位": ["劳务派遣", "人力资源派遣"],
    "人力资源服务机构": ["人力资源服务", "职业介绍", "人才服务"],
    "职业技能培训机构": ["职业技能培训学校", "职业培训学校", "技能培训中心"],
}
_FORMS = ["有限公司", "有限责任公司", "股份有限公司", "厂", "店", "中心"]
_ROADS = ["章华大道", "阳城大道", "周商路", "富民路", "新华路", "健康路", "工业路", "淮河路",
          "兴业路", "颍河路"]

# 31**8 bodies; multiplying by a unit mod 31**8 is a bijection, so every i gets its own code.
_SPACE = 31 ** 8
_MUL = 1_000_000_007  # not a multiple of 31


_CUM: dict[int, tuple[list, list]] = {}


def _weighted(rng: random.Random, table):
    if id(table) not in _CUM:
        values, cum, total = [], [], 0
        for v, w in table:
            total += w
            values.append(v)
            cum.append(total)
        _CUM[id(table)] = (values, cum)
    values, cum = _CUM[id(table)]
    return values[bisect.bisect(cum, rng.random() * cum[-1])]


def uscc_for(i: int) -> str:
    """The i-th synthetic enterprise code of region 411623 (unique for i < 31**8)."""
    n = (i * _MUL + 12345) % _SPACE
    chars = []
    for _ in range(8):
        n, r = divmod(n, 31)
        chars.append(uscc.ALPHABET[r])
    return uscc.make(REGION, "".join(chars), authority="9", kind="1")


def make_targets(n: int, seed: int = 411623) -> Iterator[dict]:
    """n target dicts (fields of db.models.Target), the same for the same seed."""
    rng = random.Random(seed)
    for i in range(n):
        cat = _weighted(rng, CATEGORIES)
        trade = rng.choice(_TRADE[cat])
        form = "有限公司" if cat in ("劳务派遣单位", "人力资源服务机构") else rng.choice(_FORMS)
        if trade.endswith(("学校", "中心")):
            form = ""
        brand = "".join(rng.sample(_WORDS, 2))
        name = f"{rng.choice(_PREFIX)}{'县' if rng.random() < .4 else ''}{brand}{trade}{form}"
        township = rng.choice(TOWNSHIPS)
        risk = _weighted(rng, RISKS)
        complaints = min(int(rng.expovariate(1.5)), 12)
        yield {
            "uscc": uscc_for(i),
            "name": name,
            "category": cat,
            "township": township,
            "address": f"商水县{township}{rng.choice(_ROADS)}{rng.randint(1, 399)}号",
            "size_class": _weighted(rng, SIZES),
            "credit_risk": risk,
            "complaint_count": complaints,
            "serious_violation": rng.random() < (0.08 if risk == "高" else 0.01),
            "active": rng.random() > 0.02,
        }


HEADERS = ["统一社会信用代码", "单位名称", "类别", "乡镇", "地址", "规模", "信用风险等级",
           "投诉举报次数", "严重违法记录", "状态"]


def _cells(t: dict) -> list:
    return [t["uscc"], t["name"], t["category"], t["township"], t["address"], t["size_class"],
            t["credit_risk"], t["complaint_count"], "是" if t["serious_violation"] else "否",
            "正常" if t["active"] else "停用"]


def write_csv(path, targets, encoding: str = "utf-8-sig") -> Path:
    """Targets as an importable CSV (the registry's Chinese headers)."""
    path = Path(path)
    with open(path, "w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADERS)
        w.writerows(_cells(t) for t in targets)
    return path


def write_xlsx(path, targets) -> Path:
    """Targets as an importable XLSX."""
    import openpyxl

    path = Path(path)
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("检查对象名录")
    ws.append(HEADERS)
    for t in targets:
        ws.append(_cells(t))
    wb.save(path)
    return path


_COLS = ["uscc", "name", "category", "township", "address", "size_class", "credit_risk",
         "complaint_count", "serious_violation", "active", "updated_at"]


def fill_store(db_path, n_targets: int, seed: int = 411623, batch: int = 50_000) -> Path:
    """A migrated SQLite store at db_path holding n_targets synthetic targets, bulk-loaded with
    plain executemany (no audit events: this is test data, not a clerk's import)."""
    from db import connect

    db_path = Path(db_path)
    conn = connect(db_path)
    conn.close()
    raw = sqlite3.connect(db_path)
    raw.execute("PRAGMA synchronous=OFF")
    sql = f"INSERT INTO target ({', '.join(_COLS)}) VALUES ({', '.join('?' * len(_COLS))})"
    stamp = "2026-01-01 00:00:00"
    rows = []
    with raw:
        for t in make_targets(n_targets, seed):
            rows.append((t["uscc"], t["name"], t["category"], t["township"], t["address"],
                         t["size_class"], t["credit_risk"], t["complaint_count"],
                         int(t["serious_violation"]), int(t["active"]), stamp))
            if len(rows) >= batch:
                raw.executemany(sql, rows)
                rows.clear()
        if rows:
            raw.executemany(sql, rows)
    raw.execute("ANALYZE")
    raw.close()
    return db_path


def cached_store(n_targets: int, seed: int = 411623) -> Path:
    """bench/out/targets-<n>.sqlite3, built once; copy it before writing to it."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"targets-{n_targets}-{seed}.sqlite3"
    if not path.exists():
        tmp = path.with_suffix(".building")
        for p in (tmp, Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
            p.unlink(missing_ok=True)
        fill_store(tmp, n_targets, seed)
        tmp.replace(path)
    return path


def copy_store(src, dst) -> Path:
    """A private copy of a cached store (the WAL is checkpointed into the main file first)."""
    raw = sqlite3.connect(src)
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.close()
    shutil.copyfile(src, dst)
    return Path(dst)


def median_ms(fn, repeat: int = 5) -> float:
    """fn's median time in ms over `repeat` calls, after one call that warms the page cache."""
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)
