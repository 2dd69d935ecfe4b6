"""A kill -9 during an evidence attach leaves a hidden .incoming- copy in the evidence folder: it
is never evidence (no row, no backup entry), and the next attach removes it, while a copy a
live writer is still making stays."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from db.models import Evidence
from kiosk import audit, reports
from kiosk.ops.files import kept_files, writer_tag
from kiosk.reports import evidence
from tests.test_crash_writes import _kill_while
from tests.test_reports import build_world

HOST = writer_tag().rpartition("-")[0]  # this machine, as writers name themselves

# Run by test_crash_writes' holder (it gives `db` and `hold`): stops inside the copy into the
# store, after its first 4 KiB.
ATTACH = """
import shutil
from db import connect
from db.models import User
from kiosk import reports
connect(db)
def copyfile(src, dst):
    with open(src, "rb") as fsrc, open(dst, "wb") as fdst:
        fdst.write(fsrc.read(4096))
    hold()
shutil.copyfile = copyfile
reports.attach_evidence({rid}, {src!r}, User.get(User.username == "zhangwei"))
"""


def incoming(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(evidence.INCOMING))


def test_a_writer_killed_mid_attach_leaves_a_copy_the_next_attach_removes(db, db_path,
                                                                           tmp_path):
    world = build_world()
    rep = reports.open_report(world.assignments[0], world.member)
    video = tmp_path / "现场录像.mp4"
    video.write_bytes(os.urandom(1 << 20))
    _kill_while(db_path, "-", "-", ATTACH.format(rid=rep.id, src=str(video)))
    folder = evidence.evidence_dir()
    staging = folder / evidence.STAGING
    left = incoming(staging)
    writer = re.fullmatch(  # named after its writer, the killed process
        rf"{re.escape(evidence.INCOMING + HOST)}-(\d+)-\w{{8}}", left[0])
    assert len(left) == 1 and writer and int(writer[1]) != os.getpid()
    assert (staging / left[0]).stat().st_size == 4096  # half a copy, and nothing else
    assert Evidence.select().count() == 0
    assert [rel for rel, _ in kept_files()] == []  # a backup would not carry it
    assert audit.verify().ok

    photo = tmp_path / "现场照片.jpg"
    photo.write_bytes(b"\xff\xd8\xff" + b"p" * 5000)
    e = reports.attach_evidence(rep, photo, world.member)  # the next attach sweeps
    assert incoming(staging) == []
    assert sorted(p.name for p in folder.iterdir()) == [evidence.STAGING, f"{e.sha256}.jpg"]
    assert [rel for rel, _ in kept_files()] == [f"evidence/{e.sha256}.jpg"]
    assert evidence.verify_evidence(e) and audit.verify().ok


def test_copies_staged_beside_the_evidence_by_an_older_kiosk_are_swept_once(db, tmp_path):
    world = build_world()
    rep = reports.open_report(world.assignments[0], world.member)
    folder = evidence.evidence_dir()
    folder.mkdir(parents=True)
    old = folder / f"{evidence.INCOMING}k3x9_q2a"  # mkstemp's name, from before this change
    old.write_bytes(b"half a video")
    os.utime(old, (time.time() - evidence.STALE_SECONDS - 1,) * 2)
    evidence._SWEPT.discard(folder)  # as in a process that has not attached anything yet
    photo = tmp_path / "现场照片.jpg"
    photo.write_bytes(b"\xff\xd8\xff" + b"q" * 5000)
    e = reports.attach_evidence(rep, photo, world.member)
    assert not old.exists()
    assert sorted(p.name for p in folder.iterdir()) == [evidence.STAGING, f"{e.sha256}.jpg"]


def test_the_sweep_keeps_what_a_live_writer_may_still_be_writing(tmp_path):
    host, now = HOST, time.time()
    names = {
        "mine": f"{evidence.INCOMING}{host}-{os.getpid()}-abcd1234",  # this process: alive
        "dead": f"{evidence.INCOMING}{host}-{dead_pid()}-abcd1234",
        "other_host_fresh": f"{evidence.INCOMING}kiosk-b-4242-abcd1234",
        "other_host_old": f"{evidence.INCOMING}kiosk-b-4243-abcd1234",
        "unnamed_fresh": f"{evidence.INCOMING}abcd1234",  # before writers named themselves
        "unnamed_old": f"{evidence.INCOMING}efgh5678",
        "mine_old": f"{evidence.INCOMING}{host}-{os.getpid()}-efgh5678",
    }
    for key, name in names.items():
        p = tmp_path / name
        p.write_bytes(b"x")
        if key.endswith("_old"):
            os.utime(p, (now - evidence.STALE_SECONDS - 1,) * 2)
    (tmp_path / ("0" * 64)).write_bytes(b"kept")  # evidence itself is never touched
    # Planted names never fail the attach that sweeps: a directory is not a copy, and a
    # writer id in digits that are not ASCII names no process.
    planted = [f"{evidence.INCOMING}{host}-{dead_pid()}-dir12345",
               f"{evidence.INCOMING}{host}-²³-abcd1234"]
    (tmp_path / planted[0]).mkdir()
    (tmp_path / planted[1]).write_bytes(b"x")
    removed = evidence.sweep_incoming(tmp_path, now=now)
    assert sorted(removed) == sorted(names[k] for k in ("dead", "other_host_old", "unnamed_old",
                                                         "mine_old"))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [names[k] for k in ("mine", "other_host_fresh", "unnamed_fresh")] + ["0" * 64]
        + planted)
    assert evidence.sweep_incoming(tmp_path / "missing") == []


def dead_pid() -> int:
    """The pid of a process that has just ended."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid
