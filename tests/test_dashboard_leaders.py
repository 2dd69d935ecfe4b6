"""The leaders' dashboard on a constructed year, figure by figure, and its XLSX workbook for
the year-end assessment (Art. 19), exported with its audit event."""
from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest

from db.models import AuditEvent, Draw, EnforcementCase, Inspector, Report, Target, Training
from kiosk import auth
from kiosk.dashboard import leaders, workbook
from kiosk.errors import UserError
from tests.test_reports import build_world, uscc

TODAY = dt.date(2025, 12, 1)


@pytest.fixture
def year(db):
    w = build_world(2025)
    Draw.update(draw_date=dt.date(2025, 7, 1)).execute()
    # The item's directory: 3 drawn targets, 6 more of 企业, one of a 企业- subcategory; an
    # inactive one and one of another category do not count.
    for i in range(6):
        Target.create(uscc=uscc(2000 + i), name=f"企业{i}", category="企业")
    Target.create(uscc=uscc(2100), name="建筑企业", category="企业-建筑业")
    Target.create(uscc=uscc(2101), name="注销企业", category="企业", active=False)
    Target.create(uscc=uscc(2102), name="中介", category="人力资源服务机构")
    a0, a1, a2 = w.assignments
    # a0 (张伟, 李娜): on time, final, a penalty; a1 (王强, 赵敏): submitted two days late;
    # a2 (张伟, 李娜): a draft past its deadline.
    r0 = Report.create(assignment=a0, state="final", due_date=dt.date(2025, 7, 10),
                       submitted_at=dt.datetime(2025, 7, 9, 16), finding="行政处罚")
    Report.create(assignment=a1, state="submitted", due_date=dt.date(2025, 7, 10),
                  submitted_at=dt.datetime(2025, 7, 12, 9), finding="无问题")
    Report.create(assignment=a2, state="draft", due_date=dt.date(2025, 11, 20))
    EnforcementCase.create(report=r0, kind="行政处罚", deadline=dt.date(2025, 10, 7))
    Draw.create(task=w.task, attempt_no=2, state="aborted", operator="op",
                pool_digest="a" * 64, inspectors_digest="b" * 64, conflicts_digest="c" * 64,
                strata_json="{}", abort_reason="见证人未到场",
                updated_at=dt.datetime(2025, 6, 30, 9))
    ins = w.inspectors
    Training.create(inspector=ins[0], title="双随机业务培训", date=dt.date(2025, 3, 1))
    Training.create(inspector=ins[1], title="双随机业务培训", date=dt.date(2024, 3, 1))
    Training.create(inspector=ins[2], title="双随机业务培训", date=dt.date(2025, 3, 1))
    Inspector.update(cert_valid_until=TODAY + dt.timedelta(days=30)).where(
        Inspector.id == ins[2].id).execute()
    Inspector.update(cert_valid_until=TODAY + dt.timedelta(days=61)).where(
        Inspector.id == ins[0].id).execute()
    auditor = auth.create_user("auditor", "auditor123", "auditor", "纪检")
    return w, auditor


def test_board_figures_on_a_constructed_year(year):
    w, _ = year
    b = leaders.board(2025, TODAY)
    assert [(r.task_code, -r.days_left) for r in b.overdue_reports] == [("2025-07-0003", 11)]
    # The same rows as the Deadlines screen's overdue ones, from one query on reports.
    from kiosk.reports import due

    assert b.overdue_reports == [r for r in due.deadlines(TODAY) if r.overdue]
    assert b.overdue_reports[0].inspectors == ("张伟", "李娜")
    assert [(c.task_code, c.kind, c.days_over) for c in b.overdue_cases] == [
        ("2025-07-0001", "行政处罚", 55)]
    assert [(a.task_code, a.attempt, a.day, a.reason) for a in b.aborted] == [
        ("2025-RS-01-1", 2, dt.date(2025, 6, 30), "见证人未到场")]
    assert [(g.name, g.note) for g in b.gaps] == [
        ("李娜", "本年度未参加培训"), ("王强", "执法证 30 天后到期"), ("赵敏", "本年度未参加培训")]
    assert b.gaps[0].last_training == dt.date(2024, 3, 1)
    [cov] = b.coverage
    assert (cov.item_code, cov.directory, cov.drawn, cov.inspected, cov.share_text) == (
        "RS-01", 10, 3, 2, "20.0%")
    assert [(t.name, t.tasks, t.on_time, t.late, t.findings) for t in b.offices] == [
        ("劳动保障监察大队", 3, 1, 2, 1)]
    people = {t.name: (t.tasks, t.on_time, t.late, t.findings) for t in b.inspectors}
    assert people == {"张伟（豫411600000）": (2, 1, 1, 1), "李娜（豫411600001）": (2, 1, 1, 1),
                      "王强（豫411600002）": (1, 0, 1, 0), "赵敏（豫411600003）": (1, 0, 1, 0)}
    # Another year has tasks of its own only: nothing of 2025's.
    other = leaders.board(2024, TODAY)
    assert other.offices == [] and other.aborted == [] and other.coverage[0].drawn == 0
    assert json.loads(json.dumps(b.as_json()))["coverage"][0]["share"] == 0.2
    # 王强 leaves his post (离岗): the open task of his team is listed for reassignment
    # (a2's is a draft, still open; a1's report is submitted and stays with its team).
    Inspector.update(active=False).where(Inspector.id == w.inspectors[2].id).execute()
    assert [(t.task_code, t.cert_no, t.why) for t in leaders.board(2025, TODAY).reassign] == []
    Inspector.update(active=False).where(Inspector.id == w.inspectors[0].id).execute()
    assert [(t.task_code, t.inspector_name, t.why)
            for t in leaders.board(2025, TODAY).reassign] == [("2025-07-0003", "张伟", "离岗")]


def test_only_leaders_and_auditors_read_it(year):
    w, auditor = year
    assert leaders.board_for(auditor, 2025, TODAY).year == 2025
    assert leaders.board_for(w.leader, 2025, TODAY).offices[0].tasks == 3
    for who in (w.reviewer, w.member, None):
        with pytest.raises(UserError, match="只有局领导和纪检审计人员"):
            leaders.board_for(who, 2025, TODAY)


def test_workbook_for_the_year_end_assessment(year, tmp_path):
    from openpyxl import load_workbook

    w, auditor = year
    out = tmp_path / "2025年度考核.xlsx"
    with pytest.raises(UserError, match="只有局领导和纪检审计人员"):
        workbook.export_xlsx(w.reviewer, out, 2025, TODAY)
    with pytest.raises(UserError, match=r"\.xlsx"):
        workbook.export_xlsx(auditor, tmp_path / "a.csv", 2025, TODAY)
    assert not out.exists()
    workbook.export_xlsx(auditor, out, 2025, TODAY)
    wb = load_workbook(out)
    assert wb.sheetnames == ["年度考核", "检查人员", "名录覆盖", "逾期报告", "逾期案件",
                             "中止摇号", "培训与执法证", "待改派任务"]
    rows = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb}
    assert rows["年度考核"] == [["股室", "任务数", "按期报告", "逾期报告", "发现问题"],
                             ["劳动保障监察大队", 3, 1, 2, 1]]
    assert rows["名录覆盖"][1] == ["RS-01", w.item.name, 10, 3, 2, 0.2]
    assert wb["名录覆盖"]["F2"].number_format == "0.0%"
    assert rows["逾期案件"][1][:4] == ["2025-07-0001", w.targets[0].name, "劳动保障监察大队",
                                    "行政处罚"]
    assert rows["中止摇号"][1] == ["2025-RS-01-1", "RS-01", 2, "2025-06-30", "见证人未到场"]
    assert len(rows["检查人员"]) == 5 and len(rows["培训与执法证"]) == 4
    assert rows["待改派任务"] == [["摇号", "任务编号", "被检查单位", "执法证号", "执法人员",
                                "原因"]]
    ev = AuditEvent.select().order_by(AuditEvent.seq.desc()).first()
    detail = json.loads(ev.detail)
    assert (ev.actor, ev.action, detail["year"]) == ("auditor", "dashboard.export", 2025)
    assert detail["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert out.stat().st_mode & 0o777 == 0o600
