"""PostgreSQL's draw path at size: the pool read in code order from migration v12's index
without a sort (once a bulk import has VACUUMed the table), the seal's rows written with COPY,
and a draw's save writing only what changed."""
from __future__ import annotations

import pytest

from db.connection import connect
from db.models import Draw, Setting, Target
from kiosk import registry
from kiosk.draw import lock, pool, steps
from kiosk.registry import pg_copy
from kiosk.store import bulk_insert, vacuum, write_tx
from tests import draw_world
from tests.test_migrations import terminal_role_store
from tests.test_registry import T_HEAD, target_row, write_csv

CATEGORY = "劳务派遣单位"  # draw_world's item


def _visible(db) -> tuple[int, int]:
    return db.execute_sql("SELECT relallvisible, relpages FROM pg_class "
                          "WHERE oid = to_regclass('target')").fetchone()


@pytest.mark.postgres
def test_a_bulk_import_leaves_the_pool_to_be_read_from_one_index_in_code_order(
        pg_db, tmp_path, monkeypatch):
    _, _, _, tasks = draw_world.make_world(n_targets=0, conflicts=())
    # Written in reverse code order, so the table's order is not the pool's.
    rows = [target_row(i, category=CATEGORY) for i in reversed(range(pg_copy.ANALYZE_ROWS))]
    registry.import_file("targets", write_csv(tmp_path / "t.csv", T_HEAD, rows), "clerk")
    visible, pages = _visible(pg_db)
    assert pages > 0 and visible == pages  # VACUUMed after the commit: every page all-visible

    seen = []
    real = pg_db.execute_sql

    def spy(sql, params=None, *args, **kwargs):
        if "string_agg" in sql:
            seen.append((sql, params))
        return real(sql, params, *args, **kwargs)

    monkeypatch.setattr(pg_db, "execute_sql", spy)
    fr = pool.build_pool(tasks[0], draw_world.TODAY)
    monkeypatch.undo()
    expected = sorted(u for (u,) in Target.select(Target.uscc)
                      .where(Target.category == CATEGORY).tuples())
    assert len(expected) == pg_copy.ANALYZE_ROWS
    assert fr.ids == expected  # code-point order, as the protocol sorts the pool
    assert fr.col == ["一般"] * len(expected)
    [(sql, params)] = seen
    plan = "\n".join(r[0] for r in pg_db.execute_sql(f"EXPLAIN {sql}", params).fetchall())
    assert "Index Only Scan using target_uscc_sorted" in plan
    assert "Sort" not in plan


@pytest.mark.postgres
def test_vacuum_runs_only_outside_a_transaction_and_only_for_the_tables_owner(pg_db, pg_url):
    """And on SQLite never (tests/test_store.py)."""
    with pg_db.atomic():
        assert vacuum(Target) is False  # PostgreSQL refuses VACUUM in one
    assert vacuum(Target) is True
    assert vacuum(Target, analyze=True) is True
    with terminal_role_store(pg_url) as url:
        terminal = connect(url)
        try:
            assert vacuum(Target) is False  # left to autovacuum
        finally:
            terminal.close()


@pytest.mark.postgres
def test_bulk_insert_copies_awkward_text_unchanged(pg_db):
    rows = [("tab", "a\tb"), ("newline", "a\nb\r\n"), ("backslash", "\\N \\t \\"),
            ("empty", ""), ("chinese", "商水县‘引号’\"双\"")]
    with write_tx():
        bulk_insert(Setting, ["key", "value"], rows)
    stored = dict(Setting.select(Setting.key, Setting.value)
                  .where(Setting.key.in_([k for k, _ in rows])).tuples())
    assert stored == dict(rows)


@pytest.mark.postgres
def test_a_ceremony_step_writes_only_the_fields_it_set(pg_db):
    _, _, _, tasks = draw_world.make_world()
    d = steps.prepare(tasks[0].code, "operator", draw_date=draw_world.TODAY)
    stale = Draw.get_by_id(d.id)
    Draw.update(beacon_source="另一终端写入").where(Draw.id == d.id).execute()
    with write_tx():
        lock.save(stale, "prepared")
    row = Draw.get_by_id(d.id)
    assert row.beacon_source == "另一终端写入"  # not rewritten from the stale copy
    assert row.updated_at >= stale.started_at


@pytest.mark.postgres
def test_a_vacuum_that_cannot_have_the_table_gives_up_and_leaves_it_to_autovacuum(
        pg_db, pg_url, monkeypatch):
    import psycopg2

    from kiosk import store

    monkeypatch.setattr(store, "VACUUM_LOCK_WAIT", "200ms")
    schema = pg_db.execute_sql("SELECT current_schema()").fetchone()[0]
    other = psycopg2.connect(pg_url)  # another session, as a DBA's index build would
    try:
        other.cursor().execute(f'LOCK TABLE "{schema}".target IN SHARE UPDATE EXCLUSIVE MODE')
        assert vacuum(Target) is False  # no exception: the caller's rows are committed
    finally:
        other.rollback()
        other.close()
    assert pg_db.execute_sql("SHOW lock_timeout").fetchone()[0] == "0"  # put back
    assert vacuum(Target) is True
