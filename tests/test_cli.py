"""The `kiosk` command as scripts use it: real subprocesses, exit codes, plain errors."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def demo_store(tmp_path, monkeypatch) -> Path:
    """A demo store built by `kiosk demo --no-ui` in tmp_path, its files beside it."""
    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path / "files"))
    path = tmp_path / "demo.sqlite3"
    kiosk("demo", "--no-ui", "--db", path, check=0,
          env_extra={"KIOSK_DATA_DIR": str(tmp_path / "files")})
    return path


def kiosk(*args, env_extra=None, check=None, as_=None):
    """Run `kiosk`; as_: the demo account (password `<login>123`) the command acts as."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("KIOSK_USER", None)
    env.pop("KIOSK_PASSWORD", None)
    if as_:
        env.update(KIOSK_USER=as_, KIOSK_PASSWORD=f"{as_}123")
    env.update(env_extra or {})
    p = subprocess.run([sys.executable, "-m", "kiosk.cli", *map(str, args)], capture_output=True,
                       text=True, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, timeout=300)
    if check is not None:
        assert p.returncode == check, (p.stdout, p.stderr)
    return p


@pytest.fixture(scope="module")
def files_dir(tmp_path_factory):
    """The demo terminal's private files (key file, anchor, evidence): one terminal for the
    whole module, as a real kiosk is."""
    return tmp_path_factory.mktemp("files")


@pytest.fixture(autouse=True)
def _one_terminal(files_dir, monkeypatch):
    monkeypatch.setenv("KIOSK_DATA_DIR", str(files_dir))


@pytest.fixture
def witness_passwords(tmp_path):
    path = tmp_path / "witness-passwords"
    path.write_text("witness1:witness1123\nwitness2:witness2123\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory, files_dir):
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    p = kiosk("demo", "--no-ui", "--db", path, check=0,
              env_extra={"KIOSK_DATA_DIR": str(files_dir)})
    assert "演示数据库已生成" in p.stdout
    return path


def test_demo_builds_a_realistic_store(demo_db):
    from db import connect
    from db.models import Inspector, Item, PlanTask, Target, User
    from kiosk import uscc

    db = connect(demo_db)
    try:
        assert Target.select().count() == 2000
        assert all(uscc.is_valid(t.uscc) and t.uscc[2:8] == "411623"
                   for t in Target.select().limit(300))
        cats = {c for (c,) in Target.select(Target.category).distinct().tuples()}
        assert {"劳务派遣单位", "人力资源服务机构", "职业技能培训机构", "用人单位-制造业"} <= cats
        assert 12 <= Inspector.select().count() <= 20
        assert Item.select().count() >= 5
        for item in Item.select():
            assert PlanTask.select().where(PlanTask.item == item).count() >= 3
        assert {u.username for u in User.select()} >= {
            "admin", "operator", "witness1", "witness2", "witness3", "reviewer", "leader",
            "auditor", "insp01"}
    finally:
        db.close()


def test_tasks_json_lists_planned_tasks(demo_db):
    p = kiosk("tasks", "--json", "--db", demo_db, check=0)
    rows = json.loads(p.stdout)
    assert len(rows) >= 21
    assert {"id", "code", "state", "item"} <= set(rows[0])
    assert {r["state"] for r in rows} <= {"planned", "drawing", "drawn"}


def test_headless_draw_writes_a_verifiable_record_and_listings(demo_db, tmp_path,
                                                               witness_passwords):
    tasks = json.loads(kiosk("tasks", "--json", "--db", demo_db, check=0).stdout)
    task = next(t for t in tasks if t["state"] == "planned" and t["item_code"] == "RS-04")
    out = tmp_path / "rec" / "record.json"
    p = kiosk("draw", task["code"], "--witness", "witness1=7 3 1 9", "--witness",
              "witness2=20261123", "--witness-passwords", witness_passwords,
              "--beacon", "福彩3D 2026321期 517", "--out", out, "--db", demo_db, check=0,
              as_="operator")
    assert "已封存" in p.stdout
    rec = json.loads(out.read_text(encoding="utf-8"))
    assert rec["task"] == task["code"] and isinstance(rec["draw_id"], int)
    assert rec["beacon"] == "福彩3D 2026321期 517"
    for kind in ("pool", "inspectors", "conflicts"):
        data = (out.parent / f"{kind}.tsv").read_bytes()
        assert hashlib.sha256(data).hexdigest() == rec["digests"][kind]
    ok = kiosk("verify", out, check=0)
    assert "核验通过" in ok.stdout
    rec["witness_entropy"][0] = "7 3 1 8"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
    p = kiosk("verify", bad, check=1)
    assert "种子" in p.stderr and "Traceback" not in p.stderr
    # the same task cannot be drawn twice (no silent re-draws)
    p = kiosk("draw", task["code"], "--witness", "witness1=1", "--witness", "witness2=2",
              "--witness-passwords", witness_passwords, "--out", tmp_path / "again.json",
              "--db", demo_db, check=1, as_="operator")
    assert "已摇号封存" in p.stderr and "Traceback" not in p.stderr
    assert kiosk("audit", "verify", "--db", demo_db, check=0,
                 as_="auditor").stdout.startswith("审计日志完整")


def test_user_errors_are_one_sentence_without_traceback(demo_db, tmp_path):
    p = kiosk("verify", tmp_path / "missing.json", check=2)
    assert p.stderr.strip() and "Traceback" not in p.stderr
    p = kiosk("draw", "NOT-A-TASK", "--witness", "a=1", "--out", tmp_path / "x.json",
              "--db", demo_db, check=1, as_="operator")
    assert "第十八条" in p.stderr and "Traceback" not in p.stderr
    bad = tmp_path / "targets.csv"
    bad.write_text("统一社会信用代码,单位名称,类别\n123,坏,劳务派遣单位\n", encoding="utf-8")
    p = kiosk("import", "targets", bad, "--db", demo_db, as_="admin")
    assert p.returncode != 0 and "第2行" in p.stderr and "Traceback" not in p.stderr
    p = kiosk("frobnicate")
    assert p.returncode == 2 and "Traceback" not in p.stderr


def test_export_then_import_round_trips(demo_db, tmp_path):
    out = tmp_path / "inspectors.xlsx"
    p = kiosk("export", "inspectors", out, "--db", demo_db, check=0, as_="admin")
    assert out.stat().st_size > 0 and "已导出" in p.stdout
    p = kiosk("import", "inspectors", out, "--db", demo_db, check=0, as_="admin")
    assert "新增 0" in p.stdout


def test_slips_then_open_check(demo_db, tmp_path):
    from db import connect
    from db.models import Assignment, Draw
    from kiosk import slips

    db = connect(demo_db)
    draw_id = Draw.get(Draw.state == "sealed").id
    db.close()
    pdf = tmp_path / "slips.pdf"
    p = kiosk("slips", "--draw", draw_id, "--out", pdf, "--db", demo_db, check=0, as_="operator")
    assert pdf.read_bytes().startswith(b"%PDF") and str(pdf) in p.stdout
    db = connect(demo_db)
    a = Assignment.select().where(Assignment.draw == draw_id).order_by(Assignment.position).first()
    payload = slips.payload(a)
    db.close()
    p = kiosk("open", payload, "--check", "--db", demo_db, check=0, as_="insp01",
              env_extra={"KIOSK_PASSWORD": "insp123"})
    assert a.task_code in p.stdout
    forged = payload[:-3] + ("AAA" if not payload.endswith("AAA") else "BBB")
    p = kiosk("open", forged, "--check", "--db", demo_db, check=1, as_="insp01",
              env_extra={"KIOSK_PASSWORD": "insp123"})
    assert p.stderr.strip() and "Traceback" not in p.stderr


def test_db_before_the_subcommand_is_honoured(tmp_path):
    from kiosk.cli import build_parser

    args = build_parser().parse_args(["--db", str(tmp_path / "a.sqlite3"), "tasks"])
    assert getattr(args, "db", None) == str(tmp_path / "a.sqlite3")
    path = tmp_path / "front.sqlite3"
    p = kiosk("--db", path, "tasks", "--json", check=0)
    assert json.loads(p.stdout) == [] and path.exists()


def _store_with_admin(path):
    from db import connect
    from kiosk import auth

    db = connect(path)
    auth.create_user("admin", "admin123", "admin", "管理员", actor="test")
    db.close()


def test_demo_reset_refuses_a_real_store(tmp_path):
    path = tmp_path / "real.sqlite3"
    _store_with_admin(path)
    bad = tmp_path / "items.csv"
    bad.write_text("事项编码,事项名称,检查依据,检查内容,检查对象类别,责任股室\n"
                   "RS-09,测试事项,《劳动保障监察条例》,工资,用人单位,劳动关系股\n",
                   encoding="utf-8")
    kiosk("import", "items", bad, "--db", path, check=0, as_="admin")
    p = kiosk("demo", "--no-ui", "--reset", "--db", path, check=1)
    assert "不是演示数据库" in p.stderr


def test_file_errors_are_plain_sentences(demo_db, tmp_path, witness_passwords):
    p = kiosk("export", "targets", "/proc/nope/x.csv", "--db", demo_db, check=1, as_="admin")
    assert "无法" in p.stderr and "Traceback" not in p.stderr
    p = kiosk("slips", "abc", "--out", tmp_path / "s.pdf", "--db", demo_db, check=2,
              as_="operator")
    assert "Traceback" not in p.stderr
    tasks = json.loads(kiosk("tasks", "--json", "--db", demo_db, check=0).stdout)
    task = next(t for t in tasks if t["state"] == "planned")
    p = kiosk("draw", task["code"], "--witness", "witness1=1", "--witness", "witness2=2",
              "--witness-passwords", witness_passwords,
              "--out", "/proc/nope/r.json", "--db", demo_db, check=1, as_="operator")
    assert "无法写入记录文件" in p.stderr
    again = json.loads(kiosk("tasks", "--json", "--db", demo_db, check=0).stdout)
    assert next(t for t in again if t["code"] == task["code"])["state"] == "planned"


def test_summary_counts_final_reports(demo_db):
    from db import connect
    from db.models import Assignment, Report

    db = connect(demo_db)
    a = Assignment.select().order_by(Assignment.id).first()
    Report.create(assignment=a, state="final", finding="责令整改")
    year = a.draw.task.year
    db.close()
    p = kiosk("summary", "--year", year, "--json", "--db", demo_db, check=0, as_="leader")
    data = json.loads(p.stdout)
    assert data["totals"]["final"] == 1 and data["totals"]["责令整改"] == 1
    assert data["rows"][0]["item_code"] == a.draw.task.item.code
    text = kiosk("summary", "--year", year, "--db", demo_db, check=0, as_="leader").stdout
    assert "上报局党组" in text and "合计" in text


# ---------------------------------------------------------------- the CLI acts as an account

NO_ACCOUNT = ("此命令需要以终端账户登录：请设置环境变量 KIOSK_USER 和 KIOSK_PASSWORD，"
              "或用 --user 指定账户并在终端输入密码。\n")


def test_a_command_without_credentials_is_refused_in_one_sentence(demo_db, tmp_path):
    out = tmp_path / "t.csv"
    for args in (("export", "targets", out), ("summary",), ("audit", "verify"),
                 ("audit", "head"), ("slips", "1", "--out", tmp_path / "s.pdf")):
        p = kiosk(*args, "--db", demo_db, check=1)
        assert p.stderr == NO_ACCOUNT, args
    assert not out.exists()
    # --user asks the terminal for the password; a script without one gets a sentence.
    p = kiosk("audit", "head", "--user", "auditor", "--db", demo_db, check=1)
    assert p.stderr.startswith("无法在终端输入账户“auditor”的密码") and "Traceback" not in p.stderr
    p = kiosk("audit", "head", "--db", demo_db, check=1, as_="auditor",
              env_extra={"KIOSK_PASSWORD": "wrong-password"})
    assert p.stderr == "用户名或密码不正确。\n"
    # No free-text actor any more: --operator is not an option.
    p = kiosk("draw", "2026-RS-01-1", "--operator", "leader", "--out", tmp_path / "r.json",
              "--db", demo_db, check=2, as_="operator")
    assert "--operator" in p.stderr and "Traceback" not in p.stderr


def test_an_account_without_the_role_is_refused_and_logged(demo_db, tmp_path):
    from db import connect
    from db.models import AuditEvent

    items = tmp_path / "items.csv"
    items.write_text("事项编码,事项名称,检查依据,检查内容,检查对象类别,责任股室\n"
                     "RS-09,测试事项,《劳动保障监察条例》,工资,用人单位,劳动关系股\n",
                     encoding="utf-8")
    cases = [(("import", "items", items), "reviewer", "只有登记管理员可以导入名录。"),
             (("export", "conflicts", tmp_path / "c.csv"), "witness1", "该账户无权导出此名录。"),
             (("audit", "verify"), "operator", "只有局领导和纪检审计人员可以查看审计日志。"),
             (("audit", "certificate", "--out", tmp_path / "c.pdf"), "auditor",
              "只有局领导可以打印审计链头证明。"),
             (("summary",), "insp01", "只有局领导、纪检审计人员和管理员可以查看汇总。"),
             (("slips", "1", "--out", tmp_path / "s.pdf"), "reviewer",
              "只有抽签操作员或管理员可以打印任务单。")]
    for args, who, sentence in cases:
        env = {"KIOSK_PASSWORD": "insp123"} if who == "insp01" else None
        p = kiosk(*args, "--db", demo_db, check=1, as_=who, env_extra=env)
        assert p.stderr == sentence + "\n", (args, p.stderr)
    assert not (tmp_path / "c.csv").exists() and not (tmp_path / "s.pdf").exists()
    db = connect(demo_db)
    try:
        refused = [(e.actor, e.entity_id) for e in AuditEvent.select()
                   .where(AuditEvent.action == "cli.refused").order_by(AuditEvent.seq)]
    finally:
        db.close()
    assert refused[-len(cases):] == [(who, args[0]) for args, who, _ in cases]


def test_the_audit_names_the_account_not_the_shell_user(demo_db, tmp_path):
    from db import connect
    from db.models import AuditEvent

    out = tmp_path / "items.csv"
    kiosk("export", "items", out, "--db", demo_db, check=0, as_="admin",
          env_extra={"LOGNAME": "局长", "USER": "局长"})
    kiosk("import", "items", out, "--db", demo_db, check=0, as_="admin",
          env_extra={"LOGNAME": "局长", "USER": "局长"})
    db = connect(demo_db)
    try:
        ev = AuditEvent.select().where(AuditEvent.action == "registry.import").order_by(
            AuditEvent.seq.desc()).first()
        assert ev.actor == "admin"
        assert not AuditEvent.select().where(AuditEvent.actor == "局长").exists()
    finally:
        db.close()


def test_audit_head_verify_against_it_and_the_certificate(demo_db, tmp_path):
    import re

    import pypdfium2 as pdfium

    head = kiosk("audit", "head", "--db", demo_db, check=0, as_="auditor").stdout.strip()
    assert re.fullmatch(r"\d+:[0-9a-f]{64}", head), head
    p = kiosk("audit", "verify", "--head", head, "--db", demo_db, check=0, as_="auditor")
    assert p.stdout.startswith("审计日志完整")
    seq, h = head.split(":")
    forged = f"{seq}:{'0' * 64}"
    p = kiosk("audit", "verify", "--head", forged, "--db", demo_db, check=1, as_="auditor")
    assert p.stderr == f"审计日志第 {seq} 条与所给链头不符：该处及之前的记录已被改写。\n"
    p = kiosk("audit", "verify", "--head", f"{int(seq) + 10_000}:{h}", "--db", demo_db,
              check=1, as_="leader")
    assert "末尾的记录已被删除" in p.stderr
    p = kiosk("audit", "verify", "--head", "12:abc", "--db", demo_db, check=2, as_="auditor")
    assert p.stderr.startswith("链头“12:abc”格式不对")

    pdf = tmp_path / "head.pdf"
    p = kiosk("audit", "certificate", "--out", pdf, "--db", demo_db, check=0, as_="leader")
    assert "审计链头证明" in p.stdout and str(pdf) in p.stdout
    now = kiosk("audit", "head", "--db", demo_db, check=0, as_="leader").stdout.strip()
    doc = pdfium.PdfDocument(str(pdf))
    assert len(doc) == 1
    text = doc[0].get_textpage().get_text_range().replace("\r", "").replace("\n", "")
    doc.close()
    certified = int(now.split(":")[0]) - 2  # the certificate's own event and the head read
    assert "审计链头证明" in text and "局领导" in text and "纪检监察" in text
    assert str(certified) in text
    from db import connect
    from db.models import AuditEvent

    db = connect(demo_db)
    try:
        ev = AuditEvent.get(AuditEvent.action == "audit.certificate")
        certified_hash = AuditEvent.get(AuditEvent.seq == ev.seq - 1).hash
        assert json.loads(ev.detail)["head"] == f"{ev.seq - 1}:{certified_hash}"
        assert certified_hash in text
    finally:
        db.close()


def test_demo_reset_asks_first_and_keeps_the_chain_whole(tmp_path):
    path = tmp_path / "demo.sqlite3"
    kiosk("demo", "--no-ui", "--db", path, check=0)
    p = kiosk("demo", "--no-ui", "--reset", "--db", path, check=1)
    assert p.stderr == "清空演示数据库需要确认：请在终端运行并输入“是”，或加 --yes。\n"
    p = kiosk("demo", "--no-ui", "--reset", "--yes", "--db", path, check=0)
    assert "演示数据库已生成" in p.stdout
    # The reset forgot the terminal's anchor of the old chain: the new chain verifies.
    assert kiosk("audit", "verify", "--db", path, check=0, as_="auditor").stdout.startswith(
        "审计日志完整")
    items = tmp_path / "items.csv"
    kiosk("export", "items", items, "--db", path, check=0, as_="admin")
    kiosk("import", "items", items, "--db", path, check=0, as_="admin")
    p = kiosk("demo", "--no-ui", "--reset", "--yes", "--db", path, check=1)
    assert p.stderr == ("该数据库不只有演示数据（它导入过名录或节假日文件），"
                        "不能用 --reset 清空，已拒绝。\n")
