"""PostgreSQL's COPY write path (kiosk/registry/pg_copy.py) writes exactly the rows the INSERT
statements wrote: every column of awkward rows, new and updated, and nothing on a refusal."""
from __future__ import annotations

import datetime as dt

import pytest

from db import copy_text
from db.models import AuditEvent, Conflict, Inspector, Target, Training
from kiosk import registry
from kiosk.errors import UserError
from kiosk.registry import cells, pg_copy, writer
from tests.test_registry import T_HEAD, code, target_row, write_csv

pytestmark = pytest.mark.postgres

STAMP = dt.datetime(2026, 5, 4, 3, 2, 1)
INSPECTOR_FIELDS = ["cert_no", "name", "office", "department", "cert_valid_from",
                    "cert_valid_until", "active", "phone", "updated_at"]
# Awkward cells: COPY's own escape, column and row characters, quotes, an empty string beside
# NULL dates, Chinese, a backslash before an N (COPY's NULL is \N), booleans both ways.
INSPECTORS = [
    ["A\\1", "张\\N伟", "股\t室", "部门\n二行", None, dt.date(2030, 12, 31), True, "", STAMP],
    ["A2", "李'娜\"", "\\", "回车\r", dt.date(2020, 1, 1), None, False, "\\N", STAMP],
    ["A3", "王强", "", "", None, None, True, "0394-5421001", STAMP],
]


def _columns(rows: list[list]) -> list[list]:
    return [list(c) for c in zip(*rows, strict=True)]


def _stored(model) -> list[tuple]:
    return list(model.select().order_by(model.id).tuples())


def _upsert_inspectors(rows: list[list], updates: list[str]) -> None:
    before = Inspector.select().count()
    writer._upsert(Inspector, INSPECTOR_FIELDS, [Inspector.cert_no], updates, _columns(rows),
                   empty=before == 0)


def _both_paths(monkeypatch, write) -> tuple[list, list]:
    """The rows `write` leaves through COPY, then through the INSERT statements (the path
    before COPY, still the fallback), each from an empty inspector table with the same ids."""
    out = []
    for use_copy in (True, False):
        Conflict.delete().execute()
        Training.delete().execute()
        Inspector.delete().execute()
        Inspector._meta.database.execute_sql(
            "ALTER SEQUENCE inspector_id_seq RESTART WITH 1")
        with monkeypatch.context() as m:
            if not use_copy:
                m.setattr(pg_copy, "upsert", lambda *a, **k: False)
            write()
        out.append(_stored(Inspector))
    return out[0], out[1]


@pytest.mark.parametrize("piece", [1000, 2])  # rows formatted per piece sent
def test_copy_writes_the_rows_the_insert_statements_wrote(pg_db, monkeypatch, piece):
    monkeypatch.setattr(copy_text, "COPY_ROWS", piece)

    def write():
        _upsert_inspectors(INSPECTORS, [])

    copied, inserted = _both_paths(monkeypatch, write)
    assert copied == inserted
    assert copied[0] == (1, "A\\1", "张\\N伟", "股\t室", "部门\n二行", None,
                         dt.date(2030, 12, 31), True, "", STAMP)
    assert copied[1][1:] == ("A2", "李'娜\"", "\\", "回车\r", dt.date(2020, 1, 1), None, False,
                             "\\N", STAMP)
    assert copied[2][5:9] == (None, None, True, "0394-5421001")


def test_an_update_over_existing_rows_matches_too(pg_db, monkeypatch):
    later = STAMP + dt.timedelta(days=1)
    changed = [["A2", "李娜", "新\\股室", "部门", None, dt.date(2031, 1, 1), True, "", later],
               ["A4", "赵六", "大队", "部门", dt.date(2024, 2, 29), None, True, "1", later],
               ["A\\1", "不该改", "x", "x", None, None, False, "", later]]

    def write():
        _upsert_inspectors(INSPECTORS[:2], [])
        # Only some columns change: the rest keep their values (a file without them).
        _upsert_inspectors(changed[:2], ["office", "cert_valid_from", "cert_valid_until",
                                         "updated_at"])

    copied, inserted = _both_paths(monkeypatch, write)
    assert copied == inserted
    assert [r[1:] for r in copied] == [
        ("A\\1", "张\\N伟", "股\t室", "部门\n二行", None, dt.date(2030, 12, 31), True, "", STAMP),
        ("A2", "李'娜\"", "新\\股室", "回车\r", None, dt.date(2031, 1, 1), False, "\\N", later),
        # New rows take ids in the file's order, after the ones the conflicting rows used up.
        ("A4", "赵六", "大队", "部门", dt.date(2024, 2, 29), None, True, "1", later)]
    assert copied[2][0] == 4

    def nothing_to_update():
        _upsert_inspectors(INSPECTORS[:1], [])
        _upsert_inspectors([changed[2]], [])  # key only: DO NOTHING

    copied, inserted = _both_paths(monkeypatch, nothing_to_update)
    assert copied == inserted and [r[2] for r in copied] == ["张\\N伟"]


def test_conflicts_and_trainings_copy_as_before(pg_db, monkeypatch):
    results = []
    for use_copy in (True, False):
        with monkeypatch.context() as m:
            if not use_copy:
                m.setattr(pg_copy, "upsert", lambda *a, **k: False)
            for model in (Conflict, Training, Inspector):
                model.delete().execute()
            Target.delete().execute()
            for seq in ("inspector_id_seq", "conflict_id_seq", "training_id_seq",
                        "target_id_seq"):
                pg_db.execute_sql(f"ALTER SEQUENCE {seq} RESTART WITH 1")
            _upsert_inspectors(INSPECTORS, [])
            Target.create(uscc=code(1), name="甲", category="用人单位")
            writer._upsert(Conflict, ["inspector", "target", "reason", "declared_at"],
                           [Conflict.inspector, Conflict.target], [],
                           [[1, 2], [1, 1], ["亲属\t在职", ""], [STAMP, STAMP]], empty=True)
            writer._upsert(Training, ["inspector", "title", "date", "hours", "organizer"],
                           [Training.inspector, Training.title, Training.date],
                           ["hours"], [[1, 1], ["培训", "培训"],
                                       [dt.date(2026, 4, 10), dt.date(2026, 4, 11)],
                                       [16, 0], ["", "人社局"]], empty=True)
            writer._upsert(Training, ["inspector", "title", "date", "hours", "organizer"],
                           [Training.inspector, Training.title, Training.date],
                           ["hours"], [[1], ["培训"], [dt.date(2026, 4, 10)], [8], ["x"]])
            results.append((_stored(Conflict), _stored(Training)))
    assert results[0] == results[1]
    conflicts, trainings = results[0]
    assert [c[1:] for c in conflicts] == [(1, 1, "亲属\t在职", STAMP), (2, 1, "", STAMP)]
    assert [t[1:] for t in trainings] == [(1, "培训", dt.date(2026, 4, 10), 8, ""),
                                          (1, "培训", dt.date(2026, 4, 11), 0, "人社局")]


def test_copy_cells_escape_exactly():
    assert copy_text.copy_column(["a\\b", "c\td", "e\nf", "g\rh", "", "\\N"]) == [
        "a\\\\b", "c\\td", "e\\nf", "g\\rh", "", "\\\\N"]
    assert copy_text.copy_column(["甲", None, ""]) == ["甲", "\\N", ""]
    assert copy_text.copy_column([b"\x00\xff", memoryview(b"ab"), None]) == [
        "\\\\x00ff", "\\\\x6162", "\\N"]  # bytea's hex form, the backslash escaped
    assert copy_text.copy_column([True, False, None, 0, 7]) == ["t", "f", "\\N", "0", "7"]
    assert copy_text.copy_column([STAMP, dt.date(2026, 1, 2)]) == ["2026-05-04 03:02:01",
                                                                 "2026-01-02"]


def _targets_csv(tmp_path, name, rows):
    return write_csv(tmp_path / name, T_HEAD, rows)


def test_imports_through_copy_insert_then_update_in_file_order(pg_db, tmp_path):
    rows = [target_row(i, f"商水县“鑫源”\\{i}号有限公司") for i in range(1, 6)]
    rows[1][3:5] = ["", ""]  # empty optional text stays '' (not NULL)
    rows[2][8:10] = ["是", "停用"]
    res = registry.import_file("targets", _targets_csv(tmp_path, "a.csv", rows), "clerk")
    assert (res.inserted, res.updated) == (5, 0)
    got = list(Target.select(Target.id, Target.uscc, Target.name, Target.township,
                             Target.address, Target.serious_violation, Target.active)
               .order_by(Target.id).tuples())
    assert [g[:2] for g in got] == [(i, code(i)) for i in range(1, 6)]
    assert got[0][2] == "商水县“鑫源”\\1号有限公司"
    assert got[1][3:5] == ("", "") and got[2][5:] == (True, False) and got[0][5:] == (False, True)

    # Two rows again (one renamed) and a new one, with only three columns.
    res = registry.import_file("targets", write_csv(
        tmp_path / "b.csv", T_HEAD[:3], [[code(9), "新公司", "用人单位-建筑业"],
                                         [code(3), "改名\\公司", "用人单位-制造业"]]), "clerk")
    assert (res.inserted, res.updated) == (1, 1)
    t3 = Target.get(Target.uscc == code(3))
    assert (t3.id, t3.name, t3.serious_violation, t3.active, t3.township) == (
        3, "改名\\公司", True, False, "黄寨镇")
    new = Target.get(Target.uscc == code(9))
    assert (new.township, new.size_class, new.active) == ("", "小型", True)
    assert registry.count("targets", "改名\\公司") == 1
    events = list(AuditEvent.select().where(AuditEvent.action == "registry.import")
                  .order_by(AuditEvent.seq))
    assert len(events) == 2 and '"inserted": 1' in events[1].detail


@pytest.mark.parametrize("existing", [0, 2])
def test_a_refused_import_leaves_the_store_as_it_was(pg_db, tmp_path, monkeypatch, existing):
    if existing:
        registry.import_file("targets", _targets_csv(
            tmp_path, "old.csv", [target_row(i) for i in range(1, existing + 1)]), "clerk")
    before = _stored(Target)
    events = AuditEvent.select().count()
    bad = target_row(8)
    bad[7] = "3000000000"  # past PostgreSQL's integer, once the check is loosened below
    rows = [target_row(1, "改了名"), target_row(7), bad]
    monkeypatch.setattr(cells, "INT_MAX", 2**62)
    with pytest.raises(UserError) as info:
        registry.import_file("targets", _targets_csv(tmp_path, "bad.csv", rows), "clerk")
    assert str(info.value).startswith("数据库拒绝了导入的数据，文件未做任何更改（")
    assert _stored(Target) == before
    assert AuditEvent.select().count() == events
    # The connection is usable and the temp table gone with the rollback.
    monkeypatch.undo()
    res = registry.import_file("targets", _targets_csv(tmp_path, "ok.csv", rows[:2]), "clerk")
    assert (res.inserted, res.updated) == (2 - min(existing, 1), min(existing, 1))


def test_a_large_import_leaves_planner_statistics(pg_db, tmp_path, monkeypatch):
    monkeypatch.setattr(pg_copy, "ANALYZE_ROWS", 3)
    registry.import_file("targets", _targets_csv(
        tmp_path, "a.csv", [target_row(i) for i in range(1, 5)]), "clerk")
    analysed = pg_db.execute_sql(
        "SELECT reltuples FROM pg_class WHERE oid = 'target'::regclass").fetchone()[0]
    assert analysed == 4


def test_a_large_import_empties_the_gin_indexes_queues(pg_db, tmp_path, monkeypatch):
    # A GIN index that needs no extension (pg_trgm lives in one schema of the shared test
    # server, so target_name_trgm is not always there); the clean-up treats every GIN alike.
    pg_db.execute_sql("CREATE INDEX target_words ON target USING gin "
                      "(to_tsvector('simple', name)) WITH (fastupdate = on)")
    monkeypatch.setattr(pg_copy, "ANALYZE_ROWS", 3)
    registry.import_file("targets", _targets_csv(
        tmp_path, "a.csv", [target_row(i, f"商水县 鑫源{i} 纺织有限公司") for i in range(1, 40)]),
        "clerk")
    # Nothing left for a search to read linearly: a second clean-up finds no page to move.
    cleaned = "SELECT gin_clean_pending_list('target_words'::regclass)"
    assert pg_db.execute_sql(cleaned).fetchone()[0] == 0
    monkeypatch.setattr(pg_copy, "ANALYZE_ROWS", 10**9)  # a small import leaves it queued
    registry.import_file("targets", _targets_csv(
        tmp_path, "b.csv", [target_row(i, f"周口 {i} 建材有限公司") for i in range(40, 80)]),
        "clerk")
    assert pg_db.execute_sql(cleaned).fetchone()[0] > 0


def test_the_terminals_role_imports_through_copy_too(pg_url, tmp_path, monkeypatch):
    """The README's deployment: the terminals' role owns no table. COPY and the staging table
    need only INSERT and the database's default TEMP right; ANALYZE and the GIN clean-up,
    which only an owner may run, are skipped or warn instead of failing the import."""
    from db import connect
    from tests.test_migrations import terminal_role_store

    def gin_index(db) -> None:  # a GIN index the terminals' role does not own
        db.execute_sql("CREATE INDEX target_words ON target USING gin "
                       "(to_tsvector('simple', name))")

    monkeypatch.setattr(pg_copy, "ANALYZE_ROWS", 3)
    monkeypatch.setattr(writer, "BULK_INDEX_ROWS", 2)  # owns no index: none is dropped
    with terminal_role_store(pg_url, gin_index) as app_url:
        db = connect(app_url)
        rows = [target_row(i) for i in range(1, 6)]
        assert registry.import_file("targets", _targets_csv(tmp_path, "a.csv", rows),
                                    "clerk").inserted == 5
        rows[0][1] = "改名公司"
        res = registry.import_file("targets", _targets_csv(tmp_path, "b.csv", rows), "clerk")
        assert (res.inserted, res.updated) == (0, 5)
        assert [t.name for t in Target.select().order_by(Target.id)][:2] == [
            "改名公司", target_row(2)[1]]
        db.close()


def test_a_first_bulk_load_builds_the_indexes_once_and_keeps_them(pg_db, tmp_path, monkeypatch):
    """A load into an empty table drops the indexes it owns and builds them again after the
    COPY, in the same transaction: afterwards every index is there as it was (the unique one
    refusing a repeated code), and a refused load rolls the drops back with the rows."""
    import peewee

    indexes = ("SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
               "WHERE indrelid = 'target'::regclass ORDER BY 1")
    before = pg_db.execute_sql(indexes).fetchall()
    dropped: list[list[str]] = []
    real = pg_copy._drop_indexes

    def spy(cursor, table):
        dropped.append(real(cursor, table))
        return dropped[-1]

    monkeypatch.setattr(pg_copy, "_drop_indexes", spy)
    monkeypatch.setattr(writer, "BULK_INDEX_ROWS", 2)
    bad = target_row(8)
    bad[7] = "3000000000"  # past PostgreSQL's integer, once the check is loosened below
    with monkeypatch.context() as m:
        m.setattr(cells, "INT_MAX", 2**62)
        with pytest.raises(UserError, match="数据库拒绝了导入的数据"):
            registry.import_file("targets", _targets_csv(
                tmp_path, "bad.csv", [target_row(1), target_row(2), bad]), "clerk")
    assert pg_db.execute_sql(indexes).fetchall() == before and _stored(Target) == []

    rows = [target_row(i, f"商水县鑫源{i}纺织有限公司") for i in range(1, 6)]
    assert registry.import_file("targets", _targets_csv(tmp_path, "a.csv", rows),
                                "clerk").inserted == 5
    assert pg_db.execute_sql(indexes).fetchall() == before
    # Every index but the primary key was dropped and built again, each time.
    assert [sorted(d) for d in dropped] == [sorted(s for n, s in before
                                                    if n != "target_pkey")] * 2
    assert [r["uscc"] for r in registry.search("targets", code(3)[:17])] == [code(3)]
    assert [r["uscc"] for r in registry.search("targets", "鑫源4")] == [code(4)]
    with pytest.raises(peewee.IntegrityError), pg_db.atomic():
        Target.create(uscc=code(2), name="重复", category="用人单位-制造业")
    # A second load finds rows: its indexes are kept and updated row by row.
    registry.import_file("targets", _targets_csv(tmp_path, "b.csv", [target_row(9)]), "clerk")
    assert len(dropped) == 2 and pg_db.execute_sql(indexes).fetchall() == before
