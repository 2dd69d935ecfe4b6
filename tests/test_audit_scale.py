"""An honest store of 100,000 events verifies, on SQLite and PostgreSQL (kept out of
`make mutate`'s selection: it takes seconds per run)."""
from __future__ import annotations

import time

import pytest

from kiosk import audit
from tests.test_screens_audit import bulk_events


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.postgres)])
def store(request):
    return request.getfixturevalue("db" if request.param == "sqlite" else "pg_db")


def test_an_honest_store_of_100000_events_verifies(store):
    bulk_events(100_000)
    audit.record("leader", "plan.approve", "plan", 2026)
    t0 = time.perf_counter()
    v = audit.verify()
    took = time.perf_counter() - t0
    assert v.ok, v.message
    assert v.events == 100_001 and v.head == audit.head()
    assert took < 60  # measured ~1.5 s on SQLite; only a guard against a quadratic walk
