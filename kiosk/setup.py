"""First start (`kiosk init`): a new store's first administrator, key file and bureau settings."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kiosk import audit, auth, secrets, settings, users
from kiosk.errors import UserError
from kiosk.store import write_tx

NO_ADMIN = ("该数据库还没有管理员账户：请先运行 kiosk init --admin 账户 --bureau 单位名称 "
            "--region 行政区划代码 [--base-url 网址] 建立，或运行 kiosk demo 试用演示数据库。")


@dataclass(frozen=True)
class Initialised:
    admin: str
    key_file: Path


def initialise(admin: str, password: str, *, bureau: str, region: str, base_url: str = "",
               name: str = "") -> Initialised:
    """Make the store's first administrator, the key file outside the store, and the bureau's
    name, region and slip URL, in one transaction with their audit events. Refused on a store
    that already has an administrator (the first account is never made twice)."""
    if users.has_admin():
        raise UserError("该数据库已有管理员账户，不能再次初始化；新增账户请用 kiosk user add。")
    users.check_password(password)
    # Validated before anything is written: a wrong region leaves the store untouched.
    values = {"bureau_name": settings.SPECS["bureau_name"].check(bureau or ""),
              "region_code": settings.SPECS["region_code"].check(region or "")}
    if base_url:
        values["base_url"] = settings.SPECS["base_url"].check(base_url)
    with write_tx():
        if users.has_admin():
            raise UserError("该数据库已有管理员账户，不能再次初始化。")
        auth.create_user(admin, password, "admin", name or admin, actor="init")
        for key, value in values.items():
            settings.put(key, value, actor=admin)
        audit.record(admin, "store.init", "store", "", bureau=values["bureau_name"],
                     region=values["region_code"])
    return Initialised(admin, secrets.init())
