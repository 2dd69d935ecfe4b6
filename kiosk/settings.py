"""Bureau settings kept in the store, with defaults, each validated and audited when changed;
secrets are made once, at init."""
from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from db.models import Setting
from kiosk.errors import UserError
from kiosk.store import write_tx

DEFAULTS = {
    "bureau_name": "商水县人力资源和社会保障局",
    "region_code": "411623",
    "base_url": "https://kiosk.local",
    "printer": "",  # an `lp` destination; empty: save the PDF and show its path
    "paper": "A5",
    "witness_quorum": "2",
    "recognition_months": "12",
    "idle_lock_seconds": "300",
    "login_max_failures": "5",  # failed log-ins in a row before the login locks
    "login_lock_minutes": "15",
    "reviewer_offices": "",
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


# ---------------------------------------------------------------- what an administrator sets


def _int_between(lo: int, hi: int, what: str) -> Callable[[str], str]:
    def check(v: str) -> str:
        if not re.fullmatch(r"\d{1,6}", v) or not lo <= int(v) <= hi:
            raise UserError(f"{what}应为 {lo} 至 {hi} 之间的整数。")
        return str(int(v))
    return check


def _one_line(limit: int, what: str, *, empty: bool = False) -> Callable[[str], str]:
    def check(v: str) -> str:
        v = v.strip()
        if not v and not empty:
            raise UserError(f"{what}不能为空。")
        if len(v) > limit or any(ord(c) < 32 for c in v):
            raise UserError(f"{what}须为一行，不超过 {limit} 个字符。")
        return v
    return check


def _region(v: str) -> str:
    v = v.strip()
    if not re.fullmatch(r"\d{6}", v):
        raise UserError("行政区划代码应为 6 位数字，如 411623。")
    return v


def _base_url(v: str) -> str:
    v = v.strip().rstrip("/")
    if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~/-]*)?", v):
        raise UserError("任务单网址应以 http:// 或 https:// 开头，如 https://kiosk.example.gov.cn。")
    return v


def _printer(v: str) -> str:
    v = v.strip()
    if v and not re.fullmatch(r"[A-Za-z0-9_.@-]{1,64}", v):
        raise UserError("打印机名称只能含英文字母、数字、点、下划线、@ 和减号（lp 的打印机名）；"
                        "留空则保存为 PDF。")
    return v


def _paper(v: str) -> str:
    v = v.strip().upper()
    if v not in ("A4", "A5"):
        raise UserError("纸张应为 A4 或 A5。")
    return v


def _offices(v: str) -> str:
    parts = [p.strip() for p in v.replace("；", ";").split(";") if p.strip()]
    if any(len(p) > 64 for p in parts) or any(ord(c) < 32 for c in v):
        raise UserError("股室名称每个不超过 64 字，多个用分号 ; 分隔。")
    return ";".join(dict.fromkeys(parts))


def _files_dir(v: str) -> str:
    """Where evidence and archived reports live for every terminal of a PostgreSQL store
    (read by db.connection.data_dir_for); an absolute path, or empty for this machine's."""
    v = v.strip()
    if v and (not v.startswith("/") or any(ord(c) < 32 for c in v) or len(v) > 255):
        raise UserError("共享文件目录应是绝对路径（如 /srv/kiosk-files），空为本机目录。")
    return v


@dataclass(frozen=True)
class Spec:
    key: str
    label: str
    check: Callable[[str], str]
    hint: str


SPECS: dict[str, Spec] = {s.key: s for s in (
    Spec("bureau_name", "单位名称", _one_line(64, "单位名称"), "印在文书和任务单上"),
    Spec("region_code", "行政区划代码", _region, "6 位，如 411623"),
    Spec("base_url", "任务单网址", _base_url, "二维码的网址前缀"),
    Spec("printer", "打印机", _printer, "lp 打印机名；空为保存 PDF"),
    Spec("paper", "任务单纸张", _paper, "A4 或 A5"),
    Spec("witness_quorum", "见证人人数", _int_between(2, 9, "见证人人数"), "不少于 2"),
    Spec("recognition_months", "结果互认月数",
         _int_between(0, 60, "结果互认月数"), "新事项的默认值；0 为不互认"),
    Spec("idle_lock_seconds", "无操作锁屏秒数",
         _int_between(0, 86400, "无操作锁屏秒数"), "0 为不锁屏"),
    Spec("login_max_failures", "登录失败锁定次数",
         _int_between(3, 20, "登录失败锁定次数"), "连续失败此数后锁定账号"),
    Spec("login_lock_minutes", "登录锁定分钟数",
         _int_between(1, 1440, "登录锁定分钟数"), "锁定持续的分钟数"),
    Spec("reviewer_offices", "审核股室", _offices, "分号分隔；空为不限"),
    Spec("files_dir", "共享文件目录", _files_dir, "多终端共用 PostgreSQL 时的证据与归档目录"),
)}


@dataclass(frozen=True)
class SettingRow:
    key: str
    label: str
    value: str
    hint: str


def rows() -> list[SettingRow]:
    """Every setting an administrator may change, with its current value."""
    return [SettingRow(s.key, s.label, get(s.key), s.hint) for s in SPECS.values()]


def change(key: str, value: str, actor: str, *, role: str | None = None) -> str:
    """Validate and store one setting (audited, covered by the chain); the stored value."""
    from kiosk import access

    if role is not None:
        access.require(access.may_manage_accounts(role), access.MAY_NOT_MANAGE)
    spec = SPECS.get(key)
    if spec is None:
        raise UserError(f"没有设置项“{key}”，可设置：{'、'.join(SPECS)}。")
    value = spec.check(value or "")
    if value == get(key):
        return value
    put(key, value, actor=actor)
    return value


def reviewer_offices() -> list[str]:
    return [p for p in get("reviewer_offices").split(";") if p]
