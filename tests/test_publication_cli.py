"""`kiosk publish` and `kiosk exchange export` as scripts run them: a leader publishes, anyone
else is refused in one sentence and logged, and `kiosk verify` agrees with the kit."""
from __future__ import annotations

import json
import sqlite3

import pytest

from tests.test_cli import demo_store, kiosk


@pytest.fixture
def store(tmp_path, monkeypatch):
    return demo_store(tmp_path, monkeypatch)


def _draw_id(path) -> int:
    with sqlite3.connect(path) as con:
        return con.execute("SELECT id FROM draw WHERE state = 'sealed'").fetchone()[0]


def test_a_leader_publishes_and_kiosk_verify_agrees(store, tmp_path):
    draw_id = _draw_id(store)
    out = tmp_path / "kit"
    p = kiosk("publish", draw_id, "--out", out, "--db", store, as_="leader", check=0)
    assert f"已发布摇号 {draw_id} 的结果公示第 1 版" in p.stdout
    v = kiosk("verify", out / "record.json", check=0)
    assert "核验通过" in v.stdout
    p = kiosk("publish", draw_id, "--versions", "--db", store, check=0)
    assert p.stdout.startswith("第 1 版") and "leader" in p.stdout

    p = kiosk("publish", "lists", "--out", tmp_path / "lists", "--db", store, as_="leader",
              check=0)
    assert "已发布公示名录第 1 版" in p.stdout
    assert (tmp_path / "lists" / "items.csv").exists()
    p = kiosk("exchange", "export", "--year", json.loads((out / "record.json").read_text())
              ["task"][:4], "--out", tmp_path / "ex", "--db", store, as_="leader", check=0)
    assert "已导出" in p.stdout and (tmp_path / "ex" / "results.csv").exists()


def test_others_are_refused_in_one_sentence_and_logged(store, tmp_path):
    draw_id = _draw_id(store)
    for login in ("operator", "auditor"):
        p = kiosk("publish", draw_id, "--out", tmp_path / login, "--db", store, as_=login,
                  check=1)
        assert p.stderr.strip() == "只有局领导可以发布抽查结果和公示名录。"
        assert "Traceback" not in p.stderr
        assert not (tmp_path / login / "notice.html").exists()
    p = kiosk("exchange", "export", "--year", "2026", "--out", tmp_path / "ex", "--db", store,
              as_="admin", check=1)
    assert "只有局领导" in p.stderr
    with sqlite3.connect(store) as con:
        refused = [a for (a,) in con.execute(
            "SELECT actor FROM audit_event WHERE action = 'cli.refused' ORDER BY seq")]
    assert refused == ["operator", "auditor", "admin"]
    p = kiosk("publish", "abc", "--out", tmp_path / "x", "--db", store, as_="leader", check=1)
    assert "不是摇号编号" in p.stderr
