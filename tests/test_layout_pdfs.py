"""Official layout (GB/T 9704 style) of the printed matter, read back with pypdfium2: the
serif body font, the document number, the confidentiality marking, real names rather than
logins, seal and signature blocks, credit codes whole on one line, no line opening with
closing punctuation (避头), and 草稿 across a report that is not final."""
from __future__ import annotations

import re

import pytest

from db.models import Assignment, Draw
from kiosk import reports
from kiosk.draw import documents, steps
from kiosk.printing.base import CLOSING, KioskPDF, units
from kiosk.uscc import make as make_uscc
from tests.draw_world import TODAY, confirm_all, make_world, run_to_matched

pdfium = pytest.importorskip("pypdfium2")

USCC = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}")


def lines_of(path) -> list[str]:
    doc = pdfium.PdfDocument(str(path))
    out: list[str] = []
    for page in doc:
        out += page.get_textpage().get_text_range().replace("\r", "").split("\n")
    return [line.strip() for line in out if line.strip()]


# The list (Chinese closing punctuation); an explicit break in a URL ("\n?k=") is not
# a wrap.
CJK_CLOSING = "，。、；：？！）》」』】"


def assert_no_line_opens_with_closing(lines: list[str]) -> None:
    bad = [line for line in lines if line[0] in CJK_CLOSING]
    assert not bad, bad


def test_units_glue_closing_marks_back_and_opening_marks_forward():
    assert units("单位（甲），已查。") == ["单", "位", "（甲），", "已", "查。"]
    code = make_uscc("411623", "MA0000001")
    assert units(f"代码{code}。") == ["代", "码", f"{code}。"]


@pytest.mark.parametrize("width", [18.0, 23.5, 31.0, 40.0, 57.5, 90.0])
def test_wrap_keeps_codes_whole_and_no_line_opens_with_closing_punctuation(db, width):
    pdf = KioskPDF(format="A4", bureau="测试局")
    pdf.add_page()
    pdf.font(10)
    codes = [make_uscc("411623", f"MA{i:07d}") for i in range(6)]
    text = "".join(f"第{i}家单位（信用代码 {c}），已于本月检查；结论：合格。"
                   for i, c in enumerate(codes))
    lines = pdf.wrap(text, width)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert_no_line_opens_with_closing(lines)
    fits = pdf.get_string_width(codes[0]) <= width  # else nothing can keep it whole
    assert fits == (width > 37)
    for c in codes:
        assert sum(c in line for line in lines) == (1 if fits else 0), (c, lines)
    for line in lines:  # closing marks may hang past the edge (标点悬挂), nothing else
        assert pdf.get_string_width(line.rstrip("".join(CLOSING))) <= width + 0.01
    # A run longer than a line (a digest in a narrow cell) is cut by characters, still 避头.
    digest = "a" * 60 + "。"
    cut = pdf.wrap(digest, 20)
    assert len(cut) > 1 and "".join(cut) == digest
    assert_no_line_opens_with_closing(cut)


def sealed_draw() -> tuple[Draw, list]:
    _item, _targets, _inspectors, tasks = make_world()
    draw_id = run_to_matched(tasks[0].code)
    confirm_all(draw_id)
    steps.seal(draw_id, "operator")
    return Draw.get_by_id(draw_id), tasks


def test_protocol_and_predraw_sheet_in_official_layout(db):
    draw, tasks = sealed_draw()
    documents.print_document(draw.id, "protocol", "operator")
    path = documents.folder("print") / f"protocol-{draw.task.code}-1.pdf"
    lines = lines_of(path)
    text = "".join("".join(lines).split())
    assert b"NotoSerifCJK" in path.read_bytes()  # the serif body, embedded
    assert text.count("公示前不得外传") >= 2  # on every page's head and under the title
    assert f"双随机摇〔2026〕{draw.id}号" in text
    assert "孙立新（账号operator）" in text and "操作人员孙立新" in text  # a real name
    assert "钱正平" in text and "郑秀兰" in text
    assert "（盖章）" in text and "签名/日期" in text
    selected = [a.target.uscc for a in Assignment.select().where(Assignment.draw == draw)]
    assert selected
    for code in selected:
        assert any(code in line for line in lines), code  # whole on one line
    assert not [m for line in lines for m in USCC.findall(line) if m not in selected
                and m[:8] == "91411623"]
    assert_no_line_opens_with_closing(lines)

    d2 = steps.prepare(tasks[1].code, "operator", draw_date=TODAY)  # the next round
    documents.print_document(d2.id, "predraw", "operator")
    pre = documents.folder("print") / f"predraw-{d2.task.code}-{d2.attempt_no}.pdf"
    pre_text = "".join("".join(lines_of(pre)).split())
    assert "公示前不得外传" in pre_text and "抽查前公示单" in pre_text
    assert "操作人员孙立新" in pre_text
    assert_no_line_opens_with_closing(lines_of(pre))


def test_a_draft_report_says_草稿_and_names_people_not_logins(db, tmp_path):
    from tests.test_reports import FILLED, build_world

    world = build_world()
    rep = reports.open_report(world.assignments[0], world.member)
    reports.save_draft(rep, FILLED, world.member)
    draft = reports.render_report_pdf(rep, tmp_path / "draft.pdf")
    text = "".join("".join(lines_of(draft)).split())
    assert "草稿" in text and "双随机检〔" in text and "（盖章）" in text
    rep = reports.submit(rep, world.member)
    submitted = reports.render_report_pdf(rep, tmp_path / "submitted.pdf")
    lines = lines_of(submitted)
    text = "".join("".join(lines).split())
    assert "提交张伟" in text and "zhangwei" not in text
    assert world.targets[0].uscc in "".join(lines)
    assert_no_line_opens_with_closing(lines)


def test_slips_carry_the_document_number_the_marking_and_whole_codes(db):
    draw, _tasks = sealed_draw()
    documents.print_document(draw.id, "slips", "operator")
    path = documents.folder("print") / f"slips-{draw.task.code}-1.pdf"
    lines = lines_of(path)
    text = "".join("".join(lines).split())
    assert f"双随机任〔2026〕{draw.id}号" in text and "公示前不得外传" in text
    assert b"NotoSerifCJK" in path.read_bytes()
    for a in Assignment.select().where(Assignment.draw == draw):
        assert any(a.target.uscc in line for line in lines)
    assert_no_line_opens_with_closing(lines)
