"""Printed matter: the PDF base, the CJK font, QR symbols, the printer, and the draw's documents.

    base      KioskPDF, the fpdf2 page every document shares; paper sizes
    fonts     finding the CJK font (KIOSK_CJK_FONT overrides)
    qr        QR symbols from qrcode's public API
    printer   `lp`, or the path of the saved file
    protocol  the pre-draw sheet and the draw protocol
    certificate  the page of the 审计链头 certificate (kiosk.audit.certificate fills it)
The slips themselves (codes, tokens, pages) live in kiosk.slips.
"""
from __future__ import annotations

from kiosk.printing.base import CJK, PAPER_MM, KioskPDF, paper_size
from kiosk.printing.fonts import FONT_MISSING, FontFace, find_cjk_face, find_cjk_font
from kiosk.printing.printer import print_or_save
from kiosk.printing.protocol import render_predraw_sheet, render_protocol
from kiosk.printing.qr import qr_image, qr_matrix

__all__ = ["CJK", "FONT_MISSING", "PAPER_MM", "FontFace", "KioskPDF", "find_cjk_face",
           "find_cjk_font", "paper_size", "print_or_save", "qr_image", "qr_matrix",
           "render_predraw_sheet", "render_protocol"]
