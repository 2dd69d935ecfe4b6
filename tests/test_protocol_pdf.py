"""The pre-draw sheet and the draw protocol, read back as text."""
from __future__ import annotations

import hashlib
import re

import pytest

from kiosk import printing

pdfium = pytest.importorskip("pypdfium2")


def sample_info(sealed: bool = True, n_selected: int = 3) -> dict:
    h = lambda s: hashlib.sha256(s.encode()).hexdigest()  # noqa: E731
    selected = [{"uscc": f"91411623MA{i:07d}X",
                 "name": ["商水县阳城纺织有限公司", "周口市汇丰建筑劳务有限公司",
                          "商水县邓城镇福源食品厂"][i % 3] + ("" if i < 3 else f"第{i}分厂"),
                 "stratum": "高风险" if i % 2 else "一般",
                 "team": [{"cert_no": f"411623{2 * i:05d}", "name": "李建国"},
                          {"cert_no": f"411623{2 * i + 1:05d}", "name": "王秀英"}]}
                for i in range(n_selected)]
    return {
        "task": "2026-RS-01-2", "attempt": 2, "item_code": "RS-01",
        "item_name": "用人单位遵守劳动用工和社会保险法律法规情况的检查",
        "legal_basis": "《劳动保障监察条例》第十条、第十一条",
        "draw_date": "2026-07-14", "operator": "张大队长",
        "started_at": "2026-07-14 09:30:00",
        "sealed_at": "2026-07-14 10:05:12" if sealed else None,
        "strata": {"一般": {"ratio_bp": 200, "pool": 812, "quota": 17},
                   "高风险": {"ratio_bp": 3000, "pool": 20, "quota": 6}},
        "team_size": 2, "inspector_count": 41, "conflict_count": 7,
        "digests": {"pool": h("pool"), "inspectors": h("inspectors"), "conflicts": h("c")},
        "witnesses": [{"name": "周明", "organisation": "县纪委监委驻局纪检组",
                       "entropy": "今天天气晴 7391" if sealed else None},
                      {"name": "孙丽", "organisation": "",
                       "entropy": "abc-42" if sealed else None}],
        "quorum": 3,
        "commitment": h("commit"),
        "system_entropy": h("sys") if sealed else "",
        "beacon": "CN-LOTTERY-2026078 03 11 19 22 27 31" if sealed else None,
        "seed": h("seed") if sealed else "",
        "selected": selected if sealed else [],
        "amendments": [{"target": selected[0]["uscc"], "inspector": "41162300000",
                        "reason": "与该单位负责人系近亲属", "replacement": "41162399999"}]
        if sealed else [],
        "audit_head": h("head"),
    }


def text_of(path) -> str:
    doc = pdfium.PdfDocument(str(path))
    text = "\n".join(p.get_textpage().get_text_range() for p in doc)
    doc.close()
    return text


def flat(text: str) -> str:
    """Text without line breaks, so a digest wrapped over two lines is found whole."""
    return re.sub(r"[\r\n]+", "", text)


def test_predraw_sheet(db, tmp_path):
    info = sample_info(sealed=False)
    out = printing.render_predraw_sheet(info, tmp_path / "pre.pdf")
    text = text_of(out)
    for d in info["digests"].values():
        assert d in flat(text)
    assert "sha256sum pool.tsv inspectors.tsv conflicts.tsv" in text
    assert "抽查前公示单" in text and "2026-RS-01-2" in text
    assert "812" in text and "30%" in text and "2%" in text
    assert "见证人 周明" in text and "见证人 孙丽" in text
    assert text.count("签名 / 日期") == 4  # 2 named witnesses, 1 blank for the quorum, operator
    doc = pdfium.PdfDocument(str(out))
    w, h = doc[0].get_size()
    doc.close()
    assert (round(w * 25.4 / 72), round(h * 25.4 / 72)) == (210, 297)


def test_protocol(db, tmp_path):
    info = sample_info()
    out = printing.render_protocol(info, tmp_path / "protocol.pdf")
    text = text_of(out)
    f = flat(text)
    for d in info["digests"].values():
        assert d in f
    for k in ("seed", "commitment", "system_entropy", "audit_head"):
        assert info[k] in f, k
    assert "周明" in text and "今天天气晴 7391" in text and "县纪委监委驻局纪检组" in text
    assert "商水县阳城纺织有限公司" in text and "91411623MA0000000X" in text
    assert "王秀英" in text and "41162300001" in text
    assert "与该单位负责人系近亲属" in text and "41162399999" in text
    assert "CN-LOTTERY-2026078" in text
    assert "kiosk verify record.json" in text
    assert "sha256sum pool.tsv inspectors.tsv conflicts.tsv" in text
    assert "2026-07-14 10:05:12" in text


def test_protocol_many_targets_spans_pages(db, tmp_path):
    info = sample_info(n_selected=120)
    out = printing.render_protocol(info, tmp_path / "long.pdf")
    doc = pdfium.PdfDocument(str(out))
    pages = len(doc)
    doc.close()
    assert pages >= 4
    text = text_of(out)
    assert "91411623MA0000119X" in text and "第119分厂" in text
    assert f"共 {pages} 页" in text


def test_a_long_value_continues_on_the_next_page_inside_the_page_box(db, tmp_path):
    import pypdfium2 as pdfium

    from kiosk.printing import KioskPDF

    pdf = KioskPDF(format="A4", doc_title="检查报告")
    pdf.add_page()
    pdf.kv("单位", "商水县测试有限公司")
    pdf.kv("现场检查笔录", "\n".join(f"笔录第{i:03d}行" for i in range(150)))
    pdf.kv("处理意见", "责令整改")
    out = tmp_path / "long.pdf"
    pdf.output(str(out))
    doc = pdfium.PdfDocument(str(out))
    assert len(doc) >= 3
    seen = "".join(page.get_textpage().get_text_bounded() for page in doc)
    missing = [i for i in range(150) if f"笔录第{i:03d}行" not in seen]
    assert missing == []
    assert "续）" in seen and "责令整改" in seen
