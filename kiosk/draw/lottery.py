"""The draw protocol dsr-draw/1 (spec/draw-protocol.md) on plain data: digests, seed, picks."""
from __future__ import annotations

import gc
import hashlib
import json
import re
import struct
import unicodedata
from bisect import bisect_left, insort
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from functools import partial
from itertools import compress, islice, pairwise
from operator import add, eq, itemgetter

PROTOCOL = "dsr-draw/1"

_LINE_BREAK = re.compile(r"[\t\n\r]")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
# The spec's encodings of R(label, j), spelled once: j as 8 bytes big-endian, unsigned, and a
# digest read as a big-endian number. (Written inline, `j.to_bytes(8, "big")` could lose its
# "big" and stay the same number, because big-endian is also Python's default.)
_J8 = struct.Struct(">Q").pack
_BIG_INT = partial(int.from_bytes, byteorder="big")


class DrawError(Exception):
    """The draw cannot be (re)computed: an infeasible team or an invalid amendment."""


class MalformedRecord(Exception):
    """The inputs are not a well-formed draw (wrong type, duplicate id, unknown stratum...)."""


# --- encodings -------------------------------------------------------------------------

def canon(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()  # pragma: no mutate (None: falsy, the same)


def sha_hex(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def listing(rows: Iterable[Sequence[str]]) -> bytes:
    """Rows as TAB-separated lines, sorted by field tuple, each ending in a newline."""
    if not isinstance(rows, list):
        rows = list(rows)
    if not rows:
        return b""
    try:
        # Unique first fields (a pool's ids) make tuple order the first field's order,
        # and a key sort on short ASCII ids is far cheaper than comparing tuples.
        ordered = sorted(rows, key=itemgetter(0))
        firsts = list(map(itemgetter(0), ordered))
        # No mutate: a wrong "not unique" only takes the slower tuple sort below, same bytes.
        unique = not any(map(eq, firsts, islice(firsts, 1, None)))  # pragma: no mutate
    except IndexError:  # an empty row: the tuple sort below orders it first
        unique = False  # pragma: no mutate (None: falsy, the same)
    if not unique:
        ordered = sorted(map(tuple, rows))
    lines = list(map("\t".join, ordered))
    lines.append("")
    return "\n".join(lines).encode()


def pool_listing(pool: Iterable[Sequence[str]]) -> bytes:
    return listing(pool)


def inspectors_listing(inspectors: Iterable[str]) -> bytes:
    return listing([[i] for i in inspectors])


def conflicts_listing(conflicts: Iterable[Sequence[str]]) -> bytes:
    return listing(conflicts)


def digests(pool, inspectors, conflicts) -> dict[str, str]:
    return {"pool": sha_hex(pool_listing(pool)),
            "inspectors": sha_hex(inspectors_listing(inspectors)),
            "conflicts": sha_hex(conflicts_listing(conflicts))}


def quota(n: int, ratio_bp: int) -> int:
    if n == 0:
        return 0
    return min(n, max(1, -(-n * ratio_bp // 10000)))


def normalise_entropy(s: str) -> str:
    return unicodedata.normalize("NFC", s).strip()


# --- entropy and seed ------------------------------------------------------------------

def commitment(system_entropy_hex: str) -> str:
    return sha_hex(bytes.fromhex(system_entropy_hex))


def seed_material(pool_digest: str, inspectors_digest: str, conflicts_digest: str,
                  strata: dict, team_size: int, system_entropy_hex: str,
                  witness_entropy: Sequence[str], beacon: str | None,
                  joint: dict | None = None) -> bytes:
    """The canonical bytes whose SHA-256 is the seed (shown so a witness can check them).

    A joint draw (Art. 11) binds its department mapping into the seed, so that a record whose
    mapping was changed after the fact no longer recomputes; a plain draw's bytes are exactly
    dsr-draw/1's."""
    material = {
        "protocol": PROTOCOL,
        "pool": pool_digest, "inspectors": inspectors_digest, "conflicts": conflicts_digest,
        "strata": {s: {"ratio_bp": v["ratio_bp"]} for s, v in strata.items()},
        "team_size": team_size,
        "system_entropy": bytes.fromhex(system_entropy_hex).hex(),
        "witness_entropy": [normalise_entropy(w) for w in witness_entropy],
        "beacon": beacon,
    }
    if joint is not None:
        material["joint"] = joint
    return canon(material)


def compute_seed(pool_digest: str, inspectors_digest: str, conflicts_digest: str,
                 strata: dict, team_size: int, system_entropy_hex: str,
                 witness_entropy: Sequence[str], beacon: str | None,
                 joint: dict | None = None) -> str:
    return sha_hex(seed_material(pool_digest, inspectors_digest, conflicts_digest, strata,
                                 team_size, system_entropy_hex, witness_entropy, beacon, joint))


# --- random stream ---------------------------------------------------------------------

def _seed_bytes(seed: str | bytes) -> bytes:
    return seed if isinstance(seed, (bytes, bytearray)) else bytes.fromhex(seed)


def R(seed_bytes: bytes, label: str, j: int) -> int:
    """R(label, j) of the spec, written out plainly (the sampler below computes the same with
    the seed's hash state reused). Big-endian both ways, spelled so that no argument could be
    dropped and leave the same number."""
    data = _seed_bytes(seed_bytes) + label.encode() + b"\x00" + _J8(j)
    return int(hashlib.sha256(data).hexdigest(), 16)


class _Stream:
    """R(label, j) with the seed's hash state computed once (hashlib's copy())."""

    def __init__(self, seed: str | bytes):
        self._base = hashlib.sha256(_seed_bytes(seed))

    def sample(self, items: Sequence, k: int, label: str) -> list:
        n = len(items)
        if not 0 <= k <= n:
            raise ValueError(f"cannot sample {k} of {n}")
        if k == 0:
            return []
        h = self._base.copy()
        h.update(label.encode() + b"\x00")
        # Both branches below are the same partial Fisher-Yates (same picks, same order); the
        # test only chooses the cheaper one, so no mutant of it can change a draw.
        if k * 4 < n and n > 64:  # pragma: no mutate
            # A few picks from a long list: record only the swapped positions.
            moved: dict[int, object] = {}
            out = []
            for j in range(k):
                hj = h.copy()
                hj.update(_J8(j))
                i = j + _BIG_INT(hj.digest()) % (n - j)
                aj = moved.get(j, items[j])
                ai = moved.get(i, items[i])
                moved[i] = aj
                out.append(ai)
            return out
        a = list(items)
        for j in range(k):
            hj = h.copy()
            hj.update(_J8(j))
            i = j + _BIG_INT(hj.digest()) % (n - j)
            a[j], a[i] = a[i], a[j]
        return a[:k]


def sample(items: Sequence, k: int, label: str, seed: str | bytes) -> list:
    """Partial Fisher-Yates: the first k of items shuffled by R(label, j)."""
    return _Stream(seed).sample(items, k, label)


# --- targets ---------------------------------------------------------------------------

def quotas(pool, strata: dict) -> dict[str, tuple[int, int]]:
    """{stratum: (pool count, quota)} for every stratum named in strata, in sorted order."""
    counts: dict[str, int] = {}
    for _, s in pool:
        counts[s] = counts.get(s, 0) + 1
    return {s: (counts.get(s, 0), quota(counts.get(s, 0), strata[s]["ratio_bp"]))
            for s in sorted(strata)}


def select_from(by: dict[str, list[str]], strata: dict, seed: str | bytes) -> list[str]:
    """Targets from ids already grouped by stratum and sorted (see pool_index)."""
    stream = seed if isinstance(seed, _Stream) else _Stream(seed)
    selected: list[str] = []
    for s in sorted(strata):
        ids = by.get(s, [])
        selected.extend(stream.sample(ids, quota(len(ids), strata[s]["ratio_bp"]), "target:" + s))
    return selected


def select_targets(pool, strata: dict, seed: str | bytes) -> list[str]:
    by = _group(*_sorted_columns(pool))
    unknown = sorted(set(by) - set(strata))
    if unknown:
        raise MalformedRecord(f"检查对象名录中的层级“{unknown[0]}”不在分层设置中。")
    return select_from(by, strata, seed)


# --- teams -----------------------------------------------------------------------------

def _conflict_map(conflicts: Iterable[Sequence[str]]) -> dict[str, set[str]]:
    by: dict[str, set[str]] = {}
    for inspector, uscc in conflicts:
        s = by.get(uscc)
        if s is None:
            by[uscc] = s = set()
        s.add(inspector)
    return by


def feasibility(pool, inspectors: Iterable[str], conflicts, team_size: int) -> list[str]:
    """Pool ids (sorted) left with fewer than team_size inspectors once conflicts recuse."""
    staff = set(inspectors)
    by = _conflict_map(conflicts)
    if len(staff) < team_size:
        return sorted(u for u, _ in pool)
    short = []
    for uscc, recused in by.items():
        if len(staff) - len(recused & staff) < team_size:
            short.append(uscc)
    if not short:
        return []
    in_pool = {u for u, _ in pool}
    return sorted(u for u in short if u in in_pool)


class Matching:
    """Recusal-aware, load-balanced team matching, amendable one recusal at a time.

    Inspectors are kept in buckets by load, each bucket sorted, so a team is drawn
    from the lowest buckets without scanning every inspector for every target.
    """

    def __init__(self, selected: Sequence[str], inspectors: Iterable[str], conflicts,
                 team_size: int, seed: str | bytes):
        self.selected = list(selected)
        self.team_size = team_size
        staff = sorted(set(inspectors))
        self.staff = set(staff)
        self.conflicts = _conflict_map(conflicts)
        self.loads: dict[str, int] = dict.fromkeys(staff, 0)
        # With no staff nothing is ever picked or moved (initial() refuses every target
        # first), so an empty level 0 would change nothing: no mutant here can be seen.
        self._buckets: dict[int, list[str]] = {0: staff} if staff else {}  # pragma: no mutate
        self._levels: list[int] = [0] if staff else []  # pragma: no mutate
        self.teams: dict[str, list[str]] = {}
        self.replacements: list[str] = []
        self._stream = _Stream(seed)

    # load buckets
    def _move(self, inspector: str, delta: int) -> None:
        v = self.loads[inspector]
        b = self._buckets[v]
        del b[bisect_left(b, inspector)]
        if not b:
            del self._buckets[v]
            del self._levels[bisect_left(self._levels, v)]
        v += delta
        self.loads[inspector] = v
        b = self._buckets.get(v)
        if b is None:
            self._buckets[v] = [inspector]
            insort(self._levels, v)
        else:
            insort(b, inspector)

    def _pick(self, count: int, label: str, exclude: set[str]) -> list[str]:
        team: list[str] = []
        for v in self._levels:
            tier = self._buckets[v]
            if exclude:
                tier = [i for i in tier if i not in exclude]
                if not tier:
                    continue
            short = count - len(team)
            team.extend(self._stream.sample(tier, min(short, len(tier)), label + ":" + str(v)))
            if len(team) == count:
                break
        return team

    def initial(self) -> list[list]:
        """Match every selected target in order; the teams as [[uscc, [ids]], ...]."""
        if self.teams:
            raise RuntimeError("initial matching already done")
        m = self.team_size
        n_staff = len(self.staff)
        for t in self.selected:
            recused = self.conflicts.get(t)
            exclude = recused & self.staff if recused else set()
            if n_staff - len(exclude) < m:
                raise DrawError(f"检查对象 {t} 回避后可选执法人员只有 {n_staff - len(exclude)} 名，"
                                f"少于每组 {m} 名，无法组成检查组。")
            team = self._team(t, exclude)
            for i in team:
                self._move(i, 1)
            self.teams[t] = team
        return self.result()

    def _team(self, t: str, exclude: set[str]) -> list[str]:
        """Target t's team, drawn among the staff outside exclude (label "team:" + t)."""
        return self._pick(self.team_size, "team:" + t, exclude)

    def amend(self, target: str, inspector: str) -> str:
        """An inspector recuses on the spot; returns the replacement drawn by the protocol.
        (The reason is on the record for people; the protocol does not use it.)"""
        n = len(self.replacements)
        team = self.teams.get(target)
        if team is None:
            raise DrawError(f"第{n + 1}项回避申报无效：{target} 不是本次抽中的检查对象。")
        if inspector not in team:
            raise DrawError(f"第{n + 1}项回避申报无效：执法证号 {inspector} "
                            f"不在检查对象 {target} 的检查组中。")
        self.conflicts.setdefault(target, set()).add(inspector)
        team.remove(inspector)
        self._move(inspector, -1)
        exclude = (self.conflicts[target] & self.staff) | set(team)
        if len(self.staff) - len(exclude) < 1:
            # Put the state back so an interactive caller can carry on unchanged.
            self.conflicts[target].discard(inspector)
            team.append(inspector)
            self._move(inspector, 1)
            raise DrawError(f"第{n + 1}项回避申报无法执行："
                            f"检查对象 {target} 已没有可替换的执法人员。")
        # The first of two picks is the one pick (a Fisher-Yates prefix): count is not mutated.
        new = self._pick(1, "replace:" + str(n) + ":" + target, exclude)[0]  # pragma: no mutate
        self._move(new, 1)
        team.append(new)
        self.replacements.append(new)
        return new

    def result(self) -> list[list]:
        return [[t, list(self.teams[t])] for t in self.selected]


def match_teams(selected, inspectors, conflicts, team_size: int, seed: str | bytes,
                amendments: Sequence[dict] = (), joint: dict | None = None
                ) -> tuple[list[list], dict[str, int]]:
    from kiosk.draw.joint import matching_for  # joint tasks (Art. 11) live beside

    m = matching_for(selected, inspectors, conflicts, team_size, seed, joint)
    m.initial()
    for a in amendments:
        m.amend(a["target"], a["inspector"])
    return m.result(), dict(m.loads)


def apply_amendments(matching: Matching, amendments: Sequence[dict]) -> list[str]:
    return [matching.amend(a["target"], a["inspector"]) for a in amendments]


# --- validation and the whole draw ------------------------------------------------------

INPUT_FIELDS = ("pool", "inspectors", "conflicts", "strata", "team_size", "system_entropy",
                "witness_entropy", "beacon", "amendments")


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _rows(value, width: int, name: str, fields: bool = True) -> None:
    if not isinstance(value, list):
        raise MalformedRecord(f"字段“{name}”应为列表。")
    # Set-of-types checks run in C, so a million-row pool costs little; the fields of
    # the pool are checked on the sorted columns instead (fields=False). This is only a fast
    # path: the loop below gives the same verdict row by row, so a mutant that makes it
    # fail more often changes nothing (pragma); one that lets a bad row through is tested.
    if (set(map(type, value)) <= {list, tuple}  # pragma: no mutate
            and set(map(len, value)) <= {width}  # pragma: no mutate
            and (not fields
                 or all(set(map(type, map(itemgetter(c), value))) <= {str}  # pragma: no mutate
                        for c in range(width)))):
        return
    for k, row in enumerate(value, 1):
        if not (isinstance(row, (list, tuple)) and len(row) == width
                and all(isinstance(f, str) for f in row)):
            raise MalformedRecord(f"字段“{name}”第{k}项格式不正确，应为 {width} 个文字字段。")


def _no_breaks(strings: list[str], name: str) -> None:
    if not _LINE_BREAK.search("".join(strings)):  # pragma: no mutate (any joiner: no break)
        return
    for s in strings:
        if _LINE_BREAK.search(s):
            raise MalformedRecord(f"字段“{name}”中的“{s.strip()[:40]}”含有制表符或换行。")


def validate(inp: dict) -> None:
    """Raise MalformedRecord unless inp holds well-formed protocol inputs."""
    _validate(inp)


def _validate(inp: dict) -> tuple[list[str], list[str]]:
    """validate(), returning the pool's ids sorted and their strata (the one sort of a draw)."""
    if not isinstance(inp, dict):
        raise MalformedRecord("记录应为一个 JSON 对象。")
    for f in INPUT_FIELDS:
        if f not in inp:
            raise MalformedRecord(f"缺少字段“{f}”。")
    if "protocol" in inp and inp["protocol"] != PROTOCOL:
        raise MalformedRecord(f"不支持的协议“{inp['protocol']}”，应为 {PROTOCOL}。")
    # fields=False skips a check the sorted columns repeat below with the same sentence
    # (naming the same row), so fields=True or None there is the same verdict: no mutate.
    _rows(inp["pool"], 2, "pool", fields=False)  # pragma: no mutate
    inspectors = inp["inspectors"]
    if not isinstance(inspectors, list) or not all(isinstance(i, str) for i in inspectors):
        raise MalformedRecord("字段“inspectors”应为执法证号（文字）的列表。")
    _rows(inp["conflicts"], 2, "conflicts")
    strata = inp["strata"]
    if not isinstance(strata, dict):
        raise MalformedRecord("字段“strata”应为对象。")
    for s, v in strata.items():
        if not (isinstance(v, dict) and _is_int(v.get("ratio_bp"))):
            raise MalformedRecord(f"层级“{s}”缺少整数比例 ratio_bp。")
        if not 0 <= v["ratio_bp"] <= 10000:
            raise MalformedRecord(f"层级“{s}”的比例 {v['ratio_bp']} 超出 0–10000 个基点。")
    if not _is_int(inp["team_size"]):
        raise MalformedRecord("字段“team_size”应为整数。")
    if inp["team_size"] < 2:
        raise MalformedRecord(f"每组执法人员数 team_size 为 {inp['team_size']}，不能少于 2。")
    se = inp["system_entropy"]
    if not (isinstance(se, str) and _HEX64.fullmatch(se)):
        raise MalformedRecord("系统随机数 system_entropy 应为 64 位十六进制数字。")
    we = inp["witness_entropy"]
    if not isinstance(we, list) or not all(isinstance(w, str) for w in we):
        raise MalformedRecord("字段“witness_entropy”应为文字列表。")
    if inp["beacon"] is not None and not isinstance(inp["beacon"], str):
        raise MalformedRecord("字段“beacon”应为文字或 null。")
    am = inp["amendments"]
    if not isinstance(am, list):
        raise MalformedRecord("字段“amendments”应为列表。")
    for k, a in enumerate(am, 1):
        if not (isinstance(a, dict) and all(isinstance(a.get(f), str)
                                           for f in ("target", "inspector", "reason"))):
            raise MalformedRecord(f"第{k}项回避申报应含文字字段 target、inspector、reason。")

    try:
        ids, col = _sorted_columns(inp["pool"])
        # TypeError unless every id is a string; joined only to be searched and encoded, so
        # any other joiner without a line break would do (pragma).
        joined = "".join(ids)  # pragma: no mutate
        names = set(col)
        if not all(isinstance(n, str) for n in names):
            raise TypeError
    except TypeError:
        _rows(inp["pool"], 2, "pool")  # names the offending row
        raise
    if any(map(eq, ids, islice(ids, 1, None))):
        dup = next(a for a, b in pairwise(ids) if a == b)
        raise MalformedRecord(f"检查对象名录中统一社会信用代码 {dup} 重复出现。")
    if len(set(inp["inspectors"])) != len(inp["inspectors"]):
        seen: set[str] = set()
        dup = next(i for i in inp["inspectors"] if i in seen or seen.add(i))
        raise MalformedRecord(f"执法人员名录中执法证号 {dup} 重复出现。")
    unknown = names - set(strata)
    if unknown:
        raise MalformedRecord(f"检查对象名录中的层级“{min(unknown)}”不在分层设置中。")
    if _LINE_BREAK.search(joined):  # one scan over a long pool, then find the culprit
        _no_breaks(ids, "pool")
    # Only encoded, to find a lone surrogate: the "" below could be any encodable text.
    small = [*strata, *inp["inspectors"], *(f for row in inp["conflicts"] for f in row), *we,
             inp["beacon"] or "",  # pragma: no mutate
             *(a[f] for a in am for f in ("target", "inspector", "reason"))]
    try:
        joined.encode()
        "".join(small).encode()  # pragma: no mutate
    except UnicodeEncodeError:
        raise MalformedRecord("记录中含有无法以 UTF-8 表示的字符（孤立的代理码位）。") from None
    _no_breaks([s for s in strata], "strata")
    _no_breaks(inp["inspectors"], "inspectors")
    _no_breaks([f for row in inp["conflicts"] for f in row], "conflicts")
    _no_breaks(we, "witness_entropy")
    if inp["beacon"] is not None:
        _no_breaks([inp["beacon"]], "beacon")
    _no_breaks([a[f] for a in am for f in ("target", "inspector", "reason")], "amendments")
    return ids, col


def _sorted_columns(pool) -> tuple[list[str], list[str]]:
    """Ids sorted, and their strata alongside: with unique ids, the listing's tuple order.

    Ids are usually ASCII, which list.sort compares with memcmp.
    """
    rows = sorted(pool, key=itemgetter(0))
    return list(map(itemgetter(0), rows)), list(map(itemgetter(1), rows))


def _group(ids: list[str], col: list[str]) -> dict[str, list[str]]:
    return {s: list(compress(ids, map(s.__eq__, col))) for s in set(col)}


def _pool_data(ids: list[str], col: list[str]) -> bytes:
    tail = {s: "\t" + s + "\n" for s in set(col)}
    return "".join(map(add, ids, map(tail.__getitem__, col))).encode()


def pool_index(pool) -> tuple[bytes, dict[str, list[str]]]:
    """The pool listing and the sorted ids per stratum from one sort (ids must be unique)."""
    ids, col = _sorted_columns(pool)
    return _pool_data(ids, col), _group(ids, col)


@contextmanager
def gc_paused():
    """A million live pool rows make every cyclic-GC pass slow, and a draw makes no cycles."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def prepare(inputs: dict) -> tuple[dict[str, str], dict[str, list[str]], str]:
    """Validated inputs' digests, sorted ids per stratum and seed, sorting the pool once."""
    with gc_paused():
        ids, col = _validate(inputs)
        dg = {"pool": sha_hex(_pool_data(ids, col)),
              "inspectors": sha_hex(inspectors_listing(inputs["inspectors"])),
              "conflicts": sha_hex(conflicts_listing(inputs["conflicts"]))}
        seed = compute_seed(dg["pool"], dg["inspectors"], dg["conflicts"], inputs["strata"],
                            inputs["team_size"], inputs["system_entropy"],
                            inputs["witness_entropy"], inputs["beacon"], inputs.get("joint"))
        return dg, _group(ids, col), seed


def run(inputs: dict) -> dict:
    """The whole draw from its published inputs: digests, commitment, seed, selection, teams."""
    with gc_paused():
        dg, by, seed = prepare(inputs)
        selected = select_from(by, inputs["strata"], seed)
        from kiosk.draw.joint import matching_for

        m = matching_for(selected, inputs["inspectors"], inputs["conflicts"],
                         inputs["team_size"], seed, inputs.get("joint"))
        m.initial()
        apply_amendments(m, inputs["amendments"])
        return {"protocol": PROTOCOL, "digests": dg,
                "commitment": commitment(inputs["system_entropy"]), "seed": seed,
                "selected": selected, "teams": m.result(), "replacements": list(m.replacements),
                "loads": dict(m.loads)}
