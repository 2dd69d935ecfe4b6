"""Exports leave their trace first: no file without its committed audit event."""
from __future__ import annotations

import hashlib
import json
import os

import pytest

from db.models import AuditEvent
from kiosk import audit
from kiosk.audit import exports


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.postgres)])
def store(request):
    return request.getfixturevalue("db" if request.param == "sqlite" else "pg_db")


@pytest.fixture
def out_dir(tmp_path):
    d = tmp_path / "out"
    d.mkdir()
    return d


def _write(text: str):
    def write(path):
        path.write_text(text, encoding="utf-8")
        return len(text)
    return write


def test_an_export_is_audited_with_its_hash_and_is_owner_only(store, out_dir):
    out = out_dir / "targets.csv"
    n = audit.audited_export("admin", "targets", out, _write("统一社会信用代码\n91411623MA\n"),
                             public=False, result_detail=lambda n: {"chars": n})
    assert n == len("统一社会信用代码\n91411623MA\n")
    ev = AuditEvent.select().order_by(AuditEvent.seq.desc()).first()
    detail = json.loads(ev.detail)
    assert (ev.actor, ev.action, ev.entity, ev.entity_id) == ("admin", "export", "targets",
                                                              "targets.csv")
    assert detail["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert detail["size"] == out.stat().st_size and detail["chars"] == n
    assert detail["public"] is False
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert detail["file"] == "targets.csv"
    assert sorted(p.name for p in out_dir.iterdir()) == ["targets.csv"]


def test_the_temporary_file_sits_hidden_beside_the_export(store, out_dir):
    seen = []

    def write(path):
        seen.append(path)
        path.write_text("x", encoding="utf-8")

    audit.audited_export("admin", "items", out_dir / "items.xlsx", write)
    audit.audited_export("admin", "items", out_dir / "items", write)
    assert [p.parent for p in seen] == [out_dir, out_dir]
    assert seen[0].name.startswith(".items.xlsx.") and seen[0].suffix == ".xlsx"
    assert seen[1].name.startswith(".items.") and seen[1].suffix == ".tmp"
    assert sorted(p.name for p in out_dir.iterdir()) == ["items", "items.xlsx"]


def test_an_export_whose_audit_fails_leaves_no_file(store, out_dir, monkeypatch):
    out = out_dir / "targets.csv"
    before = AuditEvent.select().count()

    def broken(*a, **k):
        raise RuntimeError("the audit table is full")

    monkeypatch.setattr(exports, "record", broken)
    with pytest.raises(RuntimeError):
        audit.audited_export("admin", "targets", out, _write("secret list\n"))
    assert list(out_dir.iterdir()) == []
    assert AuditEvent.select().count() == before


def test_an_export_whose_commit_fails_leaves_no_file(store, out_dir, monkeypatch):
    """Renamed into place, then the transaction rolls back: the file goes too."""
    out = out_dir / "targets.csv"
    real_replace = os.replace

    def replace_then_fail(src, dst):
        real_replace(src, dst)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(exports.os, "replace", replace_then_fail)
    with pytest.raises(OSError):
        audit.audited_export("admin", "targets", out, _write("secret list\n"))
    assert list(out_dir.iterdir()) == []
    assert not AuditEvent.select().where(AuditEvent.action == "export").exists()


def test_a_failing_writer_leaves_no_file_and_no_event(store, out_dir):
    def write(path):
        path.write_text("half", encoding="utf-8")
        raise ValueError("bad cell")

    with pytest.raises(ValueError):
        audit.audited_export("admin", "targets", out_dir / "t.csv", write)
    assert list(out_dir.iterdir()) == []
    assert not AuditEvent.select().where(AuditEvent.action == "export").exists()
