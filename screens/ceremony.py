"""The draw ceremony screens: pick a planned task, then run its witnessed draw step by step."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Digits, Footer, Input, Label, Static

from kiosk import ceremony, plans
from kiosk.errors import UserError
from screens.dialogs import ConfirmModal
from screens.widgets.ceremony_modals import ReasonModal, RecusalModal

HEARTBEAT_SECONDS = 30
LEAVE_QUESTION = "离开将暂停本次摇号（可稍后继续），确定离开？"
DIGEST_LABELS = {"pool": "对象名录", "inspectors": "人员名录", "conflicts": "回避名录"}


def _user(app: App) -> tuple[str, str]:
    """(username, role) of whoever is logged in; least privilege when nobody is."""
    user = getattr(app, "user", None)
    if user is None:
        return "?", "witness"
    return user.username, user.role


def _out_dir(*parts: str) -> Path:
    from db.connection import data_dir_for, database

    p = data_dir_for(database.obj).joinpath(*parts)
    p.mkdir(parents=True, exist_ok=True)
    return p


def _pct(bp: int) -> str:
    return f"{bp / 100:g}%"


def _spaced(uscc: str) -> str:
    # Grouped like the printed certificate so a room can read it aloud.
    return f"{uscc[:2]} {uscc[2:8]} {uscc[8:17]} {uscc[17:]}"


# ---------------------------------------------------------------- task picker


class TaskPickerScreen(Screen):
    """The year's planned tasks; Enter opens (or resumes) the task's draw."""

    DEFAULT_CSS = """
    TaskPickerScreen #picker-title { text-style: bold; padding: 0 1; background: $primary; }
    TaskPickerScreen #picker-hint { padding: 0 1; color: $text-muted; }
    TaskPickerScreen DataTable { height: 1fr; }
    TaskPickerScreen #picker-msg { padding: 0 1; height: auto; }
    TaskPickerScreen #picker-msg.error { color: $error; text-style: bold; }
    """
    BINDINGS = [
        Binding("enter", "start", "开始/继续摇号", id="ceremony.picker.start",
                tooltip="冻结所选任务的抽取范围并开始摇号；有未完成的摇号则继续", priority=True),
        Binding("f5", "reload", "刷新", id="ceremony.picker.reload", tooltip="重新读取计划任务"),
        Binding("escape", "back", "返回", id="ceremony.picker.back", tooltip="返回上一屏"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.codes: list[str] = []
        self.opening = False

    def compose(self) -> ComposeResult:
        yield Static("摇号：选择计划内的抽查任务", id="picker-title")
        yield Static("只有列入抽查计划的任务才能摇号（第十八条）。↑↓ 选择，Enter 开始。",
                     id="picker-hint")
        yield DataTable(id="tasks", cursor_type="row", zebra_stripes=True)
        yield Static("", id="picker-msg")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#tasks", DataTable)
        table.add_columns("任务编号", "事项", "计划月份", "状态")
        self.action_reload()
        table.focus()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        table = self.query_one("#tasks", DataTable)
        year = plans.this_year()
        tasks = sorted(plans.list_tasks(), key=lambda t: (t["year"] != year, -t["year"]))
        table.clear()
        self.codes = []
        for t in tasks:
            table.add_row(t["code"], f"{t['item_code']} {t['item']}", f"{t['month']}月",
                          t["state_label"], key=t["code"])
            self.codes.append(t["code"])
        if not tasks:
            self._say("本年度没有计划任务。请先制定抽查计划。")

    def _say(self, text: str, error: bool = False) -> None:
        msg = self.query_one("#picker-msg", Static)
        msg.update(text)
        msg.set_class(error, "error")

    @on(DataTable.RowSelected, "#tasks")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_start()

    def action_start(self) -> None:
        table = self.query_one("#tasks", DataTable)
        if not self.codes:
            return
        code = self.codes[table.cursor_row]
        username, role = _user(self.app)
        if not ceremony.may_run(role):
            self._say(ceremony.MAY_NOT_RUN, error=True)
            return
        if self.opening:
            return
        self.opening = True
        self._say(f"正在冻结任务 {code} 的抽取范围……")
        self._open(code, username, role)

    @work(thread=True, exclusive=True, group="prepare")
    def _open(self, code: str, username: str, role: str) -> None:
        # Freezing a province-sized pool takes seconds: off the UI thread, so the screen lives.
        try:
            draw = ceremony.prepare(code, username, role=role)
        except UserError as e:
            self.app.call_from_thread(self._opened, None, str(e))
        else:
            self.app.call_from_thread(self._opened, draw.id, "")

    def _opened(self, draw_id: int | None, error: str) -> None:
        self.opening = False
        if draw_id is None:
            self._say(error, error=True)
            return
        self._say("")
        self.app.push_screen(CeremonyScreen(draw_id))

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()


# ---------------------------------------------------------------- the ceremony


@dataclass(frozen=True)
class Done:
    """A step that went through, with whatever the ceremony function returned."""

    value: object = None


def _guard_app(app: App) -> None:
    """Make the app's quit and palette keys harmless while a ceremony is open.

    App priority bindings are checked before any screen's, so a screen cannot shadow them;
    the app's own check_action is wrapped instead (once per app). The blocked key then falls
    through to the screen's own binding (ctrl+q asks before leaving)."""
    if getattr(app, "_ceremony_guarded", False):
        return
    original = app.check_action

    def check_action(action: str, parameters: tuple) -> bool | None:
        guarded = [s for s in app.screen_stack if isinstance(s, CeremonyScreen) and s.guarding]
        if guarded and action in CeremonyScreen.BLOCKED_APP_ACTIONS:
            return False
        return original(action, parameters)

    app.check_action = check_action  # type: ignore[method-assign]
    app._ceremony_guarded = True  # type: ignore[attr-defined]


class CeremonyScreen(Screen):
    """One draw attempt, rendered from ceremony.view(); every step is a kiosk.ceremony call."""

    BLOCKED_APP_ACTIONS = frozenset({"quit", "command_palette", "help_quit"})
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    AUTO_FOCUS = None

    DEFAULT_CSS = """
    CeremonyScreen #bar { height: auto; background: $primary; text-style: bold; padding: 0 1; }
    CeremonyScreen #main { height: 1fr; }
    CeremonyScreen #body { width: 1fr; padding: 0 1; }
    CeremonyScreen #side { width: 70; border-left: solid $primary; padding: 0 1; display: none; }
    CeremonyScreen.-wide #side { display: block; }
    CeremonyScreen.-wide #body { padding: 1 2; }
    CeremonyScreen #msg { height: auto; padding: 0 1; }
    CeremonyScreen #msg.error { color: $error; text-style: bold; background: $error 15%; }
    CeremonyScreen #msg.ok { color: $success; text-style: bold; }
    CeremonyScreen .h { text-style: bold; color: $accent; }
    CeremonyScreen .muted { color: $text-muted; }
    CeremonyScreen .big {
        text-style: bold; border: heavy $accent; padding: 0 1; width: auto; height: auto;
    }
    CeremonyScreen #body > Label, CeremonyScreen #side > Label { width: 100%; }
    CeremonyScreen #body > Label.big { width: auto; }
    CeremonyScreen .hex { text-style: bold; }
    CeremonyScreen Digits { width: auto; color: $accent; }
    CeremonyScreen #counter-row { height: auto; }
    CeremonyScreen #counter-row > Label { padding: 1 2; }
    CeremonyScreen #entry { width: 1fr; max-width: 70; border: tall $accent; }
    CeremonyScreen .form { height: auto; }
    CeremonyScreen .form Input { width: 1fr; }
    CeremonyScreen .form Label { padding: 0 1 0 0; }
    CeremonyScreen DataTable { height: auto; max-height: 12; }
    """

    BINDINGS = [
        Binding("escape", "leave", "离开", id="ceremony.leave",
                tooltip="暂停本次摇号并离开（会先询问）"),
        Binding("ctrl+q", "leave", "离开", id="ceremony.quit", show=False,
                tooltip="摇号进行中不能直接退出程序：先询问是否暂停并离开"),
        Binding("ctrl+x", "abort", "中止", id="ceremony.abort", priority=True,
                tooltip="中止本次摇号（须说明理由，记录保留）"),
        Binding("w", "add_witness", "见证人签到", id="ceremony.witness",
                tooltip="录入一位见证人的姓名和单位"),
        Binding("p", "print_predraw", "打印预抽签表", id="ceremony.print_predraw",
                tooltip="打印抽取范围、摘要和见证人签字栏"),
        Binding("c", "commit", "开始摇号", id="ceremony.commit",
                tooltip="系统生成随机数并公布其承诺值（见证人签到已满）"),
        Binding("space,enter", "next", "下一个", id="ceremony.next",
                tooltip="揭晓下一个检查对象或下一个检查组"),
        Binding("m", "match", "匹配检查组", id="ceremony.match",
                tooltip="为全部抽中对象随机匹配执法检查组"),
        Binding("l", "full_list", "全部检查组", id="ceremony.full_list",
                tooltip="显示全部检查组列表"),
        Binding("r", "recuse", "现场回避", id="ceremony.recuse",
                tooltip="当前检查组的执法人员申报回避，由协议抽取替补"),
        Binding("k", "confirm_witness", "见证人确认", id="ceremony.confirm",
                tooltip="下一位见证人确认所见过程和结果"),
        Binding("s", "seal", "封存", id="ceremony.seal", tooltip="封存本次摇号结果"),
        Binding("p", "print_protocol", "打印摇号记录", id="ceremony.print_protocol",
                tooltip="打印摇号记录（含核验方法）"),
        Binding("t", "print_slips", "打印任务单", id="ceremony.print_slips",
                tooltip="打印每个检查对象的任务单"),
        Binding("e", "export", "导出核验记录", id="ceremony.export",
                tooltip="导出核验记录 JSON 和三份名录，供 kiosk verify 核验"),
    ]

    def __init__(self, draw_id: int) -> None:
        super().__init__()
        self.draw_id = draw_id
        self.v: ceremony.View | None = None
        self.team_index = 0  # teams shown so far in the matched step
        self.full_list = False
        self.record: dict | None = None
        self.abort_reason = ""
        self.export_path: Path | None = None
        self._palette_was: bool | None = None

    # ------------------------------------------------------------ frame

    def compose(self) -> ComposeResult:
        yield Static("", id="bar")
        with Horizontal(id="main"):
            yield VerticalScroll(id="body")
            yield VerticalScroll(id="side")
        yield Static("", id="msg")
        yield Footer()

    @property
    def guarding(self) -> bool:
        return self.v is None or self.v.state not in ("sealed", "aborted")

    @property
    def actor(self) -> str:
        return _user(self.app)[0]

    async def on_mount(self) -> None:
        _guard_app(self.app)
        self._palette_was = self.app.use_command_palette
        self.app.use_command_palette = False
        self.set_interval(HEARTBEAT_SECONDS, self._heartbeat)
        await self.reload(first=True)

    def on_unmount(self) -> None:
        if self._palette_was is not None:
            self.app.use_command_palette = self._palette_was
        if self.guarding:
            ceremony.release(self.draw_id)

    def _heartbeat(self) -> None:
        if self.guarding:
            ceremony.heartbeat(self.draw_id)

    def say(self, text: str, kind: str = "") -> None:
        msg = self.query_one("#msg", Static)
        msg.update(text)
        msg.set_class(kind == "error", "error")
        msg.set_class(kind == "ok", "ok")

    async def call(self, fn, *args, ok: str = "") -> Done | None:
        """Run one ceremony step; a refusal is shown as its plain sentence (and gives None)."""
        try:
            result = fn(*args)
        except UserError as e:
            self.say(str(e), "error")
            self.app.bell()
            await self.reload()
            return None
        self.say(ok, "ok" if ok else "")
        return Done(result)

    # ------------------------------------------------------------ rendering

    async def reload(self, first: bool = False) -> None:
        role = _user(self.app)[1]
        v = self.v = ceremony.view(self.draw_id, role)
        if first and v.state == "matched" and any(w["confirmed"] for w in v.witnesses):
            self.full_list = True
        if first and v.state == "matched" and not self.full_list:
            self.team_index = 1
        self.query_one("#bar", Static).update(
            f"摇号  任务 {v.task}（第 {v.attempt} 次）  {v.item}  ▶ {v.state_label}")
        body = self.query_one("#body", VerticalScroll)
        await body.remove_children()
        builder = getattr(self, f"_body_{v.state}")
        await body.mount_all(builder(v))
        side = self.query_one("#side", VerticalScroll)
        await side.remove_children()
        await side.mount_all(self._side(v))
        self._focus(v)
        self.refresh_bindings()

    def _focus(self, v: ceremony.View) -> None:
        target = None
        if v.state in ("prepared", "witnesses") and len(v.witnesses) < v.quorum:
            target = "#w-name"
        elif v.state in ("committed", "entropy"):
            target = "#entry"
        elif v.state in ("matched", "confirmed") and self.full_list:
            target = "#teams"
        if target and self.query(target):
            self.query_one(target).focus()
        else:
            self.set_focus(None)

    def _digests(self, v: ceremony.View) -> list:
        out = [Label("抽取前公布的名录摘要（SHA-256，可用 sha256sum 核对）：", classes="h")]
        for kind, label in DIGEST_LABELS.items():
            out.append(Label(f"{label} [b]{v.digests[kind]}[/b]", id=f"digest-{kind}"))
        return out

    def _witness_lines(self, v: ceremony.View, entropy: bool = False,
                       confirm: bool = False) -> list:
        out = []
        for w in v.witnesses:
            line = f"{w['position'] + 1}. {w['name']}（{w['organisation'] or '—'}）"
            if entropy:
                line += f"  随机数：{w['entropy']}" if w["entropy"] is not None else "  （待录入）"
            if confirm:
                line += "  ✔ 已确认" if w["confirmed"] else "  （待确认）"
            out.append(Label(line, classes="witness"))
        return out

    def _body_prepared(self, v: ceremony.View) -> list:
        strata = "\n".join(
            f"  {name:<6} 范围 {s['pool']:>6} 户  比例 {_pct(s['ratio_bp']):>6}  抽取 {s['quota']:>4} 户"
            for name, s in v.strata.items())
        out = [
            Label("抽取范围已冻结（抽查对象名录、执法人员名录、回避名录）", classes="h"),
            Label(strata, id="strata"),
            Label(f"抽取范围共 {v.pool_size} 户；执法人员 {v.inspector_count} 名，每组 "
                  f"{v.team_size} 名；已知回避 {v.conflict_count} 对。", id="counts"),
            *self._digests(v),
            Label(f"见证人签到：已签到 {len(v.witnesses)} 名，至少需要 {v.quorum} 名", classes="h",
                  id="quorum"),
            *self._witness_lines(v),
            Horizontal(Label("姓名"), Input(placeholder="见证人姓名", id="w-name", compact=True),
                       Label(" 单位"), Input(placeholder="所在单位", id="w-org", compact=True),
                       classes="form"),
        ]
        if len(v.witnesses) >= v.quorum:
            out.append(Label("签到已满：按 p 打印预抽签表供签字，按 c 开始摇号；w 继续签到。",
                             classes="muted"))
        else:
            out.append(Label("输入姓名后按 Enter 转到单位，再按 Enter 签到。", classes="muted"))
        return out

    _body_witnesses = _body_prepared

    def _commitment(self, v: ceremony.View) -> list:
        return [Label("系统随机数的承诺值（SHA-256，揭晓后可核对）：", classes="h"),
                Label(v.commitment, classes="big hex", id="commitment")]

    def _body_committed(self, v: ceremony.View) -> list:
        pending = [w for w in v.witnesses if w["entropy"] is None]
        out = [*self._commitment(v),
               Label("见证人按签到顺序依次录入随机数（掷骰结果、数字或一句话）：", classes="h"),
               *self._witness_lines(v, entropy=True)]
        if pending:
            w = pending[0]
            out += [Label(f"请第 {w['position'] + 1} 位见证人 {w['name']} 输入随机数，按 Enter 确认：",
                          id="entry-label"),
                    Input(placeholder="随机数", id="entry")]
        return out

    def _body_entropy(self, v: ceremony.View) -> list:
        return [*self._commitment(v),
                Label("见证人随机数：", classes="h"),
                *self._witness_lines(v, entropy=True),
                Label("公开信标（可选）：事先约定的公开数值，如当日公开开奖结果。", classes="h"),
                Label("输入后按 Enter 揭晓；不使用信标请直接按 Enter。", id="entry-label"),
                Input(placeholder="公开信标（可留空）", id="entry")]

    def _pick(self, v: ceremony.View, index: int, team: bool) -> list:
        """The n-th (1-based) selected target, large, with its team when `team`."""
        n = len(v.selected)
        s = v.selected[index - 1]
        out: list = [Horizontal(Digits(f"{index}/{n}", id="counter"),
                                Label(f"第 {index} 个，共 {n} 个", id="counter-text"),
                                id="counter-row"),
                     Label(_spaced(s["uscc"]), classes="big hex", id="pick-uscc"),
                     Label(f"分层：{s['stratum']}    名称：" +
                           (s["name"] if v.names_shown else "（共享屏幕不显示名称）"),
                           id="pick-meta")]
        if team:
            out.append(Label("检查组：" + "  ".join(f"{m['cert_no']} {m['name']}"
                                                   for m in s["team"]),
                             classes="h", id="pick-team"))
            for a in v.amendments:
                if a["target"] == s["uscc"]:
                    out.append(Label(f"{a['inspector']} 申报回避（{a['reason']}）；"
                                     f"由协议抽取替补：{a['replacement']}", classes="amend"))
        return out

    def _body_revealed(self, v: ceremony.View) -> list:
        n, i = len(v.selected), v.reveal_index
        out: list = [Label(f"系统随机数已揭晓（可与承诺值核对）：\n{v.system_entropy}",
                           classes="muted", id="system-entropy")]
        if i == 0:
            out += [Horizontal(Digits(f"0/{n}", id="counter"),
                               Label(f"共抽中 {n} 个检查对象", id="counter-text"),
                               id="counter-row"),
                    Label("按空格键揭晓第 1 个检查对象。", classes="h", id="reveal-hint")]
            return out
        out += self._pick(v, i, team=False)
        if i < n:
            out.append(Label(f"按空格键揭晓第 {i + 1} 个。", classes="muted", id="reveal-hint"))
        else:
            out.append(Label("全部检查对象已揭晓。按 m 匹配执法检查组。", classes="h",
                             id="reveal-hint"))
        earlier = [f"{k + 1}. {s['uscc']} {s['stratum']}"
                   for k, s in enumerate(v.selected[:i - 1])]
        if earlier:
            out.append(Label("已揭晓：" + "；".join(reversed(earlier)), classes="muted",
                             id="revealed-so-far"))
        return out

    def _teams_table(self, v: ceremony.View) -> DataTable:
        table = DataTable(id="teams", cursor_type="row", zebra_stripes=True)
        cols = ["#", "统一社会信用代码", "分层", "检查组"]
        if v.names_shown:
            cols.append("名称")
        table.add_columns(*cols)
        for k, s in enumerate(v.selected):
            row = [str(k + 1), s["uscc"], s["stratum"],
                   "、".join(f"{m['cert_no']} {m['name']}" for m in s["team"])]
            if v.names_shown:
                row.append(s["name"])
            table.add_row(*row, key=s["uscc"])
        return table

    def _body_matched(self, v: ceremony.View) -> list:
        n = len(v.selected)
        if not self.full_list:
            out = self._pick(v, max(1, self.team_index), team=True)
            more = (f"按空格显示第 {self.team_index + 1} 组" if self.team_index < n
                    else "按空格显示全部检查组")
            out.append(Label(f"{more}；本组有人需回避请按 r。", classes="muted", id="team-hint"))
            return out
        done = sum(w["confirmed"] for w in v.witnesses)
        out = [Label(f"全部检查组（{n} 组，现场回避 {len(v.amendments)} 次）：", classes="h"),
               self._teams_table(v),
               Label(f"见证人确认：{done} / {len(v.witnesses)}", classes="h", id="confirm-count"),
               *self._witness_lines(v, confirm=True)]
        if v.state == "confirmed":
            out.append(Label("见证人已全部确认。按 s 封存。", classes="h", id="seal-hint"))
        else:
            out.append(Label("↑↓ 选择，r 申报回避；k 由下一位见证人确认。", classes="muted"))
        return out

    def _body_confirmed(self, v: ceremony.View) -> list:
        self.full_list = True
        return self._body_matched(v)

    def _body_sealed(self, v: ceremony.View) -> list:
        out = [Label("摇号已封存", classes="big", id="sealed-title"),
               Label(f"任务 {v.task}（第 {v.attempt} 次）：抽中 {len(v.selected)} 个检查对象，"
                     f"现场回避 {len(v.amendments)} 次。", id="sealed-summary"),
               Label(f"承诺值 {v.commitment}", classes="muted"),
               Label(f"种子   {v.seed}", classes="muted", id="sealed-seed"),
               Label("名称在公示前不在共享屏幕显示（第十二条）。", classes="muted"),
               Label("按 p 打印摇号记录，t 打印任务单，e 导出核验记录；Esc 返回。", classes="h")]
        if self.export_path:
            out += [Label(f"核验记录：{self.export_path}", id="export-path"),
                    Label(f"核验命令：kiosk verify {self.export_path}", id="verify-cmd")]
        return out

    def _body_aborted(self, v: ceremony.View) -> list:
        return [Label("本次摇号已中止", classes="big"),
                Label(f"任务 {v.task} 第 {v.attempt} 次摇号已中止，记录保留备查。"
                      + (f"理由：{self.abort_reason}" if self.abort_reason else "")),
                Label("任务已回到“待摇号”，可重新摇号（编号为下一次）。按 Esc 返回。",
                      classes="muted")]

    def _side(self, v: ceremony.View) -> list:
        out = [Label("公开核验信息", classes="h"), *self._digests(v)[1:]]
        if v.commitment:
            out.append(Label(f"承诺值 {v.commitment}"))
        if v.system_entropy:
            out.append(Label(f"系统随机数 {v.system_entropy}"))
        if v.seed:
            out.append(Label(f"种子 {v.seed}"))
        if v.state not in ("prepared", "witnesses", "committed"):
            out.append(Label(f"公开信标 {v.beacon if v.beacon is not None else '（未使用）'}"))
        out.append(Label(f"见证人（{len(v.witnesses)}/{v.quorum}）", classes="h"))
        out += self._witness_lines(v, entropy=v.state != "prepared",
                                   confirm=v.state in ("matched", "confirmed", "sealed"))
        for name, s in v.strata.items():
            out.append(Label(f"{name}：{s['pool']} 户 × {_pct(s['ratio_bp'])} → {s['quota']} 户"))
        return out

    # ------------------------------------------------------------ which keys apply now

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        v = self.v
        if v is None:
            return action == "leave"
        state = v.state
        matched = state in ("matched", "confirmed")
        allowed = {
            "leave": True,
            "abort": state not in ("sealed", "aborted"),
            "add_witness": state in ("prepared", "witnesses"),
            "print_predraw": state in ("prepared", "witnesses", "committed"),
            "commit": state == "witnesses",
            "next": (state == "revealed" and v.reveal_index < len(v.selected))
                    or (state == "matched" and not self.full_list),
            "match": state == "revealed" and v.reveal_index >= len(v.selected),
            "full_list": state == "matched" and not self.full_list,
            "recuse": state == "matched",
            "confirm_witness": state == "matched" and self.full_list,
            "seal": state == "confirmed",
            "print_protocol": state == "sealed",
            "print_slips": state == "sealed",
            "export": state == "sealed",
        }.get(action)
        if allowed is None:
            return True
        if matched and action == "next" and self.full_list:
            return False
        return allowed

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
            ceremony.release(self.draw_id)
        self.app.pop_screen()

    def action_abort(self) -> None:
        async def answered(reason: str | None) -> None:
            if not reason:
                self.say("未中止。")
                return
            if await self.call(ceremony.abort, self.draw_id, reason, self.actor,
                               ok="本次摇号已中止，记录保留。"):
                self.abort_reason = reason.strip()
            await self.reload()

        self.app.push_screen(
            ReasonModal("中止本次摇号", "中止后本次摇号作废但记录保留，任务可重新摇号。请说明中止理由："),
            answered)

    # ------------------------------------------------------------ steps

    @on(Input.Submitted, "#w-name")
    def _name_entered(self) -> None:
        self.query_one("#w-org", Input).focus()

    @on(Input.Submitted, "#w-org")
    async def _org_entered(self) -> None:
        name = self.query_one("#w-name", Input).value
        org = self.query_one("#w-org", Input).value
        if await self.call(ceremony.sign_in_witness, self.draw_id, name, org, self.actor,
                           ok=f"见证人 {name.strip()} 已签到。"):
            await self.reload()

    async def action_add_witness(self) -> None:
        self.query_one("#w-name", Input).focus()

    async def action_commit(self) -> None:
        if await self.call(ceremony.commit, self.draw_id, self.actor,
                           ok="系统随机数已生成，承诺值已公布。"):
            await self.reload()

    @on(Input.Submitted, "#entry")
    async def _entry(self, event: Input.Submitted) -> None:
        v = self.v
        if v is None:
            return
        if v.state == "committed":
            pending = [w for w in v.witnesses if w["entropy"] is None]
            if not pending:
                return
            w = pending[0]
            if await self.call(ceremony.enter_entropy, self.draw_id, w["position"], event.value,
                               self.actor, ok=f"已录入见证人 {w['name']} 的随机数。"):
                await self.reload()
        elif v.state == "entropy":
            beacon = event.value.strip() or None
            if not await self.call(ceremony.set_beacon, self.draw_id, beacon, self.actor):
                return
            if await self.call(ceremony.reveal, self.draw_id, self.actor,
                               ok="系统随机数已揭晓，请逐个揭晓检查对象。"):
                await self.reload()

    async def action_next(self) -> None:
        v = self.v
        if v is None:
            return
        if v.state == "revealed" and v.reveal_index < len(v.selected):
            if await self.call(ceremony.advance_reveal, self.draw_id, v.reveal_index + 1):
                await self.reload()
        elif v.state == "matched" and not self.full_list:
            if self.team_index < len(v.selected):
                self.team_index += 1
            else:
                self.full_list = True
            await self.reload()

    async def action_match(self) -> None:
        if await self.call(ceremony.match, self.draw_id, self.actor,
                           ok="检查组已匹配，请逐组查看。"):
            self.team_index = 1
            self.full_list = False
            await self.reload()

    async def action_full_list(self) -> None:
        self.full_list = True
        await self.reload()

    def _current_target(self) -> dict | None:
        v = self.v
        if v is None or not v.selected:
            return None
        if self.full_list:
            table = self.query("#teams")
            row = table.first(DataTable).cursor_row if table else 0
            return v.selected[row]
        return v.selected[max(1, self.team_index) - 1]

    def action_recuse(self) -> None:
        target = self._current_target()
        if target is None:
            return
        row = self.query_one("#teams", DataTable).cursor_row if self.full_list else None

        async def answered(choice: tuple[str, str] | None) -> None:
            if not choice:
                return
            cert, reason = choice
            done = await self.call(ceremony.amend, self.draw_id, target["uscc"], cert, reason,
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

    def action_confirm_witness(self) -> None:
        v = self.v
        pending = [w for w in v.witnesses if not w["confirmed"]] if v else []
        if not pending:
            return
        w = pending[0]

        async def answered(yes: bool | None) -> None:
            if yes and await self.call(ceremony.confirm, self.draw_id, w["position"], self.actor,
                                       ok=f"见证人 {w['name']} 已确认。"):
                await self.reload()

        self.app.push_screen(ConfirmModal(
            f"见证人 {w['name']}（{w['organisation'] or '—'}）确认：所见摇号过程和结果"
            f"（{len(v.selected)} 个检查对象及其检查组）与屏幕显示一致？",
            yes="确认无误", no="暂不确认", default=True), answered)

    def action_seal(self) -> None:
        async def answered(yes: bool | None) -> None:
            if not yes:
                return
            done = await self.call(ceremony.seal, self.draw_id, self.actor,
                                   ok="已封存。结果和全部检查任务已写入。")
            if done:
                self.record = done.value
                await self.reload()

        self.app.push_screen(ConfirmModal(
            "封存后结果不可更改，并生成检查任务。确定封存？", yes="封存", no="取消"), answered)

    # ------------------------------------------------------------ printed matter and export

    def _stem(self) -> str:
        v = self.v
        return f"{v.task}-{v.attempt}" if v else str(self.draw_id)

    def _print(self, kind: str) -> None:
        try:
            from kiosk import pdf, printing, slips

            out = _out_dir("print") / f"{kind}-{self._stem()}.pdf"
            if kind == "predraw":
                printing.render_predraw_sheet(ceremony.print_info(self.draw_id), out)
            elif kind == "protocol":
                printing.render_protocol(ceremony.print_info(self.draw_id), out)
            else:
                slips.render_slips(self.draw_id, out, self.actor)
            self.say(pdf.print_or_save(out), "ok")
        except UserError as e:
            self.say(str(e), "error")
        except ImportError:
            self.say("本机尚未安装打印模块，无法打印。", "error")

    def action_print_predraw(self) -> None:
        self._print("predraw")

    def action_print_protocol(self) -> None:
        self._print("protocol")

    def action_print_slips(self) -> None:
        self._print("slips")

    async def action_export(self) -> None:
        from db.models import Draw

        try:
            draw = Draw.get_by_id(self.draw_id)
            record = ceremony.export_record(draw)
            directory = _out_dir("records", self._stem())
            path = directory / "record.json"
            path.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
            ceremony.write_listings(draw, directory)
        except UserError as e:
            self.say(str(e), "error")
            return
        except OSError as e:
            self.say(f"无法写入核验记录：{e.strerror}", "error")
            return
        self.export_path = path
        self.say(f"已导出：{path}（及 pool.tsv、inspectors.tsv、conflicts.tsv）", "ok")
        await self.reload()
