"""Evidence (Art. 9): photos, videos and scans copied into a content-addressed store with
their SHA-256, and checked against it later."""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from db.connection import data_dir_for, database
from db.models import Evidence, Report, User, now
from kiosk import audit
from kiosk.errors import UserError
from kiosk.ops.files import remove_stale, sha256_sized, writer_gone, writer_tag
from kiosk.reports.guards import require_editor
from kiosk.reports.task import ReportRef, actor_of, report_id
from kiosk.store import write_tx

OCCUPIED = "证据库中已有同名文件但内容不符，已拒绝覆盖，请联系管理员核查。"
# A copy in flight is a hidden file named after its writer, .incoming-<host>-<pid>-<random>,
# in a hidden folder of the evidence folder (the same file system, for the link): sweeping
# it reads a few names, not the hundred thousand files of a county's years of evidence.
INCOMING = ".incoming-"
STAGING = ".incoming"
# A leftover whose writer cannot be asked (another terminal sharing the files dir, or a name
# without a writer) is removed only once it has not changed for this long: a copy in flight
# rewrites its file continuously, and hashing it afterwards takes seconds, not minutes.
STALE_SECONDS = 15 * 60


def evidence_dir() -> Path:
    return data_dir_for(database.obj) / "evidence"


def evidence_path(e: Evidence) -> Path:
    p = Path(e.stored_path)
    return p if p.is_absolute() else data_dir_for(database.obj) / p


def _leftover(name: str, age: float) -> bool:
    """Whether an .incoming- file is a dead writer's: one of this machine's processes that no
    longer runs, or, for a writer this machine cannot ask, untouched for STALE_SECONDS."""
    writer = name[len(INCOMING):].rpartition("-")[0]  # HOST-PID, before mkstemp's part
    return writer_gone(writer) or age >= STALE_SECONDS


_SWEPT: set[Path] = set()  # evidence folders whose top level this process has swept


def sweep_incoming(folder: Path | None = None, now: float | None = None) -> list[str]:
    """Remove the copies that a writer killed mid-attach (kill -9, a power cut) left behind;
    returns their names. A file still being written by a live process is left alone. They
    were never evidence: no row names them, and backups skip hidden files."""
    folder = folder or evidence_dir() / STAGING
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return removed
    for entry in entries:
        if not entry.name.startswith(INCOMING):
            continue
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
            # best effort: a directory or link of such a name is not a copy, and stays
            if _leftover(entry.name, age) and remove_stale(Path(entry.path)):
                removed.append(entry.name)
        except FileNotFoundError:
            continue  # its writer finished (or another sweep removed it) meanwhile
    return removed


def _store(src: Path, sha: str, suffix: str) -> Path:
    """Copy into the content-addressed store; an existing file is reused, never overwritten."""
    folder = evidence_dir()
    staging = folder / STAGING
    staging.mkdir(parents=True, exist_ok=True)
    sweep_incoming(staging)
    if folder not in _SWEPT:  # once a process: copies staged beside the evidence before
        sweep_incoming(folder)
        _SWEPT.add(folder)
    dest = folder / f"{sha}{suffix}"
    if dest.exists():
        if sha256_sized(dest)[0] != sha:
            raise UserError(OCCUPIED)
        return dest
    fd, tmp = tempfile.mkstemp(dir=staging,
                               prefix=f"{INCOMING}{writer_tag()}-")
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        if sha256_sized(Path(tmp))[0] != sha:
            raise UserError("文件在复制过程中发生变化，请重新添加。")
        os.chmod(tmp, 0o444)
        try:
            os.link(tmp, dest)  # fails if dest appeared meanwhile: no silent replacement
        except FileExistsError:
            if sha256_sized(dest)[0] != sha:
                raise UserError(OCCUPIED) from None
    finally:
        os.unlink(tmp)
    return dest


def attach_evidence(report: ReportRef, path: str | os.PathLike, user: User | None) -> Evidence:
    """Copy a photo, video or scan into the data dir with its SHA-256 and size."""
    rid = report_id(report)
    src = Path(str(path).strip().strip("'\"")).expanduser()
    if not src.is_file():
        raise UserError(f"找不到文件：{src}")
    # Refuse early, before spending a minute hashing a video nobody may attach.
    require_editor(Report.get_by_id(rid), user)
    # Hash and copy outside the write transaction: a long video must not hold the lock every
    # terminal's autosave waits on. The store is content-addressed, so an orphan copy (the
    # row insert below refused) is harmless and a concurrent identical copy is the same file.
    try:
        sha, size = sha256_sized(src)
    except OSError as e:
        raise UserError(f"无法读取文件：{src}（{e.strerror or e}），"
                        "请换一个文件或重新拷贝。") from e
    if Evidence.select().where((Evidence.report == rid) & (Evidence.sha256 == sha)).exists():
        raise UserError(f"该文件已附上（{src.name}），无需重复添加。")
    try:
        dest = _store(src, sha, src.suffix.lower()[:16])
    except OSError as e:
        raise UserError(f"无法把文件存入证据库：{e.strerror or e}，请联系管理员检查磁盘。") from e
    rel = dest.relative_to(data_dir_for(database.obj))
    with write_tx():
        fresh = Report.get_by_id(rid)
        require_editor(fresh, user)
        if Evidence.select().where((Evidence.report == fresh) & (Evidence.sha256 == sha)).exists():
            raise UserError(f"该文件已附上（{src.name}），无需重复添加。")
        e = Evidence.create(report=fresh, filename=src.name[:255], sha256=sha, size=size,
                            stored_path=str(rel), added_by=actor_of(user))
        audit.record(actor_of(user), "report.evidence", "report", fresh.id,
                     file=src.name, sha256=sha, size=size)
    return e


def verify_evidence(e: Evidence) -> bool:
    """True when the stored file is still exactly what was attached."""
    p = evidence_path(e)
    if not p.is_file():
        return False
    sha, size = sha256_sized(p)
    return sha == e.sha256 and size == e.size


def evidence_of(report: ReportRef) -> list[Evidence]:
    return list(Evidence.select().where(Evidence.report == report_id(report))
                .order_by(Evidence.id))


@dataclass(frozen=True)
class EvidenceItem:
    """One attached file as the form lists it; a withdrawn one stays listed, marked."""

    filename: str
    size: int
    sha256: str
    evidence_id: int = 0
    withdrawn: str = ""  # '' or '已撤回 MM-DD HH:MM：reason'

    @property
    def line(self) -> str:
        mark = f"  【{self.withdrawn}】" if self.withdrawn else ""
        return f"{self.filename}  {self.size} 字节{mark}"

    @property
    def lines(self) -> tuple[str, str]:
        """Name, size and mark; then the full SHA-256 (64 hex digits fit 80 columns alone)."""
        return self.line, f"SHA-256 {self.sha256}"


def _item(e: Evidence) -> EvidenceItem:
    mark = ""
    if e.withdrawn_at is not None:
        mark = f"已撤回 {e.withdrawn_at:%m-%d %H:%M}：{e.withdraw_reason}"
    return EvidenceItem(e.filename, e.size, e.sha256, e.id, mark)


def evidence_items(report: ReportRef) -> tuple[EvidenceItem, ...]:
    return tuple(_item(e) for e in evidence_of(report))


def add_evidence(report: ReportRef, path: str | os.PathLike,
                 user: User | None) -> tuple[EvidenceItem, tuple[EvidenceItem, ...]]:
    """attach_evidence for the form: the file added, and the report's list now."""
    e = attach_evidence(report, path, user)
    return _item(e), evidence_items(report)


def withdraw_evidence(report: ReportRef, number: int, user: User | None,
                      reason: str) -> tuple[EvidenceItem, tuple[EvidenceItem, ...]]:
    """Withdraw the report's `number`-th file (1-based, as the form lists them) before the
    report is submitted. The file and its row stay on file, marked, with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise UserError("请写明撤回理由。")
    rid = report_id(report)
    with write_tx():
        row = Report.get_by_id(rid)
        require_editor(row, user)
        files = evidence_of(rid)
        if not 1 <= number <= len(files):
            raise UserError(f"没有第 {number} 件证据（共 {len(files)} 件）。")
        e = files[number - 1]
        if e.withdrawn_at is not None:
            raise UserError(f"第 {number} 件证据（{e.filename}）已撤回。")
        e.withdrawn_at = now()
        e.withdrawn_by = actor_of(user)
        e.withdraw_reason = reason[:500]
        e.save()
        audit.record(actor_of(user), "report.evidence_withdraw", "report", rid,
                     file=e.filename, sha256=e.sha256, reason=e.withdraw_reason)
    return _item(e), evidence_items(rid)
