"""kiosk.ops.files.written_whole: the one way a record, a protocol, a certificate or an archived
report is written: whole or not at all, owner-only, and nothing half-written left lying about,
not even by a writer killed with SIGKILL."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.ops.files import sweep_partials, writer_tag, written_whole

ROOT = Path(__file__).resolve().parent.parent


def _partials(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(".*.part"))


def test_the_file_takes_its_place_whole_and_owner_only(tmp_path):
    out = tmp_path / "sub" / "协议.pdf"
    with written_whole(out) as tmp:
        assert tmp.parent == out.parent and tmp.name.startswith(f".{out.name}.{writer_tag()}.")
        assert writer_tag().endswith(f"-{os.getpid()}")
        assert not out.exists()  # nobody sees it until it is whole
        tmp.write_bytes(b"%PDF whole")
    assert out.read_bytes() == b"%PDF whole"
    assert out.stat().st_mode & 0o777 == 0o600
    assert _partials(out.parent) == []


def test_a_failed_write_keeps_the_old_file_and_leaves_no_partial(tmp_path):
    out = tmp_path / "record.json"
    out.write_bytes(b"old")
    with pytest.raises(OSError, match="disk full"), written_whole(out, sync=True) as tmp:
        tmp.write_bytes(b"half of the new one, with names")
        raise OSError("disk full")
    assert out.read_bytes() == b"old"
    assert _partials(tmp_path) == []


def _dead_pid() -> str:
    return subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()


def test_only_the_partials_of_this_machines_dead_writers_are_swept(tmp_path):
    host, dead = writer_tag().rpartition("-")[0], _dead_pid()
    mine_dead = f".a.pdf.{host}-{dead}.x1y2z3ab.part"
    kept = [f".b.pdf.{writer_tag()}.x1y2z3ab.part",  # this process: still being written
            f".c.pdf.otherhost{host}-{dead}.x1y2z3ab.part",  # another machine's pid
            ".config.2024.bak.part", ".report.v1.pdf.part",  # not names written_whole makes
            f".d.pdf.{host}-².x1y2z3ab.part"]  # a digit that is not ASCII
    for name in (mine_dead, *kept):
        (tmp_path / name).write_bytes(b"names")
    assert sweep_partials(tmp_path) == 1
    assert _partials(tmp_path) == sorted(kept)


def test_a_planted_name_never_fails_the_write_that_sweeps_it(tmp_path):
    host, dead = writer_tag().rpartition("-")[0], _dead_pid()
    (tmp_path / f".dir.{host}-{dead}.x1y2z3ab.part").mkdir()  # a directory, not a partial
    (tmp_path / f".ln.{host}-{dead}.x1y2z3ab.part").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "elsewhere").write_bytes(b"keep")
    (tmp_path / f".x.{host}-²³.abcdefgh.part").write_bytes(b"planted")
    with written_whole(tmp_path / "report.pdf") as tmp:
        tmp.write_bytes(b"whole")
    assert (tmp_path / "report.pdf").read_bytes() == b"whole"
    assert (tmp_path / f".dir.{host}-{dead}.x1y2z3ab.part").is_dir()
    assert (tmp_path / f".ln.{host}-{dead}.x1y2z3ab.part").is_symlink()
    assert (tmp_path / "elsewhere").read_bytes() == b"keep"


def test_a_writer_killed_mid_file_leaves_a_partial_that_the_next_write_removes(tmp_path):
    out = tmp_path / "protocol.pdf"
    code = ("import os, signal, sys\n"
            "from kiosk.ops.files import written_whole\n"
            "with written_whole(sys.argv[1]) as tmp:\n"
            "    tmp.write_bytes(b'half a protocol, with the drawn names')\n"
            "    os.kill(os.getpid(), signal.SIGKILL)\n")
    done = subprocess.run([sys.executable, "-c", code, str(out)], cwd=ROOT)
    assert done.returncode == -signal.SIGKILL
    [left] = _partials(tmp_path)
    assert (tmp_path / left).read_bytes() == b"half a protocol, with the drawn names"
    assert not out.exists()
    with written_whole(tmp_path / "other.pdf") as tmp:
        tmp.write_bytes(b"next")
    assert _partials(tmp_path) == []
    assert (tmp_path / "other.pdf").read_bytes() == b"next"
