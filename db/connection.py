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
    shared = _files_dir_setting(db)
    if shared:
        return Path(shared)
    from platformdirs import user_data_dir

    return Path(user_data_dir("shuangsuiji-kiosk", appauthor=False)) / "files"


def _files_dir_setting(db: peewee.Database) -> str | None:
    """The `files_dir` setting: one directory every terminal of a PostgreSQL store mounts,
    so evidence and archived reports added at one kiosk are found at every other."""
    try:
        row = db.execute_sql(f"SELECT value FROM setting WHERE key = {db.param}",
                             ("files_dir",)).fetchone()
    except peewee.DatabaseError:
        return None
    return row[0] if row and row[0] else None


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
        if target != ":memory:":
            hold_presence(target)
    else:
        hold_pg_presence(db)
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


_presence: dict[str, int] = {}


def presence_path(store: str) -> Path:
    return Path(os.path.realpath(store) + ".lock")


def hold_presence(store: str) -> None:
    """A shared lock on <store>.lock for as long as this process lives: `kiosk restore`
    replaces the store only when it can take that lock exclusively (no kiosk is running)."""
    import fcntl

    key = os.path.realpath(store)
    if key in _presence:
        return
    try:
        fd = os.open(presence_path(store), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return  # held exclusively by a restore in progress, or an unwritable dir: not fatal
    _presence[key] = fd


def sole_presence(store: str) -> bool:
    """True when no other process has the store open (this one's shared lock turned
    exclusive); the lock stays exclusive until this process exits."""
    import fcntl

    key = os.path.realpath(store)
    fd = _presence.get(key)
    if fd is None:
        fd = os.open(presence_path(store), os.O_RDWR | os.O_CREAT, 0o600)
        _presence[key] = fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


# PostgreSQL: a session advisory lock on (this key, the schema), shared while a kiosk is
# connected; `kiosk restore` needs it exclusively.
_PG_PRESENCE = 0x4B494F53
_PG_PRESENCE_ARGS = "%s, hashtext(current_schema())"


def hold_pg_presence(db: peewee.Database) -> None:
    try:
        db.execute_sql(f"SELECT pg_advisory_lock_shared({_PG_PRESENCE_ARGS})", (_PG_PRESENCE,))
    except peewee.DatabaseError:
        pass  # a role without the right to lock: restore then cannot tell, nothing else cares


def sole_pg_presence(db: peewee.Database) -> bool:
    """True when no other session holds this schema's presence lock (this one's is dropped)."""
    db.execute_sql(f"SELECT pg_advisory_unlock_shared({_PG_PRESENCE_ARGS})", (_PG_PRESENCE,))
    row = db.execute_sql(f"SELECT pg_try_advisory_lock({_PG_PRESENCE_ARGS})",
                         (_PG_PRESENCE,)).fetchone()
    return bool(row and row[0])


def release_presence(store: str) -> None:
    """Drop this process's lock on the store (tests that then run a restore beside it)."""
    fd = _presence.pop(os.path.realpath(store), None)
    if fd is not None:
        os.close(fd)


def is_postgres(db: peewee.Database | None = None) -> bool:
    db = db or database.obj
    return isinstance(db, peewee.PostgresqlDatabase)
