"""The kiosk's dialogs, each a ModalScreen that dismisses a value and works with the arrow
keys, Enter and Escape alone: confirm, message, input, file, import/export, login."""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# Loaded on first use (PEP 562): the login screen, on the cold-start path, needs only the
# login dialog, and the file dialogs bring TextArea and the registry worker with them.
_HOMES = {
    "ConfirmModal": "confirm",
    "DialogInput": "input",
    "ExportModal": "file",
    "FileModal": "file",
    "ImportModal": "file",
    "InputModal": "input",
    "LoginModal": "login",
    "MessageModal": "message",
    "default_export_path": "file",
}
__all__ = ["ConfirmModal", "DialogInput", "ExportModal", "FileModal", "ImportModal",
           "InputModal", "LoginModal", "MessageModal", "default_export_path"]

if TYPE_CHECKING:
    from screens.dialogs.confirm import ConfirmModal
    from screens.dialogs.file import ExportModal, FileModal, ImportModal, default_export_path
    from screens.dialogs.input import DialogInput, InputModal
    from screens.dialogs.login import LoginModal
    from screens.dialogs.message import MessageModal


def __getattr__(name: str) -> object:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
