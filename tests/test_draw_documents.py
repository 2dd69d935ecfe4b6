"""The draw's documents service: the pre-draw sheet prints the declared beacon source, the
protocol names the witnesses' accounts and every earlier attempt with its reason."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from kiosk.draw import documents, steps, witnesses
from tests.draw_world import TODAY, confirm_all, make_world, run_to_matched, user

pdfium = pytest.importorskip("pypdfium2")


def pdf_text(path: Path) -> str:
    doc = pdfium.PdfDocument(str(path))
    return "".join(p.get_textpage().get_text_range() for p in doc).replace("\r", "")


def test_predraw_sheet_prints_the_beacon_source_and_goes_to_the_stores_folder(db):
    _item, _targets, _inspectors, tasks = make_world()
    d = steps.prepare(tasks[0].code, "operator", draw_date=TODAY,
                      beacon_source="2026年5月20日福彩3D开奖号码")
    for login in ("witness1", "witness2"):
        witnesses.sign_in(d.id, user(login))
    message = documents.print_document(d.id, "predraw", "operator")
    path = Path(os.environ["KIOSK_DATA_DIR"]) / "print" / f"predraw-{tasks[0].code}-1.pdf"
    assert str(path) in message
    text = pdf_text(path)
    assert "2026年5月20日福彩3D开奖号码" in "".join(text.split())
    assert "witness1" in text and d.pool_digest in "".join(text.split())


def test_protocol_lists_earlier_attempts_and_witness_accounts(db):
    _item, _targets, _inspectors, tasks = make_world()
    first = steps.prepare(tasks[0].code, "operator", draw_date=TODAY)
    steps.abort(first.id, "见证人未到场", "operator")
    draw_id = run_to_matched(tasks[0].code)
    confirm_all(draw_id)
    steps.seal(draw_id, "operator")
    documents.print_document(draw_id, "protocol", "operator")
    text = "".join(pdf_text(Path(os.environ["KIOSK_DATA_DIR"]) / "print"
                            / f"protocol-{tasks[0].code}-2.pdf").split())
    assert "第1次：已中止，理由：见证人未到场" in text
    assert "账号witness1" in text and "账号witness2" in text
    path = documents.export(draw_id, "operator")
    assert path.name == "record.json" and (path.parent / "pool.tsv").exists()
