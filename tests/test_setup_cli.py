"""A bureau starts from nothing with the `kiosk` command alone (issue 11): init, imports,
accounts, a plan approved by a leader, a draw that verifies, and an intact audit chain."""
from __future__ import annotations

import csv
import datetime as dt
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk import uscc

ROOT = Path(__file__).resolve().parents[1]
YEAR = dt.date.today().year


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


class Shell:
    """One terminal: the store, its files folder, and `kiosk` run as a subprocess."""

    def __init__(self, tmp: Path):
        self.db = tmp / "bureau.sqlite3"
        self.files = tmp / "files"
        self.tmp = tmp

    def __call__(self, *args, as_: tuple[str, str] | None = None, new_password=None,
                 password=None, check=None):
        env = dict(os.environ, PYTHONPATH=str(ROOT), KIOSK_DATA_DIR=str(self.files))
        for k in ("KIOSK_USER", "KIOSK_PASSWORD", "KIOSK_NEW_PASSWORD", "KIOSK_DB",
                  "KIOSK_SECRETS_DIR"):
            env.pop(k, None)
        if as_:
            env.update(KIOSK_USER=as_[0], KIOSK_PASSWORD=as_[1])
        if password is not None:
            env["KIOSK_PASSWORD"] = password
        if new_password is not None:
            env["KIOSK_NEW_PASSWORD"] = new_password
        p = subprocess.run([sys.executable, "-m", "kiosk.cli", "--db", str(self.db),
                            *map(str, args)], capture_output=True, text=True, env=env,
                           cwd=ROOT, stdin=subprocess.DEVNULL, timeout=300)
        if check is not None:
            assert p.returncode == check, (args, p.stdout, p.stderr)
        assert "Traceback" not in p.stderr, p.stderr
        return p


ITEM_HEAD = ["事项编码", "事项名称", "检查依据", "检查内容", "检查对象类别", "抽查比例", "抽查频次",
             "责任股室", "分层及比例", "小微企业比例说明"]
ITEM = ["RS-01", "劳动合同签订情况检查", "《劳动合同法》第十条", "书面劳动合同", "用人单位", "1%",
        "3", "劳动保障监察大队", "特殊监管:special:30%;小微企业:small_micro:0.5%;一般:default:1%",
        "小微企业用工少，按县局规定降低比例"]


@pytest.fixture(scope="module")
def bureau(tmp_path_factory):
    """A store taken from empty to a sealed draw, every step by the command line."""
    sh = Shell(tmp_path_factory.mktemp("bureau"))
    log: dict[str, subprocess.CompletedProcess] = {}
    log["no_admin"] = sh()
    log["init"] = sh("init", "--admin", "clerk", "--name", "赵文静", "--bureau",
                     "商水县人力资源和社会保障局", "--region", "411623", "--base-url",
                     "https://kiosk.shangshui.example", password="clerk-pass-1", check=0)
    log["init_again"] = sh("init", "--admin", "other", "--bureau", "别的局", "--region",
                           "411623", password="other-pass-1")
    admin = ("clerk", "clerk-pass-1")
    t = sh.tmp
    log["bad_items"] = sh("import", "items", write_csv(t / "bad.csv", [ITEM_HEAD, [
        "RS-09", "少抽的事项", "依据", "内容", "用人单位", "0.1%", "1", "劳动关系股", "", ""]]),
        as_=admin)
    sh("import", "items", write_csv(t / "items.csv", [ITEM_HEAD, ITEM]), as_=admin, check=0)
    sh("import", "inspectors", write_csv(t / "insp.csv", [
        ["执法证号", "姓名", "股室", "执法证有效期至"],
        *[[f"豫人社监{n:04d}", f"检查员{n}", "劳动保障监察大队", "2035-12-31"]
          for n in range(1, 6)]]), as_=admin, check=0)
    sizes = ["大型", "中型", "小型", "微型"]
    sh("import", "targets", write_csv(t / "targets.csv", [
        ["统一社会信用代码", "单位名称", "类别", "规模"],
        *[[uscc.make("411623", f"MA{n:07d}"), f"商水县第{n}有限公司", "用人单位-制造业",
           sizes[n % 4]] for n in range(1, 41)]]), as_=admin, check=0)
    first = "first-pass-1"
    for login, role, extra in (("czy", "operator", []), ("jz1", "witness", []),
                               ("jz2", "witness", []), ("ld", "leader", []),
                               ("jcy", "inspector", ["--inspector", "豫人社监0001"]),
                               ("shr", "reviewer", ["--office", "劳动保障监察大队"])):
        sh("user", "add", login, "--role", role, "--name", f"{login}的姓名", *extra,
           as_=admin, new_password=first, check=0)
    log["reviewer_no_office"] = sh("user", "add", "shr2", "--role", "reviewer", "--name", "无股室",
                                   as_=admin, new_password=first)
    log["must_change"] = sh("plan", "show", as_=("ld", first))
    for login in ("czy", "jz1", "jz2", "ld"):
        sh("user", "passwd", login, as_=(login, first), new_password=f"{login}-own-pass",
           check=0)
    own = {login: (login, f"{login}-own-pass") for login in ("czy", "jz1", "jz2", "ld")}
    log["plan_new"] = sh("plan", "new", YEAR, as_=admin, check=0)
    task = f"{YEAR}-RS-01-1"
    passwords = write_csv(t / "pw.txt", [["jz1:jz1-own-pass"], ["jz2:jz2-own-pass"]])
    draw_args = ("draw", task, "--witness", "jz1=三六一四二五", "--witness", "jz2=今天晴",
                 "--witness-passwords", passwords, "--out", t / "record.json")
    log["draw_unapproved"] = sh(*draw_args, as_=own["czy"])
    log["approve_by_admin"] = sh("plan", "approve", YEAR, as_=admin)
    log["approve"] = sh("plan", "approve", YEAR, as_=own["ld"], check=0)
    log["draw"] = sh(*draw_args, as_=own["czy"], check=0)
    log["verify"] = sh("verify", t / "record.json")
    log["show"] = sh("plan", "show", "--year", YEAR, "--json", as_=own["ld"], check=0)
    log["audit"] = sh("audit", "verify", as_=own["ld"])
    log["users"] = sh("user", "list", as_=admin, check=0)
    return sh, log


def test_a_store_without_an_administrator_says_how_to_begin(bureau):
    _, log = bureau
    p = log["no_admin"]
    assert p.returncode == 1
    assert "kiosk init --admin" in p.stderr and p.stderr.count("\n") == 1


def test_init_makes_the_admin_and_the_key_file_once(bureau):
    sh, log = bureau
    assert "管理员账户 clerk" in log["init"].stdout
    key = sh.files / "kiosk.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert log["init_again"].returncode == 1
    assert "已有管理员账户" in log["init_again"].stderr
    settings = sh("settings", as_=("clerk", "clerk-pass-1"), check=0).stdout
    assert "https://kiosk.shangshui.example" in settings and "411623" in settings


def test_an_item_under_art_7_is_refused_at_import(bureau):
    _, log = bureau
    p = log["bad_items"]
    assert p.returncode == 1
    assert "抽查频次 1 次少于每年 3 次" in p.stderr
    assert "0.1% 低于 1%" in p.stderr


def test_accounts_are_linked_and_reset_passwords_must_be_changed(bureau):
    _, log = bureau
    assert log["reviewer_no_office"].returncode == 1
    assert "须指定其股室" in log["reviewer_no_office"].stderr
    assert log["must_change"].returncode == 1
    assert "须先修改密码" in log["must_change"].stderr
    listing = log["users"].stdout
    line = next(x for x in listing.splitlines() if x.startswith("jcy "))
    assert "豫人社监0001" in line and "须改密码" in line  # never logged in yet
    assert "须改密码" not in next(x for x in listing.splitlines() if x.startswith("ld "))


def test_only_a_leader_approved_round_is_drawn_and_it_verifies(bureau):
    _, log = bureau
    assert "新增 3 个任务" in log["plan_new"].stdout
    assert log["draw_unapproved"].returncode == 1
    assert "尚未经局领导批准" in log["draw_unapproved"].stderr
    assert log["approve_by_admin"].returncode == 1
    assert "只有局领导可以批准" in log["approve_by_admin"].stderr
    assert "已批准" in log["approve"].stdout and "3 个任务" in log["approve"].stdout
    assert "摇号已封存" in log["draw"].stdout
    assert log["verify"].returncode == 0, log["verify"].stderr


def test_plan_show_json_reports_the_year(bureau):
    _, log = bureau
    view = json.loads(log["show"].stdout)
    assert view["year"] == YEAR and view["approved"] is True
    (item,) = view["items"]
    assert (item["code"], item["required"], item["planned"], item["done"], item["approved"]) == (
        "RS-01", 3, 3, 1, 3)
    first = item["rounds"][0]
    assert (first["code"], first["state"], first["approved"]) == (f"{YEAR}-RS-01-1", "drawn",
                                                                  True)
    strata = {s["name"]: s for s in item["strata"]}
    assert strata["一般"]["minimum_bp"] == 100 and strata["一般"]["achieved_bp"] >= 100
    assert strata["小微企业"]["minimum_bp"] == 50  # lower, with its stated reason


def test_the_audit_chain_covers_it_all(bureau):
    _, log = bureau
    assert log["audit"].returncode == 0, log["audit"].stderr


def test_changes_to_the_plan_accounts_and_settings(bureau):
    """After the draw: a round moved, one added, one cancelled, each with its reason; an
    operator may not change the plan or the settings; a role changed; an account disabled."""
    sh, _ = bureau
    admin, leader = ("clerk", "clerk-pass-1"), ("ld", "ld-own-pass")
    p = sh("plan", "move", f"{YEAR}-RS-01-2", "--month", "11", "--reason", "汛期顺延",
           as_=admin, check=0)
    assert f"任务 {YEAR}-RS-01-2 已调至 11 月" in p.stdout
    p = sh("plan", "move", f"{YEAR}-RS-01-1", "--month", "12", "--reason", "再调", as_=admin)
    assert p.returncode == 1 and "已摇号，不能再调整" in p.stderr
    p = sh("plan", "cancel", f"{YEAR}-RS-01-3", as_=admin)
    assert p.returncode == 1 and "必须说明理由" in p.stderr
    sh("plan", "cancel", f"{YEAR}-RS-01-3", "--reason", "并入联合检查", as_=leader, check=0)
    p = sh("plan", "add", YEAR, "--item", "RS-01", "--month", "12", "--reason", "年底专项",
           as_=leader, check=0)
    assert f"已增加任务 {YEAR}-RS-01-4（12 月）" in p.stdout
    p = sh("plan", "add", YEAR, "--item", "RS-01", "--month", "12", as_=("czy", "czy-own-pass"))
    assert p.returncode == 1 and "只有管理员或局领导" in p.stderr
    view = json.loads(sh("plan", "show", YEAR, "--json", as_=leader, check=0).stdout)
    rounds = {r["code"]: r for r in view["items"][0]["rounds"]}
    assert (rounds[f"{YEAR}-RS-01-2"]["month"], rounds[f"{YEAR}-RS-01-2"]["approved"]) == (
        11, False)
    assert rounds[f"{YEAR}-RS-01-3"]["state"] == "cancelled"
    assert "并入联合检查" in rounds[f"{YEAR}-RS-01-3"]["note"]
    assert view["approved"] is False and view["items"][0]["planned"] == 3

    p = sh("settings", "set", "witness_quorum", "3", as_=("czy", "czy-own-pass"))
    assert p.returncode == 1 and p.stderr == "只有管理员可以管理账户和设置。\n"
    p = sh("settings", "set", "witness_quorum", "3", as_=admin, check=0)
    assert p.stdout == "见证人人数（witness_quorum）已设为：3\n"
    sh("user", "role", "jz2", "--role", "auditor", as_=admin, check=0)
    sh("user", "disable", "czy", as_=admin, check=0)
    p = sh("plan", "show", as_=("czy", "czy-own-pass"))
    assert p.returncode == 1 and "用户名或密码不正确" in p.stderr
    listing = sh("user", "list", as_=admin, check=0).stdout
    assert "停用" in next(x for x in listing.splitlines() if x.startswith("czy "))
    assert "纪检审计" in next(x for x in listing.splitlines() if x.startswith("jz2 "))
    assert sh("audit", "verify", as_=leader).returncode == 0
