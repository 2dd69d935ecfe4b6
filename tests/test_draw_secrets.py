"""Issue 8: a reader of the store learns nothing that predicts the draw before the reveal.

The store is read as an insider would (every table, every column, and the SQLite files'
raw bytes) at every step from the commitment to the reveal, on SQLite and PostgreSQL.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets as std_secrets
import sqlite3
import stat
from pathlib import Path

import pytest

from db.models import Draw, Setting
from kiosk import secrets as kiosk_secrets
from kiosk.draw import lottery, steps, witnesses
from kiosk.errors import UserError
from tests.draw_world import TODAY, make_world, user

HEX64 = re.compile(rb"[0-9a-fA-F]{64}")


@pytest.fixture
def captured(monkeypatch):
    """Every 32 random bytes the kiosk draws, so the test knows the system entropy."""
    drawn: list[bytes] = []
    real = std_secrets.token_bytes

    def token_bytes(n=None):
        b = real(n)
        if n == 32:
            drawn.append(b)
        return b

    monkeypatch.setattr(std_secrets, "token_bytes", token_bytes)
    return drawn


def _entropy_of(draw_id: int, drawn: list[bytes]) -> bytes:
    commitment = Draw.get_by_id(draw_id).commitment
    found = [b for b in drawn if hashlib.sha256(b).hexdigest() == commitment]
    assert len(found) == 1
    return found[0]


def sqlite_rows(path: Path) -> list[bytes]:
    """Every value of every row of every table, as the sqlite3 shell would show them."""
    con = sqlite3.connect(path)
    out = []
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for t in tables:
            for row in con.execute(f'SELECT * FROM "{t}"'):
                for v in row:
                    out.append(v if isinstance(v, bytes) else str(v).encode())
    finally:
        con.close()
    return out


def sqlite_files(path: Path) -> bytes:
    """The raw bytes of the store and its WAL: freed pages and journals included."""
    return b"".join(Path(str(path) + s).read_bytes() for s in ("", "-wal", "-shm")
                    if Path(str(path) + s).exists())


def pg_rows() -> list[bytes]:
    from db.connection import database

    db = database.obj
    tables = [r[0] for r in db.execute_sql(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")]
    out = []
    for t in tables:
        for (text,) in db.execute_sql(f'SELECT t::text FROM "{t}" AS t'):
            out.append(text.encode())  # bytea shows as \x<hex>
    return out


def leaks(values: list[bytes], entropy: bytes) -> bool:
    h = entropy.hex().encode()
    return any(entropy in v or h in v.lower() for v in values)


def _through_steps(task_code, drawn, read):
    """Run a draw, reading the store after every step from commit to reveal."""
    d = steps.prepare(task_code, "operator", draw_date=TODAY, beacon_source="福彩3D开奖号码")
    w1, w2 = user("witness1"), user("witness2")
    witnesses.sign_in(d.id, w1)
    witnesses.sign_in(d.id, w2)
    steps.commit(d.id, "operator")
    entropy = _entropy_of(d.id, drawn)
    seen = {"committed": read()}
    witnesses.set_beacon(d.id, "517", "operator")
    seen["beacon"] = read()
    witnesses.enter_entropy(d.id, w1, "3 5 6")
    seen["one witness"] = read()
    witnesses.enter_entropy(d.id, w2, "今天天气晴朗，掷骰 3 5 6")
    seen["all witnesses"] = read()
    steps.reveal(d.id, "operator")
    seen["revealed"] = read()
    return d.id, entropy, seen


def test_sqlite_store_holds_no_entropy_before_the_reveal(db, db_path, captured):
    _item, _targets, _inspectors, tasks = make_world()
    draw_id, entropy, seen = _through_steps(
        tasks[0].code, captured, lambda: [*sqlite_rows(db_path), sqlite_files(db_path)])
    for step in ("committed", "beacon", "one witness", "all witnesses"):
        assert not leaks(seen[step], entropy), step
    # the scan finds it once it is meant to be public: the check can fail
    assert leaks(seen["revealed"], entropy)
    assert Draw.get_by_id(draw_id).system_entropy == entropy.hex()


@pytest.mark.postgres
def test_postgresql_store_holds_no_entropy_before_the_reveal(pg_db, captured):
    _item, _targets, _inspectors, tasks = make_world()
    _draw_id, entropy, seen = _through_steps(tasks[0].code, captured, pg_rows)
    for step in ("committed", "beacon", "one witness", "all witnesses"):
        assert not leaks(seen[step], entropy), step
    assert leaks(seen["revealed"], entropy)


def test_grinding_from_the_store_cannot_predict_the_selection(db, db_path, captured):
    """The attack of issue 8: read the store after witness 1, grind witness 2's value."""
    _item, _targets, _inspectors, tasks = make_world(n_targets=103)
    d = steps.prepare(tasks[0].code, "operator", draw_date=TODAY)
    w1, w2 = user("witness1"), user("witness2")
    witnesses.sign_in(d.id, w1)
    witnesses.sign_in(d.id, w2)
    steps.commit(d.id, "operator")
    witnesses.enter_entropy(d.id, w1, "7 3 1 9")
    # The insider's copy of the store: every 64-hex string and every 32-byte window.
    values = [*sqlite_rows(db_path), sqlite_files(db_path)]
    candidates = {m.group().decode().lower() for v in values for m in HEX64.finditer(v)}
    raw = sqlite_files(db_path)
    candidates |= {raw[i:i + 32].hex() for i in range(0, len(raw) - 31)}
    draw = Draw.get_by_id(d.id)
    assert not any(lottery.commitment(c) == draw.commitment for c in candidates)
    # Grinding anyway with the store's best guess: the firm the insider wants in.
    fr = steps.frozen_of(draw)
    wanted = fr.by_stratum["一般"][0]
    strata = json.loads(draw.strata_json)
    guess = next(iter(c for c in candidates if len(c) == 64))
    chosen, predicted_seed = None, None
    for k in range(200):
        seed = lottery.compute_seed(draw.pool_digest, draw.inspectors_digest,
                                    draw.conflicts_digest, strata, draw.team_size, guess,
                                    ["7 3 1 9", str(k)], None)
        if wanted in lottery.select_from(fr.by_stratum, strata, seed):
            chosen, predicted_seed = str(k), seed
            break
    assert chosen is not None
    witnesses.enter_entropy(d.id, w2, chosen)
    steps.reveal(d.id, "operator")
    assert Draw.get_by_id(d.id).seed != predicted_seed


def test_key_file_is_private_and_the_store_keeps_only_its_fingerprint(db):
    path = kiosk_secrets.init()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    keys = kiosk_secrets.keys()
    stored = {s.key: s.value for s in Setting.select()}
    assert stored[kiosk_secrets.FINGERPRINT_SETTING] == kiosk_secrets.fingerprint(keys)
    for v in keys.values():
        assert not any(v.hex() in value for value in stored.values())


def test_missing_or_foreign_key_file_is_one_sentence(db, tmp_path, monkeypatch):
    kiosk_secrets.init()
    kiosk_secrets._cache.clear()
    monkeypatch.setenv("KIOSK_SECRETS_DIR", str(tmp_path / "second-terminal"))
    with pytest.raises(UserError, match=r"缺少密钥文件.*复制"):
        kiosk_secrets.slip_secret()
    # another store's key file copied by mistake
    (tmp_path / "second-terminal").mkdir()
    (tmp_path / "second-terminal" / kiosk_secrets.KEY_FILE).write_text(
        json.dumps({"slip_hmac": "11" * 32, "entropy": "22" * 32}), encoding="utf-8")
    with pytest.raises(UserError, match="不匹配"):
        kiosk_secrets.entropy_key()
    # the right file, copied over: the second terminal works
    monkeypatch.delenv("KIOSK_SECRETS_DIR")
    kiosk_secrets._cache.clear()
    right = kiosk_secrets.key_path().read_bytes()
    (tmp_path / "second-terminal" / kiosk_secrets.KEY_FILE).write_bytes(right)
    monkeypatch.setenv("KIOSK_SECRETS_DIR", str(tmp_path / "second-terminal"))
    assert kiosk_secrets.slip_secret().hex() == json.loads(right)["slip_hmac"]


def test_a_legacy_slip_secret_leaves_the_store_for_the_key_file(db):
    Setting.create(key=kiosk_secrets.LEGACY_SLIP_SETTING, value="ab" * 32)
    assert kiosk_secrets.slip_secret() == bytes.fromhex("ab" * 32)
    assert Setting.get_or_none(Setting.key == kiosk_secrets.LEGACY_SLIP_SETTING) is None


def test_a_changed_sealed_entropy_cannot_be_opened(db):
    _item, _targets, _inspectors, tasks = make_world()
    d = steps.prepare(tasks[0].code, "operator", draw_date=TODAY)
    for login in ("witness1", "witness2"):
        witnesses.sign_in(d.id, user(login))
    steps.commit(d.id, "operator")
    sealed = Draw.get_by_id(d.id).sealed_entropy
    flipped = sealed[:-2] + ("00" if sealed[-2:] != "00" else "01")
    Draw.update(sealed_entropy=flipped).where(Draw.id == d.id).execute()
    witnesses.enter_entropy(d.id, user("witness1"), "1")
    witnesses.enter_entropy(d.id, user("witness2"), "2")
    with pytest.raises(UserError, match="无法解开"):
        steps.reveal(d.id, "operator")
    assert Draw.get_by_id(d.id).state == "entropy"
