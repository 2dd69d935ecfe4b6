"""Publish screen (Art. 4, 5, 13): a leader picks a sealed draw, sees its published versions
and publishes the next one (or the public lists) to a folder."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from kiosk import access
from kiosk.errors import UserError
from screens.base import SignedIn
from screens.widgets.plain_table import PlainTable
from screens.workers import store_worker


class PublishScreen(SignedIn, Screen[None]):
    """Sealed draws with how often each was published; the highlighted draw's versions."""

    BINDINGS = [
        Binding("p", "publish", "发布公示", id="publish.draw",
                tooltip="将所选摇号的结果公示包写入目录（新的一版，局领导）"),
        Binding("n", "publish_lists", "发布名录", id="publish.lists",
                tooltip="发布事项清单（含历史版本）和执法人员名录（局领导）"),
        Binding("r", "reload", "刷新", id="publish.reload", tooltip="重新读取摇号和公示版本"),
        Binding("escape", "back", "返回", id="publish.back", tooltip="返回主页"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.draw_ids: list[int] = []

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        yield Static("已封存的摇号（↑↓ 选择，P 发布公示，N 发布名录）", id="publish-caption")
        yield PlainTable(id="publish-draws", cursor_type="row", zebra_stripes=True)
        yield Static("", id="publish-versions", markup=False)
        yield Static("", id="publish-note", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#publish-draws", DataTable)
        table.add_columns("编号", "计划任务", "次", "摇号日期", "对象", "已公示", "抽查事项")
        role = getattr(self.user, "role", None)
        if not access.may_publish(role):
            self._note(access.MAY_NOT_PUBLISH, error=True)
        self.action_reload()

    def _note(self, text: str, error: bool = False) -> None:
        note = self.query_one("#publish-note", Static)
        note.update(text)
        note.set_class(error, "error")

    def action_reload(self) -> None:
        self._load()

    @store_worker(group="publish-load")
    def _load(self) -> None:
        from kiosk.publication import sealed_draws

        rows = sealed_draws()
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows) -> None:
        table = self.query_one("#publish-draws", DataTable)
        keep = table.cursor_row
        table.clear()
        self.draw_ids = [r.draw_id for r in rows]
        for r in rows:
            table.add_row(str(r.draw_id), r.task, str(r.attempt), r.draw_date, str(r.targets),
                          f"{r.published} 版" if r.published else "未公示", r.item)
        if not rows:
            self.query_one("#publish-versions", Static).update("还没有已封存的摇号。")
            return
        table.move_cursor(row=min(keep, len(rows) - 1))
        table.focus()
        self._load_versions(self.draw_ids[table.cursor_row])

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.draw_ids):
            self._load_versions(self.draw_ids[event.cursor_row])

    @store_worker(group="publish-versions")
    def _load_versions(self, draw_id: int) -> None:
        from kiosk.publication import versions

        rows = versions(draw_id)
        if rows:
            text = "\n".join(
                f"第 {v.version} 版  {v.published_at}  {v.published_by}  "
                + "，".join(f"{k} {n}" for k, n in v.counts.items()) for v in rows[-4:])
            if len(rows) > 4:
                text = f"（共 {len(rows)} 版，显示最近 4 版）\n" + text
        else:
            text = "该摇号尚未公示。"
        self.app.call_from_thread(self.query_one("#publish-versions", Static).update, text)

    def _selected(self) -> int | None:
        table = self.query_one("#publish-draws", DataTable)
        if not self.draw_ids:
            return None
        return self.draw_ids[table.cursor_row]

    def action_publish(self) -> None:
        draw_id = self._selected()
        if draw_id is None:
            self._note("没有可公示的摇号。", error=True)
            return
        self._ask_folder(draw_id)

    def action_publish_lists(self) -> None:
        self._ask_folder(None)

    @store_worker(group="publish-ask")
    def _ask_folder(self, draw_id: int | None) -> None:
        from kiosk.publication.kit import suggested_folder

        try:
            folder = str(suggested_folder(draw_id))
        except UserError as e:
            self.app.call_from_thread(self._note, str(e), True)
            return
        self.app.call_from_thread(self._open_dialog, draw_id, folder)

    def _open_dialog(self, draw_id: int | None, folder: str) -> None:
        from screens.dialogs import InputModal

        what = f"摇号 {draw_id} 的结果公示" if draw_id else "事项清单和执法人员名录"
        self.app.push_screen(
            InputModal("发布公示", f"将{what}写入以下目录（新的一版；已有版本保留）：",
                       value=folder, required=True, empty_message="请填写目录。", ok="发布"),
            lambda out: out and self._publish(draw_id, out.strip()))

    @store_worker(group="publish-run")
    def _publish(self, draw_id: int | None, out: str) -> None:
        from kiosk.publication import publish_draw, publish_lists

        try:
            if draw_id is None:
                res = publish_lists(out, self.user)
                text = f"已发布公示名录第 {res.version} 版到 {res.folder}。"
            else:
                res = publish_draw(draw_id, out, self.user)
                text = (f"已发布摇号 {draw_id} 的结果公示第 {res.version} 版到 {res.folder}"
                        "（含 notice.pdf、notice.html、verify.py、SHA256SUMS）。")
        except UserError as e:
            self.app.call_from_thread(self._note, str(e), True)
            return
        self.app.call_from_thread(self._note, text)
        self.app.call_from_thread(self.action_reload)

    def action_back(self) -> None:
        self.app.pop_screen()
