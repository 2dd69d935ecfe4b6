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
        if manifest.get("engine") not in ("sqlite", "postgresql"):
            raise UserError(NOT_A_BACKUP.format(name=src.name))
        for name, want in manifest["sha256"].items():
            p = folder / name
            if not p.is_file() or sha256_file(p) != want:
                raise UserError(f"备份文件 {src.name} 中的 {name} 与清单的 SHA-256 不符，"
                                "备份已损坏或被改动，已拒绝恢复。")
        return Staged(src, folder, manifest)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def store_is_empty() -> bool:
    """Nothing was ever written here: no account and no audit event (a new machine after the
    old one was lost). Restoring into it loses nothing, so it needs no account of this store,
    which has none to give."""
    from db.models import User
    from kiosk.audit.chain import head

    return head()[0] == 0 and not User.select().exists()


def restore(staged: Staged, actor: str) -> tuple[str, object]:
    """Replace the current SQLite store by the staged copy; return (store path, verdict).

    The terminal's anchor names a head newer than the restored chain: it is reset to the
    restored head (the old one is recorded in the restore's audit event), otherwise every
    later verify would report the chain truncated."""
    from db.connection import connect
    from kiosk.audit import anchor

    db = database.obj
    pg = isinstance(db, peewee.PostgresqlDatabase)
    if (staged.manifest["engine"] == "postgresql") != pg:
        raise UserError("备份与当前数据库的类型不同（SQLite / PostgreSQL），不能直接恢复；"
                        "PostgreSQL 请先恢复到同类数据库，或用 kiosk migrate-db 迁移。")
    data = data_dir_for(db)
    old_anchor = anchor.read(db)
    anchor_file = anchor.path(db)
    if pg:
        store = _restore_pg(staged, db)
    else:
        store = db.database
        if not sole_presence(store):
            raise UserError(RUNNING)
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
    if not pg:
        connect(store)
    from kiosk.audit.chain import head, record
    from kiosk.audit.check import verify

    seq, hash_ = head()
    if anchor_file is not None:
        anchor.write(anchor_file, seq, hash_)  # the restored head becomes the anchor
    record(actor, "store.restore", "store", "", file=staged.source.name,
           sha256=sha256_file(staged.source), restored_head=f"{seq}:{hash_}",
           previous_anchor=f"{old_anchor[0]}:{old_anchor[1]}" if old_anchor else "")
    return store, verify()


def _restore_pg(staged: Staged, db: peewee.PostgresqlDatabase) -> str:
    """A data-only restore into the same schema at the same schema version, in ONE psql
    transaction: emptied tables, the dump's rows and sequences, the audit triggers back.
    A failure anywhere leaves the store as it was."""
    import subprocess

    from db.connection import sole_pg_presence
    from db.migrations import _PG_AUDIT_TRIGGERS, current_version
    from kiosk.ops.backup import pg_dsn, pg_env, pg_schema
    from kiosk.ops.migrate_db import all_models

    schema = pg_schema(db)
    if staged.manifest.get("schema") != schema:
        raise UserError(f"备份来自 PostgreSQL 模式 {staged.manifest.get('schema')}，"
                        f"当前数据库是 {schema}：请在同名模式中恢复。")
    if staged.manifest.get("schema_version") != current_version(db):
        raise UserError("备份的数据库结构版本与当前程序不同：请先用与备份时相同版本的程序恢复。")
    if not sole_pg_presence(db):
        raise UserError(RUNNING)
    for tool in ("pg_restore", "psql"):
        if shutil.which(tool) is None:
            raise UserError(f"本机没有 {tool}，无法恢复 PostgreSQL 数据库："
                            "请安装 postgresql-client。")
    order = ["schema_version"] + [m._meta.table_name for m in all_models()]
    toc = subprocess.run(["pg_restore", "-l", str(staged.store)], capture_output=True,
                         text=True)
    if toc.returncode:
        raise UserError(f"pg_restore 无法读取备份：{toc.stderr.strip()[:200]}")
    # Parents before children: pg_restore -L restores in the list's order, and a data-only
    # restore would otherwise load a child before the rows its foreign keys name.
    data, rest = [], []
    for line in toc.stdout.splitlines():
        if line.startswith(";") or not line.strip():
            continue
        if " TABLE DATA " in line:
            name = line.split(" TABLE DATA ", 1)[1].split()[1]
            data.append((order.index(name) if name in order else len(order), line))
        else:
            rest.append(line)
    listing = Path(staged.folder) / "restore.list"
    listing.write_text("\n".join([line for _, line in sorted(data)] + rest) + "\n",
                       encoding="utf-8")
    dump = subprocess.run(["pg_restore", "--data-only", "--no-owner", "-L", str(listing),
                           "-f", "-", str(staged.store)], capture_output=True, text=True)
    if dump.returncode:
        raise UserError(f"pg_restore 无法读取备份：{dump.stderr.strip()[:200]}")
    tables = [f'"{schema}"."{m._meta.table_name}"' for m in all_models()]
    tables.append(f'"{schema}"."schema_version"')
    script = Path(staged.folder) / "restore.sql"
    script.write_text(
        f'SET search_path TO "{schema}";\n'
        "DROP TRIGGER IF EXISTS audit_event_no_change ON audit_event;\n"
        "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event;\n"
        f"TRUNCATE {', '.join(tables)} CASCADE;\n"
        + dump.stdout
        + f'\nSET search_path TO "{schema}";\n'
        + "".join(sql + ";\n" for sql in _PG_AUDIT_TRIGGERS),
        encoding="utf-8")
    done = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction",
                           "-f", str(script), *pg_dsn(db)], env=pg_env(db),
                          capture_output=True, text=True)
    if done.returncode:
        raise UserError(f"恢复失败，数据库保持原样：{done.stderr.strip()[:200]}")
    return f"PostgreSQL {db.database}（模式 {schema}）"
