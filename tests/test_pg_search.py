"""A search by credit code gives the same targets on SQLite and PostgreSQL, and on PostgreSQL
its prefix match is served by an index (migration v11) instead of a scan of the table."""
from __future__ import annotations

import pytest

from db.migrations import (
    LATEST,
    _v11_uscc_prefix_index,
    _v12_pool_in_code_order,
    current_version,
    migrate,
)
from db.models import Target
from kiosk import registry
from kiosk.registry.search import _pg_prefix
from tests.test_registry import T_HEAD, code, target_row, write_csv

CODES = [code(i) for i in (1, 2, 3, 12, 123)]


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    db = request.getfixturevalue("db" if request.param == "sqlite" else "pg_db")
    rows = [target_row(i) for i in (1, 2, 3, 12, 123)]
    registry.import_file("targets", write_csv(tmp_path / "t.csv", T_HEAD, rows), "clerk")
    return db


def _found(text: str) -> list[str]:
    return [r["uscc"] for r in registry.search("targets", text, limit=50)]


@pytest.mark.parametrize("text, expected", [
    (CODES[0], [CODES[0]]),                            # a whole code
    (CODES[0][:12], CODES),                            # a prefix all share
    (CODES[0][:12].lower(), CODES),                    # typed in lower case
    (CODES[4][:-1].lower(), [CODES[4]]),
    (CODES[3][8:15], [CODES[3]]),                      # a fragment from the middle
    (CODES[3][8:15].lower(), [CODES[3]]),
    ("9141162", CODES),
    ("9141162Z", []),
])
def test_a_code_search_finds_the_same_targets_on_both_engines(store, text, expected):
    assert _found(text) == expected
    assert registry.count_capped("targets", text) == (len(expected), False)


@pytest.mark.parametrize("text", ["9141162%", "91411_23", "914116_", "91%", "9\\1", "9141162 %"])
def test_wildcards_in_a_search_match_only_themselves(store, text):
    assert _found(text) == []
    assert registry.count("targets", text) == 0


@pytest.mark.postgres
def test_prefix_search_is_served_by_the_pattern_index(pg_db, tmp_path):
    registry.import_file("targets", write_csv(tmp_path / "t.csv", T_HEAD, [target_row(1)]),
                         "clerk")
    sql, params = Target.select().where(_pg_prefix("91411623MA")).sql()
    assert params == ["91411623MA%"] and " LIKE " in sql
    assert _pg_prefix("9_1%\\").rhs == "9\\_1\\%\\\\%"  # wildcards escaped as LIKE reads them
    with pg_db.atomic():
        pg_db.execute_sql("SET LOCAL enable_seqscan = off")
        plan = "\n".join(r[0] for r in pg_db.execute_sql(f"EXPLAIN {sql}", params).fetchall())
    assert "target_uscc_sorted" in plan


@pytest.mark.postgres
def test_the_code_order_index_migration_is_idempotent_on_postgresql(pg_db):
    def indexes() -> dict[str, str]:
        return dict(pg_db.execute_sql(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'target' "
            "AND schemaname = current_schema()").fetchall())

    before = indexes()
    assert "text_pattern_ops" in before["target_uscc_sorted"]
    assert "INCLUDE (category, active, size_class" in before["target_uscc_sorted"]
    # v12 replaced v11's prefix index and v4's pool index on PostgreSQL
    assert "target_uscc_prefix" not in before and "target_pool_cover" not in before
    _v12_pool_in_code_order(pg_db)
    assert indexes() == before
    assert migrate(pg_db) == current_version(pg_db) == LATEST


def test_the_prefix_index_migrations_do_nothing_on_sqlite(db):
    def schema() -> list:
        return db.execute_sql("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()

    before = schema()
    assert not [r for r in before if r[1] in ("target_uscc_prefix", "target_uscc_sorted")]
    assert [r for r in before if r[1] == "target_pool_cover"]  # SQLite keeps v4's index
    _v11_uscc_prefix_index(db)
    _v12_pool_in_code_order(db)
    assert schema() == before
    assert current_version(db) == LATEST
