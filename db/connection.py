"""Opens the store: a SQLite file (WAL, foreign keys, busy timeout), or PostgreSQL by URL."""
from __future__ import annotations

import os
from pathlib import Path

import peewee
from playhouse.db_url import connect as url_connect

database = peewee.DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10000,
    "synchronous": "normal",
    "cache_size": -64000,
}


def default_db_path() -> Path:
    """The store's default place: KIOSK_DB, else the user data dir."""
    env = os.environ.get("KIOSK_DB")
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("shuangsuiji-kiosk", appauthor=False)) / "kiosk.sqlite3"


def data_dir_for(db: peewee.Database, url_or_path: str | os.PathLike | None = None) -> Path:
    """Where files that belong to this store (evidence, printed PDFs) are kept."""
    env = os.environ.get("KIOSK_DATA_DIR")
    if env:
        return Path(env)
    if isinstance(db, peewee.SqliteDatabase) and db.database not in (":memory:", ""):
        p = Path(db.database)
        return p.with_name(p.stem + ".files")
    from platformdirs import user_data_dir

    return Path(user_data_dir("shuangsuiji-kiosk", appauthor=False)) / "files"


def connect(url_or_path: str | os.PathLike | None = None, *,
            migrate: bool = True) -> peewee.Database:
    """Open the store, bind the models to it and bring its schema up to date."""
    target = str(url_or_path) if url_or_path else str(default_db_path())
    if target.startswith(("postgresql://", "postgres://", "postgresext://")):
        db = url_connect(target.replace("postgres://", "postgresql://", 1))
    else:
        if target.startswith("sqlite:///"):
            target = target[len("sqlite:///"):]
        if target != ":memory:":
            Path(target).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        db = peewee.SqliteDatabase(target, pragmas=SQLITE_PRAGMAS, timeout=10)
    database.initialize(db)
    db.connect(reuse_if_open=True)
    if isinstance(db, peewee.SqliteDatabase):
        owner_only(target)
    if migrate:
        from db.migrations import migrate as run_migrations

        run_migrations(db)
    return db


def owner_only(store: str) -> None:
    """The store and its -wal/-shm readable by the kiosk's account only, whatever the umask
    (SQLite gives the -wal/-shm files it makes later the store's own mode). Regular files
    only: a path like /dev/null must never be chmod-ed."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        p = Path(store + suffix)
        if p.is_file() and p.stat().st_mode & 0o077:
            p.chmod(0o600)


def is_postgres(db: peewee.Database | None = None) -> bool:
    db = db or database.obj
    return isinstance(db, peewee.PostgresqlDatabase)
