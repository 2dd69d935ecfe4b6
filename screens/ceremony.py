"""The draw ceremony screen: one attempt of a planned task, witnessed step by step (the task
picker is screens/ceremony_picker.py)."""
from __future__ import annotations

from dataclasses import dataclass, replace

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from kiosk import access
from kiosk.draw import documents, lock, steps, witnesses
from kiosk.draw import view as draw_view
from kiosk.errors import UserError
from screens.ceremony_picker import TaskPickerScreen, _user
from screens.dialogs import ConfirmModal, InputModal
from screens.widgets import ceremony_panels as panels
from screens.widgets.ceremony_modals import RecusalModal, WitnessModal

__all__ = ["LEAVE_QUESTION", "CeremonyScreen", "TaskPickerScreen"]

HEARTBEAT_SECONDS = 30
FOLLOW_SECONDS = 0.5
LEAVE_QUESTION = "离开将暂停本次摇号（可稍后继续），确定离开？"


# ---------------------------------------------------------------- the ceremony


@dataclass(frozen=True)
class Done:
    """A step that went through, with whatever the step function returned."""

    value: object = None


class CeremonyScreen(Screen):
    """One draw attempt, rendered from kiosk.draw.view; every step is a kiosk.draw call."""

    BLOCKED_APP_ACTIONS = frozenset({"quit", "command_palette", "help_quit"})
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    AUTO_FOCUS = None

    BINDINGS = [
        Binding("escape", "leave", "离开", id="ceremony.leave",
                tooltip="暂停本次摇号并离开（会先询问）"),
        Binding("ctrl+q", "leave", "离开", id="ceremony.quit", show=False,
                tooltip="摇号进行中不能直接退出程序：先询问是否暂停并离开"),
        Binding("ctrl+x", "abort", "中止", id="ceremony.abort", priority=True,
                tooltip="中止本次摇号（须说明理由，记录保留；揭晓后须全部见证人确认）"),
        Binding("w", "add_witness", "见证人签到", id="ceremony.witness",
                tooltip="见证人本人输入账号和密码签到"),
        Binding("p", "print_predraw", "打印预抽签表", id="ceremony.print_predraw",
                tooltip="打印抽取范围、摘要、信标来源和见证人签字栏"),
        Binding("c", "commit", "开始摇号", id="ceremony.commit",
                tooltip="系统生成随机数并公布其承诺值（见证人签到已满）"),
        Binding("e", "give_entropy", "见证人录入随机数", id="ceremony.entropy",
                tooltip="下一位见证人输入本人密码和随机数"),
        Binding("v", "reveal", "揭晓", id="ceremony.reveal",
                tooltip="揭晓系统随机数，计算种子并抽取检查对象"),
        Binding("space", "next", "下一个", id="ceremony.next",
                tooltip="揭晓下一个检查对象或显示下一个检查组"),
        Binding("a", "reveal_all", "揭晓全部", id="ceremony.reveal_all",
                tooltip="一次揭晓其余全部检查对象"),
        Binding("m", "match", "匹配检查组", id="ceremony.match",
                tooltip="为全部抽中对象随机匹配执法检查组"),
        Binding("l", "full_list", "全部检查组", id="ceremony.full_list",
                tooltip="显示全部检查组列表"),
        Binding("r", "recuse", "现场回避", id="ceremony.recuse",
                tooltip="当前检查组的执法人员申报回避，由协议抽取替补"),
        Binding("k", "confirm_witness", "见证人确认", id="ceremony.confirm",
                tooltip="下一位见证人输入本人密码，确认所见过程和结果"),
        Binding("n", "toggle_names", "显示名称", id="ceremony.names",
                tooltip="有权限的角色显示或隐藏对象名称（第十二条；共享屏幕默认只显示信用代码）"),
        Binding("s", "seal", "封存", id="ceremony.seal", tooltip="封存本次摇号结果"),
        Binding("p", "print_protocol", "打印摇号记录", id="ceremony.print_protocol",
                tooltip="打印摇号记录（含此前各次和核验方法）"),
        Binding("t", "print_slips", "打印任务单", id="ceremony.print_slips",
                tooltip="打印每个检查对象的任务单"),
        Binding("e", "export", "导出核验记录", id="ceremony.export",
                tooltip="导出核验记录 JSON 和三份名录，供 kiosk verify 核验"),
    ]

    # Screen actions and the ceremony action each stands for (steps.allowed_actions).
    STEP_OF_ACTION = {
        "abort": "abort", "add_witness": "add_witness", "print_predraw": "print_predraw",
        "commit": "commit", "give_entropy": "entropy", "reveal": "reveal",
        "reveal_all": "reveal_all", "match": "match", "recuse": "recuse",
        "confirm_witness": "confirm", "seal": "seal", "print_protocol": "print_protocol",
        "print_slips": "print_slips", "export": "export",
    }

    def __init__(self, draw_id: int) -> None:
        super().__init__()
        self.draw_id = draw_id
        self.v: draw_view.View | None = None
        self.p = panels.Presentation()
        self.names = False
        self.stamp = ""  # the draw as last shown: a change made elsewhere reloads

    # ------------------------------------------------------------ frame

    def compose(self) -> ComposeResult:
        yield Static("", id="bar", markup=False)  # the item's name, as imported
        with Horizontal(id="main"):
            yield VerticalScroll(id="body")
            yield VerticalScroll(id="side")
        yield Static("", id="msg", markup=False)
        yield Footer()

    @property
    def guarding(self) -> bool:
        return self.v is None or self.v.state not in ("sealed", "aborted")

    def blocks_app_action(self, action: str) -> bool:
        """While a draw is open the app's quit and palette keys do nothing (screens.app)."""
        return self.guarding and action in self.BLOCKED_APP_ACTIONS

    @property
    def full_list(self) -> bool:
        return self.p.full_list

    @property
    def export_path(self):
        return self.p.export_path

    @property
    def actor(self) -> str:
        return _user(self.app)[0]

    async def on_mount(self) -> None:
        self.set_interval(HEARTBEAT_SECONDS, self._heartbeat)
        # Witnesses may act from their own terminals (`kiosk watch`): follow their steps.
        self.set_interval(FOLLOW_SECONDS, self._follow)
        await self.reload(first=True)

    async def _follow(self) -> None:
        if self.guarding and self.stamp and draw_view.stamp(self.draw_id) != self.stamp:
            await self.reload()

    def on_unmount(self) -> None:
        if self.guarding:
            lock.release(self.draw_id)

    def _heartbeat(self) -> None:
        if self.guarding:
            lock.heartbeat(self.draw_id)

    def say(self, text: str, kind: str = "") -> None:
        msg = self.query_one("#msg", Static)
        msg.update(text)
        msg.set_class(kind == "error", "error")
        msg.set_class(kind == "ok", "ok")

    async def call(self, fn, *args, ok: str = "", **kw) -> Done | None:
        """Run one step; a refusal is shown as its plain sentence (and gives None)."""
        try:
            result = fn(*args, **kw)
        except UserError as e:
            self.say(str(e), "error")
            self.app.bell()
            await self.reload()
            return None
        self.say(ok, "ok" if ok else "")
        return Done(result)

    # ------------------------------------------------------------ rendering

    async def reload(self, first: bool = False) -> None:
        """Read the whole view from the store: on opening, after a refusal, and after the
        steps whose result touches many parts of it (a sign-in, an entropy, a recusal)."""
        role = _user(self.app)[1]
        v = draw_view.view(self.draw_id, role, names=self.names)
        if first and v.state == "matched":
            if any(w["confirmed"] for w in v.witnesses):
                self.p.full_list = True
            else:
                self.p.team_index = 1
        await self.show(v)

    async def show(self, v: draw_view.View, state: str | None = None) -> None:
        """Render `v`, moved to `state` when a step just returned there."""
        if state:
            v = draw_view.at_state(v, state)
        self.v = v
        self.stamp = draw_view.stamp(self.draw_id)
        self.query_one("#bar", Static).update(
            f"摇号  任务 {v.task}（第 {v.attempt} 次）  {v.item}  ▶ {v.state_label}")
        body = self.query_one("#body", VerticalScroll)
        await body.remove_children()
        await body.mount_all(panels.body(v, self.p))
        side = self.query_one("#side", VerticalScroll)
        await side.remove_children()
        await side.mount_all(panels.side(v))
        focus = {"committed": "#beacon-input"}.get(v.state)
        if v.state in ("matched", "confirmed") and self.p.full_list:
            focus = "#teams"
        if focus and self.query(focus):
            self.query_one(focus).focus()
        else:
            self.set_focus(None)
        self.refresh_bindings()

    # ------------------------------------------------------------ which keys apply now

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        v = self.v
        if v is None:
            return action == "leave"
        allowed = steps.allowed_actions(v.state, revealed=v.reveal_index,
                                        selected=len(v.selected))
        paging = v.state == "matched" and not self.p.full_list
        if action == "next":
            return "reveal_next" in allowed or paging
        if action == "full_list":
            return paging
        if action == "confirm_witness":
            return "confirm" in allowed and self.p.full_list
        if action == "give_entropy":
            return "entropy" in allowed and not v.beacon_needed
        if action == "toggle_names":
            role = _user(self.app)[1]
            return bool(v.selected) and access.may_see_drawn_names(
                role, sealed=v.state == "sealed")
        step = self.STEP_OF_ACTION.get(action)
        return True if step is None else step in allowed

    # ------------------------------------------------------------ leaving and aborting

    def action_leave(self) -> None:
        if not self.guarding:
            self._go()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._go()

        self.app.push_screen(ConfirmModal(LEAVE_QUESTION, yes="离开", no="留下"), answered)

    def _go(self) -> None:
        if self.guarding:
            lock.release(self.draw_id)
        self.app.pop_screen()

    def action_abort(self) -> None:
        revealed = self.v is not None and self.v.state in steps.REVEALED_STATES
        prompt = ("检查对象已揭晓：中止须由每位签到见证人输入本人密码确认，结果保留在案。"
                  if revealed else "中止后本次摇号作废但记录保留，任务可重新摇号。")

        async def answered(reason: str | None) -> None:
            if not reason:
                self.say("未中止。")
                return
            if revealed:
                self._collect_witnesses(reason, [], list(self.v.witnesses))
                return
            await self._abort(reason, [])

        self.app.push_screen(InputModal("中止本次摇号", prompt + "请说明中止理由：",
                                        placeholder="理由（必填）", required=True,
                                        empty_message="理由不能为空。"), answered)

    def _collect_witnesses(self, reason: str, users: list, pending: list[dict]) -> None:
        """After the reveal: each signed-in witness agrees with their own password."""
        if not pending:
            self.call_later(self._abort, reason, users)
            return
        w = pending[0]

        async def answered(given: tuple | None) -> None:
            if not given:
                self.say("未中止：需要全部见证人确认。")
                return
            try:
                users.append(witnesses.login(given[0], given[1]))
            except UserError as e:
                self.say(str(e), "error")
                return
            self._collect_witnesses(reason, users, pending[1:])

        self.app.push_screen(WitnessModal(
            "见证人确认中止",
            f"中止理由：{reason}\n请见证人 {w['account']}（{w['name']}）输入本人密码：",
            account=w["account"]), answered)

    async def _abort(self, reason: str, users: list) -> None:
        if await self.call(steps.abort, self.draw_id, reason, self.actor, witnesses=users,
                           ok="本次摇号已中止，记录保留。"):
            pass
        await self.reload()

    # ------------------------------------------------------------ witnesses

    def _witness(self, title: str, prompt: str, then, *, account: str = "",
                 entropy: bool = False) -> None:
        """Ask a witness for their own account and password, then run `then(user, entropy)`."""

        async def answered(given: tuple | None) -> None:
            if not given:
                return
            login, password, text = given
            try:
                user = witnesses.login(login, password)
            except UserError as e:
                self.say(str(e), "error")
                self.app.bell()
                return
            await then(user, text)

        self.app.push_screen(WitnessModal(title, prompt, account=account, entropy=entropy),
                             answered)

    def action_add_witness(self) -> None:
        async def then(user, _text) -> None:
            if await self.call(witnesses.sign_in, self.draw_id, user,
                               ok=f"见证人 {user.username} 已签到。"):
                await self.reload()

        self._witness("见证人签到", "请见证人本人输入账号和密码（操作员不能担任见证人）：", then)

    def action_give_entropy(self) -> None:
        v = self.v
        pending = [w for w in v.witnesses if not w["given"]] if v else []
        if not pending:
            return
        w = pending[0]

        async def then(user, text) -> None:
            if await self.call(witnesses.enter_entropy, self.draw_id, user, text,
                               ok=f"见证人 {user.username} 的随机数已录入。"):
                await self.reload()

        self._witness("见证人录入随机数",
                      f"第 {w['position'] + 1} 位见证人 {w['account']}（{w['name']}）："
                      "输入本人密码和随机数（屏幕遮盖，全部录入后公布）。", then,
                      account=w["account"],
                      entropy=True)

    def action_confirm_witness(self) -> None:
        v = self.v
        pending = [w for w in v.witnesses if not w["confirmed"]] if v else []
        if not pending:
            return
        w = pending[0]

        async def then(user, _text) -> None:
            if await self.call(witnesses.confirm, self.draw_id, user,
                               ok=f"见证人 {user.username} 已确认。"):
                await self.reload()

        self._witness("见证人确认",
                      f"见证人 {w['account']}（{w['name']}）确认：所见摇号过程和结果"
                      f"（{len(v.selected)} 个检查对象及其检查组）与屏幕显示一致。"
                      "请输入本人密码：", then,
                      account=w["account"])

    # ------------------------------------------------------------ the operator's steps

    async def action_commit(self) -> None:
        done = await self.call(steps.commit, self.draw_id, self.actor,
                               ok="系统随机数已生成，承诺值已公布。")
        if done:
            await self.show(replace(self.v, commitment=done.value), "committed")

    @on(Input.Submitted, "#beacon-input")
    async def _beacon(self, event: Input.Submitted) -> None:
        done = await self.call(witnesses.set_beacon, self.draw_id, event.value, self.actor,
                               ok="公开信标已录入，请见证人依次录入随机数。")
        if done:
            await self.show(replace(self.v, beacon=done.value))

    async def action_reveal(self) -> None:
        if await self.call(steps.reveal, self.draw_id, self.actor,
                           ok="系统随机数已揭晓，请逐个揭晓检查对象（a 揭晓全部）。"):
            await self.reload()

    async def _reveal_to(self, count: int) -> None:
        done = await self.call(steps.advance_reveal, self.draw_id, count)
        if done:
            await self.show(replace(self.v, reveal_index=done.value))

    async def action_next(self) -> None:
        v = self.v
        if v is None:
            return
        if v.state == "revealed":
            await self._reveal_to(v.reveal_index + 1)
        elif v.state == "matched" and not self.p.full_list:
            if self.p.team_index < len(v.selected):
                self.p.team_index += 1
            else:
                self.p.full_list = True
            await self.show(v)

    async def action_reveal_all(self) -> None:
        if self.v is not None:
            await self._reveal_to(len(self.v.selected))

    async def action_match(self) -> None:
        done = await self.call(steps.match, self.draw_id, self.actor,
                               ok="检查组已匹配，请逐组查看。")
        if done:
            self.p.team_index, self.p.full_list = 1, False
            await self.show(draw_view.with_teams(self.v, done.value), "matched")

    async def action_full_list(self) -> None:
        self.p.full_list = True
        await self.show(self.v)

    async def action_toggle_names(self) -> None:
        self.names = not self.names
        await self.reload()

    def _current_target(self) -> dict | None:
        v = self.v
        if v is None or not v.selected:
            return None
        if self.p.full_list:
            table = self.query("#teams")
            row = table.first(DataTable).cursor_row if table else 0
            return v.selected[row]
        return v.selected[max(1, self.p.team_index) - 1]

    def action_recuse(self) -> None:
        target = self._current_target()
        if target is None:
            return
        row = self.query_one("#teams", DataTable).cursor_row if self.p.full_list else None

        async def answered(choice: tuple[str, str] | None) -> None:
            if not choice:
                return
            cert, reason = choice
            done = await self.call(steps.amend, self.draw_id, target["uscc"], cert, reason,
                                   self.actor)
            if done:
                replacement = done.value
                await self.reload()
                names = {m["cert_no"]: m["name"] for s in self.v.selected for m in s["team"]}
                self.say(f"{cert} 回避；由协议抽取替补：{replacement} {names.get(replacement, '')}",
                         "ok")
                if row is not None and self.query("#teams"):
                    self.query_one("#teams", DataTable).move_cursor(row=row)

        self.app.push_screen(RecusalModal(target["uscc"], target["team"]), answered)

    def action_seal(self) -> None:
        async def answered(yes: bool | None) -> None:
            if yes and await self.call(steps.seal, self.draw_id, self.actor,
                                       ok="已封存。结果和全部检查任务已写入。"):
                await self.show(self.v, "sealed")

        self.app.push_screen(ConfirmModal(
            "封存后结果不可更改，并生成检查任务。确定封存？", yes="封存", no="取消"), answered)

    # ------------------------------------------------------------ printed matter and export

    def _print(self, kind: str) -> None:
        try:
            self.say(documents.print_document(self.draw_id, kind, self.actor), "ok")
        except UserError as e:
            self.say(str(e), "error")

    def action_print_predraw(self) -> None:
        self._print("predraw")

    def action_print_protocol(self) -> None:
        self._print("protocol")

    def action_print_slips(self) -> None:
        self._print("slips")

    async def action_export(self) -> None:
        try:
            path = documents.export(self.draw_id, self.actor)
        except UserError as e:
            self.say(str(e), "error")
            return
        self.p.export_path = path
        self.say(f"已导出：{path}（及 pool.tsv、inspectors.tsv、conflicts.tsv）", "ok")
        await self.show(self.v)
