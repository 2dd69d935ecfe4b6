"""`kiosk migrate-db --to URL`: copy a SQLite store into an empty PostgreSQL database, table by
table, reset its sequences, compare every table's count and verify the audit chain there."""
from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable
from dataclasses import dataclass

import peewee

from db import models
from db.connection import data_dir_for, database
from db.copy_text import copy_rows
from kiosk.errors import UserError
from kiosk.ops.files import kept_files, sha256_file
from kiosk.store import vacuum

BATCH = 10_000


def all_models() -> list[type[peewee.Model]]:
    """Every table of the store, parents before children (foreign keys hold while copying).
    The schema version table is not copied: the target's own migrations write it."""
    found = [v for v in vars(models).values()
             if isinstance(v, type) and issubclass(v, models.BaseModel)
             and v is not models.BaseModel]
    return peewee.sort_models(found)


@dataclass
class Migrated:
    counts: dict[str, int]
    files: int
    verdict: object


def _empty(pg: peewee.Database) -> None:
    busy = [m._meta.table_name for m in all_models()
            if m._meta.table_name not in ("setting",)
            and pg.execute_sql(f'SELECT 1 FROM "{m._meta.table_name}" LIMIT 1').fetchone()]
    if busy:
        raise UserError(f"目标 PostgreSQL 数据库不是空库（{', '.join(busy[:5])} 已有数据），"
                        "已拒绝覆盖：请指定一个新建的空数据库。")


def _copy_table(model, src: peewee.Database, pg: peewee.Database) -> int:
    fields = list(model._meta.sorted_fields)
    names = [f'"{f.column_name}"' for f in fields]
    table = model._meta.table_name
    cur = pg.cursor()
    n = 0
    # Through the fields: SQLite's 0/1 and date text come back as bools and dates, which
    # COPY writes as PostgreSQL's typed columns read them, BATCH rows a statement.
    with src.bind_ctx([model]):
        rows = model.select(*fields).tuples().iterator()
        while batch := list(itertools.islice(rows, BATCH)):
            copy_rows(cur, f'"{table}"', names, [list(c) for c in zip(*batch, strict=True)])
            n += len(batch)
    pk = model._meta.primary_key
    if isinstance(pk, peewee.AutoField):
        pg.execute_sql(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{pk.column_name}'), "
            f'COALESCE(MAX("{pk.column_name}"), 1), MAX("{pk.column_name}") IS NOT NULL) '
            f'FROM "{table}"')
    return n


def migrate_db(url: str, actor: str, progress: Callable[[str], None] = lambda s: None,
               files_dir: str | None = None) -> Migrated:
    """Copy the current (SQLite) store into the PostgreSQL database at `url`."""
    from db.connection import connect

    src = database.obj
    if not isinstance(src, peewee.SqliteDatabase):
        raise UserError("migrate-db 只能从 SQLite 数据库迁出：当前数据库已是 PostgreSQL。")
    if not url.startswith(("postgresql://", "postgres://")):
        raise UserError("--to 应是 PostgreSQL 地址，如 postgresql://用户@主机/数据库。")
    if files_dir:
        from kiosk import settings

        files_dir = settings.SPECS["files_dir"].check(str(files_dir))  # before any copying
    src_files = data_dir_for(src)
    src_counts = {m._meta.table_name: m.select().count() for m in all_models()}
    try:
        pg = connect(url)  # creates the schema (its own migrations) and binds the models to it
    except peewee.DatabaseError as e:
        database.initialize(src)
        raise UserError(f"无法连接或初始化 PostgreSQL 数据库：{str(e).strip()[:200]}") from None
    try:
        _empty(pg)
        counts: dict[str, int] = {}
        from db.migrations import create_audit_triggers, drop_audit_triggers

        with pg.atomic():
            # One transaction: a failed copy leaves the target empty, never half-filled.
            pg.execute_sql('DELETE FROM "setting"')  # defaults a migration may have written
            drop_audit_triggers(pg)  # TRUNCATE guard only; inserts are allowed anyway
            for m in all_models():
                progress(f"复制 {m._meta.table_name} …")
                counts[m._meta.table_name] = _copy_table(m, src, pg)
            create_audit_triggers(pg)
        progress("整理新库（VACUUM ANALYZE）…")
        for m in all_models():  # the planner's statistics, and the pool index's visibility map
            vacuum(m, analyze=True)
        for table, want in src_counts.items():
            got = pg.execute_sql(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
            if got != want:
                raise UserError(f"迁移后表 {table} 的行数不符：SQLite {want} 行，"
                                f"PostgreSQL {got} 行。")
        if files_dir:
            from kiosk import settings

            settings.change("files_dir", files_dir, actor)  # audited, like any setting
        n_files = _copy_files(src_files, data_dir_for(pg))
        from kiosk.audit.check import verify

        progress("核验审计日志 …")
        verdict = verify()
        if not verdict.ok:
            raise UserError(f"迁移后的数据库未通过审计核验：{verdict.message}")
        from kiosk.audit.chain import record

        record(actor, "store.migrated", "store", "", source="sqlite",
               tables=len(counts), rows=sum(counts.values()), files=n_files)
        return Migrated(counts, n_files, verdict)
    finally:
        pg.close()
        database.initialize(src)


def _copy_files(src_base, dest_base) -> int:
    """Evidence and archived reports go where the PostgreSQL store's terminals find them."""
    n = 0
    for rel, p in kept_files(src_base):
        dest = dest_base / rel
        n += 1
        if dest.is_file() and sha256_file(dest) == sha256_file(p):
            continue
        if dest.exists():
            raise UserError(f"共享目录中已有不同内容的 {rel}，已拒绝覆盖。")
        dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copy2(p, dest)
    return n
