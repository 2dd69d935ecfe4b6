"""Working days on the official calendar, across 调休 and past the last year the package knows."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from db.models import AuditEvent, Holiday
from kiosk import workdays
from kiosk.errors import UserError

D = dt.date


@pytest.fixture(autouse=True)
def _fresh_cache():
    workdays.invalidate_cache()
    yield
    workdays.invalidate_cache()


def test_national_day_2025(db):
    # Oct 1-8 off; Sunday Sep 28 and Saturday Oct 11 are 调休 make-up working days.
    assert workdays.is_workday(D(2025, 9, 28)) is True
    assert workdays.is_workday(D(2025, 9, 27)) is False
    assert not any(workdays.is_workday(D(2025, 10, d)) for d in range(1, 9))
    assert workdays.is_workday(D(2025, 10, 11)) is True
    assert workdays.add_working_days(D(2025, 9, 26), 1) == D(2025, 9, 28)
    assert workdays.add_working_days(D(2025, 9, 30), 1) == D(2025, 10, 9)
    assert workdays.add_working_days(D(2025, 9, 30), 0) == D(2025, 9, 30)
    # 10 (Fri), 11 (Sat, make-up), 13, 14, 15
    assert workdays.report_due(D(2025, 10, 9)) == (D(2025, 10, 15), False)
    # ended on a holiday: 9, 10, 11 (make-up), 13, 14
    assert workdays.report_due(dt.datetime(2025, 10, 1, 17, 30)) == (D(2025, 10, 14), False)
    # 28 (Sun, make-up), 29, 30, Oct 9, 10
    assert workdays.report_due(D(2025, 9, 26)) == (D(2025, 10, 10), False)


def test_past_last_known_year_falls_back_and_is_provisional(db):
    assert workdays.package_knows(2026) and not workdays.package_knows(2027)
    assert workdays.is_provisional(2026) is False
    assert workdays.is_provisional(2027) is True
    # 29, 30, 31 Dec 2026, then Fri 1 Jan 2027 (fallback: a weekday), Mon 4 Jan
    due, provisional = workdays.report_due(D(2026, 12, 28))
    assert (due, provisional) == (D(2027, 1, 4), True)
    assert workdays.is_workday(D(2027, 1, 2)) is False  # Saturday
    # wholly inside a known year: not provisional
    assert workdays.report_due(D(2026, 12, 1))[1] is False


def test_imported_holiday_file_changes_2027(db, tmp_path):
    f = tmp_path / "h2027.csv"
    f.write_text("日期,类型,名称\n2027-01-01,休,元旦\n2027-01-02,班,元旦调休\n"
                 "2027-01-04,休,元旦\n", encoding="utf-8")
    assert workdays.import_holidays(f, "clerk") == 3
    assert workdays.is_provisional(2027) is False
    assert workdays.is_workday(D(2027, 1, 2)) is True
    # 29, 30, 31 Dec; Jan 1 off; Jan 2 make-up (4); Jan 3 Sun; Jan 4 off; Jan 5 (5)
    assert workdays.report_due(D(2026, 12, 28)) == (D(2027, 1, 5), False)
    ev = AuditEvent.select().where(AuditEvent.action == "holidays.import").get()
    assert ev.actor == "clerk" and json.loads(ev.detail)["rows"] == 3


def test_reimport_replaces_the_year_and_gb18030(db, tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("日期,类型,名称\n2027-01-01,休,元旦\n2027-02-10,休,春节\n", encoding="utf-8")
    workdays.import_holidays(f, "clerk")
    assert workdays.is_workday(D(2027, 2, 10)) is False
    g = tmp_path / "b.csv"
    g.write_bytes("日期,类型,名称\n2027/1/1,休,元旦\n".encode("gb18030"))
    assert workdays.import_holidays(g, "clerk") == 1
    assert workdays.is_workday(D(2027, 2, 10)) is True  # removed by the corrected file
    assert Holiday.select().count() == 1


def test_bureau_row_overrides_a_known_year(db, tmp_path):
    assert workdays.is_workday(D(2025, 10, 10)) is True
    f = tmp_path / "fix.csv"
    f.write_text("日期,类型,名称\n2025-10-10,休,本地更正\n", encoding="utf-8")
    workdays.import_holidays(f, "clerk")
    assert workdays.is_workday(D(2025, 10, 10)) is False
    assert workdays.report_due(D(2025, 10, 9)) == (D(2025, 10, 16), False)


def test_import_rejects_bad_rows_with_line_numbers(db, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("日期,类型,名称\n2027-01-01,休,元旦\n2027-13-01,休,x\n2027-01-05,假,y\n"
                 "2027-01-01,班,dup\n", encoding="utf-8")
    with pytest.raises(UserError) as e:
        workdays.import_holidays(f, "clerk")
    msg = str(e.value)
    assert "第3行" in msg and "2027-13-01" in msg
    assert "第4行" in msg and "休" in msg
    assert "第5行" in msg and "第2行" in msg  # the duplicate names the first occurrence
    assert Holiday.select().count() == 0  # all or nothing
    assert workdays.is_provisional(2027) is True
    assert not AuditEvent.select().where(AuditEvent.action == "holidays.import").exists()


def test_import_rejects_wrong_header(db, tmp_path):
    f = tmp_path / "hdr.csv"
    f.write_text("date,kind\n2027-01-01,休\n", encoding="utf-8")
    with pytest.raises(UserError, match="日期,类型,名称"):
        workdays.import_holidays(f, "clerk")


def test_import_recounts_stored_deadlines_of_open_reports(db, tmp_path):
    """A holiday file for 2027 moves the deadline of a draft ending then, in the same write."""
    from db.models import Report
    from kiosk import reports
    from tests.test_reports import build_world

    w = build_world(year=2027)
    draft = reports.open_report(w.assignments[0], w.member)
    reports.save_draft(draft, {"inspection_start": "2027-09-28 09:00",
                               "inspection_end": "2027-09-28 11:00"}, w.member)
    other = reports.open_report(w.assignments[1], w.reviewer)  # no inspection end yet
    assert (draft.due_date, draft.due_provisional) == (D(2027, 10, 5), True)  # Mon–Fri only
    f = tmp_path / "h.csv"
    f.write_text("日期,类型,名称\n" + "".join(f"2027-10-0{d},休,国庆\n" for d in range(1, 8)),
                 encoding="utf-8")
    workdays.import_holidays(f, "clerk")
    fresh = Report.get_by_id(draft.id)
    # 9-29, 9-30, then 10-1..10-7 off, 10-8 (Fri), 10-11, 10-12
    assert (fresh.due_date, fresh.due_provisional) == (D(2027, 10, 12), False)
    assert Report.get_by_id(other.id).due_date is None
    row = next(r for r in reports.deadlines(D(2027, 10, 4))
               if r.task_code == w.assignments[0].task_code)
    assert (row.due_date, row.provisional) == (D(2027, 10, 12), False)
    ev = AuditEvent.select().where(AuditEvent.action == "holidays.import").get()
    assert json.loads(ev.detail)["recomputed"] == 1
