"""Inspector sanctions (Art. 18): record them, and reassign a barred inspector's open tasks by
an amendment of the sealed draw, before witnesses who sign in with their own passwords."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from kiosk import access, sanctions
from kiosk.draw.reassign import reassign
from kiosk.draw.witnesses import quorum
from kiosk.errors import UserError
from screens.base import SignedIn
from screens.cases import FieldsModal
from screens.widgets.plain_table import PlainTable

SANCTION_FIELDS = (("cert", "执法证号"), ("kind", "处理种类（" + "/".join(sanctions.KINDS) + "）"),
                   ("start", "起始日期"), ("end", "暂扣截止日期（仅暂扣执法证）"),
                   ("reason", "理由"), ("decided_by", "决定机关或文号（可不填）"))


class SanctionsScreen(SignedIn, Screen[None]):
    """Sanctions on record (top) and the open tasks of barred inspectors (bottom)."""

    BINDINGS = [
        Binding("n", "add", "记录处理", id="sanctions.add",
                tooltip="记录批评教育、通报批评、暂扣或吊销执法证、调离（管理员、局领导）"),
        Binding("r", "reassign", "改派", id="sanctions.reassign",
                tooltip="所选任务所在摇号：按规程改派，见证人以各自密码确认"),
        Binding("tab", "app.focus_next", "切换表", id="sanctions.focus",
                tooltip="在处理记录与待改派任务之间切换"),
        Binding("escape", "back", "返回", id="sanctions.back", tooltip="返回主页"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.tasks: list[sanctions.OpenTask] = []

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        yield Static("执法人员处理记录（第十八条）", classes="sanctions-caption")
        yield PlainTable(id="sanctions-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="sanctions-tasks-caption", classes="sanctions-caption")
        yield PlainTable(id="sanctions-tasks", cursor_type="row", zebra_stripes=True)
        yield Static("", id="sanctions-note", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#sanctions-table", DataTable).add_columns(
            "执法证号", "姓名", "处理", "起始", "截止", "状态")
        self.query_one("#sanctions-tasks", DataTable).add_columns(
            "摇号", "任务编号", "执法人员", "原因", "被检查单位")
        self.when_allowed(access.may_read_sanctions, access.MAY_NOT_READ_SANCTIONS,
                          "执法人员处理：请管理员或局领导登录", self.reload, self._say)

    def reload(self) -> None:
        table = self.query_one("#sanctions-table", DataTable)
        table.clear()
        for r in sanctions.rows():
            table.add_row(r.cert_no, r.name, r.kind, f"{r.start:%Y-%m-%d}",
                          f"{r.end:%Y-%m-%d}" if r.end else "", "生效中" if r.in_force else "")
        self.tasks = sanctions.open_tasks()
        tasks = self.query_one("#sanctions-tasks", DataTable)
        tasks.clear()
        for t in self.tasks:
            tasks.add_row(str(t.draw_id), t.task_code, t.inspector_name, t.why, t.target_name)
        self.query_one("#sanctions-tasks-caption", Static).update(
            f"待改派的任务 {len(self.tasks)} 项（r 改派所选任务所在摇号）")

    def action_add(self) -> None:
        if self.user is None or not access.may_sanction(self.user.role):
            self._say(access.MAY_NOT_SANCTION, error=True)
            return

        def done(values: dict | None) -> None:
            if values is None:
                return
            try:
                row = sanctions.add(values["cert"], values["kind"].strip(), values["start"],
                                    values["reason"], self.user, end=values["end"] or None,
                                    decided_by=values["decided_by"])
            except UserError as e:
                self._say(str(e), error=True)
                return
            self.reload()
            self._say(f"已记录：{row.inspector.name} {row.kind}。")

        self.app.push_screen(FieldsModal("记录执法人员处理", SANCTION_FIELDS), done)

    def action_reassign(self) -> None:
        if self.user is None or not access.may_reassign(self.user.role):
            self._say(access.MAY_NOT_REASSIGN, error=True)
            return
        table = self.query_one("#sanctions-tasks", DataTable)
        if not self.tasks:
            self._say("没有需要改派的任务。", error=True)
            return
        draw_id = self.tasks[min(table.cursor_row or 0, len(self.tasks) - 1)].draw_id
        from screens.dialogs import InputModal

        def with_reason(reason: str | None) -> None:
            if reason:
                self._ask_witness(draw_id, reason, [])

        self.app.push_screen(InputModal(f"改派摇号 {draw_id} 的任务", "改派理由：",
                                        required=True, empty_message="请写明改派理由。"),
                             with_reason)

    def _ask_witness(self, draw_id: int, reason: str, signed: list) -> None:
        """One witness after another signs in over this screen until the quorum is reached;
        the operator's own session stays signed in."""
        if len(signed) >= quorum():
            try:
                done = reassign(draw_id, self.user, signed, reason)
            except UserError as e:
                self._say(str(e), error=True)
                return
            self.reload()
            self._say(f"已按规程改派 {len(done)} 人次："
                      + "；".join(f"{r.task_code} {r.inspector}→{r.replacement}" for r in done))
            return

        def got(user) -> None:
            if user is None:
                self._say("改派已取消。")
                return
            self._ask_witness(draw_id, reason, [*signed, user])

        self.app.require_login(got, switch_user=False,
                               prompt=f"见证人 {len(signed) + 1}/{quorum()} 请以本人账号登录")

    def _say(self, text: str, error: bool = False) -> None:
        note = self.query_one("#sanctions-note", Static)
        note.update(text)
        note.set_class(error, "error")

    def action_back(self) -> None:
        self.app.pop_screen()
