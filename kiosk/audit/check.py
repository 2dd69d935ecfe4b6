"""`kiosk audit verify`: walk the chain, check the anchors, re-hash the rows and files it covers.

One sentence names the first thing that does not hold. The order of the checks is the order
in which a finding is most useful: a broken chain first (nothing after it can be trusted),
then the heads it must still hold (a published one, this terminal's own), then the rows the
chain covers, then the evidence files and archived PDFs.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from db.connection import data_dir_for, database
from db.models import AuditEvent, Evidence
from kiosk.audit import anchor, cover
from kiosk.audit.chain import GENESIS, at_text, entry_hash
from kiosk.ops.files import sha256_file

Progress = Callable[[int, int], None]


@dataclass
class Verdict:
    ok: bool
    message: str
    events: int = 0
    head: tuple[int, str] = (0, GENESIS)

    def __iter__(self):  # `ok, message = verify()` as before
        return iter((self.ok, self.message))

    def __getitem__(self, i):  # `verify()[0]` as before
        return (self.ok, self.message)[i]


class _Broken(Exception):
    pass


def _walk(heads: dict[int, list[tuple[str, str]]], progress: Progress | None, total: int):
    """The chain in order; returns (count, head, last cover of each subject, archive files)."""
    prev, expected, count = GENESIS, 1, 0
    covered: dict[str, tuple[int, dict]] = {}
    # Events written before the chain covered rows (stores older than schema v5): a subject
    # they name counts as recorded. Only those before the first covering event count, so no
    # later event (say, a failed log-in as a name not yet in the store) can vouch for a row.
    legacy: set[str] = set()
    archives: dict[str, tuple[int, str]] = {}
    q = (AuditEvent.select(AuditEvent.seq, AuditEvent.at, AuditEvent.actor, AuditEvent.action,
                           AuditEvent.entity, AuditEvent.entity_id, AuditEvent.detail,
                           AuditEvent.prev_hash, AuditEvent.hash, AuditEvent.covers)
         .order_by(AuditEvent.seq).tuples())
    step = max(1, total // 100)
    for seq, at, actor, action, entity, entity_id, detail, prev_hash, hash_, covers in (
            q.iterator()):
        if seq != expected:
            raise _Broken(f"审计日志第 {expected} 条缺失（下一条为第 {seq} 条）。")
        h = entry_hash(prev, seq, at_text(at), actor, action, entity, entity_id, detail,
                       covers or "")
        if prev_hash != prev or hash_ != h:
            raise _Broken(f"审计日志第 {seq} 条（{action}）被篡改：哈希不符。")
        for want, what in heads.get(seq, ()):
            if want != h:
                raise _Broken(f"审计日志第 {seq} 条与{what}不符：该处及之前的记录已被改写。")
        if covers:
            for k, parts in json.loads(covers).items():
                covered[k] = (seq, parts)
        elif not covered and entity in cover.COVERED:
            legacy.add(cover.key(entity, entity_id))
        if action == "report.archive":
            d = json.loads(detail)
            if d.get("sha256") and d.get("path"):
                archives[d["path"]] = (seq, d["sha256"])
        prev = h
        expected += 1
        count += 1
        if progress is not None and count % step == 0:
            progress(count, total)
    for seq, what in sorted((s, w) for s, hs in heads.items() for _, w in hs):
        if seq > count:
            raise _Broken(f"审计日志只有 {count} 条，短于{what}（第 {seq} 条）："
                          f"末尾的记录已被删除。")
    return count, (count, prev), covered, legacy, archives


def _sentence(label: str, rest: str) -> str:
    # "任务 2026-11-0003 的检查结论…": a space after a code, none after Chinese.
    return f"{label} {rest}" if label[-1:].isascii() else f"{label}{rest}"


def _check_rows(covered: dict[str, tuple[int, dict]], legacy: set[str]) -> None:
    for k, (seq, parts) in sorted(covered.items(), key=lambda kv: kv[1][0]):
        kind_name, ident = cover.split_key(k)
        kind = cover.COVERED.get(kind_name)
        if kind is None:
            continue  # a kind this version does not know (registered by a newer module)
        now = kind.hash(ident)
        label = kind.label(ident)
        if now is None:
            raise _Broken(_sentence(
                label, f"已不在库中或已被改回（第 {seq} 条审计记录记载了它）。"))
        for part, h in parts.items():
            if now.get(part) != h:
                what = kind.parts.get(part, part)
                raise _Broken(_sentence(label, f"的{what}与第 {seq} 条审计记录不符。"))
    for kind in cover.COVERED.values():
        if kind.every is None:
            continue
        for ident in kind.every():
            k = cover.key(kind.name, ident)
            if k not in covered and k not in legacy:
                raise _Broken(_sentence(kind.label(ident), "不在审计记录中：它未经终端写入。"))


def _sha256(path: Path) -> str | None:
    try:
        return sha256_file(path)
    except OSError:
        return None


def _check_files(archives: dict[str, tuple[int, str]]) -> int:
    # The same places kiosk.reports files them in: evidence by its stored path (relative to
    # the store's data dir), archived final reports under archive/ by task code.
    base = data_dir_for(database.obj)
    n = 0
    for e in Evidence.select():
        sha = _sha256(base / e.stored_path)  # an absolute stored path stays as it is
        if sha is None:
            raise _Broken(f"证据文件“{e.filename}”（报告 {e.report_id}）已丢失。")
        if sha != e.sha256:
            raise _Broken(f"证据文件“{e.filename}”（报告 {e.report_id}）已被替换：SHA-256 不符。")
        n += 1
    archive_dir = base / "archive"
    for name, (seq, want) in archives.items():  # in the order they were archived
        sha = _sha256(archive_dir / Path(name).name)
        if sha is None:
            raise _Broken(f"归档报告“{name}”已丢失（第 {seq} 条审计记录记载了它）。")
        if sha != want:
            raise _Broken(f"归档报告“{name}”已被替换：与第 {seq} 条审计记录的 SHA-256 不符。")
        n += 1
    return n


def verify(head: tuple[int, str] | None = None, *, progress: Progress | None = None,
           files: bool = True) -> Verdict:
    """The whole check; `head`: a published (seq, hash) the chain must still hold.

    The terminal's own anchor (see kiosk.audit.anchor) is checked whenever it exists."""
    anchor.flush()
    heads: dict[int, list[tuple[str, str]]] = {}
    if head is not None:
        heads.setdefault(head[0], []).append((head[1], "所给链头"))
    local = anchor.read()
    if local is not None:
        heads.setdefault(local[0], []).append((local[1], "本终端保存的链头"))
    total = AuditEvent.select().count()
    try:
        if head is not None and head[0] == 0 and head[1] != GENESIS:
            raise _Broken("所给链头第 0 条的哈希应为全零。")
        count, last, covered, legacy, archives = _walk(heads, progress, total)
        _check_rows(covered, legacy)
        n_files = _check_files(archives) if files else 0
    except _Broken as e:
        return Verdict(False, str(e))
    if progress is not None:
        progress(total, total)
    checked = f"，所涉 {len(covered)} 项记录" + (f"与 {n_files} 个文件" if n_files else "")
    return Verdict(True, f"审计日志完整：共 {count} 条{checked}均未改动；"
                         f"链头 {last[0]}:{last[1]}。", count, last)


def verify_for(user, head: tuple[int, str] | None = None, *,
               progress: Progress | None = None) -> Verdict:
    """`verify` as the leader or the auditor asks it (CLI and screen alike), logged."""
    from kiosk import access
    from kiosk.audit.chain import head_text, record

    access.require(user is not None and access.may_read_audit(user.role),
                   access.MAY_NOT_READ_AUDIT)
    verdict = verify(head, progress=progress)
    record(user.username, "audit.verify", "audit", ok=verdict.ok,
           head=head_text(head) if head else "", verdict=verdict.message)
    return verdict
