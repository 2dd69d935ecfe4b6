"""The files a store keeps beside its rows (evidence, archived reports), listed and hashed;
and the one way the kiosk writes a file whole or not at all."""
from __future__ import annotations

import contextlib
import hashlib
import os
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


PARTIAL = ".part"  # the suffix of a file being written: `.NAME.PID.RANDOM.part`


@contextlib.contextmanager
def written_whole(path: os.PathLike | str, *, sync: bool = False) -> Iterator[Path]:
    """Write `path` whole or not at all: the block writes the temporary path it is given,
    hidden beside `path` and owner-only; when the block ends it is renamed over `path`, so
    readers see the old file or the whole new one; when the block raises it is removed.
    What a killed writer left is removed by the next write in that folder (sweep_partials):
    a half-written protocol or report must not lie about with the names in it.

    sync: flush it to the disk before the rename (a record someone will verify later)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep_partials(path.parent)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.",
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


def pid_gone(pid: str) -> bool:
    """True when no process has this id (a writer named in a temporary file's name is dead);
    False for a live one, another account's, or a name that is not an id."""
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        pass
    return False


def sweep_partials(folder: Path) -> int:
    """Remove the `.NAME.PID.RANDOM.part` files of writers that are gone; how many."""
    n = 0
    for p in folder.glob(f".*{PARTIAL}"):
        parts = p.name.rsplit(".", 3)  # ".NAME", PID, RANDOM, "part"
        if len(parts) == 4 and pid_gone(parts[1]):
            p.unlink(missing_ok=True)
            n += 1
    return n
