"""The kiosk's secrets, kept in a key file outside the store (0600), never in the store.

One file, `kiosk.key`, holds two random keys: the slip HMAC secret and the key that seals
a draw's system entropy until its reveal. The store keeps only a fingerprint (SHA-256) of the
file's keys, so a terminal with a missing or foreign key file is told so in one sentence.
Kiosks sharing one PostgreSQL store share this file: copy it to the other terminal's secrets
folder (KIOSK_SECRETS_DIR, else the kiosk's data folder), keeping it 0600.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets as _random
from pathlib import Path

from db.models import Setting
from kiosk.errors import UserError

KEY_FILE = "kiosk.key"
FINGERPRINT_SETTING = "secrets.key_fingerprint"
# The slip secret of stores made before the key file: moved into it on first use.
LEGACY_SLIP_SETTING = "secret.slip_hmac"
NONCE_BYTES = 12

_cache: dict[tuple[object, str], dict[str, bytes]] = {}


def secrets_dir() -> Path:
    env = os.environ.get("KIOSK_SECRETS_DIR")
    if env:
        return Path(env)
    from db.connection import data_dir_for, database

    return data_dir_for(database.obj)


def key_path() -> Path:
    return secrets_dir() / KEY_FILE


def fingerprint(keys: dict[str, bytes]) -> str:
    body = json.dumps({k: v.hex() for k, v in sorted(keys.items())}, separators=(",", ":"))
    return hashlib.sha256(b"kiosk-key-fingerprint\x00" + body.encode()).hexdigest()


def _read(path: Path) -> dict[str, bytes]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        keys = {k: bytes.fromhex(data[k]) for k in ("slip_hmac", "entropy")}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise UserError(f"密钥文件 {path} 已损坏或无法读取，请从本局其他终端重新复制。") from None
    if any(len(v) != 32 for v in keys.values()):
        raise UserError(f"密钥文件 {path} 已损坏，请从本局其他终端重新复制。")
    return keys


def _write_new(path: Path, keys: dict[str, bytes]) -> None:
    """Create the key file readable by the kiosk's own account only; never overwrite one."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # a new folder: owner-only
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.fchmod(fd, 0o600)  # explicit, whatever the umask and whatever an earlier file had
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({k: v.hex() for k, v in keys.items()}, f)
        f.flush()
        os.fsync(f.fileno())


def _stored_fingerprint() -> str | None:
    row = Setting.get_or_none(Setting.key == FINGERPRINT_SETTING)
    return row.value if row is not None else None


def keys() -> dict[str, bytes]:
    """This store's keys from the key file, made on first use; one sentence when the file is
    missing on a store that has keys, or belongs to another store."""
    from db.connection import database

    path = key_path()
    cache_key = (database.obj, str(path))
    if cache_key in _cache:
        return _cache[cache_key]
    stored = _stored_fingerprint()
    try:
        found = _read(path)
    except FileNotFoundError:
        found = None
    if found is None and stored is not None:
        raise UserError(f"本终端缺少密钥文件 {path}：该数据库的密钥已在其他终端生成，"
                        f"请从那台终端复制 {KEY_FILE}（权限 0600）到此处。")
    if found is None:
        found = _initialise(path)
    elif stored is None:
        _remember_fingerprint(found)
    elif fingerprint(found) != stored:
        raise UserError(f"密钥文件 {path} 与该数据库不匹配（属于另一数据库）："
                        f"请从使用该数据库的终端复制正确的 {KEY_FILE}。")
    _cache[cache_key] = found
    return found


def _initialise(path: Path) -> dict[str, bytes]:
    from kiosk.store import write_tx

    with write_tx():
        legacy = Setting.get_or_none(Setting.key == LEGACY_SLIP_SETTING)
        keys = {"slip_hmac": bytes.fromhex(legacy.value) if legacy else _random.token_bytes(32),
                "entropy": _random.token_bytes(32)}
        try:
            _write_new(path, keys)
        except FileExistsError:  # another process made it meanwhile: use theirs
            keys = _read(path)
        except OSError as e:
            raise UserError(f"无法创建密钥文件 {path}：{e.strerror or e}。") from None
        _remember_fingerprint(keys)
        if legacy is not None:  # the slip secret leaves the store
            Setting.delete().where(Setting.key == LEGACY_SLIP_SETTING).execute()
    return keys


def _remember_fingerprint(keys: dict[str, bytes]) -> None:
    from kiosk import audit
    from kiosk.store import write_tx

    with write_tx():
        Setting.insert(key=FINGERPRINT_SETTING, value=fingerprint(keys)).on_conflict(
            conflict_target=[Setting.key], update={Setting.value: fingerprint(keys)}).execute()
        audit.record("system", "secrets.key", "setting", FINGERPRINT_SETTING,
                     path=str(key_path()))


def slip_secret() -> bytes:
    """The HMAC key of task slips."""
    return keys()["slip_hmac"]


def entropy_key() -> bytes:
    """The key that seals a draw's system entropy between commitment and reveal."""
    return keys()["entropy"]


def seal_entropy(draw_id: int, commitment: str, entropy: bytes) -> str:
    """AES-GCM of the entropy, bound to the draw and its commitment; hex of nonce+ciphertext."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = _random.token_bytes(NONCE_BYTES)
    aad = f"dsr-draw/1 entropy {draw_id} {commitment}".encode()
    return (nonce + AESGCM(entropy_key()).encrypt(nonce, entropy, aad)).hex()


def open_entropy(draw_id: int, commitment: str, sealed: str) -> bytes:
    """The entropy sealed for this draw; one sentence when the key or the row is wrong."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aad = f"dsr-draw/1 entropy {draw_id} {commitment}".encode()
    try:
        raw = bytes.fromhex(sealed)
        out = AESGCM(entropy_key()).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad)
    except (ValueError, InvalidTag):
        raise UserError("无法解开本次摇号的系统随机数：密钥文件不符或记录被改动。"
                        "请中止本次摇号并说明理由。") from None
    if hashlib.sha256(out).hexdigest() != commitment:
        raise UserError("解开的系统随机数与承诺值不符，请中止本次摇号并说明理由。")
    return out


def init() -> Path:
    """Make (or check) the key file now, as `kiosk init` does; its path."""
    keys()
    return key_path()
