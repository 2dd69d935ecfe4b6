"""Bureau settings kept in the store, with defaults; secrets are made once, at init."""
from __future__ import annotations

import secrets

from db.models import Setting
from kiosk.store import write_tx

DEFAULTS = {
    "bureau_name": "商水县人力资源和社会保障局",
    "region_code": "411623",
    "base_url": "https://kiosk.local",
    "printer": "",  # an `lp` destination; empty: save the PDF and show its path
    "paper": "A5",
    "witness_quorum": "2",
    "recognition_months": "12",
}


def get(key: str, default: str | None = None) -> str:
    row = Setting.get_or_none(Setting.key == key)
    if row is not None:
        return row.value
    if default is not None:
        return default
    return DEFAULTS.get(key, "")


def get_int(key: str) -> int:
    return int(get(key))


def put(key: str, value: str, actor: str = "system") -> None:
    from kiosk import audit

    with write_tx():
        Setting.insert(key=key, value=value).on_conflict(
            conflict_target=[Setting.key], update={Setting.value: value}).execute()
        audit.record(actor, "setting.change", "setting", key,
                     value="***" if key.startswith("secret") else value)


def secret(name: str = "slip_hmac") -> bytes:
    """A per-kiosk secret made at first use and never shown; another kiosk has its own."""
    from kiosk import audit

    key = f"secret.{name}"
    row = Setting.get_or_none(Setting.key == key)
    if row is None:
        with write_tx():
            row = Setting.get_or_none(Setting.key == key)
            if row is None:
                row = Setting.create(key=key, value=secrets.token_hex(32))
                # The chain covers the row (a hash, never the secret): a swapped secret shows.
                audit.record("system", "setting.create", "setting", key, value="***")
    return bytes.fromhex(row.value)
