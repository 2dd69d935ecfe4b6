"""The kiosk's dialogs, each a ModalScreen that dismisses a value and works with the arrow
keys, Enter and Escape alone: confirm, message, input, file, import/export, login."""
from __future__ import annotations

from screens.dialogs.confirm import ConfirmModal
from screens.dialogs.file import ExportModal, FileModal, ImportModal, default_export_path
from screens.dialogs.input import InputModal
from screens.dialogs.login import LoginModal
from screens.dialogs.message import MessageModal

__all__ = ["ConfirmModal", "ExportModal", "FileModal", "ImportModal", "InputModal",
           "LoginModal", "MessageModal", "default_export_path"]
