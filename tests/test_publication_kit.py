"""Publishing a sealed draw (issue 10): the kit checks out with sha256sum, the stand-alone
verify.py and kiosk verify agree, the notice lists exactly the drawn codes, versions are kept."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from db.models import Assignment, AuditEvent, Draw, Publication, Rectification, Report, User
from kiosk import audit, demo
from kiosk.draw import verify as draw_verify
from kiosk.errors import UserError
from kiosk.publication import is_published, publish_draw, versions


@pytest.fixture
def store(db):
    demo.build(fresh=True)
    return db


def _draw() -> Draw:
    return Draw.get(Draw.state == "sealed")


def _leader() -> User:
    return User.get(User.username == "leader")


@pytest.fixture
def kit(store, tmp_path):
    out = tmp_path / "kit"
    res = publish_draw(_draw().id, out, _leader())
    return out, res


def _run(args, cwd):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="no sha256sum")
def test_sha256sum_checks_every_file_of_the_kit(kit):
    out, res = kit
    p = _run(["sha256sum", "-c", "SHA256SUMS"], out)
    assert p.returncode == 0, p.stdout + p.stderr
    checked = sorted(line.split(":")[0] for line in p.stdout.splitlines())
    assert checked == sorted(["notice.pdf", "notice.csv", "notice.html", "record.json",
                              "pool.tsv", "inspectors.tsv", "conflicts.tsv", "verify.py"])
    assert res.version == 1
    # tampering with one file is caught
    (out / "pool.tsv").write_bytes((out / "pool.tsv").read_bytes() + b"x\ty\n")
    assert _run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], out).returncode == 1


def test_the_kit_is_public_and_its_listings_match_the_digests(kit):
    out, _ = kit
    rec = json.loads((out / "record.json").read_text("utf-8"))
    for kind in ("pool", "inspectors", "conflicts"):
        data = (out / f"{kind}.tsv").read_bytes()
        assert hashlib.sha256(data).hexdigest() == rec["digests"][kind]
    assert oct((out / "notice.html").stat().st_mode & 0o777) == "0o644"


def _tamper_code(path):
    rec = json.loads(path.read_text("utf-8"))
    code = rec["selected"][0]
    rec["selected"][0] = code[:-1] + ("X" if code[-1] != "X" else "Y")
    path.write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")


def test_standalone_verify_py_agrees_with_kiosk_verify(kit, tmp_path):
    out, _ = kit
    py = shutil.which("python3") or sys.executable
    honest = _run([py, "-I", "-S", "verify.py", "record.json"], out)
    assert honest.returncode == 0, honest.stderr
    assert draw_verify.verify_file(out / "record.json")[0] == 0
    assert "核验通过" in honest.stdout

    bad = tmp_path / "tampered"
    shutil.copytree(out, bad)
    _tamper_code(bad / "record.json")
    p = _run([py, "-I", "-S", "verify.py", "record.json"], bad)
    code, message = draw_verify.verify_file(bad / "record.json")
    assert (p.returncode, code) == (1, 1)
    assert p.stderr.strip() == message  # the same first difference, word for word
    assert "第1个抽中对象不一致" in message

    (bad / "record.json").write_text("{not json", encoding="utf-8")
    p = _run([py, "-I", "-S", "verify.py", "record.json"], bad)
    assert (p.returncode, draw_verify.verify_file(bad / "record.json")[0]) == (2, 2)


def test_notice_csv_lists_exactly_the_selected_codes(kit):
    out, _ = kit
    rec = json.loads((out / "record.json").read_text("utf-8"))
    rows = list(csv.DictReader(io.StringIO((out / "notice.csv").read_text("utf-8-sig"))))
    assert [r["统一社会信用代码"] for r in rows] == rec["selected"]
    assert {r["查处结果"] for r in rows} == {"检查中"}  # no report is final yet
    teams = {t: " ".join(m) for t, m in rec["teams"]}
    assert all(r["检查人员执法证号"] == teams[r["统一社会信用代码"]] for r in rows)


def test_notice_pdf_holds_digests_seed_and_heads(kit):
    pdfium = pytest.importorskip("pypdfium2")
    out, _ = kit
    rec = json.loads((out / "record.json").read_text("utf-8"))
    doc = pdfium.PdfDocument(str(out / "notice.pdf"))
    text = "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    flat = "".join(text.split())  # a long hex value may wrap inside its cell
    for value in (*rec["digests"].values(), rec["seed"], rec["commitment"],
                  rec["system_entropy"], rec["audit_head"]):
        assert value in flat
    assert f"{rec['audit_seq']}:{rec['audit_head']}" in flat
    pub = Publication.get()
    assert json.loads(pub.files_json)["notice.pdf"] == hashlib.sha256(
        (out / "notice.pdf").read_bytes()).hexdigest()
    for word in ("公示", "法律依据", "检查中", "盖章", "种子", "第 1 次摇号"):
        assert word in text
    assert "双随机公示〔" in text  # the document number


def test_publication_is_audited_with_the_kit_hashes_and_verifies(kit):
    out, res = kit
    ev = AuditEvent.select().where(AuditEvent.action == "publish.draw").get()
    detail = json.loads(ev.detail)
    sums = dict(reversed(line.split("  ")) for line in
                (out / "SHA256SUMS").read_text().splitlines())
    assert {k: v for k, v in detail["files"].items() if k != "SHA256SUMS"} == sums
    assert ev.actor == "leader" and ev.entity == "publication"
    assert f"publication:{res.publication_id}" in json.loads(ev.covers)
    files = [json.loads(e.detail)["file"] for e in AuditEvent.select()
             .where(AuditEvent.action == "publish.file").order_by(AuditEvent.seq)]
    assert sorted(files) == sorted([*sums, "SHA256SUMS"])
    assert audit.verify().ok


def test_only_a_leader_may_publish_and_a_refusal_is_logged(store, tmp_path):
    for login in ("operator", "admin", "auditor", "reviewer", "witness1"):
        user = User.get(User.username == login)
        with pytest.raises(UserError, match="只有局领导可以发布"):
            publish_draw(_draw().id, tmp_path / login, user)
        assert not (tmp_path / login / "notice.pdf").exists()
    refused = [e.actor for e in AuditEvent.select()
               .where(AuditEvent.action == "publish.refused").order_by(AuditEvent.seq)]
    assert refused == ["operator", "admin", "auditor", "reviewer", "witness1"]
    assert not Publication.select().exists()


def test_an_unsealed_draw_cannot_be_published(store, tmp_path):
    with pytest.raises(UserError, match="没有编号为 999 的摇号"):
        publish_draw(999, tmp_path / "k", _leader())


def _finalise(assignment: Assignment, finding: str, deadline: dt.date | None = None) -> None:
    rep = Report.create(assignment=assignment, state="final", finding=finding,
                        finalised_at=dt.datetime(2026, 6, 1, 10, 0), rectify_deadline=deadline)
    if deadline:
        Rectification.create(report=rep, deadline=deadline)
    assignment.state = "final"
    assignment.save()


def test_a_second_publication_adds_results_and_keeps_version_1(store, tmp_path):
    draw = _draw()
    assert not is_published(draw.id)
    first = publish_draw(draw.id, tmp_path / "v1", _leader())
    targets = list(Assignment.select().where(Assignment.draw == draw.id)
                   .order_by(Assignment.position))
    _finalise(targets[0], "责令整改", dt.date(2099, 1, 31))
    _finalise(targets[1], "无问题")
    _finalise(targets[2], "移送司法机关")
    assert is_published(draw.id)
    second = publish_draw(draw.id, tmp_path / "v2", _leader())
    assert (first.version, second.version) == (1, 2)
    assert first.counts == {"检查中": len(targets)}
    assert second.counts == {"检查中": len(targets) - 3, "责令整改": 1, "无问题": 1, "移送": 1}

    rows = list(csv.DictReader(io.StringIO((tmp_path / "v2" / "notice.csv")
                                           .read_text("utf-8-sig"))))
    assert [r["查处结果"] for r in rows[:4]] == ["责令整改", "无问题", "移送", "检查中"]
    assert rows[0]["整改情况"] == "整改中，期限 2099-01-31"
    assert all(r["公示版本"] == "2" for r in rows)

    kept = versions(draw.id)
    assert [v.version for v in kept] == [1, 2]
    assert kept[0].counts == {"检查中": len(targets)}
    v1 = tmp_path / "v1" / "notice.csv"
    archived = (Path(kept[0].archive) / "notice.csv").read_bytes()
    assert archived == v1.read_bytes()  # the store keeps version 1's kit as published
    assert kept[0].files["notice.csv"] != kept[1].files["notice.csv"]
    assert audit.verify().ok


@pytest.mark.postgres
def test_publishing_on_postgresql_keeps_versions_and_verifies(pg_db, tmp_path):
    demo.build(fresh=True)
    draw = _draw()
    one = publish_draw(draw.id, tmp_path / "v1", _leader())
    two = publish_draw(draw.id, tmp_path / "v2", _leader())
    assert [v.version for v in versions(draw.id)] == [one.version, two.version] == [1, 2]
    assert draw_verify.verify_file(tmp_path / "v2" / "record.json")[0] == 0
    assert one.files["record.json"] == two.files["record.json"]  # the draw did not change
    assert audit.verify().ok


def test_an_unwritable_folder_is_one_sentence_and_publishes_nothing(store, tmp_path):
    out = tmp_path / "ro"
    out.mkdir()
    (out / "notice.csv").mkdir()  # a directory where a kit file must go: the rename fails
    with pytest.raises(UserError, match="无法写入公示文件"):
        publish_draw(_draw().id, out, _leader())
    assert not Publication.select().exists()
    assert not AuditEvent.select().where(AuditEvent.action.startswith("publish.")).exists()
    assert sorted(p.name for p in out.iterdir()) == ["notice.csv"]  # notice.pdf removed again
