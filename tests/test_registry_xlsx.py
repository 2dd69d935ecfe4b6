"""XLSX import through python-calamine: hostile files get one sentence, cells calamine cannot
tell apart are still told apart, and the holiday file reads XLSX the same way."""
from __future__ import annotations

import datetime as dt
import re
import struct
import zipfile

import openpyxl
import pytest
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from db.models import AuditEvent, Holiday, Inspector, Target, Training
from kiosk import access, registry, workdays
from kiosk.errors import UserError
from kiosk.registry import tabular
from tests.test_registry import T_HEAD, _raw_xlsx, _rejected, _row, code, target_row, write_xlsx


@pytest.fixture
def no_calamine(monkeypatch):
    """Fails the test if calamine is asked to lay out the sheet."""
    def refuse(path, name):
        raise AssertionError("calamine must not read a refused file")
    monkeypatch.setattr(tabular, "_calamine_rows", refuse)


def _import_error(path) -> str:
    with pytest.raises(UserError) as info:
        registry.import_file("targets", path, "clerk")
    return str(info.value)


# ---------------------------------------------------------------- hostile files


def test_a_sheet_that_unpacks_beyond_the_limit_is_refused_before_calamine(
        db, tmp_path, monkeypatch, no_calamine):
    path = write_xlsx(tmp_path / "big.xlsx", T_HEAD, [target_row(i) for i in range(1, 200)])
    sheet = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml").file_size
    monkeypatch.setattr(tabular, "MAX_UNPACKED", sheet - 1)
    msg = _import_error(path)
    assert msg.startswith("Excel 文件“big.xlsx”解压后超过 ")
    assert Target.select().count() == 0 and AuditEvent.select().count() == 0


def test_a_real_zip_bomb_is_refused_by_its_declared_size(db, tmp_path, no_calamine):
    bomb = tmp_path / "bomb.xlsx"
    src = write_xlsx(tmp_path / "small.xlsx", T_HEAD, [target_row(1)])
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for info in z.infolist():
            out.writestr(info, z.read(info))
        # 600 MB of blanks deflate to about 600 kB: a classic bomb hidden in a harmless part.
        with out.open("xl/worksheets/padding.xml", "w", force_zip64=True) as f:
            chunk = b" " * (1 << 20)
            for _ in range(600):
                f.write(chunk)
    assert bomb.stat().st_size < 5 * 2**20
    assert "解压后超过 512 MB" in _import_error(bomb)


def _shrink_declared_size(data: bytes, member: str, size: int) -> bytes:
    """The archive with `member`'s uncompressed size rewritten in both of its headers."""
    name = member.encode()
    out = bytearray(data)
    local = out.find(b"PK\x03\x04")
    while local != -1:
        n = struct.unpack_from("<H", out, local + 26)[0]
        if bytes(out[local + 30:local + 30 + n]) == name:
            struct.pack_into("<I", out, local + 22, size)
        local = out.find(b"PK\x03\x04", local + 4)
    central = out.find(b"PK\x01\x02")
    while central != -1:
        n = struct.unpack_from("<H", out, central + 28)[0]
        if bytes(out[central + 46:central + 46 + n]) == name:
            struct.pack_into("<I", out, central + 24, size)
        central = out.find(b"PK\x01\x02", central + 4)
    return bytes(out)


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/styles.xml"])
def test_a_part_that_lies_about_its_size_is_refused(db, tmp_path, part, no_calamine):
    path = write_xlsx(tmp_path / "ok.xlsx", T_HEAD, [target_row(i) for i in range(1, 50)])
    liar = tmp_path / "liar.xlsx"
    liar.write_bytes(_shrink_declared_size(path.read_bytes(), part, 100))
    assert zipfile.ZipFile(liar).getinfo(part).file_size == 100
    assert _import_error(liar) == ("Excel 文件“liar.xlsx”已损坏或不完整，无法读取："
                                   "请在 Excel 中打开后另存为 .xlsx 或 CSV。")


@pytest.mark.parametrize("cut", [0.5, 0.95])
def test_a_truncated_file_is_one_sentence(db, tmp_path, cut, no_calamine):
    path = write_xlsx(tmp_path / "whole.xlsx", T_HEAD, [target_row(i) for i in range(1, 50)])
    data = path.read_bytes()
    (tmp_path / "cut.xlsx").write_bytes(data[:int(len(data) * cut)])
    assert _import_error(tmp_path / "cut.xlsx") == "无法打开 Excel 文件“cut.xlsx”。"
    (tmp_path / "junk.xlsx").write_bytes(b"not a zip at all")
    assert _import_error(tmp_path / "junk.xlsx") == "无法打开 Excel 文件“junk.xlsx”。"


def test_a_damaged_part_is_one_sentence(db, tmp_path, no_calamine):
    path = write_xlsx(tmp_path / "ok.xlsx", T_HEAD, [target_row(i) for i in range(1, 50)])
    data = bytearray(path.read_bytes())
    info = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 40, start + 80):  # scramble compressed bytes of the sheet
        data[i] ^= 0x5A
    (tmp_path / "bad.xlsx").write_bytes(bytes(data))
    assert _import_error(tmp_path / "bad.xlsx").startswith("Excel 文件“bad.xlsx”已损坏或不完整")


def test_two_cells_far_apart_are_refused_instead_of_laid_out(db, tmp_path, no_calamine):
    # calamine would allocate every cell between A1 and XFD1048576 (and the process die).
    rows = (_row(1, *T_HEAD[:3]) + _row(2, code(1), "甲公司", "企业")
            + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    msg = _import_error(_raw_xlsx(tmp_path / "far.xlsx", rows))
    assert msg == ("Excel 文件“far.xlsx”的表格范围过大（1048576 行 × 16384 列），"
                   "请删去数据区域以外的内容，或另存为 CSV 后再导入。")
    # The same when the cells sit in rows that claim other numbers, and in a sheet that also
    # has a formula (which is walked cell by cell).
    rows = (_row(1, *T_HEAD[:3])
            + '<row r="2"><c r="A2"><v>1</v></c><c r="ZZ900000"><v>2</v></c></row>')
    assert "（900000 行 × 702 列）" in _import_error(_raw_xlsx(tmp_path / "lie.xlsx", rows))
    rows += _row(3, '<c><f>A1</f><v>1</v></c>')
    assert "（900000 行 × 702 列）" in _import_error(_raw_xlsx(tmp_path / "f.xlsx", rows))


@pytest.mark.parametrize("far", [
    '<row r="9"><c\nr="XFD1048576"><v>1</v></c></row>',         # another spelling of r="…"
    "<row r='9'><c r='XFD1048576'><v>1</v></c></row>",           # single quotes
    '<row r="1048576"><c><v>1</v></c></row><row r="1048577"><c r="XFD2"><v>1</v></c></row>',
    '<row r="9"><c s="0" r="XFD1048576" t="str"><v>1</v></c></row>',  # r not first
    '<row r="9"><c r="XFD1048576"><v>1</v></c></row>'.replace("1048576", "00001048576"),
])
def test_far_cells_in_any_xml_spelling_are_refused(db, tmp_path, far, no_calamine):
    rows = _row(1, *T_HEAD[:3]) + _row(2, code(1), "甲公司", "企业") + far
    assert "的表格范围过大（1048576 行 × 16384 列）" in _import_error(
        _raw_xlsx(tmp_path / "far.xlsx", rows))


def test_rows_beyond_excels_last_are_counted_too(db, tmp_path, no_calamine):
    rows = _row(1, *T_HEAD[:3]) + '<row r="9"><c r="XFD123456789"><v>1</v></c></row>'
    assert "（123456789 行 × 16384 列）" in _import_error(_raw_xlsx(tmp_path / "x.xlsx", rows))


def test_error_values_in_any_xml_spelling_are_bad_rows(db, tmp_path):
    rows = (_row(1, *T_HEAD[:4]) + _row(2, code(1), "甲公司", "企业", "<c t='e'><v>#N/A</v></c>")
            + _row(3, code(2), "乙公司", "企业", '<c t="str"><f\n/></c>'))
    err = _rejected("targets", _raw_xlsx(tmp_path / "e.xlsx", rows))
    assert err.problems == [(2, "单元格为错误值 #N/A（“乡镇”列）"),
                            (3, "公式单元格没有计算结果，请在 Excel 中保存后再导入（“乡镇”列）")]


@pytest.mark.parametrize("spelling", ["canonical", "without references"])
def test_formula_and_error_cells_are_found_however_the_cells_are_placed(db, tmp_path, spelling):
    """Excel's own spelling is checked through the few marked cells; cells without an r=
    reference send the sheet through the cell-by-cell walk. Both find the same cells."""
    rows = (_row(1, *T_HEAD[:4])
            + _row(2, code(1), "甲公司", "企业", '<c t="str"><f>C2&amp;"x"</f><v>企业x</v></c>')
            + _row(3, code(2), '<c t="e"><v>#VALUE!</v></c>', "企业", "黄寨镇")
            + _row(4, code(3), "丙公司", "企业", '<c t="str"><f>A1</f></c>')
            + _row(5, code(4), "丁公司", "企业", '<c t="n"><f>1+1</f><v>2</v></c>'))
    if spelling != "canonical":
        rows = re.sub(r'<c r="[A-Z]+\d+"', "<c", rows)
    err = _rejected("targets", _raw_xlsx(tmp_path / "f.xlsx", rows))
    assert err.problems == [(3, "单元格为错误值 #VALUE!（“单位名称”列）"),
                            (4, "公式单元格没有计算结果，请在 Excel 中保存后再导入（“乡镇”列）")]
    rows = rows.replace("<f>A1</f></c>", "<f>A1</f><v>练集镇</v></c>").replace(
        '<v>#VALUE!</v>', "<v>乙公司</v>").replace('t="e"', 't="str"')
    registry.import_file("targets", _raw_xlsx(tmp_path / "g.xlsx", rows), "clerk")
    assert [(t.name, t.township) for t in Target.select().order_by(Target.id)] == [
        ("甲公司", "企业x"), ("乙公司", "黄寨镇"), ("丙公司", "练集镇"), ("丁公司", "2")]


def test_the_area_bound_is_exact_when_the_cheap_one_is_too_loose(db, tmp_path, monkeypatch):
    path = write_xlsx(tmp_path / "t.xlsx", T_HEAD, [target_row(i) for i in range(1, 12)])
    # 12 rows x 10 columns = 120 cells; the cheap bound (26 columns x 100 rows) is 2600.
    monkeypatch.setattr(tabular, "MAX_CELLS", 120)
    assert registry.import_file("targets", path, "clerk").inserted == 11
    monkeypatch.setattr(tabular, "MAX_CELLS", 119)
    assert "（12 行 × 10 列）" in _import_error(path)


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _prefixed(rows_xml: str, prefix: str = "x", uri: str | None = MAIN) -> str:
    """The rows with every element name prefixed: calamine reads <x:c> as a cell whatever x
    is bound to, or when it is bound to nothing."""
    out = re.sub(r"<(/?)(row|c|v|f|is|t)([ >/])", rf"<\1{prefix}:\2\3", rows_xml)
    if uri is not None:  # declared on each row, the element that holds the cells
        out = out.replace(f"<{prefix}:row ", f'<{prefix}:row xmlns:{prefix}="{uri}" ')
    return out


@pytest.mark.parametrize("uri", [MAIN, "urn:elsewhere"])
def test_far_cells_with_a_prefix_are_refused(db, tmp_path, uri, no_calamine):
    rows = _prefixed(_row(1, *T_HEAD[:3]) + _row(2, code(1), "甲公司", "企业")
                     + '<row r="9"><c r="XFD1048576"><v>1</v></c></row>', uri=uri)
    assert "<x:c " in rows
    assert "的表格范围过大（1048576 行 × 16384 列）" in _import_error(
        _raw_xlsx(tmp_path / "far.xlsx", rows))
    # Unprefixed cells in a sheet whose default namespace is another one: walked alike.
    rows = (_row(1, *T_HEAD[:3]) + '<row r="2"><c><v>1</v></c></row>'
            + '<row r="1048576">' + "<c><v>1</v></c>" * 16384 + "</row>")
    path = _raw_xlsx(tmp_path / "ns.xlsx", rows)
    with zipfile.ZipFile(path) as z:
        parts = {i: z.read(i) for i in z.namelist()}
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(
        MAIN.encode(), uri.encode())
    with zipfile.ZipFile(path, "w") as z:
        for part, data in parts.items():
            z.writestr(part, data)
    assert "的表格范围过大（1048576 行 × 16384 列）" in _import_error(path)


def test_error_and_formula_cells_with_a_prefix_are_bad_rows(db, tmp_path):
    rows = (_row(1, *T_HEAD[:4])
            + _row(2, code(1), '<c t="e"><v>#VALUE!</v></c>', "企业", "黄寨镇")
            + _row(3, code(2), "乙公司", "企业", '<c t="str"><f>A1</f></c>')
            + _row(4, code(3), "丙公司", "企业", '<c t="str"><f>A1</f><v>练集镇</v></c>'))
    expected = [(2, "单元格为错误值 #VALUE!（“单位名称”列）"),
                (3, "公式单元格没有计算结果，请在 Excel 中保存后再导入（“乡镇”列）")]
    # Every element prefixed, or only the formula and value inside usual cells.
    for n, sheet in enumerate([_prefixed(rows), _prefixed(rows).replace(
            "<x:c ", "<c ").replace("</x:c>", "</c>")]):
        err = _rejected("targets", _raw_xlsx(tmp_path / f"p{n}.xlsx", sheet))
        assert err.problems == expected
    fixed = _prefixed(rows.replace('t="e"><v>#VALUE!', 't="str"><v>甲公司').replace(
        "<f>A1</f></c>", "<f>A1</f><v>练集镇</v></c>"))
    registry.import_file("targets", _raw_xlsx(tmp_path / "ok.xlsx", fixed), "clerk")
    assert [t.township for t in Target.select().order_by(Target.id)] == ["黄寨镇", "练集镇",
                                                                          "练集镇"]


# ---------------------------------------------------------------- what calamine cannot tell


def test_text_that_looks_like_an_error_value_is_text(db, tmp_path):
    rows = _row(1, *T_HEAD[:5]) + _row(2, code(1), "#REF!", "企业", "", "#N/A")
    registry.import_file("targets", _raw_xlsx(tmp_path / "t.xlsx", rows), "clerk")
    t = Target.get()
    assert (t.name, t.address) == ("#REF!", "#N/A")


def test_an_error_value_in_an_optional_column_is_a_bad_row_not_an_empty_cell(db, tmp_path):
    error = '<c t="e"><v>#DIV/0!</v></c>'
    rows = (_row(1, *T_HEAD[:5]) + _row(2, code(1), "甲公司", "企业", "", error)
            + _row(3, code(2), "乙公司", "企业", "", "人民路1号"))
    err = _rejected("targets", _raw_xlsx(tmp_path / "e.xlsx", rows))
    assert err.problems == [(2, "单元格为错误值 #DIV/0!（“地址”列）")]
    assert Target.select().count() == 0


def test_dates_of_a_1904_workbook_formatted_as_dates_are_not_shifted_twice(db, tmp_path):
    Inspector.create(cert_no="C1", name="张伟", office="劳动保障监察大队")
    wb = openpyxl.Workbook()
    wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws.append(["执法证号", "培训名称", "日期"])
    ws.append(["C1", "甲", dt.date(2026, 3, 1)])
    ws.append(["C1", "乙", dt.datetime(2026, 3, 2, 0, 0)])
    wb.save(tmp_path / "mac.xlsx")
    registry.import_file("trainings", tmp_path / "mac.xlsx", "clerk")
    assert {t.title: t.date for t in Training.select()} == {"甲": dt.date(2026, 3, 1),
                                                           "乙": dt.date(2026, 3, 2)}


def test_a_sheet_starting_below_and_right_of_a1_keeps_excel_line_numbers(db, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    for col, value in enumerate(T_HEAD, 3):
        ws.cell(row=3, column=col, value=value)
    for r, row in ((4, target_row(1)), (6, target_row(2, "带\t制表符"))):
        for col, value in enumerate(row, 3):
            ws.cell(row=r, column=col, value=value)
    wb.save(tmp_path / "offset.xlsx")
    err = _rejected("targets", tmp_path / "offset.xlsx")
    assert err.problems == [(6, "“单位名称”含有制表符或换行")]
    ws.delete_rows(6)
    wb.save(tmp_path / "offset.xlsx")
    assert registry.import_file("targets", tmp_path / "offset.xlsx", "clerk").inserted == 1
    assert Target.get().name == target_row(1)[1]


def test_numbers_come_back_as_the_text_and_integers_they_were(db, tmp_path):
    registry.import_file("inspectors", write_xlsx(
        tmp_path / "i.xlsx", ["执法证号", "姓名", "股室", "联系电话"],
        [[41162301009, "赵敏", "劳动保障监察大队", 13903941234]]), "clerk")
    i = Inspector.get()
    assert (i.cert_no, i.phone) == ("41162301009", "13903941234")
    row = target_row(1)
    row[7] = 2.5
    err = _rejected("targets", write_xlsx(tmp_path / "f.xlsx", T_HEAD, [row]))
    assert err.problems == [(2, "“投诉举报次数”应为整数，实为“2.5”")]


def test_csv_rows_shorter_than_the_header_read_as_empty_cells(db, tmp_path):
    path = tmp_path / "short.csv"
    path.write_text(",".join(T_HEAD) + "\n" + ",".join(target_row(1)[:3]) + "\n"
                    + ",".join(target_row(2)[:2]) + "\n", encoding="utf-8")
    err = _rejected("targets", path)
    assert err.problems == [(3, "缺少必填项“类别”")]
    path.write_text(",".join(T_HEAD) + "\n" + ",".join(target_row(1)[:3]) + "\n",
                    encoding="utf-8")
    assert registry.import_file("targets", path, "clerk").inserted == 1
    assert (Target.get().township, Target.get().size_class) == ("", "小型")


def test_only_the_registry_clerk_imports_at_the_terminal(db, tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", T_HEAD, [target_row(1)])
    with pytest.raises(UserError) as info:
        registry.import_file("targets", path, "op", role="operator")
    assert str(info.value) == access.MAY_NOT_IMPORT
    assert Target.select().count() == 0
    assert registry.import_file("targets", path, "admin", role="admin").inserted == 1


def test_the_package_keeps_the_names_callers_use():
    from kiosk.registry.importer import import_file
    from kiosk.registry.search import search  # the package's `search` is this function

    assert registry.ImportRejected is tabular.ImportRejected
    assert registry.import_file is import_file and registry.search is search
    assert set(registry.KINDS) == set(registry.MODELS)


# ---------------------------------------------------------------- holiday files


def test_holiday_file_as_xlsx_with_date_and_text_cells(db, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["日期", "类型", "名称"])
    ws.append([dt.date(2027, 1, 1), "休", "元旦"])
    ws.append(["2027/1/2", "班", "元旦调休"])
    ws.append([20270104, "休", "元旦"])
    wb.save(tmp_path / "h.xlsx")
    assert workdays.import_holidays(tmp_path / "h.xlsx", "clerk") == 3
    got = {h.date: (h.is_workday, h.name) for h in Holiday.select()}
    assert got == {dt.date(2027, 1, 1): (False, "元旦"), dt.date(2027, 1, 2): (True, "元旦调休"),
                   dt.date(2027, 1, 4): (False, "元旦")}
    assert workdays.is_workday(dt.date(2027, 1, 2)) and not workdays.is_workday(dt.date(2027, 1, 4))


def test_holiday_xlsx_errors_name_excel_lines(db, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["日期", "类型", "名称"])
    ws.append([dt.date(2027, 1, 1), "休", "元旦"])
    ws.append([None, None, None])
    ws.append(["明天", "休", "x"])
    wb.save(tmp_path / "h.xlsx")
    with pytest.raises(UserError) as info:
        workdays.import_holidays(tmp_path / "h.xlsx", "clerk")
    assert str(info.value) == ("节假日文件有误，未导入任何一行："
                               "第4行日期“明天”无法识别（应如 2027-01-01）。")
    assert Holiday.select().count() == 0


def test_holiday_csv_with_a_stray_byte_names_its_line(db, tmp_path):
    f = tmp_path / "h.csv"
    f.write_bytes("日期,类型,名称\n2027-01-01,休,元旦\n".encode() + b"2027-01-02,\xe7\x8f,x\n")
    with pytest.raises(UserError, match="第3行：含有不是 UTF-8 编码的字节"):
        workdays.import_holidays(f, "clerk")
    assert workdays.parse_holidays("日期,类型,名称\n2027-01-01,休,元旦\n") == [
        (dt.date(2027, 1, 1), False, "元旦")]


def _shared_strings_xlsx(path, rows: list[list[str]]):
    """A workbook whose text sits in the shared-strings part, as Excel saves it."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    strings: dict[str, int] = {}
    xml_rows = []
    for n, row in enumerate(rows, 1):
        cells = []
        for i, text in enumerate(row):
            index = strings.setdefault(text, len(strings))
            cells.append(f'<c r="{"ABCDEFGHIJ"[i]}{n}" t="s"><v>{index}</v></c>')
        xml_rows.append(f'<row r="{n}">{"".join(cells)}</row>')
    sst = "".join(f"<si><t>{t}</t></si>" for t in strings)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package'
                   '.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
                   + "".join(f'<Override PartName="/xl/{part}" ContentType="{ct}.{kind}+xml"/>'
                             for part, kind in (("workbook.xml", "sheet.main"),
                                                ("worksheets/sheet1.xml", "worksheet"),
                                                ("sharedStrings.xml", "sharedStrings")))
                   + "</Types>")
        z.writestr("_rels/.rels", f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" '
                   f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
                   '<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{pkg}">'
                   f'<Relationship Id="rId1" Type="{rel}/worksheet" '
                   'Target="worksheets/sheet1.xml"/>'
                   f'<Relationship Id="rId2" Type="{rel}/sharedStrings" '
                   'Target="sharedStrings.xml"/></Relationships>')
        z.writestr("xl/sharedStrings.xml", f'<sst xmlns="{main}">{sst}</sst>')
        data = "".join(xml_rows)
        z.writestr("xl/worksheets/sheet1.xml",
                   f'<worksheet xmlns="{main}"><sheetData>{data}</sheetData></worksheet>')
    return path


def test_shared_and_inline_strings_read_alike(db, tmp_path):
    """A sheet with shared strings (as Excel saves it) gives the same rows as one with inline
    strings (as openpyxl writes it, and the bench's files)."""
    rows = [target_row(i) for i in range(1, 4)]
    shared = _shared_strings_xlsx(tmp_path / "s.xlsx", [T_HEAD, *rows])
    inline = write_xlsx(tmp_path / "i.xlsx", T_HEAD, rows)
    got = [list(tabular.read_rows(p)) for p in (shared, inline)]
    assert got[0] == got[1]
    assert got[0][0] == (1, T_HEAD) and got[0][3] == (4, target_row(3))
    assert registry.import_file("targets", shared, "clerk").inserted == 3
    liar = tmp_path / "liar.xlsx"
    liar.write_bytes(_shrink_declared_size(shared.read_bytes(), "xl/sharedStrings.xml", 10))
    assert _import_error(liar).startswith("Excel 文件“liar.xlsx”已损坏或不完整")


def test_xlsx_is_read_by_calamine_not_openpyxl(db, tmp_path, monkeypatch):
    path = write_xlsx(tmp_path / "t.xlsx", T_HEAD, [target_row(1)])

    def no_openpyxl(*args, **kwargs):
        raise AssertionError("openpyxl only writes exports")
    monkeypatch.setattr(openpyxl, "load_workbook", no_openpyxl)
    assert registry.import_file("targets", path, "clerk").inserted == 1


def test_a_panic_inside_calamine_is_one_sentence(db, tmp_path, monkeypatch):
    import python_calamine

    class PanicException(BaseException):  # what pyo3 raises when Rust code panics
        pass

    def panic(*args, **kwargs):
        raise PanicException("index out of bounds")
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", panic)
    path = write_xlsx(tmp_path / "t.xlsx", T_HEAD, [target_row(1)])
    assert _import_error(path) == ("无法读取 Excel 文件“t.xlsx”，"
                                   "请在 Excel 中检查后另存为 .xlsx 或 CSV。")
    assert Target.select().count() == 0
