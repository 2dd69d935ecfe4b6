"""A bordered table for printed documents: cells wrap, rows never split across pages, and the
header repeats on each new page (protocol, pre-draw sheet, notice)."""
from __future__ import annotations

from kiosk.printing.base import KioskPDF


def table(pdf: KioskPDF, header: list[str], rows: list[list[str]], fractions: list[float],
          size: float = 9.5, v_pad: float = 0.6) -> None:
    """`fractions` of the page's text width per column; `v_pad` the space above and below a
    cell's text, as a share of the horizontal padding."""
    widths = [pdf.epw * f for f in fractions]
    line_h, pad = size * 0.5, 1.2

    def draw(cells: list[str], head: bool) -> None:
        pdf.font(size, bold=head)
        wrapped = [pdf.wrap(c, w - 2 * pad) for c, w in zip(cells, widths, strict=True)]
        h = max(len(x) for x in wrapped) * line_h + 2 * pad * v_pad
        if pdf.will_page_break(h):
            pdf.add_page()
            if not head:
                draw(header, True)
                pdf.font(size)
        x, y = pdf.l_margin, pdf.get_y()
        pdf.set_fill_color(232)
        for lines, w in zip(wrapped, widths, strict=True):
            pdf.rect(x, y, w, h, style="DF" if head else "D")
            pdf.text_lines(lines, x + pad, y + pad * v_pad, line_h)
            x += w
        pdf.set_xy(pdf.l_margin, y + h)

    draw(header, True)
    pdf.font(size)
    for r in rows:
        draw(r, False)
