"""Issue 12 part 1: the store, its folder, the key file and written PDFs are owner-only even
under umask 022."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

KIOSK = Path(sys.executable).with_name("kiosk")


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_store_made_by_the_cli_under_umask_022_is_owner_only(tmp_path):
    store, keys = tmp_path / "data" / "kiosk.sqlite3", tmp_path / "keys"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "KIOSK_SECRETS_DIR": str(keys),
           "KIOSK_USER": "operator", "KIOSK_PASSWORD": "operator123"}
    run = subprocess.run(f"umask 022; '{KIOSK}' --db '{store}' demo --no-ui", shell=True,
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert mode(store) == 0o600 and mode(store.parent) == 0o700
    key_files = list(keys.iterdir())
    assert key_files and all(mode(k) == 0o600 for k in key_files) and mode(keys) == 0o700
    for extra in ("-wal", "-shm"):
        p = Path(str(store) + extra)
        assert not p.exists() or mode(p) == 0o600
    # whatever else the demo wrote beside the store (evidence, PDFs, anchors): owner-only
    loose = [(str(p), oct(mode(p))) for p in tmp_path.rglob("*") if mode(p) & 0o077]
    assert loose == []


def test_connect_chmods_an_existing_store_and_its_wal(tmp_path, umask_022):
    from db.connection import connect, database
    from kiosk import settings

    store = tmp_path / "s.sqlite3"
    store.touch(mode=0o644)
    connect(store)
    settings.put("bureau_name", "测试局")  # a write: SQLite makes the -wal now
    assert mode(store) == 0o600
    wal = Path(str(store) + "-wal")
    assert wal.exists() and mode(wal) == 0o600
    database.obj.close()


def test_every_written_pdf_is_owner_only(db, tmp_path, umask_022):
    from kiosk.printing.base import KioskPDF

    pdf = KioskPDF(format="A5", doc_title="测试")
    pdf.add_page()
    pdf.para("公示前不得外传")
    out = tmp_path / "x.pdf"
    pdf.output(str(out))
    assert mode(out) == 0o600


def test_dev_null_is_never_chmodded(tmp_path):
    from db.connection import owner_only

    before = mode(Path("/dev/null"))
    owner_only("/dev/null")
    assert mode(Path("/dev/null")) == before
