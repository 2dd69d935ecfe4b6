"""`kiosk restore FILE`: put a backup back in place of the store, only while no kiosk runs,
then prove it: the restored chain verifies and every evidence file matches its hash."""
from __future__ import annotations

import json
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import peewee

from db.connection import data_dir_for, database, sole_presence
from kiosk.errors import UserError
from kiosk.ops.backup import FORMAT, MANIFEST, PG_DUMP, SQLITE_COPY
from kiosk.ops.files import KEPT, sha256_file

NOT_A_BACKUP = "文件 {name} 不是本系统的备份文件，已拒绝恢复。"
RUNNING = ("仍有终端在使用该数据库（摇号、录入或界面未退出）：请先关闭所有终端上的"
           "双随机程序，再恢复备份。")


@dataclass
class Staged:
    """A backup unpacked and checked against its manifest, not yet put in place."""

    source: Path
    folder: Path
    manifest: dict

    @property
    def store(self) -> Path:
        return self.folder / self.manifest["store"]

    def files(self) -> list[str]:
        return sorted(k for k in self.manifest["sha256"] if k.startswith("files/"))

    def cleanup(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _safe(name: str) -> bool:
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts:
        return False
    if name in (MANIFEST, SQLITE_COPY, PG_DUMP):
        return True
    return len(p.parts) >= 3 and p.parts[0] == "files" and p.parts[1] in KEPT


def stage(src: str | os.PathLike, near: Path) -> Staged:
    """Unpack into a private folder beside the store and check every hash in the manifest."""
    src = Path(src)
    if not src.is_file():
        raise UserError(f"找不到备份文件 {src}。")
    folder = Path(tempfile.mkdtemp(prefix=".kiosk-restore-", dir=near))
    try:
        try:
            with tarfile.open(src, "r:*") as tar:
                members = tar.getmembers()
                if any(not m.isfile() or not _safe(m.name) for m in members):
                    raise UserError(NOT_A_BACKUP.format(name=src.name))
                for m in members:
                    dest = folder / m.name
                    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                    with tar.extractfile(m) as f, open(dest, "wb") as out:
                        shutil.copyfileobj(f, out)
        except (tarfile.TarError, OSError, EOFError):
            raise UserError(NOT_A_BACKUP.format(name=src.name)) from None
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise UserError(NOT_A_BACKUP.format(name=src.name)) from None
        if manifest.get("format") != FORMAT:
            raise UserError(NOT_A_BACKUP.format(name=src.name))
        if manifest.get("engine") != "sqlite":
            raise UserError("该备份来自 PostgreSQL 数据库：请由数据库管理员用 pg_restore 恢复"
                            f"其中的 {manifest.get('store')}，再用 kiosk audit verify 核验。")
        for name, want in manifest["sha256"].items():
            p = folder / name
            if not p.is_file() or sha256_file(p) != want:
                raise UserError(f"备份文件 {src.name} 中的 {name} 与清单的 SHA-256 不符，"
                                "备份已损坏或被改动，已拒绝恢复。")
        return Staged(src, folder, manifest)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def restore(staged: Staged, actor: str) -> tuple[str, object]:
    """Replace the current SQLite store by the staged copy; return (store path, verdict).

    The terminal's anchor names a head newer than the restored chain: it is reset to the
    restored head (the old one is recorded in the restore's audit event), otherwise every
    later verify would report the chain truncated."""
    from db.connection import connect
    from kiosk.audit import anchor

    db = database.obj
    if not isinstance(db, peewee.SqliteDatabase):
        raise UserError("恢复只适用于 SQLite 数据库；PostgreSQL 请用 pg_restore。")
    store = db.database
    if not sole_presence(store):
        raise UserError(RUNNING)
    data = data_dir_for(db)
    old_anchor = anchor.read(db)
    anchor_file = anchor.path(db)
    db.close()
    tmp = Path(store + ".restoring")
    shutil.copyfile(staged.store, tmp)
    os.chmod(tmp, 0o600)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    for suffix in ("-wal", "-shm", "-journal"):  # they belong to the store being replaced
        Path(store + suffix).unlink(missing_ok=True)
    os.replace(tmp, store)
    for name in staged.files():
        rel = name[len("files/"):]
        dest = data / rel
        if dest.is_file() and sha256_file(dest) == staged.manifest["sha256"][name]:
            continue
        dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if dest.exists():
            dest.chmod(0o600)
        part = dest.with_name("." + dest.name + ".restoring")
        shutil.copyfile(staged.folder / name, part)
        os.chmod(part, 0o444 if rel.startswith("evidence/") else 0o600)
        os.replace(part, dest)
    connect(store)
    from kiosk.audit.chain import head, record
    from kiosk.audit.check import verify

    seq, hash_ = head()
    if anchor_file is not None:
        anchor._write(anchor_file, seq, hash_)  # the restored head becomes the anchor
    record(actor, "store.restore", "store", "", file=staged.source.name,
           sha256=sha256_file(staged.source), restored_head=f"{seq}:{hash_}",
           previous_anchor=f"{old_anchor[0]}:{old_anchor[1]}" if old_anchor else "")
    return store, verify()
