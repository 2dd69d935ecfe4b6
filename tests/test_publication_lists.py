"""The public lists (Art. 4, 5) and the provincial exchange (Art. 16): versioned items with
their history, the directory of inspectors certified on the day, the year's published results."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from db.models import Assignment, AuditEvent, Draw, Inspector, ItemVersion, Report, User
from kiosk import audit, demo, registry
from kiosk.errors import UserError
from kiosk.publication import publish_draw, publish_lists, versions
from kiosk.publication.kit import export_exchange

TODAY = dt.date(2026, 6, 15)

ITEM_HEADER = "事项编码,事项名称,检查依据,检查内容,检查对象类别,责任股室,分层及比例\n"


def _rows(path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8-sig"))))


@pytest.fixture
def store(db):
    demo.build(fresh=True, today=TODAY)
    return db


def _leader() -> User:
    return User.get(User.username == "leader")


def _import_items(tmp_path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(ITEM_HEADER + text, encoding="utf-8")
    registry.import_file("items", path, "admin", role="admin")


def test_directory_leaves_out_an_inspector_whose_certificate_expired_yesterday(store, tmp_path):
    Inspector.update(cert_valid_until=TODAY - dt.timedelta(days=1)).where(
        Inspector.cert_no == "豫人社监0003").execute()
    Inspector.update(cert_valid_until=TODAY).where(Inspector.cert_no == "豫人社监0004").execute()
    Inspector.update(active=False).where(Inspector.cert_no == "豫人社监0005").execute()
    Inspector.update(cert_valid_from=TODAY + dt.timedelta(days=1)).where(
        Inspector.cert_no == "豫人社监0006").execute()
    res = publish_lists(tmp_path / "lists", _leader(), today=TODAY)
    listed = [r["执法证号"] for r in _rows(tmp_path / "lists" / "inspectors.csv")]
    assert "豫人社监0003" not in listed  # expired yesterday
    assert "豫人社监0004" in listed  # valid through today
    assert "豫人社监0005" not in listed and "豫人社监0006" not in listed
    assert "豫人社监0015" not in listed  # the demo's expired certificate
    assert len(listed) == 15 - 4 == res.counts["inspectors"]
    assert {r["公示日期"] for r in _rows(tmp_path / "lists" / "inspectors.csv")} == {str(TODAY)}
    assert "联系电话" not in (tmp_path / "lists" / "inspectors.csv").read_text("utf-8-sig")


def test_item_list_carries_version_and_effective_date_and_keeps_history(store, tmp_path):
    _import_items(tmp_path, "a.csv", "RS-90,旧名称,《条例》第一条,工资,用人单位,劳动关系股,"
                                     "一般:default:1%\n")
    _import_items(tmp_path, "b.csv", "RS-90,新名称,《条例》第一条,工资,用人单位,劳动关系股,"
                                     "一般:default:2%\n")
    _import_items(tmp_path, "c.csv", "RS-90,新名称,《条例》第一条,工资,用人单位,劳动关系股,"
                                     "一般:default:2%\n")  # unchanged: no new version
    assert [v.version for v in ItemVersion.select().where(ItemVersion.code == "RS-90")
            .order_by(ItemVersion.version)] == [1, 2]
    publish_lists(tmp_path / "lists", _leader(), today=TODAY)
    items = _rows(tmp_path / "lists" / "items.csv")
    assert len(items) == 8  # the demo's seven and RS-90, each at its newest version
    rs90 = next(r for r in items if r["事项编码"] == "RS-90")
    assert (rs90["事项名称"], rs90["版本"], rs90["分层比例"]) == ("新名称", "2", "一般 2%")
    assert all(r["版本"] and r["生效日期"] for r in items)
    history = [r for r in _rows(tmp_path / "lists" / "item_history.csv")
               if r["事项编码"] == "RS-90"]
    assert [(r["版本"], r["事项名称"]) for r in history] == [("1", "旧名称"), ("2", "新名称")]
    assert history[0]["失效日期"] == history[1]["生效日期"]
    assert history[1]["失效日期"] == ""


def test_lists_publish_as_versions_only_by_a_leader(store, tmp_path):
    with pytest.raises(UserError, match="只有局领导"):
        publish_lists(tmp_path / "x", User.get(User.username == "admin"), today=TODAY)
    publish_lists(tmp_path / "l1", _leader(), today=TODAY)
    publish_lists(tmp_path / "l2", _leader(), today=TODAY)
    assert [v.version for v in versions(None, kind="lists")] == [1, 2]
    ev = AuditEvent.select().where(AuditEvent.action == "publish.lists").order_by(
        AuditEvent.seq.desc()).first()
    assert json.loads(ev.detail)["version"] == 2
    assert audit.verify().ok


def test_exchange_exports_the_years_published_results(store, tmp_path):
    draw = Draw.get(Draw.state == "sealed")
    year = draw.task.year
    export_exchange(year, tmp_path / "empty", _leader())  # nothing published yet
    assert json.loads((tmp_path / "empty" / "exchange.json").read_text())["results"] == []

    first = (Assignment.select().where(Assignment.draw == draw.id)
             .order_by(Assignment.position).first())
    Report.create(assignment=first, state="final", finding="行政处罚",
                  finalised_at=dt.datetime(2026, 6, 1, 9, 0))
    publish_draw(draw.id, tmp_path / "kit", _leader())
    res = export_exchange(year, tmp_path / "ex", _leader())
    doc = json.loads((tmp_path / "ex" / "exchange.json").read_text("utf-8"))
    rec = json.loads((tmp_path / "kit" / "record.json").read_text("utf-8"))
    assert doc["schema"] == "dsr-exchange/1" and doc["year"] == year
    assert [r["uscc"] for r in doc["results"]] == rec["selected"]
    assert doc["results"][0]["result"] == "行政处罚"
    assert doc["draws"][0]["seed"] == rec["seed"]
    assert doc["tasks"][0]["published_version"] == 1
    assert res.counts == {"results": len(rec["selected"])}
    results_csv = _rows(tmp_path / "ex" / "results.csv")
    assert [r["uscc"] for r in results_csv] == rec["selected"]
    assert [f["field"] for f in doc["fields"]["results"]] == list(results_csv[0])
    for name in ("tasks", "draws", "rectifications"):
        assert (tmp_path / "ex" / f"{name}.csv").exists()
    with pytest.raises(UserError, match="只有局领导"):
        export_exchange(year, tmp_path / "no", User.get(User.username == "auditor"))
    with pytest.raises(UserError, match="不在 2000–2100"):
        export_exchange(99999, tmp_path / "no", _leader())


def test_the_readme_documents_every_exchange_field():
    """Each exchange file's schema in the README equals kiosk.publication.exchange.FILES."""
    from pathlib import Path

    from kiosk.publication.exchange import FILES

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    section = text[text.index("## 省级平台交换文件"):]
    for name, cols in FILES.items():
        part = section[section.index(f"### {name}.csv"):]
        part = part[:part.index("\n\n", part.index("| ---"))] if "\n\n" in part[
            part.index("| ---"):] else part
        rows = [line.split(" | ") for line in part.splitlines() if line.startswith("| `")]
        assert [(r[0][3:-1], r[1], r[2].rstrip(" |")) for r in rows] == list(cols)


def test_published_csvs_neutralise_formula_cells(store, tmp_path):
    """OWASP's CSV-injection rule in every published CSV, not only the registry export: a
    cell that would start a formula (=, +, -, @, TAB, CR) opens as text, the JSON keeps the
    value as it is."""
    hostile = {"豫人社监0001": '=HYPERLINK("http://x","点此")',
               "豫人社监0002": "\t+cmd|' /C calc'!A0", "豫人社监0007": "@SUM(1+1)"}
    for cert, office in hostile.items():
        Inspector.update(office=office).where(Inspector.cert_no == cert).execute()
    publish_lists(tmp_path / "lists", _leader(), today=TODAY)
    rows = {r["执法证号"]: r for r in _rows(tmp_path / "lists" / "inspectors.csv")}
    assert {c: r["股室"] for c, r in rows.items() if c in hostile} == {
        c: "'" + o for c, o in hostile.items()}

    draw = Draw.get(Draw.state == "sealed")
    first = (Assignment.select().where(Assignment.draw == draw.id)
             .order_by(Assignment.position).first())
    Report.create(assignment=first, state="final", finding="-责令改正",
                  finalised_at=dt.datetime(2026, 6, 1, 9, 0))
    publish_draw(draw.id, tmp_path / "kit", _leader())
    export_exchange(draw.task.year, tmp_path / "ex", _leader())
    assert _rows(tmp_path / "ex" / "results.csv")[0]["result"] == "'-责令改正"
    doc = json.loads((tmp_path / "ex" / "exchange.json").read_text("utf-8"))
    assert doc["results"][0]["result"] == "-责令改正"
    for path in (tmp_path / "lists").glob("*.csv"):
        cells = [c for r in csv.reader(io.StringIO(path.read_text("utf-8-sig"))) for c in r]
        assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells), path
