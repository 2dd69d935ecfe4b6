"""A new password asked twice, for a first log-in after an administrator's reset."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kiosk.errors import UserError

if TYPE_CHECKING:
    from textual.app import App

    from db.models import User


def ask_new_password(app: App, user: User, done: Callable[[User | None], None],
                     error: str = "") -> None:
    """Ask `user` for a new password twice and store it; `done(user)` once changed, or
    `done(None)` when they press Escape (they stay signed out)."""
    from kiosk import users
    from screens.dialogs import InputModal

    def first(value: str | None) -> None:
        if value is None:
            done(None)
            return
        app.push_screen(InputModal("再输入一次新密码", password=True, required=True),
                        lambda again: second(value, again))

    def second(value: str, again: str | None) -> None:
        if again is None:
            done(None)
            return
        if again != value:
            ask_new_password(app, user, done, "两次输入的密码不一致，请重新设置。")
            return
        try:
            users.change_own_password(user, value)
        except UserError as e:
            ask_new_password(app, user, done, str(e))
            return
        done(user)

    prompt = "管理员设置或重置了您的密码，首次登录须设置新密码（至少 6 位）。"
    app.push_screen(InputModal("设置新密码", f"{error}\n{prompt}" if error else prompt,
                               password=True, required=True,
                               empty_message="请输入新密码。"), first)
