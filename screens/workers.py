"""The one way a screen's thread worker talks to the store: its own connection, closed after."""
from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any

from textual import work

from db.connection import database


@contextlib.contextmanager
def store_connection() -> Iterator[None]:
    """Connect this worker thread to the store for the block and close the connection after.

    Peewee keeps one connection per thread and opens it on first use, but never closes it:
    without this every finished worker would leave a SQLite handle (or a PostgreSQL session)
    open until the process ends."""
    with database.connection_context():
        yield


def store_worker(*, group: str, exclusive: bool = True,
                 exit_on_error: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`@work(thread=True)` whose body runs inside `store_connection()`.

    Use it for anything that reads or writes the store from a screen, so the key that started
    it stays responsive and the connection does not outlive the worker."""

    def decorate(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def body(*args: Any, **kwargs: Any) -> Any:
            with store_connection():
                return method(*args, **kwargs)

        return work(thread=True, exclusive=exclusive, group=group,
                    exit_on_error=exit_on_error)(body)

    return decorate
