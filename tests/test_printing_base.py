"""The PDF base keeps to fpdf2's and qrcode's public API; its one private fast path is guarded."""
from __future__ import annotations

import ast
import io
import re
from pathlib import Path

import pytest
from fpdf import FPDF

from kiosk.printing import base
from kiosk.printing.base import KioskPDF

pdfium = pytest.importorskip("pypdfium2")
zxingcpp = pytest.importorskip("zxingcpp")

ROOT = Path(__file__).resolve().parents[1]
PRINTING = [*sorted((ROOT / "kiosk" / "printing").glob("*.py")), ROOT / "kiosk" / "slips.py"]
PAYLOAD = "https://kiosk.local/r/2026-07-0137?k=GEZDGNBVGY3TQOJQGEZD"


def _doc(**kw) -> KioskPDF:
    return KioskPDF("A5", doc_title="双随机抽查任务单", bureau="商水县人力资源和社会保障局", **kw)


def _pages(doc: KioskPDF) -> list[tuple[str, object]]:
    """(text, picture) of each page, rendered the way a phone camera would see it."""
    pdf = pdfium.PdfDocument(io.BytesIO(bytes(doc.output())))
    out = [(page.get_textpage().get_text_range(), page.render(scale=2.5).to_pil().convert("L"))
           for page in pdf]
    pdf.close()
    return out


def _qr_page(monkeypatch, fast: bool) -> tuple[list[bytes], object]:
    """(the rectangles drawn, the rendered page) of a page with one QR code on it."""
    monkeypatch.setattr(base, "QR_FAST_PATH", fast)
    doc = _doc()
    doc.add_page()
    doc.set_fill_color(200)
    doc.qr(PAYLOAD, 40, 40, 48)
    doc.rect(10, 100, 30, 10, style="F")  # the fill colour must be the caller's again
    rects = re.findall(rb"(?:-?[0-9.]+ ){4}re", bytes(doc.pages[1].contents))
    ((_, picture),) = _pages(doc)
    return sorted(rects), picture


def test_the_qr_fast_path_is_there():
    """Fails when fpdf2 drops or renames FPDF._out: the slips then fall back to one public
    rect() per run, ~2.6 s more per 1,000 slips (bench/bench_slips.py shows both)."""
    assert base.QR_FAST_PATH and callable(getattr(FPDF, "_out", None))


def test_the_qr_fast_path_draws_what_public_rects_draw(monkeypatch):
    fast_rects, fast = _qr_page(monkeypatch, True)
    public_rects, public = _qr_page(monkeypatch, False)
    assert len(fast_rects) > 200 and fast_rects == public_rects  # the same rectangles
    for picture in (fast, public):
        assert [c.text for c in zxingcpp.read_barcodes(picture)] == [PAYLOAD]
        px = picture.load()
        assert px[int(25 * 2.5 * 72 / 25.4), int(105 * 2.5 * 72 / 25.4)] == 200


def test_no_private_fpdf2_or_qrcode_names():
    """Only FPDF._out, named once as a string, and only qrcode's documented modules."""
    fpdf_private = {n for n in dir(FPDF) if n.startswith("_") and not n.startswith("__")}
    used, qrcode_modules = [], set()
    for path in PRINTING:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in fpdf_private:
                used.append((path.name, node.attr))
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("qrcode"):
                qrcode_modules.add(node.module)
                qrcode_modules.update(f"{node.module}.{a.name}" for a in node.names
                                      if node.module == "qrcode")
            if isinstance(node, ast.Import):
                qrcode_modules.update(a.name for a in node.names if a.name.startswith("qrcode"))
    assert used == []
    assert qrcode_modules <= {"qrcode", "qrcode.constants"}
    strings = [node.value for path in PRINTING
               for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
               if isinstance(node, ast.Constant) and node.value in fpdf_private]
    assert strings == ["_out"]


@pytest.mark.parametrize("family,style", [("cjk", ""), ("cjk", "B"), ("Courier", ""),
                                          ("Courier", "B")])
def test_remembered_widths_are_fpdf2s(family, style):
    doc = _doc()
    doc.add_page()
    texts = ["", "检查对象", "商水县第7号纺织服装有限责任公司", "第 1 页 / 共 {total_pages} 页",
             "91411623MA0001AA1X", "https://kiosk.local/r/2026-07-0001?k=MFRGGZDFMZTWQ2LKNNWG"]
    for size in (5.4, 9.5, 20):
        doc.set_font(family, style, size)
        for t in texts if family == "cjk" else texts[4:]:
            assert doc.get_string_width(t) == FPDF.get_string_width(doc, t)
            doc.set_char_spacing(1.5)  # part of the key: not the width cached a line above
            assert doc.get_string_width(t) == FPDF.get_string_width(doc, t)
            doc.set_char_spacing(0)
            assert doc.get_string_width(t) == FPDF.get_string_width(doc, t)


def test_without_the_bold_face_bold_is_outlined_regular():
    doc = _doc(real_bold=False)
    assert "cjkB" not in doc.fonts and not doc.has_real_bold
    doc.add_page()
    doc.font(20)
    doc.bold_lines(["双随机抽查任务单"], doc.l_margin, 30, 10)
    doc.font(10, bold=True)  # no Bold face: the regular one, not an fpdf2 error
    doc.text_lines(["加粗"], doc.l_margin, 50, 5)
    content = bytes(doc.pages[1].contents)
    assert content.count(b"2 Tr") == 1  # fill and stroke: the title only
    ((text, _),) = _pages(doc)
    assert "双随机抽查任务单" in text and "加粗" in text


def test_with_the_bold_face_bold_is_the_bold_face():
    doc = _doc()
    doc.add_page()
    doc.font(20)
    doc.bold_lines(["双随机抽查任务单"], doc.l_margin, 30, 10)
    assert "cjkB" in doc.fonts and doc.font_style == "B"
    content = bytes(doc.pages[1].contents)
    if doc.has_real_bold:  # Noto ships one
        assert b"2 Tr" not in content
    else:  # the regular face registered as bold: outlined all the same
        assert content.count(b"2 Tr") == 1


@pytest.mark.parametrize("known", [True, False])
def test_header_and_footer(known):
    doc = _doc()
    if known:
        doc.page_count = 3  # the footer writes it directly
    for i in range(3):
        doc.add_page()
        doc.footer_note = f"2026-07-000{i + 1} · 第 1 版"  # the footer is drawn on leaving
    pages = _pages(doc)
    for i, (text, _) in enumerate(pages, 1):
        assert text.startswith("商水县人力资源和社会保障局")
        assert "双随机抽查任务单" in text
        assert f"2026-07-000{i} · 第 1 版" in text
        assert f"第 {i} 页 / 共 3 页" in text


def test_the_old_names_still_import():
    """kiosk.pdf stays a re-export while callers in other areas move to kiosk.printing."""
    from kiosk import pdf, printing

    for name in pdf.__all__:
        assert getattr(pdf, name) is getattr(printing, name), name
    assert set(pdf.__all__) >= {"KioskPDF", "print_or_save", "find_cjk_font", "qr_matrix"}
    assert callable(printing.render_protocol) and callable(printing.render_predraw_sheet)


def test_a_payload_too_long_for_any_qr_version_is_one_sentence():
    from kiosk.errors import UserError
    from kiosk.printing import qr

    assert len(qr.qr_matrix("a" * 2331)) == 177  # version 40 holds 2,331 bytes at M
    with pytest.raises(UserError, match="二维码内容过长（2332 字节）"):
        qr.qr_matrix("a" * 2332)
