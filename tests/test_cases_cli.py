"""The command line of issue 11 parts 4-6: `kiosk cases`, `kiosk case update`, `kiosk sanction
add|list|tasks|reassign` and `kiosk dashboard [--xlsx]`, each as an authenticated account."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from db.models import EnforcementCase
from kiosk import auth, cli, reports
from kiosk.draw import steps
from tests.draw_world import TODAY, confirm_all, make_world, run_to_matched
from tests.test_reports import FILLED, PASSWORD, build_world


def _as(monkeypatch, login, password=None):
    monkeypatch.setenv("KIOSK_USER", login)
    monkeypatch.setenv("KIOSK_PASSWORD", password or PASSWORD)


def test_cases_from_the_command_line(db, db_path, monkeypatch, capsys):
    w = build_world()
    rep = reports.open_report(w.assignments[0], w.member)
    reports.save_draft(rep, FILLED | {"finding": "移送司法机关"}, w.member)
    reports.submit(rep, w.member)
    reports.review(rep, w.reviewer, "", True)
    reports.finalise(rep, w.reviewer)
    case = EnforcementCase.get()
    db_arg = ["--db", str(db_path)]
    _as(monkeypatch, "zhangwei")
    assert cli.main([*db_arg, "cases"]) == 1
    assert "只有审核人、局领导、纪检审计人员或管理员" in capsys.readouterr().err
    _as(monkeypatch, "shenhe")
    assert cli.main([*db_arg, "cases", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["id"], row["kind"], row["state_label"], row["steps"]) == (
        case.id, "移送司法机关", "待移送", ["transfer"])
    today = f"{dt.date.today():%Y-%m-%d}"
    assert cli.main([*db_arg, "case", "update", str(case.id), "transfer", "--organ", "商水县公安局",
                     "--date", today]) == 1
    assert capsys.readouterr().err.strip() == "请填写回执编号。"
    assert cli.main([*db_arg, "case", "update", str(case.id), "transfer", "--organ", "商水县公安局",
                     "--date", today, "--receipt-no", "商公受字88号"]) == 0
    assert capsys.readouterr().out.strip() == f"案件 {case.id}（移送司法机关）：已移送。"
    assert cli.main([*db_arg, "case", "update", str(case.id), "close",
                     "--outcome", "已立案侦查"]) == 0
    capsys.readouterr()
    assert cli.main([*db_arg, "cases"]) == 0
    assert capsys.readouterr().out.strip() == "没有未结的执法案件。"
    assert cli.main([*db_arg, "cases", "--all"]) == 0
    out = capsys.readouterr().out
    assert "已结案" in out and "结案：已立案侦查" in out and "共 1 件，其中逾期 0 件。" in out


@pytest.fixture
def sealed(db, db_path, tmp_path):
    _item, _targets, _inspectors, tasks = make_world()
    draw_id = run_to_matched(tasks[0].code)
    confirm_all(draw_id)
    steps.seal(draw_id, "operator")
    auth.create_user("leader", "leader123", "leader", "局长")
    auth.create_user("auditor", "auditor123", "auditor", "纪检")
    pw = tmp_path / "pw.txt"
    pw.write_text("witness1:witness1123\nwitness2:witness2123\n", encoding="utf-8")
    return {"db": ["--db", str(db_path)], "draw": draw_id, "pw": str(pw), "tasks": tasks}


def test_sanction_reassign_record_and_verify(sealed, monkeypatch, capsys, tmp_path):
    db_arg, draw_id = sealed["db"], sealed["draw"]
    rec = json.loads(steps.Draw.get_by_id(draw_id).record_json)
    cert = rec["teams"][0][1][0]
    _as(monkeypatch, "operator", "operator123")
    assert cli.main([*db_arg, "sanction", "add", cert, "--kind", "吊销执法证",
                     "--start", str(TODAY), "--reason", "违法检查"]) == 1
    assert "只有管理员或局领导" in capsys.readouterr().err
    _as(monkeypatch, "leader", "leader123")
    assert cli.main([*db_arg, "sanction", "add", cert, "--kind", "吊销执法证",
                     "--start", str(TODAY), "--reason", "违法检查"]) == 0
    out = capsys.readouterr().out
    assert f"吊销执法证，自 {TODAY}。" in out and "待改派" in out
    assert cli.main([*db_arg, "sanction", "tasks", "--json"]) == 0
    tasks = json.loads(capsys.readouterr().out)
    assert tasks and {(t["cert_no"], t["why"], t["draw_id"]) for t in tasks} == {
        (cert, "吊销执法证", draw_id)}
    assert cli.main([*db_arg, "sanction", "list", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["kind"], row["in_force"], row["reason"]) == ("吊销执法证", True, "违法检查")
    # The pool of the next round leaves the inspector out.
    from kiosk.draw import pool

    assert cert not in pool.build_pool(sealed["tasks"][1], TODAY).inspectors
    _as(monkeypatch, "witness1", "witness1123")
    assert cli.main([*db_arg, "sanction", "tasks"]) == 1
    assert "可以查看执法人员处理记录" in capsys.readouterr().err
    _as(monkeypatch, "operator", "operator123")  # who reassigns sees what to reassign
    assert cli.main([*db_arg, "sanction", "tasks"]) == 0
    assert f"待改派的任务 {len(tasks)} 项。" in capsys.readouterr().out
    assert cli.main([*db_arg, "sanction", "reassign", str(draw_id), "--witness", "witness1",
                     "--witness-passwords", sealed["pw"], "--reason", "执法证被吊销"]) == 1
    assert "至少 2 名不同的见证人" in capsys.readouterr().err
    assert cli.main([*db_arg, "sanction", "reassign", str(draw_id), "--witness", "witness1",
                     "--witness", "witness2", "--witness-passwords", sealed["pw"],
                     "--reason", "执法证被吊销"]) == 0
    out = capsys.readouterr().out
    assert f"已按规程改派 {len(tasks)} 人次" in out
    folder = tmp_path / "rec"
    assert cli.main([*db_arg, "record", str(draw_id), "--out", str(folder)]) == 0
    capsys.readouterr()
    record = next(folder.glob("*.json"))
    assert cli.main(["verify", str(record)]) == 0
    assert "核验通过" in capsys.readouterr().out


def test_dashboard_command(sealed, monkeypatch, capsys, tmp_path):
    db_arg = sealed["db"]
    _as(monkeypatch, "operator", "operator123")
    assert cli.main([*db_arg, "dashboard"]) == 1
    assert capsys.readouterr().err.strip() == "只有局领导和纪检审计人员可以查看领导看板。"
    _as(monkeypatch, "auditor", "auditor123")
    assert cli.main([*db_arg, "dashboard", "--year", "2026", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    [office] = data["offices"]
    n = len(json.loads(steps.Draw.get_by_id(sealed["draw"]).record_json)["selected"])
    assert (office["name"], office["tasks"], data["year"]) == ("劳动关系股", n, 2026)
    out = tmp_path / "kaohe.xlsx"
    assert cli.main([*db_arg, "dashboard", "--year", "2026", "--xlsx", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"已导出年度考核表：{out}"
    assert out.read_bytes()[:2] == b"PK"
    assert cli.main([*db_arg, "dashboard", "--year", "2026"]) == 0
    text = capsys.readouterr().out
    assert "2026 年度领导看板" in text and f"劳动关系股  {n}  0  0  0" in text
