"""Art. 12 through the `kiosk` command as scripts run it: before publication `kiosk record`,
`kiosk slips` (by draw or by task code) and `kiosk export conflicts` refuse every role without
a need in one sentence, logged; after a leader publishes, the record export succeeds for the
roles that may export records, 0600 and with its hash in the chain."""
from __future__ import annotations

import hashlib
import json
import sqlite3
import stat

import pytest

from kiosk import access
from tests.test_cli import demo_store, kiosk

INSP = {"KIOSK_PASSWORD": "insp123"}


@pytest.fixture
def store(tmp_path, monkeypatch):
    return demo_store(tmp_path, monkeypatch)


def _sealed(path) -> tuple[int, str]:
    with sqlite3.connect(path) as con:
        draw_id = con.execute("SELECT id FROM draw WHERE state = 'sealed' "
                              "ORDER BY id LIMIT 1").fetchone()[0]
        code = con.execute("SELECT task_code FROM assignment WHERE draw_id = ? "
                           "ORDER BY position LIMIT 1", (draw_id,)).fetchone()[0]
    return draw_id, code


def _events(path, action: str) -> list[tuple[str, dict]]:
    with sqlite3.connect(path) as con:
        return [(a, json.loads(d)) for a, d in con.execute(
            "SELECT actor, detail FROM audit_event WHERE action = ? ORDER BY seq", (action,))]


def test_every_command_refuses_each_role_without_need_then_publication_opens_it(store, tmp_path):
    draw_id, code = _sealed(store)
    # Roles that pass the command's own role rule meet Art. 12 in the service; the others
    # are stopped by the role rule first. Either way: one sentence, logged, no file.
    cases = [("leader", {}, access.MAY_NOT_SEE_RESULT),
             ("auditor", {}, access.MAY_NOT_SEE_RESULT),
             ("admin", {}, access.MAY_NOT_SEE_RESULT),
             ("witness1", {}, access.MAY_NOT_EXPORT_RECORD),
             ("reviewer", {}, access.MAY_NOT_EXPORT_RECORD),
             ("insp01", INSP, access.MAY_NOT_EXPORT_RECORD)]
    for login, env, sentence in cases:
        out = tmp_path / f"rec-{login}"
        p = kiosk("record", draw_id, "--out", out, "--db", store, as_=login, env_extra=env,
                  check=1)
        assert p.stderr.strip() == sentence, login
        assert not (out / "record.json").exists() and not (out / "pool.tsv").exists()
    for login, env in (("leader", {}), ("auditor", {}), ("witness1", {}), ("insp01", INSP)):
        for target in (["--draw", draw_id], [code]):
            out = tmp_path / f"slips-{login}.pdf"
            p = kiosk("slips", *target, "--out", out, "--db", store, as_=login, env_extra=env,
                      check=1)
            assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1
            assert not out.exists()
    # admin may print slips by role, but has no need for this draw before publication
    p = kiosk("slips", "--draw", draw_id, "--out", tmp_path / "a.pdf", "--db", store,
              as_="admin", check=1)
    assert p.stderr.strip() == access.MAY_NOT_SEE_RESULT
    refused = [a for a, _ in _events(store, "confidential.refused")]
    assert refused == ["leader", "auditor", "admin", "admin"]
    assert [a for a, d in _events(store, "cli.refused") if d.get("role")] == [
        "witness1", "reviewer", "insp01", "leader", "leader", "auditor", "auditor",
        "witness1", "witness1", "insp01", "insp01"]

    p = kiosk("export", "conflicts", tmp_path / "c.csv", "--db", store, as_="reviewer",
              check=1)
    assert p.stderr.strip() == access.MAY_NOT_EXPORT and not (tmp_path / "c.csv").exists()

    out = tmp_path / "rec-operator"
    kiosk("record", draw_id, "--out", out, "--db", store, as_="operator", check=0)
    assert stat.S_IMODE((out / "record.json").stat().st_mode) == 0o600

    kiosk("publish", draw_id, "--out", tmp_path / "kit", "--db", store, as_="leader", check=0)
    for login in ("leader", "auditor"):
        out = tmp_path / f"after-{login}"
        kiosk("record", draw_id, "--out", out, "--db", store, as_=login, check=0)
        data = (out / "record.json").read_bytes()
        assert stat.S_IMODE((out / "record.json").stat().st_mode) == 0o600
        done = [d for a, d in _events(store, "draw.record")
                if a == login and d["file"] == "record.json"]
        assert done[-1]["sha256"] == hashlib.sha256(data).hexdigest()
        assert done[-1]["published"] is True
    v = kiosk("verify", tmp_path / "after-leader" / "record.json", check=0)
    assert "核验通过" in v.stdout
