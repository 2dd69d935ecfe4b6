"""The files a store keeps beside its rows (evidence, archived reports), listed and hashed;
and the one way the kiosk writes a file whole or not at all."""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import socket
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from db.connection import data_dir_for, database

# Only these folders belong to the store: anchors and temporary files are the terminal's own.
KEPT = ("evidence", "archive")


def sha256_file(path: Path) -> str:
    """The file's SHA-256 in hex: the one way the kiosk hashes a file (imports, evidence,
    archived reports, backups)."""
    return sha256_sized(path)[0]


def sha256_sized(path: Path) -> tuple[str, int]:
    """(SHA-256 in hex, size in bytes) of the file as it was read."""
    with open(path, "rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
        return digest, f.tell()


def files_dir() -> Path:
    return data_dir_for(database.obj)


def kept_files(base: Path | None = None) -> Iterator[tuple[str, Path]]:
    """(relative name, path) of every kept file, in a stable order; hidden temporaries
    (an evidence copy in flight) are left out."""
    base = base or files_dir()
    for folder in KEPT:
        root = base / folder
        if not root.is_dir():
            continue
        for p in sorted(root.rglob("*")):
            if p.is_file() and not p.name.startswith("."):
                yield p.relative_to(base).as_posix(), p


PARTIAL = ".part"  # the suffix of a file being written: `.NAME.HOST-PID.RANDOM.part`


def partial_names(before: str, between: str, after: str) -> re.Pattern:
    """The names a writer gives its unfinished files, and nothing else: `before`, its
    writer_tag (HOST-PID), `between`, mkstemp's 8 random characters of [a-z0-9_], `after`
    (regular expressions). A sweep must not touch another program's hidden file."""
    return re.compile(f"{before}(?P<writer>[A-Za-z0-9]{{1,32}}-[0-9]{{1,10}}){between}"
                      f"[a-z0-9_]{{8}}{after}", re.ASCII)


_PARTIAL_NAME = partial_names(r"\..+\.", r"\.", re.escape(PARTIAL))


@contextlib.contextmanager
def written_whole(path: os.PathLike | str, *, sync: bool = False) -> Iterator[Path]:
    """Write `path` whole or not at all: the block writes the temporary path it is given,
    hidden beside `path` and owner-only; when the block ends it is renamed over `path`, so
    readers see the old file or the whole new one; when the block raises it is removed.
    What a killed writer left is removed by the next write in that folder from the same
    machine (sweep_partials): a half-written protocol or report must not lie about with the
    names in it.

    sync: flush it to the disk before the rename (a record someone will verify later)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep_partials(path.parent)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{writer_tag()}.",
                                suffix=PARTIAL)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        if sync:
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def writer_tag() -> str:
    """`HOST-PID` of this process, for the name of a file it has not finished: a folder may be
    shared by the terminals of several machines (files_dir), where a process id means
    something only on the machine that gave it."""
    host = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname(), flags=re.ASCII)[:32] or "host"
    return f"{host}-{os.getpid()}"


def writer_gone(tag: str) -> bool:
    """True when the writer `HOST-PID` ran on this machine and no process has that id now;
    False for a live one, another account's, another machine's, or a tag that is not one."""
    host, _, pid = tag.rpartition("-")
    if host != writer_tag().rpartition("-")[0] or not (pid.isascii() and pid.isdigit()):
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        pass
    return False


def remove_stale(p: Path) -> bool:
    """Remove a dead writer's partial file, best effort: a directory or a link of that name,
    or a file this account may not remove, is left alone and never fails the write that
    swept it."""
    try:
        if not stat.S_ISREG(p.lstat().st_mode):
            return False
        p.unlink()
    except OSError:
        return False
    return True


def sweep_partials(folder: Path, names: re.Pattern = _PARTIAL_NAME) -> int:
    """Remove the partial files (written_whole's, or those `names` matches) of this machine's
    writers that are gone; how many."""
    n = 0
    for p in folder.glob(".*"):
        m = names.fullmatch(p.name)
        if m and writer_gone(m["writer"]) and remove_stale(p):
            n += 1
    return n
