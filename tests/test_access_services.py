"""Role checks live in the services: a screen or script calling them directly meets the same
rule as the CLI (issue 9: exports, the leadership summary, the holiday file)."""
from __future__ import annotations

import pytest

from db.models import AuditEvent
from kiosk import auth, registry, reports, workdays
from kiosk.errors import UserError


@pytest.fixture
def accounts(db):
    for login, role in (("clerk", "admin"), ("w1", "witness"), ("op", "operator"),
                        ("boss", "leader")):
        auth.create_user(login, f"{login}-pass1", role, login)


def test_registry_export_refuses_a_witness_and_writes_nothing(accounts, tmp_path):
    out = tmp_path / "targets.csv"
    with pytest.raises(UserError, match="无权导出"):
        registry.export_file("targets", out, "w1")
    assert not out.exists()
    with pytest.raises(UserError, match="纪检审计人员"):
        registry.export_file("conflicts", tmp_path / "c.csv", "boss")
    assert registry.export_file("targets", out, "clerk") == 0 and out.exists()


def test_holiday_import_needs_the_registry_clerk(accounts, tmp_path):
    f = tmp_path / "h.csv"
    f.write_text("日期,类型,名称\n2027-01-01,休,元旦\n", encoding="utf-8")
    before = AuditEvent.select().count()
    with pytest.raises(UserError, match="登记管理员"):
        workdays.import_holidays(f, "op")
    assert AuditEvent.select().count() == before
    assert workdays.import_holidays(f, "clerk") == 1


def test_leadership_summary_is_for_the_dashboards_readers(accounts):
    with pytest.raises(UserError, match="汇总"):
        reports.leadership_summary(2026, auth.login("w1", "w1-pass1"))
    rows, totals = reports.leadership_summary(2026, auth.login("boss", "boss-pass1"))
    assert rows == [] and isinstance(totals, dict)
