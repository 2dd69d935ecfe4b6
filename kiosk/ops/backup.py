"""`kiosk backup FILE`: one tar with a consistent copy of the store, its evidence and archived
reports, and a manifest of their SHA-256, taken while the kiosk keeps running."""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import peewee

from db.connection import database
from db.migrations import current_version
from kiosk.errors import UserError
from kiosk.ops.files import kept_files, sha256_file

FORMAT = "kiosk-backup/1"
MANIFEST = "manifest.json"
SQLITE_COPY = "store.sqlite3"
PG_DUMP = "store.pgdump"


@dataclass
class BackupSummary:
    path: Path
    sha256: str
    head: tuple[int, str]
    files: int


def pg_dsn(db: peewee.PostgresqlDatabase) -> list[str]:
    """pg_dump/pg_restore arguments naming the same server, database and search_path."""
    p = db.connect_params
    args = ["-d", db.database]
    if p.get("host"):
        args += ["-h", str(p["host"])]
    if p.get("port"):
        args += ["-p", str(p["port"])]
    if p.get("user"):
        args += ["-U", str(p["user"])]
    return args


def pg_env(db: peewee.PostgresqlDatabase) -> dict[str, str]:
    env = dict(os.environ)
    p = db.connect_params
    if p.get("password"):
        env["PGPASSWORD"] = str(p["password"])  # never on the command line (ps shows it)
    if p.get("options"):
        env["PGOPTIONS"] = str(p["options"])
    return env


def pg_schema(db: peewee.PostgresqlDatabase) -> str:
    return db.execute_sql("SELECT current_schema()").fetchone()[0]


def _copy_sqlite(dest: Path) -> tuple[int, str]:
    """SQLite's online backup API: a consistent copy while other terminals keep writing."""
    src = database.obj.connection()
    dst = sqlite3.connect(dest)
    try:
        # All pages in one read transaction: in WAL mode writers carry on meanwhile, whereas a
        # copy in steps restarts whenever another terminal writes and may never finish.
        src.backup(dst)
        row = dst.execute("SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1").fetchone()
    finally:
        dst.close()
    return (row[0], row[1]) if row else (0, "0" * 64)


def _dump_pg(dest: Path) -> tuple[int, str]:
    db = database.obj
    if shutil.which("pg_dump") is None:
        raise UserError("本机没有 pg_dump，无法备份 PostgreSQL 数据库：请安装 postgresql-client。")
    from kiosk.audit.chain import head

    h = head()  # the dump's snapshot is taken after this: it holds at least this head
    cmd = ["pg_dump", "-Fc", "--no-owner", "-n", pg_schema(db), "-f", str(dest), *pg_dsn(db)]
    done = subprocess.run(cmd, env=pg_env(db), capture_output=True, text=True)
    if done.returncode:
        raise UserError(f"pg_dump 失败：{done.stderr.strip()[:200]}")
    return h


def _write(tar_path: Path) -> tuple[tuple[int, str], int]:
    db = database.obj
    with tempfile.TemporaryDirectory(prefix=".kiosk-backup-", dir=tar_path.parent) as tmpd:
        if isinstance(db, peewee.PostgresqlDatabase):
            store_name, engine = PG_DUMP, "postgresql"
            h = _dump_pg(Path(tmpd) / store_name)
        else:
            store_name, engine = SQLITE_COPY, "sqlite"
            h = _copy_sqlite(Path(tmpd) / store_name)
        hashes = {store_name: sha256_file(Path(tmpd) / store_name)}
        with tarfile.open(tar_path, "w:gz") as tar:
            tar.add(Path(tmpd) / store_name, arcname=store_name)
            for rel, p in kept_files():
                # Evidence is read-only and archives are never replaced: hashed, then added.
                hashes["files/" + rel] = sha256_file(p)
                tar.add(p, arcname="files/" + rel)
            manifest = {"format": FORMAT, "engine": engine, "store": store_name,
                        "created": dt.datetime.now().isoformat(timespec="seconds"),
                        "head": [h[0], h[1]], "sha256": hashes,
                        "schema_version": current_version(db)}
            if engine == "postgresql":
                manifest["schema"] = pg_schema(db)  # a data-only restore goes back there
            body = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode = len(body), 0o600
            tar.addfile(info, io.BytesIO(body))
    return h, len(hashes) - 1


def backup(dest: str | os.PathLike, actor: str) -> BackupSummary:
    """Write the backup to `dest` (0600), its SHA-256 in the audit chain (audited_export)."""
    from kiosk.audit.exports import audited_export

    dest = Path(dest)
    if dest.exists():
        raise UserError(f"文件 {dest} 已存在，备份不会覆盖它：请换一个文件名。")
    if not dest.parent.is_dir():
        raise UserError(f"找不到目录 {dest.parent}。")
    out: dict = {}

    def write(tmp: Path):
        out["head"], out["files"] = _write(tmp)
        return out

    audited_export(actor, "store", dest, write, action="store.backup",
                   result_detail=lambda r: {"head": f"{r['head'][0]}:{r['head'][1]}",
                                            "files": r["files"]})
    return BackupSummary(dest, sha256_file(dest), out["head"], out["files"])
