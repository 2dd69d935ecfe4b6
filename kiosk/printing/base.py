"""KioskPDF: the fpdf2 page all printed matter shares (bureau header, page numbers, CJK, QR)."""
from __future__ import annotations

import os
import re

from fpdf import FPDF
from fpdf.enums import TextMode

from kiosk import settings
from kiosk.errors import UserError
from kiosk.printing import qr as qrsym
from kiosk.printing.fonts import bold_face, find_body_face

# Paper sizes in millimetres (fpdf2's own names warn about A5 in 2.8).
PAPER_MM = {
    "A3": (297.0, 420.0),
    "A4": (210.0, 297.0),
    "A5": (148.0, 210.0),
    "A6": (105.0, 148.0),
    "B5": (176.0, 250.0),
    "LETTER": (215.9, 279.4),
}

CJK = "cjk"  # the family name every KioskPDF registers

# The one private fpdf2 name this package uses. fpdf2 has no public call that appends
# operators to a page, and a QR code is ~250 dark runs: drawn as one path through
# FPDF._out it costs ~0.15 ms, through one public rect() per run ~2.6 ms (2.6 s of a
# 1,000-slip print; fpdf2's drawing API is slower still). bench/bench_slips.py measures
# both; tests/test_printing_base.py renders both and fails if they differ or if fpdf2 no
# longer has _out. Without it the public drawing is used, slower but the same picture.
_RAW_OUT = getattr(FPDF, "_out", None)
QR_FAST_PATH = callable(_RAW_OUT)
_DARK_RUN = re.compile(rb"\x01+")

# 避头尾 (GB/T 15834 usage): no line starts with closing punctuation, none ends with an
# opening one. A Latin run (a credit code, a certificate number, a file name) is one unit
# that moves to the next line whole unless it is longer than a line.
CLOSING = frozenset("，。、；：？！）》」』】〕〉”’…·,.;:?!)]}%")
OPENING = frozenset("（《「『【〔〈“‘([{")
_CLOSING_CHARS = "".join(sorted(CLOSING))
_UNIT = re.compile(r"[0-9A-Za-z]+(?:[-./:@_+#][0-9A-Za-z]+)*|[ \t]+|.", re.S)


def units(text: str) -> list[str]:
    """The pieces a line may break between: closing punctuation glued to what precedes
    it, opening punctuation to what follows."""
    out: list[str] = []
    opening = ""
    for t in _UNIT.findall(text):
        if t in CLOSING and out and not opening:
            out[-1] += t
        elif t in OPENING:
            opening += t
        else:
            out.append(opening + t)
            opening = ""
    if opening:
        out.append(opening)
    return out


def paper_size(name: str) -> tuple[float, float]:
    """(width, height) in mm of a paper name (A4, A5, …) or 'WxH' in millimetres."""
    key = name.strip().upper()
    if key in PAPER_MM:
        return PAPER_MM[key]
    if "X" in key:
        try:
            w, h = (float(v) for v in key.split("X", 1))
            if 50 <= w <= 1000 and 50 <= h <= 1000:
                return (w, h)
        except ValueError:
            pass
    raise UserError(f"纸张规格“{name}”无法识别：请用 A4、A5 或 宽x高（毫米）。")


class KioskPDF(FPDF):
    """An official-looking page: the bureau's name on top, page numbers below, a CJK font.

    `format` is a paper name ('A4', 'A5', …); None takes the 'paper' setting. Text helpers
    keep to the CJK family (`self.cjk_family`); hex digests use the built-in Courier.
    `real_bold=False` skips the Bold face, ~0.3 s to load and subset for a few glyphs: bold
    text is then the regular face, and `bold_lines()` outlines it to look bold.
    """

    cjk_family = CJK

    def __init__(self, format: str | None = None, orientation: str = "P", *,
                 doc_title: str = "", bureau: str | None = None,
                 real_bold: bool = True) -> None:
        face = find_body_face()  # serif body where installed; a missing font fails fast
        paper = format or settings.get("paper") or "A4"
        super().__init__(orientation=orientation, unit="mm", format=paper_size(paper))
        self.paper = paper.upper()
        self.bureau = settings.get("bureau_name") if bureau is None else bureau
        self.doc_title = doc_title
        self.footer_note = ""
        self.marking = ""  # e.g. 公示前不得外传: in red at the top of every page
        self.watermark = ""  # e.g. 草稿: large and light across every page
        # When the caller knows the page count up front (slips: one page each), the footer
        # prints it with text() instead of a cell() that fills in fpdf2's alias at output.
        self.page_count: int | None = None
        small = self.w < 160
        self.set_margins(12 if small else 20, 14 if small else 18, 12 if small else 20)
        self.footer_height = 14 if small else 18
        self.set_auto_page_break(True, margin=self.footer_height)
        self.add_font(CJK, "", str(face.path), collection_font_number=face.index)
        bold = (bold_face(face) or face) if real_bold else None
        if bold is not None:
            self.add_font(CJK, "B", str(bold.path), collection_font_number=bold.index)
        self.has_real_bold = bold is not None and bold is not face
        self._bold_style = "" if bold is None else "B"
        self._wrap_cache: dict[tuple, list[str]] = {}
        self._widths: dict[tuple, float] = {}
        self._qr_coords: dict[tuple, tuple] = {}
        self.alias_nb_pages("{total_pages}")  # room for a 4-digit count (1,000 slips)
        self.set_title(doc_title or self.bureau)
        self.set_author(self.bureau)
        self.set_creator("双随机 kiosk")
        self.set_font(CJK, size=10)

    def output(self, name="", *args, **kwargs):
        """fpdf2's output; a PDF written to a path is owner-only (0600) whatever the umask:
        protocols, slips and reports name firms that are confidential until published."""
        result = super().output(name, *args, **kwargs)
        if isinstance(name, (str, os.PathLike)) and name:
            os.chmod(name, 0o600)
        return result

    def get_string_width(self, s: str, normalized: bool = False,
                         markdown: bool = False) -> float:
        """fpdf2's width, remembered: a 1,000-slip print measures the same labels ~40,000
        times. The key holds everything fpdf2's answer depends on in the plain case."""
        if markdown or self.text_shaping or self.current_font is None:
            return super().get_string_width(s, normalized, markdown)
        key = (self.current_font.fontkey, self.font_size_pt, self.char_spacing,
               self.font_stretching, self.underline, self.strikethrough, normalized, s)
        w = self._widths.get(key)
        if w is None:
            w = self._widths[key] = super().get_string_width(s, normalized, markdown)
        return w

    # ------------------------------------------------------------ page furniture

    def header(self) -> None:
        if self.watermark:
            self._watermark()
        self.font(8.5)
        self.set_text_color(60)
        # text() rather than cell(): the same place on the page, a tenth of the work
        y = self.t_margin - 8
        self.text_lines([self.bureau], self.l_margin + self.c_margin, y, 5)
        if self.marking:  # the confidentiality marking on every page, where eyes go first
            self.text_lines([self.doc_title], self.l_margin, y, 5, width=self.epw, align="C")
            self.font(9.5, bold=True)
            self.set_text_color(200, 0, 0)
            self.text_lines([self.marking], self.l_margin, y, 5,
                            width=self.epw - self.c_margin, align="R")
            self.font(8.5)
            self.set_text_color(60)
        else:
            self.text_lines([self.doc_title], self.l_margin, y, 5,
                            width=self.epw - self.c_margin, align="R")
        self.set_draw_color(120)
        self.set_line_width(0.3)
        y = self.t_margin - 2.5
        self.line(self.l_margin, y, self.w - self.r_margin, y)
        self.set_text_color(0)
        self.set_draw_color(0)
        self.set_xy(self.l_margin, self.t_margin)

    def footer(self) -> None:
        self.set_y(self.h - self.footer_height + 3)
        self.font(7.5)
        self.set_text_color(90)
        total = "{total_pages}" if self.page_count is None else str(self.page_count)
        number = f"第 {self.page_no()} 页 / 共 {total} 页"
        y, x, c = self.get_y(), self.l_margin, self.c_margin
        if self.footer_note:
            self.text_lines([self.footer_note], x + c, y, 4)
        if self.page_count is not None:
            self.text_lines([number], x + c, y, 4, width=self.epw - 2 * c,
                            align="R" if self.footer_note else "C")
        elif self.footer_note:  # only cell() fills in fpdf2's page-count alias at output
            self.set_x(x + self.epw * 0.7)
            self.cell(self.epw * 0.3, 4, number, align="R")
        else:
            self.cell(self.epw, 4, number, align="C")
        self.set_text_color(0)

    # ------------------------------------------------------------ text helpers

    def font(self, size: float, bold: bool = False) -> None:
        style = self._bold_style if bold else ""
        # Already selected: skip fpdf2's argument normalising (~47,000 calls a slip print).
        if (self.font_family != CJK or self.font_style != style or self.font_size_pt != size
                or self.underline or self.strikethrough):
            self.set_font(CJK, style, size=size)

    def heading(self, text: str, subtitle: str = "", size: float = 18) -> None:
        """A centred document title, optionally with a smaller line under it."""
        self.font(size, bold=True)
        self.cell(self.epw, size * 0.55, text, align="C", new_x="LMARGIN", new_y="NEXT")
        if subtitle:
            self.font(9.5)
            self.cell(self.epw, 5.5, subtitle, align="C", new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def section(self, text: str, size: float = 11.5) -> None:
        """A shaded section heading across the page."""
        if self.will_page_break(12):
            self.add_page()
        self.ln(1.5)
        self.set_fill_color(232)
        self.font(size, bold=True)
        self.cell(self.epw, size * 0.6, " " + text, fill=True, new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def _watermark(self) -> None:
        """The watermark across the page, light grey, under everything drawn after it."""
        self.font(110 if self.w > 160 else 80, bold=True)
        self.set_text_color(225)
        cx, cy = self.w / 2, self.h / 2
        with self.rotation(35, cx, cy):
            tw = self.get_string_width(self.watermark)
            self.text(cx - tw / 2, cy + self.font_size * 0.35, self.watermark)
        self.set_text_color(0)

    def wrap(self, text: str, width: float) -> list[str]:
        """Lines of text in the current font that fit in width mm (repeated texts cached):
        Chinese breaks between characters, a Latin run (credit code) stays whole, and no
        line starts with closing punctuation (避头)."""
        out: list[str] = []
        for para in str(text).split("\n"):
            if self.get_string_width(para) <= width:
                out.append(para)
                continue
            key = (self.font_family, self.font_style, self.font_size_pt, round(width, 2), para)
            lines = self._wrap_cache.get(key)
            if lines is None:
                lines = self._wrap_cache[key] = self._break(para, width)
            out.extend(lines)
        return out

    def _break(self, para: str, width: float) -> list[str]:
        lines: list[str] = []
        cur, cur_w = "", 0.0
        for u in units(para):
            uw = self.get_string_width(u)
            # 标点悬挂: closing marks after a unit may hang past the edge rather than push a
            # credit code onto two lines or open the next line.
            core = u.rstrip(_CLOSING_CHARS)
            fit = uw if core == u or not core else self.get_string_width(core)
            if cur_w + fit <= width or (not cur and fit <= width):
                cur, cur_w = cur + u, cur_w + uw
                continue
            if fit <= width:  # the unit moves to the next line whole
                # A space at the break stays at the line's end (invisible): copied text keeps
                # "--head 4:…" as typed.
                lines.append(cur)
                u = u.lstrip()
                cur, cur_w = u, self.get_string_width(u)
                continue
            # Longer than a line (a digest in a narrow cell): split it by characters, never
            # leaving a closing mark to open the next line.
            for ch in u:
                cw = self.get_string_width(ch)
                if cur_w + cw > width and cur:
                    k = len(cur) - 1  # carry the closing marks and the character before them
                    while k > 0 and cur[k] in CLOSING:
                        k -= 1
                    if ch in CLOSING and k > 0:
                        lines.append(cur[:k])
                        cur = cur[k:]
                    else:
                        lines.append(cur.rstrip())
                        cur = ""
                    cur_w = self.get_string_width(cur)
                cur, cur_w = cur + ch, cur_w + cw
        if cur or not lines:
            lines.append(cur)
        return lines

    def cut(self, lines: list[str], width: float, max_lines: int | None) -> list[str]:
        """At most max_lines lines, the last one ending in an ellipsis when text was cut."""
        if not max_lines or len(lines) <= max_lines:
            return lines
        kept = lines[:max_lines]
        ellipsis = "…" if self.is_ttf_font else "..."
        last = kept[-1]
        while last and self.get_string_width(last + ellipsis) > width:
            last = last[:-1]
        kept[-1] = last + ellipsis
        return kept

    def text_lines(self, lines: list[str], x: float, y: float, line_h: float,
                   width: float | None = None, align: str = "L") -> float:
        """Draw lines from top y (no page breaks); returns the y under the last line."""
        baseline = line_h / 2 + self.font_size * 0.36
        for i, line in enumerate(lines):
            lx = x
            if align == "C" and width:
                lx = x + (width - self.get_string_width(line)) / 2
            elif align == "R" and width:
                lx = x + width - self.get_string_width(line)
            self.text(lx, y + i * line_h + baseline, line)
        return y + len(lines) * line_h

    def bold_lines(self, lines: list[str], x: float, y: float, line_h: float,
                   width: float | None = None, align: str = "L") -> float:
        """text_lines() in the current size, bold: the Bold face when one is loaded, else
        the regular face filled and outlined (the text rendering mode PDF offers for it)."""
        self.font(self.font_size_pt, bold=True)
        if self.has_real_bold:
            return self.text_lines(lines, x, y, line_h, width, align)
        # inside BT … ET fpdf2 writes line_width as points: ~2.5% of the size reads as bold
        with self.local_context(text_mode=TextMode.FILL_STROKE,
                                line_width=self.font_size_pt * 0.025):
            return self.text_lines(lines, x, y, line_h, width, align)

    def kv(self, label: str, value: str, *, label_w: float = 30, size: float = 10,
           line_h: float | None = None, max_lines: int | None = None,
           mono: bool = False) -> None:
        """A bordered table row: a shaded label cell and a wrapped value cell."""
        line_h = line_h or size * 0.5
        pad = 1.4
        value_w = self.epw - label_w
        value = "—" if value in (None, "") else str(value)
        if mono and not value.isascii():  # Courier has no CJK glyphs
            mono = False
        if mono:
            self.set_font("Courier", size=size)
        else:
            self.font(size)
        lines = self.cut(self.wrap(value, value_w - 2 * pad), value_w - 2 * pad, max_lines)
        self.font(size)
        llines = self.wrap(label, label_w - 2)
        # A long value (an on-site record, say) continues on the next page rather than
        # running off this one; the label repeats there with （续）.
        while True:
            rows = max(1, len(lines), len(llines))
            h = rows * line_h + 2 * pad * 0.6
            if not (self.auto_page_break and self.will_page_break(h)):
                self._kv_row(llines, lines, h, label_w, value_w, pad, line_h, size, mono)
                return
            room = int((self.page_break_trigger - self.get_y() - 2 * pad * 0.6) // line_h)
            if room < max(3, len(llines)) or len(lines) <= room:
                self.add_page()  # too little room to be worth a split, or it fits a page
                if self.will_page_break(h) and len(lines) > 3:
                    continue
                self._kv_row(llines, lines, h, label_w, value_w, pad, line_h, size, mono)
                return
            part_h = room * line_h + 2 * pad * 0.6
            self._kv_row(llines, lines[:room], part_h, label_w, value_w, pad, line_h, size, mono)
            lines = lines[room:]
            llines = self.wrap(label + "（续）", label_w - 2)
            self.add_page()

    def _kv_row(self, llines: list[str], lines: list[str], h: float, label_w: float,
                value_w: float, pad: float, line_h: float, size: float, mono: bool) -> None:
        x, y = self.l_margin, self.get_y()
        self.set_fill_color(243)
        self.rect(x, y, label_w, h, style="DF")
        self.rect(x + label_w, y, value_w, h)
        if mono:
            self.set_font("Courier", size=size)
        self.text_lines(lines, x + label_w + pad, y + pad * 0.6, line_h)
        self.font(size)
        top = y + (h - len(llines) * line_h) / 2
        self.text_lines(llines, x, top, line_h, width=label_w, align="C")
        self.set_xy(x, y + h)

    def para(self, text: str, size: float = 9.5, line_h: float | None = None,
             mono: bool = False) -> None:
        """A wrapped paragraph across the page."""
        if mono and text.isascii():
            self.set_font("Courier", size=size)
        else:
            self.font(size)
        line_h = line_h or size * 0.52
        for line in self.wrap(text, self.epw - 2 * self.c_margin):  # 避头, codes kept whole
            if self.auto_page_break and self.will_page_break(line_h):
                self.add_page()
            self.cell(self.epw, line_h, line, new_x="LMARGIN", new_y="NEXT")
        self.font(size)

    def official_head(self, title: str, doc_no: str = "", subtitle: str = "") -> None:
        """GB/T 9704 head: the issuing bureau in red, the document number, a red rule, then
        the title in the heavier face."""
        if self.bureau:
            self.font(22 if self.w > 160 else 17, bold=True)
            self.set_text_color(200, 0, 0)
            self.cell(self.epw, 11, self.bureau, align="C", new_x="LMARGIN", new_y="NEXT")
            self.set_text_color(0)
        if doc_no:
            self.font(10.5)
            self.cell(self.epw, 6, doc_no, align="C", new_x="LMARGIN", new_y="NEXT")
        y = self.get_y() + 1
        self.set_draw_color(200, 0, 0)
        self.set_line_width(0.6)
        self.line(self.l_margin, y, self.w - self.r_margin, y)
        self.set_line_width(0.2)
        self.set_draw_color(0)
        self.set_y(y + 4)
        self.heading(title, subtitle)

    def seal_block(self, organisation: str, date_text: str = "年　月　日",
                   size: float = 10.5) -> None:
        """The issuing organisation, the date and a ring where the seal goes (right side)."""
        if self.auto_page_break and self.will_page_break(34):
            self.add_page()
        col = self.epw * 0.45
        x = self.l_margin + self.epw - col
        y = self.get_y() + 4
        self.set_draw_color(200, 0, 0)
        self.set_line_width(0.3)
        self.ellipse(x + col / 2 - 14, y, 28, 28)
        self.set_draw_color(0)
        self.set_line_width(0.2)
        self.font(7)
        self.set_text_color(200, 0, 0)
        self.text_lines(["（盖章）"], x, y + 11.5, 4, width=col, align="C")
        self.set_text_color(0)
        self.font(size)
        self.text_lines([organisation or "", date_text], x, y + 18, size * 0.55, width=col,
                        align="C")
        self.set_xy(self.l_margin, y + 30)

    def signature_lines(self, labels: list[str], per_row: int = 2, size: float = 10) -> None:
        """Blank lines to sign on, with the date; one per label."""
        col = self.epw / per_row
        rows = [labels[i:i + per_row] for i in range(0, len(labels), per_row)]
        for row in rows:
            if self.auto_page_break and self.will_page_break(14):
                self.add_page()
            y = self.get_y() + 9
            for k, label in enumerate(row):
                x = self.l_margin + k * col
                self.font(size)
                lw = min(self.get_string_width(label) + 2, col * 0.5)
                self.text(x, y - 1, label)
                self.line(x + lw, y, x + col - 4, y)
                self.font(7)
                self.text_lines(["签名 / 日期"], x + lw, y + 0.5, 3.5, width=col - lw - 4,
                                align="C")
            self.font(size)
            self.set_xy(self.l_margin, y + 5)
    def qr(self, payload: str, x: float, y: float, size: float, border: int = 4) -> None:
        """The payload as a QR code, size mm square with a white quiet zone of `border` modules.

        Drawn as vector runs rather than an embedded bitmap: sharp on any printer."""
        matrix = qrsym.modules(payload)
        n = len(matrix)
        unit = size / (n + 2 * border)
        x0, y0 = x + border * unit, y + border * unit
        overlap = 0.02  # a hair more height per run: no white seam between rows
        if not QR_FAST_PATH:
            self._qr_public(qrsym.dark_runs(matrix), x, y, size, x0, y0, unit, overlap)
            return
        # Every slip puts its code at the same place: the coordinate strings are cached.
        key = (x, y, size, border, n, self.k, self.h)
        coords = self._qr_coords.get(key)
        if coords is None:
            k, top = self.k, self.h
            hh = -(unit + overlap) * k
            coords = (
                f"q 1 g {x * k:.2f} {(top - y) * k:.2f} {size * k:.2f} {-size * k:.2f} re f 0 g",
                [f"{(x0 + c * unit) * k:.2f} " for c in range(n)],
                [f"{(top - y0 - r * unit) * k:.2f} " for r in range(n)],
                [f"{w * unit * k:.2f} {hh:.2f} re" for w in range(n + 1)],
            )
            self._qr_coords[key] = coords
        head, xs, ys, ws = coords
        # One path for all dark runs, inside q/Q so fpdf2's colour state is untouched.
        ops = [head]
        # the rows joined by a light module: one regex pass finds every run
        step = n + 1
        for m in _DARK_RUN.finditer(b"\x00".join(map(bytes, matrix))):
            start, end = m.span()
            r, c = divmod(start, step)
            ops.append(xs[c] + ys[r] + ws[end - start])
        ops.append("f Q")
        _RAW_OUT(self, "\n".join(ops))

    def _qr_public(self, runs: list[list[tuple[int, int]]], x: float, y: float, size: float,
                   x0: float, y0: float, unit: float, overlap: float) -> None:
        """The same picture as qr()'s path, through fpdf2's public rect(): ~20x slower."""
        fill = self.fill_color
        self.set_fill_color(255)
        self.rect(x, y, size, size, style="F")
        self.set_fill_color(0)
        for r, row in enumerate(runs):
            for c, w in row:
                self.rect(x0 + c * unit, y0 + r * unit, w * unit, unit + overlap, style="F")
        self.set_fill_color(fill)
