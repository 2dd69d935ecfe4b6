"""Exports that leave their trace first: no file appears unless its audit event (who, what,
file name, SHA-256) committed with it."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from kiosk.audit.chain import record
from kiosk.ops.files import sha256_sized
from kiosk.store import write_tx

T = TypeVar("T")


def audited_export(actor: str, kind: str, path: str | os.PathLike,
                   write_fn: Callable[[Path], T], *, action: str = "export",
                   result_detail: Callable[[T], dict] | None = None,
                   **detail: object) -> T:
    """Write through `write_fn(temp_path)`, hash the result, then in ONE write transaction
    record the event and move the file into place. Any failure (the writer, the hash, the
    audit, the commit) leaves no file at `path`. The file is owner-only (0600): an export
    is confidential until someone decides to hand it on.

    result_detail(result) adds what only the writing knows (e.g. the number of rows).
    Call it inside the transaction that decided the export may run, or on its own."""
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                    suffix=path.suffix or ".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    # (dev, inode) of our temp file once written; until then no file at `path` is ours.
    # No mutate: "" (the mutant) equals no (dev, inode) pair either, so it reads the same.
    ours = None  # pragma: no mutate
    try:
        result = write_fn(tmp)
        sha, size = sha256_sized(tmp)
        os.chmod(tmp, 0o600)
        st = tmp.stat()
        ours = (st.st_dev, st.st_ino)
        with write_tx():
            extra = result_detail(result) if result_detail is not None else {}
            record(actor, action, kind, path.name, file=path.name, sha256=sha, size=size,
                   **detail, **extra)
            os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        # Renamed into place, then the commit failed: the file must not outlive its trace
        # (an earlier export of the same name, not ours, is left alone).
        try:
            st = path.stat()
            if ours is not None and (st.st_dev, st.st_ino) == ours:
                path.unlink()
        except FileNotFoundError:
            pass
        raise
    return result
