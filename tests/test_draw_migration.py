"""Schema v6 (issue 8) upgrades a store that already holds sealed draws, on SQLite with its
foreign keys on: the draw table, which listings, witnesses and assignments point at, is
altered in place, never rebuilt."""
from __future__ import annotations

import sqlite3

from db import connect
from db.models import Draw, DrawWitness
from kiosk.draw import steps
from tests.draw_world import confirm_all, make_world, run_to_matched

V6_COLUMNS = (("draw", "sealed_entropy"), ("draw", "beacon_source"), ("draw_witness", "account"))


def test_v6_upgrades_a_store_with_sealed_draws(tmp_path):
    path = tmp_path / "old.sqlite3"
    conn = connect(path)
    tasks = make_world()[3]
    draw_id = run_to_matched(tasks[0].code)
    confirm_all(draw_id)
    record = steps.seal(draw_id, "operator")
    conn.close()
    # The store as v5 left it: without the three columns.
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA foreign_keys = ON")
    for table, column in V6_COLUMNS:
        raw.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    raw.execute("DELETE FROM schema_version WHERE version >= 6")
    raw.commit()
    raw.close()

    conn = connect(path)  # upgrades
    try:
        for table, column in V6_COLUMNS:
            assert column in {c.name for c in conn.get_columns(table)}
        draw = Draw.get_by_id(draw_id)
        assert (draw.state, draw.seed, draw.sealed_entropy, draw.beacon_source) == \
            ("sealed", record["seed"], "", "")
        assert [w.account for w in DrawWitness.select()] == ["", ""]
        assert draw.assignments.count() == len(record["selected"])
    finally:
        conn.close()
