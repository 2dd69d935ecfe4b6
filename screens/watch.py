"""`kiosk watch`: a remote witness follows the open ceremony live, read-only, from their own
terminal or SSH session; a witness who signs in here gives entropy and confirms from here."""
from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from kiosk import access
from kiosk.draw import view as draw_view
from kiosk.draw import witnesses
from kiosk.errors import UserError
from screens.widgets import ceremony_panels as panels
from screens.widgets.ceremony_modals import WitnessModal
from screens.workers import store_worker

POLL_SECONDS = 0.5


class WatchScreen(Screen):
    """The open ceremony as the terminal shows it, polled every half second (credit codes
    only: names are never shown to a watcher before publication, Art. 12)."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    AUTO_FOCUS = None
    BINDINGS = [
        Binding("l", "sign_in", "见证人登录", id="watch.sign_in",
                tooltip="以本人见证人账号登录；签到阶段登录即签到本次摇号"),
        Binding("e", "give_entropy", "录入随机数", id="watch.entropy",
                tooltip="轮到本人时，输入本人密码和随机数"),
        Binding("k", "confirm", "确认结果", id="watch.confirm",
                tooltip="检查组匹配后，输入本人密码确认所见过程和结果"),
        Binding("escape", "quit_watch", "退出", id="watch.quit", tooltip="停止跟随并退出"),
    ]

    def __init__(self, task: str | None = None) -> None:
        super().__init__()
        self.task_code = task
        self.draw_id: int | None = None
        self.v: draw_view.View | None = None
        self.witness = None  # the User who signed in here
        self.seen = ""
        self.loading = False

    def compose(self) -> ComposeResult:
        yield Static("远程见证：等待进行中的摇号……", id="bar", markup=False)
        with Horizontal(id="main"):
            yield VerticalScroll(id="body")
            yield VerticalScroll(id="side")
        yield Static("", id="msg", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.poll()
        self.set_interval(POLL_SECONDS, self.poll)

    def say(self, text: str, kind: str = "") -> None:
        msg = self.query_one("#msg", Static)
        msg.update(text)
        msg.set_class(kind == "error", "error")
        msg.set_class(kind == "ok", "ok")

    def poll(self) -> None:
        """Every half second: a one-row read of the followed draw's stamp; the whole view is
        read (in a worker) only when the draw changed."""
        if self.loading:
            return
        draw_id = self.draw_id or draw_view.followed_draw(self.task_code)
        if draw_id is None:
            return
        stamp = draw_view.stamp(draw_id)
        if stamp != self.seen:
            self.loading = True
            self._load(draw_id, stamp)

    @store_worker(group="watch-load", exit_on_error=False)
    def _load(self, draw_id: int, stamp: str) -> None:
        try:
            v = draw_view.view(draw_id, "witness")
        except Exception:
            self.loading = False
            raise
        self.app.call_from_thread(self.show, draw_id, v, stamp)

    async def show(self, draw_id: int, v: draw_view.View, stamp: str) -> None:
        self.draw_id, self.seen, self.loading = draw_id, stamp, False
        me = f"  见证人 {self.witness.username}" if self.witness else "  （只读）"
        self.query_one("#bar", Static).update(
            f"远程见证  任务 {v.task}（第 {v.attempt} 次）▶ {v.state_label}{me}")
        p = panels.Presentation(full_list=True, operator=False)
        body = self.query_one("#body", VerticalScroll)
        await body.remove_children()
        await body.mount_all(panels.body(v, p))
        side = self.query_one("#side", VerticalScroll)
        await side.remove_children()
        await side.mount_all(panels.side(v))
        self.v = v  # last: whoever reads it (a test, a key) sees it on screen
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        v = self.v
        if action == "give_entropy":
            return bool(v and self.witness and v.state == "committed" and not v.beacon_needed)
        if action == "confirm":
            return bool(v and self.witness and v.state == "matched")
        if action == "sign_in":
            return self.witness is None
        return True

    def _ask(self, title: str, prompt: str, then, *, entropy: bool = False) -> None:
        account = self.witness.username if self.witness else ""

        async def answered(given: tuple | None) -> None:
            if not given:
                return
            try:
                user = witnesses.login(given[0], given[1])
                if self.witness is not None and user.username != self.witness.username:
                    raise UserError("本终端已由另一位见证人登录。")
                message = then(user, given[2])
            except UserError as e:
                self.say(str(e), "error")
                self.app.bell()
                return
            self.say(message, "ok")
            self.seen = ""
            self.poll()

        self.app.push_screen(WitnessModal(title, prompt, account=account, entropy=entropy),
                             answered)

    def action_sign_in(self) -> None:
        def then(user, _text) -> str:
            self.witness = user
            v = self.v
            if v is not None and v.state in ("prepared", "witnesses") and not any(
                    w["account"] == user.username for w in v.witnesses):
                witnesses.sign_in(v.draw_id, user)
                return f"见证人 {user.username} 已登录并签到本次摇号。"
            return f"见证人 {user.username} 已登录。"

        self._ask("远程见证人登录", "请输入本人见证人账号和密码：", then)

    def action_give_entropy(self) -> None:
        def then(user, text) -> str:
            witnesses.enter_entropy(self.v.draw_id, user, text or "")
            return "随机数已录入（全部录入后公布）。"

        self._ask("录入随机数", "输入本人密码和随机数（屏幕遮盖）：", then, entropy=True)

    def action_confirm(self) -> None:
        def then(user, _text) -> str:
            witnesses.confirm(self.v.draw_id, user)
            return "已确认所见过程和结果。"

        self._ask("确认结果", "确认所见摇号过程和结果与屏幕一致，请输入本人密码：", then)

    def action_quit_watch(self) -> None:
        self.app.exit()


class WatchApp(App[None]):
    """The watch on its own, as `kiosk watch` runs it."""

    CSS_PATH = "kiosk.tcss"
    ENABLE_COMMAND_PALETTE = False
    TITLE = "双随机抽查终端 · 远程见证"

    def __init__(self, task: str | None = None, user=None) -> None:
        super().__init__()
        self.task_code = task
        self.user = user

    def on_mount(self) -> None:
        screen = WatchScreen(self.task_code)
        if self.user is not None and access.may_witness(self.user.role):
            screen.witness = self.user  # `kiosk watch` as a witness's own account
        self.push_screen(screen)


def run_watch(task: str | None = None, user=None) -> None:
    """Run the watch on the store the CLI opened, as `user` (a witness is signed in)."""
    WatchApp(task, user).run()
