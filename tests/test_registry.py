"""Registry import/export (all or nothing, every bad row by line), upsert by key, search and
paging."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json

import openpyxl
import pytest

from db.models import (
    AuditEvent,
    Conflict,
    InspectionRecord,
    Inspector,
    Item,
    ItemStratum,
    Target,
    Training,
)
from kiosk import registry, uscc
from kiosk.errors import UserError
from kiosk.registry import ImportRejected, cells, importer, kinds, tabular, writer

T_HEAD = ["统一社会信用代码", "单位名称", "类别", "乡镇", "地址", "规模", "信用风险等级",
          "投诉举报次数", "严重违法记录", "状态"]


def code(i: int) -> str:
    return uscc.make("411623", f"MA{i:06d}")


def target_row(i: int, name: str | None = None, category: str = "用人单位-制造业",
               township: str = "黄寨镇") -> list:
    return [code(i), name or f"商水县第{i}纺织有限公司", category, township,
            f"商水县{township}工业路{i}号", "小型", "低", "0", "否", "正常"]


def write_csv(path, header, rows, encoding="utf-8-sig"):
    with open(path, "w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def write_xlsx(path, header, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def read_table(path):
    if str(path).endswith(".csv"):
        with open(path, encoding="utf-8-sig", newline="") as f:
            return [[str(c) for c in r] for r in csv.reader(f)]
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = [["" if c is None else str(c) for c in r]
            for r in wb.worksheets[0].iter_rows(values_only=True)]
    wb.close()
    return rows


ITEMS = [
    ["RS-01", "劳动合同签订情况检查", "《中华人民共和国劳动合同法》第十条",
     "书面劳动合同签订|劳动合同条款", "现场检查", "用人单位-制造业", "1%", "3", "劳动保障监察大队",
     "劳动保障监察大队;劳动关系股", "",
     "2", "12", "特殊监管:special:30%;小微企业:small_micro:0.5%;较高风险:risk:较高:10%", "在用",
     "", "", "小微企业用工人数少，按县局规定降低比例"],
    ["RS-02", "劳务派遣用工检查", "《劳务派遣暂行规定》", "派遣资质", "书面检查", "劳务派遣单位",
     "2.5%", "4", "劳动关系股", "", "市场监管局", "3", "6", "", "停用"],
]
INSPECTORS = [
    ["41162301001", "张伟", "劳动保障监察大队", "商水县人力资源和社会保障局", "2024-01-01",
     "2028-12-31", "在岗", "0394-5421001"],
    ["41162301002", "李娜", "劳动关系股", "商水县人力资源和社会保障局", "2023-05-01",
     "2027-04-30", "在岗", ""],
    ["41162301003", "王强", "劳动保障监察大队", "商水县人力资源和社会保障局", "", "", "离岗", ""],
]


def load_all(tmp_path):
    """Every kind imported once, in dependency order."""
    h = {k: [lbl for _, lbl in registry.columns(k)] for k in registry.KINDS}
    registry.import_file("items", write_csv(tmp_path / "items.csv", h["items"], ITEMS), "clerk")
    registry.import_file("inspectors", write_csv(tmp_path / "insp.csv", h["inspectors"],
                                                 INSPECTORS), "clerk")
    registry.import_file("targets", write_csv(tmp_path / "t.csv", T_HEAD,
                                              [target_row(i) for i in range(1, 6)]), "clerk")
    registry.import_file("conflicts", write_csv(tmp_path / "c.csv", h["conflicts"], [
        ["41162301001", code(1), "近亲属在该单位任职", "2026-03-01 09:30:00"],
        ["41162301002", code(2), "", "2026-03-02 10:00:00"]]), "clerk")
    registry.import_file("trainings", write_csv(tmp_path / "tr.csv", h["trainings"], [
        ["41162301001", "劳动保障监察业务培训", "2026-04-10", "16", "周口市人社局"],
        ["41162301002", "行政执法资格培训", "2025-11-03", "24", ""]]), "clerk")
    registry.import_file("inspections", write_csv(tmp_path / "ins.csv", h["inspections"], [
        [code(3), "2026-02-14", "商水县市场监督管理局", "商市监检〔2026〕12号"],
        [code(4), "2026-01-20", "商水县应急管理局", ""]]), "clerk")


# ---------------------------------------------------------------- importing


def test_targets_csv_import_stores_values_and_writes_one_audit_event(db, tmp_path):
    rows = [target_row(1), target_row(2, "商水县鑫源建筑工程有限公司", "用人单位-建筑业", "练集镇")]
    rows[1][5:10] = ["中型", "较高", "4", "是", "停用"]
    path = write_csv(tmp_path / "targets.csv", T_HEAD, rows)
    before = AuditEvent.select().count()

    result = registry.import_file("targets", path, "clerk")

    assert (result.inserted, result.updated, result.rows) == (2, 0, 2)
    t = Target.get(Target.uscc == code(2))
    assert (t.name, t.category, t.township, t.size_class, t.credit_risk, t.complaint_count,
            t.serious_violation, t.active) == ("商水县鑫源建筑工程有限公司", "用人单位-建筑业",
                                               "练集镇",
                                               "中型", "较高", 4, True, False)
    events = list(AuditEvent.select().where(AuditEvent.seq > before))
    assert [e.action for e in events] == ["registry.import"]
    detail = json.loads(events[0].detail)
    assert detail["inserted"] == 2 and detail["updated"] == 0 and detail["rows"] == 2
    assert detail["file"] == "targets.csv"
    assert detail["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert events[0].actor == "clerk" and events[0].entity == "targets"


def test_reimport_updates_by_key_rather_than_duplicating(db, tmp_path):
    registry.import_file("targets", write_csv(tmp_path / "a.csv", T_HEAD,
                                              [target_row(1), target_row(2)]), "clerk")
    first_id = Target.get(Target.uscc == code(1)).id
    changed = target_row(1, "商水县新名称有限公司")
    res = registry.import_file("targets", write_csv(tmp_path / "b.csv", T_HEAD,
                                                    [changed, target_row(3)]), "clerk")
    assert (res.inserted, res.updated, res.rows) == (1, 1, 2)
    assert Target.select().count() == 3
    t = Target.get(Target.uscc == code(1))
    assert t.id == first_id and t.name == "商水县新名称有限公司"
    # The search index follows the rename.
    assert [r["uscc"] for r in registry.search("targets", "新名称有限")] == [code(1)]
    assert registry.search("targets", "第1纺织") == []


def test_absent_optional_columns_are_left_alone_on_update(db, tmp_path):
    row = target_row(1)
    row[8] = "是"
    registry.import_file("targets", write_csv(tmp_path / "a.csv", T_HEAD, [row]), "clerk")
    registry.import_file("targets", write_csv(tmp_path / "b.csv",
                                              ["统一社会信用代码", "单位名称", "类别"],
                                              [[code(1), "改名后的公司", "用人单位-建筑业"]]),
                         "clerk")
    t = Target.get(Target.uscc == code(1))
    assert (t.name, t.category, t.serious_violation, t.township) == (
        "改名后的公司", "用人单位-建筑业", True, "黄寨镇")


def _rejected(kind, path) -> ImportRejected:
    with pytest.raises(ImportRejected) as info:
        registry.import_file(kind, path, "clerk")
    return info.value


def test_every_bad_target_row_is_named_with_its_line_and_nothing_is_written(db, tmp_path):
    registry.import_file("targets", write_csv(tmp_path / "pre.csv", T_HEAD, [target_row(1)]),
                         "clerk")
    events_before = AuditEvent.select().count()
    bad_check = code(2)[:17] + ("0" if code(2)[17] != "0" else "1")
    rows = [
        target_row(10),                                   # 2 good
        [bad_check, *target_row(2)[1:]],                  # 3 bad check character
        target_row(11),                                   # 4 good
        target_row(11, "另一个名称"),                      # 5 duplicate key of line 4
        [*target_row(12)[:1], " ", *target_row(12)[2:]],  # 6 missing name
        target_row(13, "带\t制表符的公司"),                 # 7 TAB
        target_row(14, "带\n换行的公司"),                   # 8 newline
        [*target_row(15)[:7], "三次", "否", "正常"],        # 9 not a number
        [*target_row(16)[:5], "巨型", *target_row(16)[6:]],  # 10 not a size class
        ["91411623MA00001O17", *target_row(17)[1:]],      # 11 illegal letter O
        [*target_row(18)[:8], "也许", "正常"],              # 12 not yes/no
        target_row(1, "改名"),                             # 13 good update of an existing row
    ]
    path = write_csv(tmp_path / "bad.csv", T_HEAD, rows)
    err = _rejected("targets", path)
    lines = {n: r for n, r in err.problems}
    assert sorted(lines) == [3, 5, 6, 7, 8, 9, 10, 11, 12]
    assert lines[3] == f"统一社会信用代码校验位错误（应为 {code(2)[17]}）"
    assert lines[5] == "统一社会信用代码与第4行重复"
    assert lines[6] == "缺少必填项“单位名称”"
    assert lines[7] == "“单位名称”含有制表符或换行"
    assert lines[8] == "“单位名称”含有制表符或换行"
    assert lines[9] == "“投诉举报次数”应为整数，实为“三次”"
    assert "规模" in lines[10] and "巨型" in lines[10]
    assert "第16位含非法字符“O”" in lines[11]
    assert "严重违法记录" in lines[12]
    assert str(err).startswith(
        "导入被拒绝，文件未做任何更改：第3行：统一社会信用代码校验位错误（应为 ")
    assert "第12行" in str(err)
    assert isinstance(err, UserError)
    # Nothing written: not the good rows, not the update, no audit event.
    assert Target.select().count() == 1
    assert Target.get(Target.uscc == code(1)).name == target_row(1)[1]
    assert AuditEvent.select().count() == events_before


def test_bad_dates_and_unknown_references_are_named(db, tmp_path):
    load_all(tmp_path)
    h = [lbl for _, lbl in registry.columns("trainings")]
    path = write_csv(tmp_path / "tr.csv", h, [
        ["41162301001", "新培训", "2026-02-30", "8", ""],         # 2 not a date
        ["41162309999", "新培训", "2026-02-01", "8", ""],         # 3 unknown inspector
        ["41162301002", "新培训", "2026/02/01", "8", ""],         # 4 good (slashes accepted)
        ["41162301003", "新培训", "明天", "8", ""],               # 5 not a date
    ])
    trainings_before = Training.select().count()
    err = _rejected("trainings", path)
    assert err.problems == [(2, "“日期”“2026-02-30”不是有效日期（应写成 2026-03-01）"),
                            (3, "执法证号“41162309999”不在执法检查人员名录中"),
                            (5, "“日期”“明天”不是有效日期（应写成 2026-03-01）")]
    assert Training.select().count() == trainings_before

    hc = [lbl for _, lbl in registry.columns("conflicts")]
    unknown_target = uscc.make("411623", "MA9999999")
    err = _rejected("conflicts", write_csv(tmp_path / "c.csv", hc, [
        ["41162301003", code(1), "", ""],
        ["41162301003", unknown_target, "", ""],
        ["41162309999", code(2), "", "2026-13-01"],
    ]))
    assert err.problems == [
        (3, f"统一社会信用代码“{unknown_target}”不在检查对象名录中"),
        (4, "“登记时间”“2026-13-01”不是有效的日期时间（应写成 2026-03-01 09:30）"),
    ]
    conflicts_before = Conflict.select().count()
    err = _rejected("conflicts", write_csv(tmp_path / "c2.csv", hc,
                                           [["41162309999", code(2), "", ""]]))
    assert err.problems == [(2, "执法证号“41162309999”不在执法检查人员名录中")]
    assert Conflict.select().count() == conflicts_before

    hi = [lbl for _, lbl in registry.columns("inspections")]
    err = _rejected("inspections", write_csv(tmp_path / "i.csv", hi,
                                             [[unknown_target, "2026-01-01", "市场监管局", ""]]))
    assert err.problems == [(2, f"统一社会信用代码“{unknown_target}”不在检查对象名录中")]


def test_unknown_and_missing_headers_are_line_one(db, tmp_path):
    err = _rejected("targets", write_csv(tmp_path / "h.csv",
                                         ["统一社会信用代码", "单位名称", "法人代表"],
                                         [[code(1), "某公司", "张三"]]))
    assert (1, "未知的列名“法人代表”") in err.problems
    assert (1, "缺少必需的列“类别”") in err.problems
    assert Target.select().count() == 0


def test_many_bad_rows_are_all_listed_and_the_message_counts_them(db, tmp_path):
    rows = [[code(i)[:17] + ("0" if code(i)[17] != "0" else "1"), *target_row(i)[1:]]
            for i in range(15)]
    err = _rejected("targets", write_csv(tmp_path / "m.csv", T_HEAD, rows))
    assert [n for n, _ in err.problems] == list(range(2, 17))
    msg = str(err)
    assert msg.count("第") >= 10 and "第11行" in msg and "第12行" not in msg
    assert "共 15 处错误，涉及 15 行" in msg


def test_blank_rows_are_skipped_but_keep_their_line_numbers(db, tmp_path):
    path = write_csv(tmp_path / "b.csv", T_HEAD,
                     [target_row(1), [""] * 10, [code(2), "", "用人单位-制造业"]])
    err = _rejected("targets", path)
    assert err.problems == [(4, "缺少必填项“单位名称”")]


def test_gb18030_csv_round_trip(db, tmp_path):
    rows = [target_row(1, "商水县䶮鑫纺织有限公司"),
            target_row(2, "商水县瑞祥餐饮服务有限公司", "用人单位-餐饮住宿业")]
    path = write_csv(tmp_path / "gbk.csv", T_HEAD, rows, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    assert registry.import_file("targets", path, "clerk").inserted == 2
    assert Target.get(Target.uscc == code(1)).name == "商水县䶮鑫纺织有限公司"

    out = tmp_path / "out.csv"
    assert registry.export_file("targets", out, "clerk") == 2
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    table = read_table(out)
    assert table[0] == T_HEAD
    assert table[1:] == rows
    res = registry.import_file("targets", out, "clerk")
    assert (res.inserted, res.updated) == (0, 2)
    assert registry.export_file("targets", tmp_path / "again.csv", "clerk") == 2
    assert (tmp_path / "again.csv").read_bytes() == out.read_bytes()


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8"])
def test_utf8_csv_with_or_without_bom(db, tmp_path, encoding):
    path = write_csv(tmp_path / "u.csv", T_HEAD, [target_row(1, "商水县鸿锦建设有限公司")],
                     encoding=encoding)
    assert registry.import_file("targets", path, "clerk").inserted == 1
    assert Target.get().name == "商水县鸿锦建设有限公司"


def test_xlsx_with_numeric_and_date_cells(db, tmp_path):
    import datetime as dt
    registry.import_file("inspectors", write_xlsx(
        tmp_path / "i.xlsx", [lbl for _, lbl in registry.columns("inspectors")],
        [[41162301009, "赵敏", "劳动保障监察大队", "", dt.datetime(2024, 1, 1), dt.date(2029, 1, 1),
          "在岗", ""]]), "clerk")
    i = Inspector.get()
    assert (i.cert_no, i.cert_valid_from, i.cert_valid_until) == (
        "41162301009", dt.date(2024, 1, 1), dt.date(2029, 1, 1))
    assert i.department == "商水县人力资源和社会保障局"
    row = target_row(1)
    row[7] = 3
    registry.import_file("targets", write_xlsx(tmp_path / "t.xlsx", T_HEAD, [row]), "clerk")
    assert Target.get().complaint_count == 3


@pytest.mark.parametrize("kind", list(registry.KINDS))
@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_every_kind_round_trips_unchanged(db, tmp_path, kind, suffix):
    load_all(tmp_path)
    model = registry.MODELS[kind]
    n = model.select().count()
    assert n >= 2
    first = tmp_path / f"{kind}-1{suffix}"
    assert registry.export_file(kind, first, "clerk") == n
    table = read_table(first)
    assert table[0] == [lbl for _, lbl in registry.columns(kind)]
    res = registry.import_file(kind, first, "clerk")
    assert (res.inserted, res.updated, res.rows) == (0, n, n)
    assert model.select().count() == n
    second = tmp_path / f"{kind}-2{suffix}"
    registry.export_file(kind, second, "clerk")
    assert read_table(second) == table
    if kind == "items":
        assert [i.version for i in Item.select().order_by(Item.id)] == [1, 1]


def test_items_carry_their_strata(db, tmp_path):
    load_all(tmp_path)
    item = Item.get(Item.code == "RS-01")
    assert (item.ratio_bp, item.frequency, item.team_size, item.content) == (
        100, 3, 2, "书面劳动合同签订\n劳动合同条款")
    strata = [(s.name, s.criterion, s.ratio_bp) for s in item.strata.order_by(ItemStratum.position)]
    assert strata == [("特殊监管", "special", 3000), ("小微企业", "small_micro", 50),
                      ("较高风险", "risk:较高", 1000)]
    assert Item.get(Item.code == "RS-02").ratio_bp == 250
    row = registry.search("items", "RS-01")[0]
    assert row["strata"] == "特殊监管:special:30%;小微企业:small_micro:0.5%;较高风险:risk:较高:10%"
    assert row["ratio_bp"] == "1%"

    h = [lbl for _, lbl in registry.columns("items")]
    changed = list(ITEMS[0])
    changed[13] = "特殊监管:special:20%"
    registry.import_file("items", write_csv(tmp_path / "i2.csv", h, [changed]), "clerk")
    item = Item.get(Item.code == "RS-01")
    assert item.version == 2
    assert [(s.name, s.ratio_bp) for s in item.strata] == [("特殊监管", 2000)]

    bad = list(ITEMS[0])
    bad[13] = "特殊监管:special:30"
    bad2 = list(ITEMS[1])
    bad2[13] = "甲:risk:很高:1%"
    err = _rejected("items", write_csv(tmp_path / "i3.csv", h, [bad, bad2]))
    assert [n for n, _ in err.problems] == [2, 3]
    assert "百分数" in err.problems[0][1] and "信用风险等级" in err.problems[1][1]


def test_public_inspector_list_leaves_out_phones(db, tmp_path):
    load_all(tmp_path)
    out = tmp_path / "public.csv"
    registry.export_file("inspectors", out, "clerk", public=True)
    table = read_table(out)
    assert "联系电话" not in table[0] and len(table) == 4
    assert not any("0394-5421001" in c for r in table for c in r)
    ev = AuditEvent.select().order_by(AuditEvent.seq.desc()).first()
    assert ev.action == "registry.export" and json.loads(ev.detail)["rows"] == 3


def test_unsupported_files_are_plain_user_errors(db, tmp_path):
    (tmp_path / "x.xls").write_bytes(b"old excel")
    with pytest.raises(UserError, match=r"不支持旧版 .xls"):
        registry.import_file("targets", tmp_path / "x.xls", "clerk")
    with pytest.raises(UserError, match="未知的名录类型"):
        registry.import_file("people", tmp_path / "x.xls", "clerk")
    with pytest.raises(UserError, match="找不到文件"):
        registry.import_file("targets", tmp_path / "missing.csv", "clerk")


# ---------------------------------------------------------------- search and paging


@pytest.fixture
def sixty(db, tmp_path):
    rows = []
    for i in range(60):
        if i % 3 == 0:
            rows.append(target_row(i, f"商水县鑫源建筑工程{i}号有限公司", "用人单位-建筑业",
                                   "练集镇"))
        elif i % 3 == 1:
            rows.append(target_row(i, f"周口瑞祥餐饮{i}店", "用人单位-餐饮住宿业", "黄寨镇"))
        else:
            rows.append(target_row(i, f"商水县恒昌纺织{i}厂"))
    registry.import_file("targets", write_csv(tmp_path / "s.csv", T_HEAD, rows), "clerk")
    return rows


def test_search_by_name_uscc_category_and_township(sixty):
    assert registry.count("targets") == 60
    assert registry.count("targets", "鑫源建筑") == 20            # 4 chars: trigram index
    assert registry.count("targets", "餐饮") == 20                # 2 chars: LIKE
    assert registry.count("targets", "恒昌 纺织") == 20           # two words, both must match
    assert registry.count("targets", "用人单位-建筑业") == 20       # category
    assert registry.count("targets", "黄寨镇") == 40              # township
    assert registry.count("targets", "不存在的名字") == 0
    hit = registry.search("targets", "建筑工程9号")
    assert [r["uscc"] for r in hit] == [code(9)]
    assert hit[0]["name"] == "商水县鑫源建筑工程9号有限公司"
    assert set(hit[0]) == {f for f, _ in registry.columns("targets")} | {"id"}
    prefix = code(5)[:15]
    assert [r["uscc"] for r in registry.search("targets", prefix.lower())] == \
        sorted(c for c in (code(i) for i in range(60)) if c.startswith(prefix))
    assert registry.search("targets", code(7))[0]["name"] == "周口瑞祥餐饮7店"


def test_paging_walks_the_whole_result_without_overlap(sixty):
    seen = []
    for offset in range(0, 60, 20):
        page = registry.search("targets", "", offset=offset, limit=20)
        assert len(page) == 20
        seen += [r["id"] for r in page]
    assert seen == sorted(seen) and len(set(seen)) == 60
    assert registry.search("targets", "", offset=60) == []
    # Words under 3 characters come in name order (the name index is what they scan).
    page2 = registry.search("targets", "餐饮", offset=15, limit=10)
    names = sorted(f"周口瑞祥餐饮{i}店" for i in range(1, 60, 3))
    assert len(page2) == 5 and [r["name"] for r in page2] == names[15:]
    page3 = registry.search("targets", "恒昌纺织", offset=18, limit=5)
    assert [r["name"] for r in page3] == ["商水县恒昌纺织56厂", "商水县恒昌纺织59厂"]


def test_bulk_import_keeps_the_name_index_and_its_trigger(db, tmp_path, monkeypatch):
    monkeypatch.setattr(writer, "BULK_FTS_ROWS", 2)
    registry.import_file("targets", write_csv(tmp_path / "a.csv", T_HEAD, [
        target_row(1, "商水县甲乙丙丁有限公司"), target_row(2, "商水县戊己庚辛有限公司"),
        target_row(3, "商水县壬癸子丑有限公司")]), "clerk")
    assert [r["uscc"] for r in registry.search("targets", "戊己庚")] == [code(2)]
    assert registry.count("targets", "有限公司") == 3
    monkeypatch.setattr(writer, "BULK_FTS_ROWS", 100)
    registry.import_file("targets", write_csv(tmp_path / "b.csv", T_HEAD,
                                              [target_row(4, "商水县寅卯辰巳厂")]), "clerk")
    assert [r["uscc"] for r in registry.search("targets", "寅卯辰")] == [code(4)]
    assert db.execute_sql("SELECT COUNT(*) FROM sqlite_master WHERE name = 'target_fts_ai'"
                          ).fetchone()[0] == 1


def _indexes(db, table):
    return sorted(db.execute_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                                 "AND tbl_name = ?", (table,)).fetchall(), key=str)


def test_bulk_load_into_an_empty_table_builds_the_same_indexes(db, tmp_path, monkeypatch):
    before = _indexes(db, "target")
    assert any(n == "target_uscc" for n, _ in before) and len(before) >= 5
    monkeypatch.setattr(writer, "BULK_INDEX_ROWS", 2)
    # A failure after the rows are written rolls the dropped indexes back with them.
    audit_record = importer.audit.record

    def refuse(*args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(importer.audit, "record", refuse)
    rows = [target_row(i) for i in range(1, 4)]
    with pytest.raises(RuntimeError):
        registry.import_file("targets", write_csv(tmp_path / "a.csv", T_HEAD, rows), "clerk")
    assert Target.select().count() == 0 and _indexes(db, "target") == before
    monkeypatch.undo()
    monkeypatch.setattr(writer, "BULK_INDEX_ROWS", 2)
    res = registry.import_file("targets", tmp_path / "a.csv", "clerk")
    assert res.inserted == 3 and _indexes(db, "target") == before
    # The indexes hold every row: the planner answers these from them.
    assert [t.uscc for t in Target.select().where(Target.uscc == code(2))] == [code(2)]
    assert Target.select().where(Target.name == "商水县第3纺织有限公司").count() == 1
    stamps = {t.updated_at for t in Target.select()}
    assert len(stamps) == 1 and isinstance(stamps.pop(), dt.datetime)
    # A file of at least half the table's rows is upserted through the unique index with the
    # other indexes rebuilt after it; a failure rolls that back too. Statistics that ANALYZE
    # gathered stay as they were (DROP INDEX deletes them).
    db.execute_sql("ANALYZE")
    stat = "SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'target' ORDER BY idx"
    stats = db.execute_sql(stat).fetchall()
    assert len(stats) == len(before)
    dropped = []
    drop = writer._drop_indexes
    monkeypatch.setattr(writer, "_drop_indexes", lambda *a, **kw: dropped.append(
        kw) or drop(*a, **kw))
    b = write_csv(tmp_path / "b.csv", T_HEAD, [target_row(3, "改名"), target_row(4)])
    monkeypatch.setattr(importer.audit, "record", refuse)
    with pytest.raises(RuntimeError):
        registry.import_file("targets", b, "clerk")
    assert dropped == [{"keep_unique": True}] and _indexes(db, "target") == before
    assert Target.get(Target.uscc == code(3)).name == "商水县第3纺织有限公司"
    monkeypatch.setattr(importer.audit, "record", audit_record)
    res = registry.import_file("targets", b, "clerk")
    assert (res.inserted, res.updated) == (1, 1) and Target.select().count() == 4
    assert Target.get(Target.uscc == code(3)).name == "改名"
    assert [r["uscc"] for r in registry.search("targets", "改名")] == [code(3)]
    assert _indexes(db, "target") == before and len(dropped) == 2
    assert db.execute_sql(stat).fetchall() == stats
    # A smaller file leaves the indexes as they are and updates them row by row.
    monkeypatch.setattr(writer, "BULK_INDEX_ROWS", 1)
    registry.import_file("targets", write_csv(tmp_path / "c.csv", T_HEAD, [target_row(5)]),
                         "clerk")
    assert len(dropped) == 2 and Target.select().count() == 5


def test_count_is_capped_for_searches(sixty, monkeypatch):
    assert registry.count_capped("targets", "商水县", cap=10) == (10, True)
    assert registry.count_capped("targets", "商水县", cap=100) == (40, False)
    assert registry.count_capped("targets", "", cap=10) == (60, False)


def test_search_other_kinds(db, tmp_path):
    load_all(tmp_path)
    assert [r["cert_no"] for r in registry.search("inspectors", "劳动关系")] == ["41162301002"]
    assert [r["name"] for r in registry.search("inspectors", "张")] == ["张伟"]
    assert registry.count("inspectors") == 3
    assert [r["code"] for r in registry.search("items", "派遣")] == ["RS-02"]
    c = registry.search("conflicts", "张伟")
    assert len(c) == 1 and c[0]["uscc"] == code(1) and c[0]["inspector_name"] == "张伟"
    assert c[0]["declared_at"] == "2026-03-01 09:30:00"
    assert [r["title"] for r in registry.search("trainings", "资格")] == ["行政执法资格培训"]
    ins = registry.search("inspections", "应急")
    assert [(r["uscc"], r["date"]) for r in ins] == [(code(4), "2026-01-20")]
    assert InspectionRecord.select().count() == 2


def test_columns_doc_lists_every_kind_and_column():
    doc = registry.columns_doc()
    for k in registry.KINDS.values():
        assert f"### {k.name}：{k.label}" in doc
        for c in k.columns:
            assert f"| {c.label} | `{c.field}` |" in doc


@pytest.mark.postgres
def test_import_and_search_on_postgresql(pg_db, tmp_path):
    rows = [target_row(i, f"商水县鑫源建筑工程{i}号有限公司") for i in range(5)]
    res = registry.import_file("targets", write_csv(tmp_path / "pg.csv", T_HEAD, rows), "clerk")
    assert (res.inserted, res.updated) == (5, 0)
    res = registry.import_file("targets", write_csv(tmp_path / "pg2.csv", T_HEAD, rows[:2]),
                               "clerk")
    assert (res.inserted, res.updated) == (0, 2)
    assert registry.count("targets", "建筑工程3号") == 1
    assert registry.search("targets", code(2)[:16])[0]["uscc"] == code(2)
    assert registry.count("targets", "鑫源") == 5
    load_all(tmp_path)
    assert registry.search("conflicts", "张伟")[0]["uscc"] == code(1)


def test_category_pages_list_stopped_targets_first_then_by_id(db, tmp_path):
    rows = [target_row(i) for i in range(1, 5)]
    rows[2][9] = "停用"
    registry.import_file("targets", write_csv(tmp_path / "c.csv", T_HEAD, rows), "clerk")
    got = [r["uscc"] for r in registry.search("targets", "用人单位-制造业")]
    assert got == [code(3), code(1), code(2), code(4)]
    assert [r["uscc"] for r in registry.search("targets", "用人单位-制造业", offset=2, limit=5)
            ] == [code(2), code(4)]


def test_xlsx_rows_are_numbered_as_excel_shows_them(db, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(T_HEAD)
    ws.append(target_row(1))
    for col, value in enumerate(target_row(2, "带\n换行的公司"), 1):
        ws.cell(row=5, column=col, value=value)
    wb.save(tmp_path / "gap.xlsx")
    err = _rejected("targets", tmp_path / "gap.xlsx")
    assert err.problems == [(5, "“单位名称”含有制表符或换行")]


# ---------------------------------------------------------------- review: bounds, bytes, cells


def test_integers_beyond_32_bits_are_bad_rows(db, tmp_path):
    rows = [target_row(1), target_row(2), target_row(3)]
    rows[0][7] = "3000000000"        # the quick path for plain digits
    rows[1][7] = "+2147483648"       # the slow path
    rows[2][7] = "2147483647"        # the largest that fits
    err = _rejected("targets", write_csv(tmp_path / "big.csv", T_HEAD, rows))
    assert err.problems == [(2, "“投诉举报次数”不能大于 2147483647"),
                            (3, "“投诉举报次数”不能大于 2147483647")]
    row = target_row(4)
    row[7] = 3000000000
    err = _rejected("targets", write_xlsx(tmp_path / "big.xlsx", T_HEAD, [row]))
    assert err.problems == [(2, "“投诉举报次数”不能大于 2147483647")]
    assert Target.select().count() == 0


@pytest.mark.postgres
def test_database_refusals_on_postgresql_are_plain_sentences_and_write_nothing(
        pg_db, tmp_path, monkeypatch):
    row = target_row(1)
    row[7] = "3000000000"
    path = write_csv(tmp_path / "big.csv", T_HEAD, [target_row(2), row])
    err = _rejected("targets", path)
    assert err.problems == [(3, "“投诉举报次数”不能大于 2147483647")]
    # Should a value the checks let through still be refused by PostgreSQL, the transaction
    # rolls back and the clerk reads a sentence, not a traceback.
    monkeypatch.setattr(cells, "INT_MAX", 2**62)
    with pytest.raises(UserError) as info:
        registry.import_file("targets", path, "clerk")
    assert str(info.value).startswith("数据库拒绝了导入的数据，文件未做任何更改（")
    assert Target.select().count() == 0
    assert AuditEvent.select().where(AuditEvent.action == "registry.import").count() == 0
    monkeypatch.undo()
    assert registry.import_file("targets", write_csv(tmp_path / "ok.csv", T_HEAD, [row[:7]]),
                                "clerk").inserted == 1


@pytest.mark.postgres
def test_nul_is_a_bad_row_on_postgresql(pg_db, tmp_path):
    err = _rejected("targets", write_csv(tmp_path / "nul.csv", T_HEAD,
                                         [target_row(1, "甲\x00公司")]))
    assert err.problems == [(2, "“单位名称”含有控制字符 U+0000")]


def test_every_control_character_is_a_bad_row_naming_its_column(db, tmp_path):
    rows = [target_row(1, "甲\x00公司"), target_row(2), target_row(3), target_row(4, "丁\x7f公司")]
    rows[1][4] = "人民路\x0b1号"
    rows[2][2] = "企业\x1f"
    err = _rejected("targets", write_csv(tmp_path / "ctrl.csv", T_HEAD, rows))
    assert err.problems == [(2, "“单位名称”含有控制字符 U+0000"), (3, "“地址”含有控制字符 U+000B"),
                            (4, "“类别”含有控制字符 U+001F"), (5, "“单位名称”含有控制字符 U+007F")]
    assert Target.select().count() == 0


def test_utf8_file_with_a_stray_byte_is_refused_naming_its_line(db, tmp_path):
    good = "\n".join([",".join(T_HEAD[:3])] + [",".join(target_row(i)[:3]) for i in (1, 2)])
    for stray in (b"\xe9A", b"\xe9 ", b"\xff"):
        raw = good.encode() + b"\n" + f"{code(3)},Caf".encode() + stray + "企业,用人单位\n".encode()
        (tmp_path / "s.csv").write_bytes(raw)
        err = _rejected("targets", tmp_path / "s.csv")
        assert err.problems == [
            (4, "含有不是 UTF-8 编码的字节，请检查该行或将文件另存为 UTF-8 编码")]
    # A BOM says UTF-8 even when the bad byte is the only non-ASCII in the file.
    (tmp_path / "b.csv").write_bytes(b"\xef\xbb\xbfuscc,name,category\n"
                                     + f"{code(1)},Caf".encode() + b"\xe9A,x\n")
    assert _rejected("targets", tmp_path / "b.csv").problems[0][0] == 2
    assert Target.select().count() == 0


def test_xlsx_export_keeps_formula_like_text_as_text_and_drops_control_characters(db, tmp_path):
    import datetime as dt
    Target.create(uscc=code(1), name="=1+1", category="@用人单位", address="人民路\x0b1号",
                  township="-黄寨镇", updated_at=dt.datetime(2026, 1, 1))
    assert registry.export_file("targets", tmp_path / "o.xlsx", "clerk") == 1
    wb = openpyxl.load_workbook(tmp_path / "o.xlsx")
    cell = wb.worksheets[0]["B2"]
    assert (cell.value, cell.data_type) == ("=1+1", "s")
    Target.delete().execute()
    registry.import_file("targets", tmp_path / "o.xlsx", "clerk")
    t = Target.get()
    assert (t.name, t.category, t.township, t.address) == (
        "=1+1", "@用人单位", "-黄寨镇", "人民路1号")


def _raw_xlsx(path, rows_xml: str, date1904: bool = False):
    """A minimal workbook written by hand, for cell kinds openpyxl does not write itself."""
    import zipfile
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml",
                   '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" '
                   'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
                   f'<Override PartName="/xl/worksheets/sheet1.xml" '
                   f'ContentType="{ct}.worksheet+xml"/></Types>')
        z.writestr("_rels/.rels", f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" '
                   f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        pr = '<workbookPr date1904="1"/>' if date1904 else ""
        z.writestr("xl/workbook.xml", f'<workbook xmlns="{main}" xmlns:r="{rel}">{pr}<sheets>'
                   '<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels",
                   f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" '
                   f'Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        z.writestr("xl/worksheets/sheet1.xml",
                   f'<worksheet xmlns="{main}"><sheetData>{rows_xml}</sheetData></worksheet>')
    return path


def _row(n: int, *cells: str) -> str:
    out = []
    for i, c in enumerate(cells):
        ref = f"{'ABCDEFGHIJ'[i]}{n}"
        if c.startswith("<c"):
            out.append(f'<c r="{ref}"' + c[2:])
        else:
            out.append(f'<c r="{ref}" t="inlineStr"><is><t>{c}</t></is></c>')
    return f'<row r="{n}">{"".join(out)}</row>'


def test_quick_xlsx_reader_reads_iso_dates_and_1904_serials(db, tmp_path):
    import datetime as dt
    Inspector.create(cert_no="C1", name="张伟", office="劳动保障监察大队")
    head = _row(1, "执法证号", "培训名称", "日期")
    iso = head + _row(2, "C1", "甲", '<c t="d"><v>2026-03-01T00:00:00</v></c>')
    registry.import_file("trainings", _raw_xlsx(tmp_path / "iso.xlsx", iso), "clerk")
    serial = head + _row(2, "C1", "乙", "<c><v>44621</v></c>")
    registry.import_file("trainings", _raw_xlsx(tmp_path / "mac.xlsx", serial, date1904=True),
                         "clerk")
    registry.import_file("trainings", _raw_xlsx(tmp_path / "win.xlsx", serial.replace("乙", "丙")),
                         "clerk")
    got = {t.title: t.date for t in Training.select()}
    assert got == {"甲": dt.date(2026, 3, 1), "乙": dt.date(2026, 3, 2), "丙": dt.date(2022, 3, 1)}


def test_xlsx_error_cells_and_uncalculated_formulas_are_bad_rows(db, tmp_path):
    rows = (_row(1, "统一社会信用代码", "单位名称", "类别", "地址")
            + _row(2, code(1), '<c t="e"><v>#REF!</v></c>', "企业")
            + _row(3, code(2), "乙公司", "企业", '<c t="str"><f>A1&amp;"x"</f></c>')
            + _row(4, code(3), "丙公司", "企业", '<c t="str"><f>A1</f><v>算好了</v></c>'))
    err = _rejected("targets", _raw_xlsx(tmp_path / "e.xlsx", rows))
    assert err.problems == [(2, "单元格为错误值 #REF!（“单位名称”列）"),
                            (3, "公式单元格没有计算结果，请在 Excel 中保存后再导入（“地址”列）")]
    # As openpyxl writes a formula: no cached value, which must not empty an existing address.
    registry.import_file("targets", write_csv(tmp_path / "t.csv", T_HEAD, [target_row(1)]), "clerk")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["统一社会信用代码", "单位名称", "类别", "地址"])
    ws.append([code(1), target_row(1)[1], target_row(1)[2], "=A1"])
    wb.save(tmp_path / "f.xlsx")
    err = _rejected("targets", tmp_path / "f.xlsx")
    assert err.problems == [(2, "公式单元格没有计算结果，请在 Excel 中保存后再导入（“地址”列）")]
    assert Target.get().address == target_row(1)[4]


def test_a_sheet_the_quick_reader_cannot_read_gives_a_plain_answer(db, tmp_path):
    rows = (_row(1, "统一社会信用代码", "单位名称", "类别", "投诉举报次数")
            + _row(2, code(1), "甲公司", "企业", "<c><v>not a number</v></c>"))
    # The quick reader gives up mid-sheet; openpyxl, asked next, fails on the same row.
    with pytest.raises(UserError, match=r"^无法读取 Excel 文件“odd.xlsx”第2行附近的内容"):
        registry.import_file("targets", _raw_xlsx(tmp_path / "odd.xlsx", rows), "clerk")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_file_with_only_the_header_is_refused(db, tmp_path, suffix):
    path = tmp_path / f"h{suffix}"
    (write_csv if suffix == ".csv" else write_xlsx)(path, T_HEAD, [["", "", ""]])
    with pytest.raises(UserError, match=r"^文件没有数据行。$"):
        registry.import_file("targets", path, "clerk")
    assert AuditEvent.select().count() == 0


def test_a_whole_column_checked_at_once_gives_what_each_cell_would():
    """cells.fast_column takes the common file's columns in one go; whenever it answers, the
    answer is parse_cell's for every cell, and any cell it cannot vouch for sends the column
    back to the cell-by-cell check (None)."""
    col = {c.field: c for c in kinds.find_kind("targets").columns}
    cases = [
        (col["name"], [" 甲公司 ", "乙公司"], True),
        (col["name"], ["甲公司", ""], False),               # a required cell left empty
        (col["name"], ["甲公司", "乙\x07公司"], False),      # a control character
        (col["name"], ["甲" * 201], False),                 # over max_len
        (col["address"], ["人民路1号", "  "], False),        # optional and empty: stored None
        (col["name"], ["甲公司", tabular.CellProblem("单元格为错误值")], False),
        (col["size_class"], ["小型", "微型"], True),
        (col["size_class"], ["小型", "巨型"], False),
        (col["active"], ["正常", "停用", "是"], True),
        (col["active"], ["正常", "也许"], False),
        (col["complaint_count"], ["0", "12", "007"], True),
        (col["complaint_count"], ["1", "-1"], False),
        (col["complaint_count"], ["1", "1.5"], False),
        (col["complaint_count"], ["1", "٣"], False),         # a digit, but not an ASCII one
        (col["complaint_count"], ["1", str(cells.INT_MAX + 1)], False),
        (col["complaint_count"], [0.0, 3.0], True),           # a spreadsheet's numbers
        (col["complaint_count"], [1.0, 2.5], False),
        (col["complaint_count"], [1.0, "2"], False),
        (col["uscc"], [code(1), code(2)], True),
        (col["uscc"], [code(1), code(2).lower()], False),    # normalised by parse_cell
        (col["uscc"], [code(1), code(2)[:17] + "0"], False),
    ]
    for c, raws, answers in cases:
        got = cells.fast_column(c, raws)
        assert (got is not None) == answers, (c.field, raws)
        if got is not None:
            assert got == [cells.parse_cell(c, raw) for raw in raws]
            assert [type(v) for v in got] == [type(cells.parse_cell(c, raw)) for raw in raws]


def test_the_cycle_collector_is_back_on_after_any_import(db, tmp_path, monkeypatch):
    import gc

    seen = []
    write = writer.write_upsert
    monkeypatch.setitem(importer.WRITERS, "targets", lambda *a: seen.append(gc.isenabled())
                        or write(*a))
    good = write_csv(tmp_path / "a.csv", T_HEAD, [target_row(1)])
    assert registry.import_file("targets", good, "clerk").inserted == 1
    bad = write_csv(tmp_path / "b.csv", T_HEAD, [target_row(2), ["坏代码", "某公司", "企业"]])
    with pytest.raises(ImportRejected):
        registry.import_file("targets", bad, "clerk")
    assert seen == [False] and gc.isenabled()
    # A collector someone else turned off stays off.
    gc.disable()
    try:
        registry.import_file("targets", good, "clerk")
        assert seen == [False, False] and not gc.isenabled()
    finally:
        gc.enable()
