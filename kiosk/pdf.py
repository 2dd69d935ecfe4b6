"""The old home of the PDF base: its names, re-exported from kiosk.printing for older callers."""
from __future__ import annotations

from kiosk.printing.base import CJK, PAPER_MM, KioskPDF, paper_size
from kiosk.printing.fonts import FONT_MISSING, FontFace, find_cjk_face, find_cjk_font
from kiosk.printing.printer import print_or_save
from kiosk.printing.qr import qr_image, qr_matrix

__all__ = ["CJK", "FONT_MISSING", "PAPER_MM", "FontFace", "KioskPDF", "find_cjk_face",
           "find_cjk_font", "paper_size", "print_or_save", "qr_image", "qr_matrix"]
