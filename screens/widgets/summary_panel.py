"""The dashboard figures (kiosk.dashboard.summary) as a compact block of Chinese lines."""
from __future__ import annotations

from textual.widgets import Static

PLAN_LABELS = {"planned": "待摇号", "drawing": "摇号中", "drawn": "已摇号", "cancelled": "已取消"}


def summary_lines(s: dict) -> list[str]:
    c = s["counts"]
    plan = s["plan"]
    return [
        f"事项清单   {c['items']:>9,} 项",
        f"执法人员   {c['inspectors']:>9,} 人",
        f"检查对象   {c['targets']:>9,} 家",
        f"回避关系   {c['conflicts']:>9,} 条",
        f"培训记录   {c['trainings']:>9,} 条",
        "",
        f"{s['year']} 年抽查计划 共 {s['plan_total']} 次",
        "  " + "  ".join(f"{PLAN_LABELS.get(k, k)} {v}" for k, v in plan.items()
                         if k in ("planned", "drawing", "drawn")),
        "",
        f"报告即将到期 {s['reports_due_soon']} 份",
        f"报告已逾期   {s['reports_overdue']} 份",
        f"案件已逾期   {s.get('cases_overdue', 0)} 件",
        "",
        f"审计日志 {s['audit_seq']} 条",
        f"链头 {s['audit_head'][:16]}",
    ]


class SummaryPanel(Static):
    DEFAULT_CSS = """
    SummaryPanel {
        width: 1fr;
        height: auto;
        padding: 0 1;
        border: round $primary;
        border-title-color: $text;
    }
    """

    def on_mount(self) -> None:
        self.border_title = "概况"
        if not self.content:
            self.update("正在统计……")

    def show(self, s: dict) -> None:
        self.update("\n".join(summary_lines(s)))
