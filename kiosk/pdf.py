"""Printed matter: an fpdf2 base with an embedded CJK font, QR codes, and sending PDFs to `lp`."""
from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import TextMode

from kiosk import settings
from kiosk.errors import UserError

FONT_MISSING = "未找到中文字体：请安装 fonts-noto-cjk（或 fonts-wqy-zenhei），或用 KIOSK_CJK_FONT 指定字体文件。"

KNOWN_FONT_PATHS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
)

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


@dataclass(frozen=True)
class FontFace:
    path: Path
    index: int = 0  # face number inside a .ttc collection


def _collection_index(path: Path) -> int:
    """The Simplified Chinese face of a .ttc (Noto CJK puts JP first), else the first face."""
    if path.suffix.lower() not in (".ttc", ".otc"):
        return 0
    try:
        from fontTools.ttLib import TTCollection

        coll = TTCollection(str(path), lazy=True)
        names = []
        for font in coll.fonts:
            name = font["name"].getDebugName(1) or ""
            names.append(name)
        for want in (" SC", "Zen Hei", "Micro Hei"):
            for i, name in enumerate(names):
                if want in name and "Mono" not in name:
                    return i
    except Exception:  # an unreadable collection: let fpdf2 report it on embedding
        pass
    return 0


def _fc(args: list[str]) -> str:
    exe = shutil.which(args[0])
    if not exe:
        return ""
    try:
        return subprocess.run([exe, *args[1:]], capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _looks_cjk(family: str, path: str) -> bool:
    s = (family + " " + os.path.basename(path)).lower()
    return any(k in s for k in ("cjk", "wenquanyi", "wqy", "source han", "sourcehan",
                                "noto sans sc", "noto serif sc", "simsun", "simhei",
                                "droid sans fallback", "ar pl"))


@functools.lru_cache(maxsize=8)
def _find_face(env_value: str) -> FontFace:
    if env_value:
        p = Path(env_value).expanduser()
        if not p.is_file():
            raise UserError(f"KIOSK_CJK_FONT 指向的字体文件不存在：{env_value}。请改正该路径，"
                            "或安装 fonts-noto-cjk（或 fonts-wqy-zenhei）。")
        return FontFace(p, _collection_index(p))
    # fc-match always answers with *some* font; only take it when it is a CJK one.
    out = _fc(["fc-match", "-f", "%{file}|%{index}|%{family}", "Noto Sans CJK SC"])
    if out.count("|") >= 2:
        file, index, family = out.split("|", 2)
        if file and Path(file).is_file() and _looks_cjk(family, file):
            return FontFace(Path(file), int(index or 0))
    listing = _fc(["fc-list", ":lang=zh-cn", "-f", "%{file}|%{index}|%{family}\n"])
    best: tuple[int, FontFace] | None = None
    prefs = ("Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei")
    for line in listing.splitlines():
        if line.count("|") < 2:
            continue
        file, index, family = line.split("|", 2)
        if not Path(file).is_file() or "Mono" in family or not file.lower().endswith(
                (".ttf", ".ttc", ".otf", ".otc")):
            continue
        rank = next((i for i, p in enumerate(prefs) if p in family), len(prefs))
        if best is None or rank < best[0]:
            best = (rank, FontFace(Path(file), int(index or 0)))
    if best is not None:
        return best[1]
    for known in KNOWN_FONT_PATHS:
        p = Path(known)
        if p.is_file():
            return FontFace(p, _collection_index(p))
    raise UserError(FONT_MISSING)


def find_cjk_face() -> FontFace:
    """The CJK font file and its face number; UserError naming the package when none."""
    return _find_face(os.environ.get("KIOSK_CJK_FONT", ""))


def find_cjk_font() -> Path:
    """The CJK font file: KIOSK_CJK_FONT, then fontconfig, then the usual Debian paths."""
    return find_cjk_face().path


def _bold_face(regular: FontFace) -> FontFace | None:
    name = regular.path.name
    if "Regular" in name:
        bold = regular.path.with_name(name.replace("Regular", "Bold"))
        if bold.is_file():
            return FontFace(bold, regular.index)
    return None


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
    """

    cjk_family = CJK

    def __init__(self, format: str | None = None, orientation: str = "P", *,
                 doc_title: str = "", bureau: str | None = None) -> None:
        face = find_cjk_face()  # before any page: a missing font fails fast
        paper = format or settings.get("paper") or "A4"
        super().__init__(orientation=orientation, unit="mm", format=paper_size(paper))
        self.paper = paper.upper()
        self.bureau = settings.get("bureau_name") if bureau is None else bureau
        self.doc_title = doc_title
        self.footer_note = ""
        small = self.w < 160
        self.set_margins(12 if small else 20, 14 if small else 18, 12 if small else 20)
        self.footer_height = 14 if small else 18
        self.set_auto_page_break(True, margin=self.footer_height)
        self.add_font(CJK, "", str(face.path), collection_font_number=face.index)
        bold = _bold_face(face) or face
        self.add_font(CJK, "B", str(bold.path), collection_font_number=bold.index)
        self.has_real_bold = bold is not face
        self._wrap_cache: dict[tuple, list[str]] = {}
        self._qr_coords: dict[tuple, tuple] = {}
        self._widths: dict[tuple, float] = {}
        self._encoded: dict[tuple, str] = {}
        self._fixed_cells: dict[tuple, tuple[bytes, float]] = {}
        self.alias_nb_pages("{total_pages}")  # room for a 4-digit count (1,000 slips)
        self.set_title(doc_title or self.bureau)
        self.set_author(self.bureau)
        self.set_creator("双随机 kiosk")
        self.set_font(CJK, size=10)

    # ------------------------------------------------------------ fast paths
    #
    # A 1,000-slip print measures and writes the same labels tens of thousands of times;
    # fpdf2 re-parses each string into styled fragments every time. The overrides below
    # give the same results and write the same bytes (tests/test_pdf_slips.py compares
    # them) in the plain cases (no markdown, shaping, underline or text-mode effects) and
    # defer to fpdf2 otherwise.

    def set_font(self, family: str | None = None, style: str = "", size: float = 0) -> None:
        font = self.current_font
        if (font is not None and style == self.font_style and family is not None
                and (not size or size == self.font_size_pt) and not self.underline
                and not self.strikethrough and family.lower() == self.font_family
                and font.fontkey == self.font_family + style):
            return  # already selected: what fpdf2 would conclude after normalising
        super().set_font(family, style, size)

    def get_string_width(self, s: str, normalized: bool = False,
                         markdown: bool = False) -> float:
        if markdown or self.text_shaping or self.current_font is None:
            return super().get_string_width(s, normalized, markdown)
        key = (self.current_font.fontkey, self.font_size_pt, self.char_spacing,
               self.font_stretching, self.underline, self.strikethrough, normalized, s)
        w = self._widths.get(key)
        if w is None:
            w = self._widths[key] = super().get_string_width(s, normalized, markdown)
        return w

    def text(self, x: float, y: float, text: str = "") -> None:
        font = self.current_font
        if (font is None or not self.page or self.underline or self.strikethrough
                or self._record_text_quad_points or self.text_mode != TextMode.FILL):
            return super().text(x, y, text)
        if not self.current_font_is_set_on_page:
            self._out(self._set_font_for_page(font, self.font_size_pt))
        key = (font.fontkey, text)
        enc = self._encoded.get(key)
        if enc is None:
            # encode_text also records the glyphs in the font's subset: first time only
            enc = self._encoded[key] = font.encode_text(self.normalize_text(text))
        op = f"BT {x * self.k:.2f} {(self.h - y) * self.k:.2f} Td {enc} ET"
        if self.fill_color != self.text_color:
            op = f"q {self.text_color.serialize().lower()} {op} Q"
        self._out(op)

    def rect(self, x: float, y: float, w: float, h: float, style=None,
             round_corners=False, corner_radius: float = 0) -> None:
        op = _RECT_OPS.get(style) if isinstance(style, (str, type(None))) else None
        if op is None or round_corners is not False or not self.page:
            return super().rect(x, y, w, h, style, round_corners, corner_radius)
        k = self.k
        self._out(f"{x * k:.2f} {(self.h - y) * k:.2f} {w * k:.2f} {-h * k:.2f} re {op}")

    def _fixed_cell(self, w: float, h: float, text: str, align: str) -> None:
        """cell(w, h, text, align=align) for a line repeated on every page: fpdf2 lays it out
        once, later pages get the same bytes (the font is still selected on each page)."""
        font = self.current_font
        key = (font.fontkey if font else None, self.font_size_pt, self.text_color,
               self.fill_color, self.x, self.y, w, h, align, text, self.c_margin,
               self.char_spacing, self.font_stretching, self.text_mode, self.underline,
               self.strikethrough, self.k, self.h)
        hit = self._fixed_cells.get(key)
        if hit is None and (font is None or self._record_text_quad_points
                            or (self.str_alias_nb_pages or "\0") in text):
            self.cell(w, h, text, align=align)
            return
        if not self.current_font_is_set_on_page:
            self._out(self._set_font_for_page(font, self.font_size_pt))
        if hit is not None:
            self._out(hit[0])
            self.x = hit[1]
            return
        page, contents = self.page, self.pages[self.page].contents
        start = len(contents)
        self.cell(w, h, text, align=align)
        if self.page == page and self.current_font_is_set_on_page:
            self._fixed_cells[key] = (bytes(contents[start:-1]), self.x)

    # ------------------------------------------------------------ page furniture

    def header(self) -> None:
        self.set_font(CJK, size=8.5)
        self.set_text_color(60)
        self.set_y(self.t_margin - 8)
        self._fixed_cell(self.epw / 2, 5, self.bureau, align="L")
        self._fixed_cell(self.epw / 2, 5, self.doc_title, align="R")
        self.set_draw_color(120)
        self.set_line_width(0.3)
        y = self.t_margin - 2.5
        self.line(self.l_margin, y, self.w - self.r_margin, y)
        self.set_text_color(0)
        self.set_draw_color(0)
        self.set_xy(self.l_margin, self.t_margin)

    def footer(self) -> None:
        self.set_y(self.h - self.footer_height + 3)
        self.set_font(CJK, size=7.5)
        self.set_text_color(90)
        if self.footer_note:
            self.cell(self.epw * 0.7, 4, self.footer_note, align="L")
            self.cell(self.epw * 0.3, 4, f"第 {self.page_no()} 页 / 共 {{total_pages}} 页", align="R")
        else:
            self.cell(self.epw, 4, f"第 {self.page_no()} 页 / 共 {{total_pages}} 页", align="C")
        self.set_text_color(0)

    # ------------------------------------------------------------ text helpers

    def font(self, size: float, bold: bool = False) -> None:
        self.set_font(CJK, "B" if bold else "", size=size)

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

    def wrap(self, text: str, width: float) -> list[str]:
        """Lines of text in the current font that fit in width mm (repeated texts cached)."""
        out: list[str] = []
        for para in str(text).split("\n"):
            if self.get_string_width(para) <= width:
                out.append(para)
                continue
            key = (self.font_family, self.font_style, self.font_size_pt, round(width, 2), para)
            lines = self._wrap_cache.get(key)
            if lines is None:
                # CHAR: Chinese has no spaces, and WORD would push a long Latin run
                # (a file name, a digest) whole onto the next line.
                lines = self.multi_cell(width + 2 * self.c_margin, 4, para, dry_run=True,
                                        output="LINES", wrapmode="CHAR")
                self._wrap_cache[key] = lines
            out.extend(lines)
        return out

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
        self.multi_cell(self.epw, line_h or size * 0.52, text, align="L",
                        new_x="LMARGIN", new_y="NEXT", wrapmode="CHAR")
        self.font(size)

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

        Drawn as vector runs rather than an embedded bitmap: sharp on any printer, and
        about ten times faster than an image per slip when printing 1,000 of them."""
        rows = _qr_rows(payload)
        n = len(rows)
        # Every slip puts its code at the same place: the coordinate strings are cached.
        key = (x, y, size, border, n, self.k, self.h)
        coords = self._qr_coords.get(key)
        if coords is None:
            unit = size / (n + 2 * border)
            k, top = self.k, self.h
            x0, y0 = x + border * unit, y + border * unit
            hh = -(unit + 0.02) * k  # a hair of overlap: no white seam between rows
            coords = (
                f"q 1 g {x * k:.2f} {(top - y) * k:.2f} {size * k:.2f} {-size * k:.2f} re f 0 g",
                [f"{(x0 + c * unit) * k:.2f} " for c in range(n)],
                [f"{(top - y0 - r * unit) * k:.2f} " for r in range(n)],
                [f"{w * unit * k:.2f} {hh:.2f} re" for w in range(n + 1)],
            )
            self._qr_coords[key] = coords
        head, xs, ys, ws = coords
        # One path for all dark runs, inside q/Q so fpdf2's colour state is untouched;
        # a rect() per run costs ~0.05 ms each, ~10 ms a slip.
        ops = [head]
        for r, row in enumerate(rows):
            yy = ys[r]
            for m in _DARK_RUN.finditer(row):
                start, c = m.span()
                ops.append(xs[start] + yy + ws[c - start])
        ops.append("f Q")
        self._out("\n".join(ops))


_DARK_RUN = re.compile("1+")
_RECT_OPS = {None: "S", "": "S", "D": "S", "F": "f", "DF": "B", "FD": "B"}


# ---------------------------------------------------------------- QR symbols
#
# qrcode builds a symbol module by module and does Reed–Solomon with polynomial objects,
# ~5 ms a code: 5 s of a 1,000-slip print. The symbols below are the same ones (qrcode's
# segmentation, version, codewords, function patterns and module placement; the mask
# chosen by the penalty rule this module has always used) but computed on whole-symbol
# integers: a module is bit r*n+c, data modules are scattered by a precomputed
# permutation, and each mask's penalty is a few dozen big-integer operations.

@dataclass(frozen=True)
class _Layout:
    n: int
    perm_rows: object  # itemgetter: bit string (+ '0' sentinel) -> symbol, row-major, reversed
    perm_cols: object  # the same, column-major (for the vertical penalty terms)
    cells: int  # data modules available (bits)
    func: tuple[int, ...]  # per mask: function patterns and format/version information
    func_t: int  # the mask-0 function modules, column-major (penalties keep mask 0's format)
    masks: tuple[int, ...]  # per mask: the data modules it flips
    masks_t: tuple[int, ...]
    h_ok: int  # bit i: modules i and i+1 are in the same row
    v_ok: int  # bit i: module i+n exists
    w_ok2: int  # bit i: an 11-module window starting at i (mod n*n) stays in its row
    full: int


_layouts: dict[int, _Layout] = {}


def _bits_to_int(s: str) -> int:
    """A module string in symbol order (index 0 first) as an int with index 0 at bit 0."""
    return int(s[::-1], 2) if s else 0


def _layout(version: int) -> _Layout:
    lay = _layouts.get(version)
    if lay is not None:
        return lay
    import operator

    import qrcode
    from qrcode import util
    from qrcode.constants import ERROR_CORRECT_M
    from qrcode.main import copy_2d_array, precomputed_qr_blanks

    q = qrcode.QRCode(version=version, error_correction=ERROR_CORRECT_M, border=0)
    if version not in precomputed_qr_blanks:
        q.makeImpl(True, 0)  # fills qrcode's cache of function patterns for this version
    n = version * 4 + 17
    N = n * n
    blank = precomputed_qr_blanks[version]

    def with_info(mask: int) -> list[list]:
        q.modules_count = n
        q.modules = copy_2d_array(blank)
        q.setup_type_info(False, mask)
        if version >= 7:
            q.setup_type_number(False)
        return q.modules

    # Data module order exactly as qrcode.QRCode.map_data walks the symbol.
    grid = with_info(0)
    order: list[tuple[int, int]] = []
    inc, row = -1, n - 1
    for col in range(n - 1, 0, -2):
        if col <= 6:
            col -= 1
        while True:
            for c in (col, col - 1):
                if grid[row][c] is None:
                    order.append((row, c))
            row += inc
            if row < 0 or n <= row:
                row -= inc
                inc = -inc
                break
    sentinel = len(order)
    src_rows = [sentinel] * N
    src_cols = [sentinel] * N
    for k, (r, c) in enumerate(order):
        src_rows[r * n + c] = k
        src_cols[c * n + r] = k
    func, masks, masks_t = [], [], []
    func_t = 0
    for m in range(8):
        g = with_info(m)
        s = "".join("1" if v else "0" for line in g for v in line)
        func.append(_bits_to_int(s))
        if m == 0:
            func_t = _bits_to_int("".join("1" if g[r][c] else "0"
                                          for c in range(n) for r in range(n)))
        f = util.mask_func(m)
        bits, bits_t = 0, 0
        for r, c in order:
            if f(r, c):
                bits |= 1 << (r * n + c)
                bits_t |= 1 << (c * n + r)
        masks.append(bits)
        masks_t.append(bits_t)
    h_ok = _bits_to_int("".join(("1" * (n - 1) + "0") for _ in range(n)))
    w_ok = _bits_to_int("".join(("1" * (n - 10) + "0" * 10) for _ in range(n)))
    lay = _Layout(n=n, perm_rows=operator.itemgetter(*reversed(src_rows)),
                  perm_cols=operator.itemgetter(*reversed(src_cols)), cells=len(order),
                  func=tuple(func), func_t=func_t, masks=tuple(masks),
                  masks_t=tuple(masks_t), h_ok=h_ok, v_ok=(1 << (N - n)) - 1,
                  w_ok2=w_ok | (w_ok << N), full=(1 << N) - 1)
    _layouts[version] = lay
    return lay


def _line_penalty(m: int, lay: _Layout) -> tuple[int, int]:
    """(N1 + N3 along the lines of m, the alike-neighbour bits); m may be transposed."""
    eq = ~(m ^ (m >> 1)) & lay.h_ok  # bit i: modules i and i+1 alike
    four = eq & (eq >> 1) & (eq >> 2) & (eq >> 3)  # a run of >= 5 alike starts here
    # a run of L >= 5 scores L - 2: (L - 4) windows of four, plus 2 per run
    p = four.bit_count() + 2 * (four & ~(four >> 1)).bit_count()
    inv = ~m & lay.full
    core = m & (inv >> 1) & (m >> 2) & (m >> 3) & (m >> 4) & (inv >> 5) & (m >> 6)  # 1011101
    light = inv & (inv >> 1) & (inv >> 2) & (inv >> 3)  # 0000
    hits = ((core & (light >> 7)) | ((light & (core >> 4)) << lay.n * lay.n)) & lay.w_ok2
    return p + 40 * hits.bit_count(), eq


def _symbol_penalty(m: int, mt: int, lay: _Layout) -> int:
    """ISO 18004 mask penalty N1–N4 of symbol m (mt: the same symbol column-major)."""
    n = lay.n
    p, eq_h = _line_penalty(m, lay)
    p += _line_penalty(mt, lay)[0]
    blocks = eq_h & (eq_h >> n) & ~(m ^ (m >> n)) & lay.v_ok
    p += 3 * blocks.bit_count()
    dark = m.bit_count()
    return p + 10 * (abs(dark * 100 // (n * n) - 50) // 5)


_rs_tables: dict[int, list[int]] = {}


def _rs_table(ec: int) -> list[int]:
    """For each byte f, f times the generator polynomial's lower coefficients, as one int
    (highest coefficient in the top byte): the remainder register shifts as an int."""
    t = _rs_tables.get(ec)
    if t is None:
        from qrcode import LUT
        from qrcode.base import EXP_TABLE, LOG_TABLE

        gen = LUT.rsPoly_LUT[ec][1:]
        t = [0]
        for f in range(1, 256):
            v = 0
            for g in gen:
                v = (v << 8) | (EXP_TABLE[(LOG_TABLE[f] + LOG_TABLE[g]) % 255] if g else 0)
            t.append(v)
        _rs_tables[ec] = t
    return t


_ALNUM = {ch: i for i, ch in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")}


def _segment_bits(mode: int, data: bytes) -> str:
    """The data bits of one segment, as qrcode.util.QRData.write puts them."""
    from qrcode import util

    if mode == util.MODE_NUMBER:
        return "".join(format(int(data[i:i + 3]), f"0{util.NUMBER_LENGTH[len(data[i:i + 3])]}b")
                       for i in range(0, len(data), 3))
    if mode == util.MODE_ALPHA_NUM:
        text = data.decode("ascii")
        out = []
        for i in range(0, len(text), 2):
            pair = text[i:i + 2]
            if len(pair) == 2:
                out.append(format(_ALNUM[pair[0]] * 45 + _ALNUM[pair[1]], "011b"))
            else:
                out.append(format(_ALNUM[pair], "06b"))
        return "".join(out)
    return "".join(map("{:08b}".format, data))


def _codewords(payload: str) -> tuple[int, list[int]]:
    """(version, interleaved data and EC codewords) as qrcode would encode the payload at M."""
    from bisect import bisect_left

    from qrcode import util
    from qrcode.base import rs_blocks
    from qrcode.constants import ERROR_CORRECT_M

    chunks = list(util.optimal_data_chunks(payload, minimum=20))  # add_data's default
    parts = [_segment_bits(c.mode, c.data) for c in chunks]
    # QRCode.best_fit: the smallest version whose length fields still leave room
    start = 1
    while True:
        sizes = util.mode_sizes_for_version(start)
        needed = sum(4 + sizes[c.mode] + len(p) for c, p in zip(chunks, parts))
        version = bisect_left(util.BIT_LIMIT_TABLE[ERROR_CORRECT_M], needed, start)
        if version == 41:
            from qrcode.exceptions import DataOverflowError
            raise DataOverflowError()
        if util.mode_sizes_for_version(version) is sizes:
            break
        start = version
    sizes = util.mode_sizes_for_version(version)
    bits = "".join(f"{c.mode:04b}{len(c):0{sizes[c.mode]}b}{p}" for c, p in zip(chunks, parts))
    blocks = rs_blocks(version, ERROR_CORRECT_M)
    limit = sum(b.data_count * 8 for b in blocks)
    bits += "0" * min(limit - len(bits), 4)
    bits += "0" * (-len(bits) % 8)
    data = [int(bits[i:i + 8], 2) for i in range(0, len(bits), 8)]
    data += [0xEC, 0x11] * ((limit // 8 - len(data)) // 2 + 1)
    del data[limit // 8:]
    dc_blocks, ec_blocks, off = [], [], 0
    for b in blocks:
        dc = data[off:off + b.data_count]
        off += b.data_count
        ec_n = b.total_count - b.data_count
        table = _rs_table(ec_n)
        top = 8 * (ec_n - 1)
        low = (1 << top) - 1
        rem = 0
        for d in dc:
            rem = ((rem & low) << 8) ^ table[d ^ (rem >> top)]
        rem = list(rem.to_bytes(ec_n, "big"))
        dc_blocks.append(dc)
        ec_blocks.append(rem)
    out = []
    for group in (dc_blocks, ec_blocks):
        for i in range(max(len(g) for g in group)):
            out.extend(g[i] for g in group if i < len(g))
    return version, out


def _qr_symbol(payload: str) -> tuple[int, int]:
    """(n, symbol) of the payload: module (r, c) dark when bit r*n+c is set."""
    version, words = _codewords(payload)
    lay = _layout(version)
    src = "".join(map("{:08b}".format, words)).ljust(lay.cells + 1, "0")
    data = int("".join(lay.perm_rows(src)), 2)
    data_t = int("".join(lay.perm_cols(src)), 2)
    f0, f0t = lay.func[0], lay.func_t
    best = min(range(8), key=lambda k: (_symbol_penalty(
        f0 | (data ^ lay.masks[k]), f0t | (data_t ^ lay.masks_t[k]), lay), k))
    return lay.n, lay.func[best] | (data ^ lay.masks[best])


def _qr_rows(payload: str) -> list[str]:
    """The payload's QR modules as one '0'/'1' string per row ('1' = dark)."""
    n, sym = _qr_symbol(payload)
    s = format(sym, f"0{n * n}b")[::-1]
    return [s[i:i + n] for i in range(0, n * n, n)]


def qr_matrix(payload: str) -> list[list[bool]]:
    """The QR modules (True = dark) at error correction M, the mask chosen by penalty."""
    return [[ch == "1" for ch in row] for row in _qr_rows(payload)]


def qr_image(payload: str, box_size: int = 6, border: int = 4):
    """A PIL image of the payload's QR code: error correction M, a 4-module quiet zone."""
    from PIL import Image

    modules = qr_matrix(payload)
    n = len(modules)
    size = n + 2 * border
    buf = bytearray(b"\xff" * (size * size))
    for r, row in enumerate(modules):
        off = (r + border) * size + border
        for c, dark in enumerate(row):
            if dark:
                buf[off + c] = 0
    img = Image.frombytes("L", (size, size), bytes(buf))
    return img.resize((size * box_size, size * box_size), Image.NEAREST).convert("1")


def print_or_save(path: str | os.PathLike) -> str:
    """Send the PDF to the configured printer through `lp`; a sentence naming the saved file."""
    path = Path(path).resolve()
    printer = settings.get("printer").strip()
    if not printer:
        return f"已保存 PDF：{path}（未设置打印机，请手动打印）。"
    lp = shutil.which("lp")
    if not lp:
        return (f"已保存 PDF：{path}；但本机没有 lp 命令，未能送往打印机 {printer}"
                "（请安装 cups-client）。")
    try:
        r = subprocess.run([lp, "-d", printer, str(path)], capture_output=True, text=True,
                           timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        return f"已保存 PDF：{path}；送往打印机 {printer} 失败：{e}。"
    if r.returncode != 0:
        why = (r.stderr or r.stdout).strip().splitlines()
        return (f"已保存 PDF：{path}；送往打印机 {printer} 失败"
                f"（{why[0] if why else 'lp 退出码 ' + str(r.returncode)}）。")
    job = r.stdout.strip()
    return f"已送往打印机 {printer}{'（' + job + '）' if job else ''}，PDF 保存在：{path}。"
