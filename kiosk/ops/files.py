"""The files a store keeps beside its rows (evidence, archived reports), listed and hashed."""
from __future__ import annotations

import hashlib
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
