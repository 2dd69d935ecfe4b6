"""The leaders' dashboard as an XLSX workbook for the year-end assessment (Art. 19), written
through audited_export: no file leaves the kiosk without its audit event."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from kiosk import access
from kiosk.audit.exports import audited_export
from kiosk.dashboard.leaders import Board, board
from kiosk.errors import UserError


def _d(value: dt.date | None) -> str:
    return "" if value is None else f"{value:%Y-%m-%d}"


def sheets(b: Board) -> list[tuple[str, list[str], list[list]]]:
    """(sheet title, header, rows) in workbook order; the screen shows the same tables."""
    return [
        ("年度考核", ["股室", "任务数", "按期报告", "逾期报告", "发现问题"],
         [[t.name, t.tasks, t.on_time, t.late, t.findings] for t in b.offices]),
        ("检查人员", ["检查人员", "股室", "任务数", "按期报告", "逾期报告", "发现问题"],
         [[t.name, t.office, t.tasks, t.on_time, t.late, t.findings] for t in b.inspectors]),
        ("名录覆盖", ["事项", "名称", "名录对象", "抽中", "已检查", "覆盖率"],
         [[c.item_code, c.item_name, c.directory, c.drawn, c.inspected, round(c.share, 4)]
          for c in b.coverage]),
        ("逾期报告", ["任务编号", "被检查单位", "股室", "期限", "逾期天数"],
         [[r.task_code, r.target_name, r.office, _d(r.due_date), -r.days_left]
          for r in b.overdue_reports]),
        ("逾期案件", ["任务编号", "被检查单位", "股室", "类别", "状态", "期限", "逾期天数"],
         [[c.task_code, c.target_name, c.office, c.kind, c.state_label, c.deadline_text,
           c.days_over] for c in b.overdue_cases]),
        ("中止摇号", ["任务", "事项", "第几次", "日期", "中止理由"],
         [[a.task_code, a.item_code, a.attempt, _d(a.day), a.reason] for a in b.aborted]),
        ("培训与执法证", ["执法证号", "姓名", "股室", "最近培训", "执法证有效期至", "提示"],
         [[g.cert_no, g.name, g.office, _d(g.last_training), _d(g.cert_valid_until), g.note]
          for g in b.gaps]),
        ("待改派任务", ["摇号", "任务编号", "被检查单位", "执法证号", "执法人员", "原因"],
         [[t.draw_id, t.task_code, t.target_name, t.cert_no, t.inspector_name, t.why]
          for t in b.reassign]),
    ]


def _write(b: Board, path: Path) -> int:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for title, header, rows in sheets(b):
        ws = wb.create_sheet(title)
        ws.append(header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append(row)
        ws.freeze_panes = "A2"
        if title == "名录覆盖":
            for (cell,) in ws.iter_rows(min_row=2, min_col=6, max_col=6):
                cell.number_format = "0.0%"
    wb.save(path)
    return sum(len(rows) for _, _, rows in sheets(b))


def export_xlsx(user, path: str | Path, year: int | None = None,
                today: dt.date | None = None) -> Path:
    """The year's dashboard workbook at `path` (leader or auditor), with its audit event."""
    if user is None or not access.may_read_leader_dashboards(user.role):
        raise UserError(access.MAY_NOT_READ_LEADER_DASHBOARD)
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise UserError("年度考核表请存为 .xlsx 文件。")
    if not path.parent.is_dir():
        raise UserError(f"目录“{path.parent}”不存在。")
    b = board(year, today)
    audited_export(user.username, "dashboard", path, lambda tmp: _write(b, tmp),
                   action="dashboard.export", year=b.year)
    return path
