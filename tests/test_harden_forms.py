"""Issue 12 part 5: random and hostile text in every report form field and every setting:
one plain sentence per refused field, nothing else written, the audit chain holds."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from db.models import AuditEvent, Report, Setting
from kiosk import audit, reports
from kiosk import settings as kiosk_settings
from kiosk.errors import UserError
from kiosk.reports.form import FIELD_LABELS
from tests.test_reports import build_world

HOSTILE = st.sampled_from(["[@click=app.quit]X", "=HYPERLINK(\"http://x\")", "\x00\x1b[2J",
                           "9" * 40, "2026-02-30 25:61", "-1", "'; DROP TABLE report; --",
                           "\u202e\u0000", "x" * 5000, "１２３", "2026-07-03 09:30"])
TEXT = st.text(max_size=60) | HOSTILE
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def world(db):
    return build_world()


def one_sentence(message: str) -> bool:
    return bool(message) and "\n" not in message and len(message) < 200 and (
        "Traceback" not in message)


@FUZZ
@given(st.dictionaries(st.sampled_from(sorted(FIELD_LABELS)), TEXT, min_size=1, max_size=4))
def test_any_report_form_input_is_saved_or_refused_by_field(world, edits):
    report = reports.open_report(world.assignments[0], world.member, member=True)
    before = {n: getattr(Report.get_by_id(report.id), n) for n in FIELD_LABELS}
    result = reports.save_form(report, edits, world.member)
    row = Report.get_by_id(report.id)
    for name, message in result.errors.items():
        assert name in edits and one_sentence(message)
        assert getattr(row, name) == before[name]  # a refused field keeps its stored value
    assert audit.verify()[0]


@FUZZ
@given(st.sampled_from(sorted(kiosk_settings.SPECS)), TEXT)
def test_any_setting_value_is_stored_checked_or_refused(db, key, value):
    rows = Setting.select().count()
    events = AuditEvent.select().count()
    try:
        stored = kiosk_settings.change(key, value, "admin")
    except UserError as e:
        assert one_sentence(str(e))
        assert (Setting.select().count(), AuditEvent.select().count()) == (rows, events)
        return
    assert kiosk_settings.get(key) == stored
    assert len(stored) <= 300 and "\x00" not in stored
    assert audit.verify()[0]
