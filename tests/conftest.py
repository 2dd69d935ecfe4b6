"""Shared fixtures: a real SQLite file per test, and a real PostgreSQL database when one runs."""
from __future__ import annotations

import os
import uuid

import pytest

from db import connect


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """Keep the developer's own store and settings out of tests."""
    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path / "files"))
    monkeypatch.delenv("KIOSK_DB", raising=False)
    yield


@pytest.fixture(autouse=True)
def _calendar_published_through_2026(monkeypatch):
    """The tests treat 2027 as a year whose holidays are not yet published, as they were
    when written; a later chinesecalendar release that knows 2027 must not change that."""
    from kiosk import workdays

    real = workdays.package_knows
    monkeypatch.setattr(workdays, "package_knows", lambda year: year <= 2026 and real(year))


@pytest.fixture(autouse=True)
def _no_blink(monkeypatch):
    """A blinking cursor makes every frame different (snapshots, timing); no test needs it."""
    from textual.widgets import Input

    monkeypatch.setattr(Input, "cursor_blink", False, raising=False)


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "kiosk.sqlite3"


@pytest.fixture
def db(db_path):
    """A fresh, migrated SQLite file (WAL, foreign keys) bound to the models."""
    conn = connect(db_path)
    yield conn
    conn.close()


@pytest.fixture
def pg_url():
    url = os.environ.get("KIOSK_TEST_PG_URL")
    if not url:
        if os.environ.get("KIOSK_REQUIRE_PG") == "1":
            pytest.fail("KIOSK_REQUIRE_PG=1 but no PostgreSQL server was started "
                        "(KIOSK_TEST_PG_URL).")
        pytest.skip("no PostgreSQL server (KIOSK_TEST_PG_URL unset)")
    return url


@pytest.fixture
def pg_db(pg_url):
    """A fresh schema in the test PostgreSQL server, bound to the models."""
    import psycopg2

    schema = "t_" + uuid.uuid4().hex[:12]
    raw = psycopg2.connect(pg_url)
    raw.autocommit = True
    raw.cursor().execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in pg_url else "?"
    conn = connect(f"{pg_url}{sep}options=-csearch_path%3D{schema}")
    yield conn
    conn.close()
    raw.cursor().execute(f"DROP SCHEMA {schema} CASCADE")
    raw.close()
