"""Accounts (administrator): add, disable or enable, reset a password, change a role."""
from __future__ import annotations

from textual.binding import Binding

from kiosk import access, users
from kiosk.errors import UserError
from screens.base import AdminTableScreen

ROLE_HELP = "，".join(f"{code}={label}" for code, label in access.ROLES.items())


class UsersScreen(AdminTableScreen):
    """Every account with its role, office and directory link; disabled ones stay listed."""

    BINDINGS = [
        Binding("n", "add", "新增", id="users.add", tooltip="新增账户（首次登录须改密码）"),
        Binding("d", "toggle", "停用/启用", id="users.toggle",
                tooltip="停用所选账户（历史记录保留），或重新启用"),
        Binding("p", "reset", "重置密码", id="users.reset", tooltip="重置密码，下次登录须修改"),
        Binding("r", "role", "改角色", id="users.role", tooltip="更改所选账户的角色"),
        Binding("escape", "back", "返回", id="users.back", tooltip="返回主页"),
    ]

    PREFIX = "users"
    CAPTION = "账户管理（停用的账户保留历史记录）"
    COLUMNS = ("账户", "姓名", "角色", "股室", "执法证号", "状态")

    def fetch(self) -> list[users.UserRow]:
        return users.rows()

    def cells(self, r: users.UserRow) -> tuple[str, ...]:
        state = ("在用" if r.active else "停用") + ("·须改密" if r.must_change else "")
        return (r.login, r.name, r.role_label, r.office, r.inspector, state)

    def row_key(self, r: users.UserRow) -> str:
        return r.login

    def selected(self) -> users.UserRow | None:
        if not self.allowed or not self.rows:
            return None
        return self.rows[self.selected_row()]

    def _run(self, action, ok: str, keep: int = 0) -> None:
        try:
            action()
        except UserError as e:
            self.note(str(e), error=True)
            return
        self.reload(keep)
        self.note(ok)

    def _ask(self, steps: list[tuple[str, str, bool]], finish) -> None:
        """Ask each (title, prompt, password) in turn, then finish(answers); Escape at any
        step changes nothing."""
        from screens.dialogs import InputModal

        answers: list[str] = []

        def ask_next() -> None:
            title, prompt, password = steps[len(answers)]
            self.app.push_screen(InputModal(title, prompt, password=password), got)

        def got(value: str | None) -> None:
            if value is None:
                return
            answers.append(value if steps[len(answers)][2] else value.strip())
            if len(answers) == len(steps):
                finish(answers)
            else:
                ask_next()

        ask_next()

    def action_add(self) -> None:
        if not self.allowed:
            return
        steps = [("新增账户：账户名", "英文字母、数字、点或下划线", False),
                 ("新增账户：姓名", "", False),
                 ("新增账户：角色", ROLE_HELP, False),
                 ("新增账户：股室或执法证号", "审核人填股室；执法检查人员填执法证号；其他可空",
                  False),
                 ("新增账户：初始密码", "至少 6 位；本人首次登录须修改", True)]

        def finish(a: list[str]) -> None:
            login, name, role, link, password = a
            role = users.role_code(role)
            self._run(lambda: users.add(
                login, role, name, password, office="" if role == "inspector" else link,
                inspector_cert=link if role == "inspector" else "",
                actor=self.user.username, actor_role=self.user.role),
                f"已新增账户 {login}，首次登录须修改密码。")

        self._ask(steps, finish)

    def action_toggle(self) -> None:
        r = self.selected()
        if r is None:
            return
        from screens.dialogs import ConfirmModal

        row = self.selected_row()
        if not r.active:
            self._run(lambda: users.enable(r.login, actor=self.user.username,
                                           actor_role=self.user.role),
                      f"账户 {r.login} 已恢复使用。", row)
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._run(lambda: users.disable(r.login, actor=self.user.username,
                                                actor_role=self.user.role),
                          f"账户 {r.login} 已停用，历史记录保留。", row)

        self.app.push_screen(ConfirmModal(f"停用账户 {r.login}（{r.name}）？历史记录保留。"),
                             confirmed)

    def action_reset(self) -> None:
        r = self.selected()
        if r is None:
            return
        row = self.selected_row()
        self._ask([(f"重置 {r.login} 的密码", "至少 6 位；本人下次登录须修改", True)],
                  lambda a: self._run(lambda: users.reset_password(
                      r.login, a[0], actor=self.user.username, actor_role=self.user.role),
                      f"账户 {r.login} 的密码已重置，下次登录须修改。", row))

    def action_role(self) -> None:
        r = self.selected()
        if r is None:
            return
        row = self.selected_row()
        steps = [(f"{r.login} 的新角色", ROLE_HELP, False),
                 ("股室或执法证号", "审核人填股室；执法检查人员填执法证号；其他可空", False)]

        def finish(a: list[str]) -> None:
            role, link = a
            role = users.role_code(role)
            self._run(lambda: users.change_role(
                r.login, role, office="" if role == "inspector" else link,
                inspector_cert=link if role == "inspector" else "",
                actor=self.user.username, actor_role=self.user.role),
                f"账户 {r.login} 的角色已改为 {access.role_label(role)}。", row)

        self._ask(steps, finish)
