"""Task slips read back as a person's scanner would: QR decoded, payload resolved, text found."""
from __future__ import annotations

import datetime as dt
import json
import re
import types

import pytest
from fpdf import FPDF
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from db.models import (
    Assignment,
    AssignmentMember,
    AuditEvent,
    Draw,
    Inspector,
    Item,
    PlanTask,
    Target,
)
from kiosk import audit, printing, settings, slips
from kiosk.errors import UserError

pdfium = pytest.importorskip("pypdfium2")
zxingcpp = pytest.importorskip("zxingcpp")

TARGETS = [
    ("91411623MA0001AA1X", "商水县阳城纺织有限公司", "商水县城关乡阳城大道18号"),
    ("91411623MA0002BB2Y", "周口市汇丰建筑劳务有限公司", "商水县东城街道周商路66号"),
    ("91411623MA0003CC3Z", "商水县邓城镇福源食品厂", "商水县邓城镇叶氏庄园东200米"),
]
INSPECTORS = [("41162300101", "李建国"), ("41162300102", "王秀英"), ("41162300103", "张伟"),
              ("41162300104", "刘洋"), ("41162300105", "陈静"), ("41162300106", "赵磊")]


def make_sealed_draw(state: str = "sealed", n: int | None = None, prefix: str = "2026-07-") -> Draw:
    item = Item.create(code="RS-01", name="用人单位遵守劳动用工和社会保险法律法规情况的检查",
                       legal_basis="《劳动保障监察条例》第十条、第十一条；《中华人民共和国社会保险法》第七十七条",
                       content="劳动合同签订\n工资支付\n社会保险参保缴费", category="企业",
                       lead_office="劳动保障监察大队")
    task = PlanTask.create(code="2026-RS-01-2", year=2026, item=item, round_no=2, planned_month=7)
    draw = Draw.create(task=task, attempt_no=1, state=state, operator="op1",
                       draw_date=dt.date(2026, 7, 14), pool_digest="a" * 64,
                       inspectors_digest="b" * 64, conflicts_digest="c" * 64,
                       strata_json="{}",
                       seed="5eed" + "0123456789abcdef" * 3 + "abcd"[:0] + "9" * 12,
                       sealed_at=dt.datetime(2026, 7, 14, 10, 30) if state == "sealed" else None)
    inspectors = [Inspector.create(cert_no=c, name=nm, office="劳动保障监察大队")
                  for c, nm in INSPECTORS]
    rows = TARGETS if n is None else TARGETS[:n]
    for pos, (uscc, name, addr) in enumerate(rows):
        t = Target.create(uscc=uscc, name=name, category="企业", address=addr)
        a = Assignment.create(draw=draw, position=pos, task_code=f"{prefix}{pos + 1:04d}",
                              target=t, stratum="一般")
        for k in range(2):
            AssignmentMember.create(assignment=a, inspector=inspectors[2 * pos + k], position=k)
    audit.record("op1", "draw.seal", "draw", draw.id)
    return draw


def read_pdf(path):
    """[(text, [qr texts])] per page, rendered at scale 2.5 like a decent phone camera."""
    doc = pdfium.PdfDocument(str(path))
    pages = []
    for page in doc:
        text = page.get_textpage().get_text_range()
        img = page.render(scale=2.5).to_pil()
        codes = [r.text for r in zxingcpp.read_barcodes(img)]
        pages.append((text, codes))
    doc.close()
    return pages


def refusals():
    return [json.loads(e.detail)["reason"]
            for e in AuditEvent.select().where(AuditEvent.action == "slips.refused")
            .order_by(AuditEvent.seq)]


def test_slips_read_back_and_resolve(db, tmp_path):
    draw = make_sealed_draw()
    out = slips.render_slips(draw.id, tmp_path / "slips.pdf", "op1")
    # The slips print the chain head as it stood when they were laid out: the event just
    # before their own slips.print event.
    printed = AuditEvent.select().where(AuditEvent.action == "slips.print").get()
    before = AuditEvent.get(AuditEvent.seq == printed.seq - 1)
    data = out.read_bytes()
    assert b"/FontFile" in data  # the CJK font is embedded, not referenced
    pages = read_pdf(out)
    assignments = list(Assignment.select().order_by(Assignment.position))
    assert len(pages) == len(assignments) == 3
    for (text, codes), a in zip(pages, assignments, strict=True):
        assert len(codes) == 1, codes
        assert codes[0].startswith("https://kiosk.local/r/" + a.task_code + "?k=")
        resolved = slips.resolve(codes[0])
        assert resolved.id == a.id
        assert slips.resolve(f"  {codes[0]}\r\n").id == a.id  # scanner's Enter
        assert a.target.name in text
        assert a.task_code in text
        assert a.target.uscc in text
        for m in a.members:
            assert m.inspector.name in text and m.inspector.cert_no in text
        assert "5个工作日" in text and "第九条" in text
        assert draw.seed[:16] in text
        # the full hash, wrapped over two lines on the page
        assert f"#{before.seq} {before.hash}" in re.sub(r"[\r\n]+", "", text)
        assert "商水县人力资源和社会保障局" in text
        assert "劳动保障监察条例" in text
    ev = AuditEvent.select().where(AuditEvent.action == "slips.print").get()
    assert json.loads(ev.detail)["count"] == 3 and ev.actor == "op1"
    assert [a.slip_version for a in Assignment.select()] == [1, 1, 1]


def test_bare_task_code_typed_by_hand(db, tmp_path):
    make_sealed_draw(n=1)
    assert slips.resolve(" 2026-07-0001 ").task_code == "2026-07-0001"
    with pytest.raises(UserError, match="不存在"):
        slips.resolve("2026-07-0099")
    assert refusals() == ["unknown_code"]


def test_forged_altered_superseded_and_foreign_are_refused(db, tmp_path):
    draw = make_sealed_draw()
    slips.render_slips(draw.id, tmp_path / "s.pdf", "op1")
    a1, a2 = list(Assignment.select().order_by(Assignment.position))[:2]
    p1, p2 = slips.payload(a1), slips.payload(a2)
    assert slips.resolve(p1).id == a1.id

    forged = p1[:-4] + ("AAAA" if not p1.endswith("AAAA") else "BBBB")
    with pytest.raises(UserError, match="校验失败"):
        slips.resolve(forged)

    # altered: a2's code with a1's token
    altered = p1.replace(a1.task_code, a2.task_code)
    with pytest.raises(UserError, match="校验失败"):
        slips.resolve(altered)
    swapped = p2.split("?k=")[0] + "?k=" + p1.split("?k=")[1]
    assert swapped == altered

    with pytest.raises(UserError, match="无法识别"):
        slips.resolve("hello world")
    with pytest.raises(UserError, match="地址不符"):
        slips.resolve(p1.replace("https://kiosk.local", "https://evil.example"))
    with pytest.raises(UserError, match="不存在"):
        slips.resolve(p1.replace(a1.task_code, "2026-07-0404"))

    # another kiosk: same shape and base URL, its own secret
    from unittest import mock

    with mock.patch("kiosk.secrets.slip_secret", return_value=bytes.fromhex("ab" * 32)):
        foreign = slips.payload(a1)
    assert foreign != p1
    with pytest.raises(UserError, match="校验失败"):
        slips.resolve(foreign)

    # reprint a1 alone: its old slip is superseded, a2's is untouched
    out = slips.render_slip_for(a1, tmp_path / "one.pdf", "op1")
    with pytest.raises(UserError, match="作废"):
        slips.resolve(p1)
    assert slips.resolve(p2).id == a2.id
    (text, codes), = read_pdf(out)
    assert a1.task_code in text and a1.target.name in text
    assert slips.resolve(codes[0]).id == a1.id
    assert codes[0] == slips.payload(Assignment.get_by_id(a1.id))
    assert Assignment.get_by_id(a1.id).slip_version == 2
    assert Assignment.get_by_id(a2.id).slip_version == 1

    assert refusals() == ["bad_token", "bad_token", "bad_shape", "wrong_base_url",
                          "unknown_code", "bad_token", "superseded"]
    ok, _ = audit.verify()
    assert ok


def test_unprinted_slip_payload_is_refused(db):
    make_sealed_draw(n=1)
    a = Assignment.get()
    assert a.slip_version == 0
    with pytest.raises(UserError, match="校验失败"):
        slips.resolve(slips.payload(a, version=0))


def test_token_is_short_and_bound_to_code_and_version(db):
    t = slips.token("2026-07-0001", 1)
    assert len(t) == 20 and t.isalnum() and t.upper() == t
    assert t != slips.token("2026-07-0001", 2)
    assert t != slips.token("2026-07-0002", 1)
    assert t == slips.token("2026-07-0001", 1)


def test_only_sealed_draws_print(db, tmp_path):
    draw = make_sealed_draw(state="confirmed")
    with pytest.raises(UserError, match="尚未封存"):
        slips.render_slips(draw.id, tmp_path / "x.pdf", "op1")
    with pytest.raises(UserError, match="不存在"):
        slips.render_slips(9999, tmp_path / "x.pdf", "op1")
    assert not (tmp_path / "x.pdf").exists()


def test_missing_font_names_the_package_and_keeps_slips_valid(db, tmp_path, monkeypatch):
    draw = make_sealed_draw(n=1)
    slips.render_slips(draw.id, tmp_path / "s.pdf", "op1")
    a = Assignment.get()
    p = slips.payload(a)
    monkeypatch.setenv("KIOSK_CJK_FONT", "/nonexistent")
    with pytest.raises(UserError) as e:
        slips.render_slips(draw.id, tmp_path / "t.pdf", "op1")
    assert "fonts-noto-cjk" in str(e.value)
    with pytest.raises(UserError, match="fonts-noto-cjk"):
        printing.find_cjk_font()
    assert Assignment.get().slip_version == 1  # a failed print does not void the slip in hand
    assert slips.resolve(p).id == a.id
    assert not (tmp_path / "t.pdf").exists()


def test_font_lookup_finds_simplified_chinese_face(monkeypatch):
    monkeypatch.delenv("KIOSK_CJK_FONT", raising=False)
    face = printing.find_cjk_face()
    assert face.path.is_file()
    if face.path.name == "NotoSansCJK-Regular.ttc":
        assert face.index == 2  # JP, KR, SC, …: the SC face
    monkeypatch.setenv("KIOSK_CJK_FONT", str(face.path))
    assert printing.find_cjk_font() == face.path
    assert printing.find_cjk_face().index == face.index


def test_paper_setting_and_page_size(db, tmp_path):
    draw = make_sealed_draw(n=1)
    out = slips.render_slips(draw.id, tmp_path / "a5.pdf", "op1")
    doc = pdfium.PdfDocument(str(out))
    w, h = doc[0].get_size()
    doc.close()
    assert (round(w * 25.4 / 72), round(h * 25.4 / 72)) == (148, 210)
    settings.put("paper", "A4", "admin")
    out = slips.render_slip_for("2026-07-0001", tmp_path / "a4.pdf", "op1")
    doc = pdfium.PdfDocument(str(out))
    w, h = doc[0].get_size()
    doc.close()
    assert (round(w * 25.4 / 72), round(h * 25.4 / 72)) == (210, 297)
    settings.put("paper", "B7-ish", "admin")
    with pytest.raises(UserError, match="纸张"):
        slips.render_slip_for("2026-07-0001", tmp_path / "bad.pdf", "op1")


def test_print_or_save(db, tmp_path, monkeypatch):
    f = tmp_path / "x.pdf"
    f.write_bytes(b"%PDF-1.4\n")
    msg = printing.print_or_save(f)
    assert str(f.resolve()) in msg and "未设置打印机" in msg
    settings.put("printer", "office_laser", "admin")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    lp = bindir / "lp"
    lp.write_text("#!/bin/sh\necho \"lp: The printer or class does not exist.\" >&2\nexit 1\n")
    lp.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}")
    msg = printing.print_or_save(f)
    assert str(f.resolve()) in msg and "失败" in msg and "does not exist" in msg
    lp.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path}/args\n"
                  "echo 'request id is office_laser-7 (1 file(s))'\n")
    msg = printing.print_or_save(f)
    assert "office_laser-7" in msg and str(f.resolve()) in msg
    assert (tmp_path / "args").read_text().split() == ["-d", "office_laser", str(f.resolve())]


# ---------------------------------------------------------------- QR symbols and fast paths

# Byte-mode capacity at error correction M, versions 1-40 (ISO/IEC 18004, table 7).
BYTES_AT_M = (14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412, 450, 504,
              560, 624, 666, 711, 779, 857, 911, 997, 1059, 1125, 1190, 1264, 1370, 1452,
              1538, 1628, 1722, 1809, 1911, 1989, 2099, 2213, 2331)


def _expected_version(payload: str) -> int:
    n = len(payload.encode("utf-8"))
    return next(v for v, cap in enumerate(BYTES_AT_M, 1) if cap >= n)


def _check_symbol(payload: str) -> None:
    """The symbol reads back as the payload, at level M, with the fixed mask, in the
    smallest version whose byte capacity holds the payload's length."""
    from kiosk.printing import qr

    version = _expected_version(payload)
    matrix = printing.qr_matrix(payload)
    assert len(matrix) == 17 + 4 * version and {len(row) for row in matrix} == {len(matrix)}
    if not payload:
        return  # zxing reads no empty symbol
    codes = zxingcpp.read_barcodes(printing.qr_image(payload).convert("L"))
    assert [c.text for c in codes] == [payload]
    extra = codes[0].extra
    assert (extra["Version"], extra["ECLevel"], extra["DataMask"]) == (str(version), "M",
                                                                       qr.MASK)


SLIP_PAYLOADS = [f"https://kiosk.local/r/2026-07-{i:04d}?k={t}" for i, t in
                 ((1, "MFRGGZDFMZTWQ2LKNNWG"), (137, "GEZDGNBVGY3TQOJQGEZD"),
                  (9999, "ABCDEFGHIJKLMNOPQRST"))]


@pytest.mark.parametrize("payload", [
    *SLIP_PAYLOADS, "", "0", "12345678901234567890123", "HELLO WORLD 1234567890 $%*+-./:",
    "检查单 2026-07-0001", "x" * 150, "https://a.example/" + "7" * 60 + "/Z" * 40,
    "任务" * 120,  # version >= 7: version information blocks
])
def test_qr_matrix_is_the_fixed_version_and_mask_and_scans_back(payload):
    _check_symbol(payload)


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
                                        "abcdefxyz?=&#~_中文单检"), max_size=220))
def test_qr_matrix_scans_back_on_any_text(payload):
    _check_symbol(payload)


def test_slips_of_one_print_share_one_symbol_size():
    sizes = {len(printing.qr_matrix(f"https://kiosk.local/r/2026-07-{i:04d}?k={'A' * 20}"))
             for i in (1, 10, 777, 9999)}
    assert sizes == {33}  # 58 bytes: version 4


@pytest.mark.parametrize("payload", [*SLIP_PAYLOADS, "任务单" * 60, "HTTP://X/" + "1" * 90])
def test_qr_image_scans_back(payload):
    codes = zxingcpp.read_barcodes(printing.qr_image(payload).convert("L"))
    assert [c.text for c in codes] == [payload]


def _plain_fpdf(doc: printing.KioskPDF) -> printing.KioskPDF:
    """The same document with fpdf2's own methods wherever KioskPDF might override them
    (today it only remembers string widths)."""
    for name in ("text", "rect", "set_font", "get_string_width"):
        setattr(doc, name, types.MethodType(getattr(FPDF, name), doc))
    return doc


def _draw_sample(doc: printing.KioskPDF) -> bytes:
    doc.set_auto_page_break(False, margin=doc.footer_height)
    for i in range(3):
        doc.add_page()
        doc.footer_note = f"2026-07-000{i} · 第 1 版"
        doc.qr(SLIP_PAYLOADS[i], doc.w - doc.r_margin - 40, doc.get_y(), 40)
        doc.font(20, bold=True)
        doc.text_lines(["双随机抽查任务单"], doc.l_margin, doc.get_y(), 10)
        doc.set_font("Courier", "B", size=21)
        doc.text_lines([f"2026-07-000{i}"], doc.l_margin, doc.get_y() + 10, 8.5)
        doc.set_xy(doc.l_margin, 70)
        doc.kv("检查对象", f"商水县第{i}号纺织服装有限责任公司" * (i + 1), label_w=24,
               size=10.5, max_lines=2)
        doc.kv("摇号种子", "5eed0123456789ab...", label_w=24, size=9.5, mono=True)
        doc.set_text_color(70)
        doc.text_lines(doc.wrap("检查结束后，凭本单在终端扫码录入检查报告。" * 3, 100),
                       doc.l_margin, doc.get_y() + 2, 3.9, width=100, align="C")
        doc.set_text_color(0)
        doc.rect(doc.l_margin, 150, 30, 10, style="DF")
        doc.signature_lines(["领取人", "发放人"], size=9)
    raw = b"\n".join(bytes(doc.pages[n].contents) for n in range(1, doc.page + 1))
    return re.sub(rb"::placeholder:[0-9a-f-]+::", b"::placeholder::", raw)  # page-count alias


def test_fast_paths_write_what_fpdf2_writes():
    fast = printing.KioskPDF("A5", doc_title="双随机抽查任务单",
                             bureau="商水县人力资源和社会保障局")
    plain = _plain_fpdf(printing.KioskPDF("A5", doc_title="双随机抽查任务单",
                                          bureau="商水县人力资源和社会保障局"))
    ours, theirs = _draw_sample(fast), _draw_sample(plain)
    assert ours == theirs
    assert ours.count(b" re f 0 g") == 3 and b"Tj" in ours


def test_a_print_to_a_bad_path_leaves_the_slips_in_hand_valid(db, tmp_path):
    from kiosk.errors import UserError as _UserError

    draw = make_sealed_draw(n=1)
    first = slips.render_slips(draw.id, tmp_path / "a.pdf", "op1")
    a = Assignment.get(Assignment.draw == draw)
    payload = slips.payload(a)
    (tmp_path / "dir.pdf").mkdir()
    with pytest.raises(_UserError, match="无法写入"):
        slips.render_slips(draw.id, tmp_path / "dir.pdf", "op1")
    with pytest.raises(_UserError):
        slips.render_slips(draw.id, tmp_path / "a.pdf" / "x.pdf", "op1")  # under a file
    assert slips.resolve(payload).id == a.id
    assert Assignment.get_by_id(a.id).slip_version == 1 and first.exists()


def test_a_chinese_base_url_prints_and_scans(db, tmp_path):
    from kiosk import settings

    settings.put("base_url", "https://商水人社.中国/kiosk")
    draw = make_sealed_draw(n=1)
    out = slips.render_slips(draw.id, tmp_path / "idn.pdf", "op1")
    a = Assignment.get(Assignment.draw == draw)
    assert slips.payload(a).startswith("https://商水人社.中国/kiosk/r/")
    assert slips.resolve(slips.payload(a)).id == a.id
    assert out.read_bytes().startswith(b"%PDF")
