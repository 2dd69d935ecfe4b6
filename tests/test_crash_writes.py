"""kill -9 in the middle of an import, a report autosave and a slip print: afterwards nothing
is lost or half-written, no stray file holds confidential data, the chain verifies, and the
slips of the last finished PDF still resolve. (The ceremony's steps are killed headless in
tests/test_draw_cli.py; the UI ceremony runs the same services.)"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from db.models import Assignment, AuditEvent, Report, Target
from kiosk import audit, reports, slips
from kiosk.errors import UserError
from tests.ops_world import member_and_assignment

ROOT = Path(__file__).resolve().parent.parent

# argv: db, action to stop in ("-" for none), where ("record" | "render" | "replace"), code
HOLD = """
import os, sys, time
from kiosk import audit, slips
db, stop, where, code = sys.argv[1:5]

def hold():
    print("holding", flush=True)
    time.sleep(60)

if where == "record":
    real = audit.record
    def record(actor, action, *a, **k):
        out = real(actor, action, *a, **k)
        if action == stop:
            hold()  # the event and the rows are written, the transaction not committed
        return out
    audit.record = record
elif where == "render":
    real_render = slips._render
    def render(*a, **k):
        out = real_render(*a, **k)
        hold()  # the PDF is written to its temporary name, nothing committed
        return out
    slips._render = render
elif where == "replace":
    real_replace = os.replace
    def replace(src, dst):
        real_replace(src, dst)
        if str(dst).endswith("slips.pdf"):
            hold()  # the PDF is in place, the version bump not yet committed
    os.replace = replace
exec(code)
"""


def _kill_while(db_path, stop, where, code, env=None):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(db_path), stop, where, code],
                            cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT), **(env or {})),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("holding"), proc.stderr.read()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def _verified():
    verdict = audit.verify()
    assert verdict.ok, verdict.message


@pytest.fixture
def demo(db, db_path):
    from kiosk import demo as d

    d.build(fresh=True)
    return db_path


def test_kill_during_import_writes_nothing(demo, tmp_path):
    from kiosk import registry

    src = tmp_path / "t.csv"
    registry.export_file("targets", src, "admin")
    lines = src.read_text(encoding="utf-8-sig").splitlines()
    first = lines[1].split(",")
    lines[1] = lines[1].replace(first[1], "商水县被中断导入有限公司", 1)
    from kiosk import uscc

    new = lines[1].replace(first[0], uscc.make(body="MA999999"), 1)
    src.write_text("\n".join([*lines, new]) + "\n", encoding="utf-8")
    n, events = Target.select().count(), AuditEvent.select().count()
    code = ("from kiosk import cli; cli.main(['--db', db, 'import', 'targets', "
            f"{str(src)!r}])")
    _kill_while(demo, "registry.import", "record", code,
                {"KIOSK_USER": "admin", "KIOSK_PASSWORD": "admin123"})
    assert Target.select().count() == n
    assert Target.get(Target.uscc == first[0]).name == first[1]
    assert AuditEvent.select().count() == events + 1  # the admin's login, nothing more
    _verified()
    # and the same import then goes through whole
    res = registry.import_file("targets", src, "admin", role="admin")
    assert res.inserted == 1 and Target.select().count() == n + 1
    assert Target.get(Target.uscc == first[0]).name == "商水县被中断导入有限公司"
    _verified()


def test_kill_during_report_autosave_keeps_the_last_save(demo):
    user, assignment = member_and_assignment()
    rep = reports.open_report(assignment, user)
    reports.save_draft(rep, {"onsite_record": "第一次保存的现场记录"}, user)
    code = ("from db import connect; connect(db)\n"
            "from db.models import Report, User\n"
            "from kiosk import reports\n"
            f"u = User.get_by_id({user.id})\n"
            f"reports.save_draft(Report.get_by_id({rep.id}), "
            "{'onsite_record': '第二次，未提交', 'evaluation': '未提交'}, u)")
    _kill_while(demo, "report.save", "record", code)
    row = Report.get_by_id(rep.id)
    assert row.onsite_record == "第一次保存的现场记录" and row.evaluation == ""
    _verified()
    reports.save_draft(row, {"onsite_record": "第三次保存"}, user)
    assert Report.get_by_id(rep.id).onsite_record == "第三次保存"
    _verified()


def _print_code(draw_id, out):
    return (f"from kiosk import cli; cli.main(['--db', db, 'slips', '--draw', '{draw_id}', "
            f"'--out', {str(out)!r}])")


OPERATOR = {"KIOSK_USER": "operator", "KIOSK_PASSWORD": "operator123"}


def test_kill_after_rendering_leaves_no_stray_pdf_and_old_slips_valid(demo, tmp_path):
    _, assignment = member_and_assignment()
    out = tmp_path / "print" / "slips.pdf"
    slips.render_slips(assignment.draw_id, out, "operator")
    first = out.read_bytes()
    a = Assignment.get_by_id(assignment.id)
    old = slips.payload(a)
    _kill_while(demo, "-", "render", _print_code(a.draw_id, out), OPERATOR)
    stray = list(out.parent.glob(".slips-*"))
    assert len(stray) == 1 and stray[0].stat().st_mode & 0o077 == 0  # owner-only meanwhile
    assert out.read_bytes() == first and Assignment.get_by_id(a.id).slip_version == 1
    assert slips.resolve(old).id == a.id
    _verified()
    # the next print in that folder removes what the killed one left
    slips.render_slips(a.draw_id, out, "operator")
    assert not list(out.parent.glob(".slips-*"))
    with pytest.raises(UserError, match="已作废"):
        slips.resolve(old)
    _verified()


def test_kill_between_the_file_and_the_version_bump(demo, tmp_path):
    _, assignment = member_and_assignment()
    out = tmp_path / "slips.pdf"
    slips.render_slips(assignment.draw_id, out, "operator")
    a = Assignment.get_by_id(assignment.id)
    old = slips.payload(a)
    _kill_while(demo, "-", "replace", _print_code(a.draw_id, out), OPERATOR)
    # The new file is in place, its bump never committed: both versions resolve.
    assert Assignment.get_by_id(a.id).slip_version == 1
    printed = slips.payload(a, version=2)
    assert slips.resolve(printed).id == a.id
    assert slips.resolve(old).id == a.id
    assert not list(tmp_path.glob(".slips-*"))
    _verified()
    # Reprinting carries the same version 2 codes; version 1 is then void.
    slips.render_slips(a.draw_id, out, "operator")
    assert slips.resolve(printed).id == a.id
    with pytest.raises(UserError, match="已作废"):
        slips.resolve(old)
    with pytest.raises(UserError, match="校验失败"):
        slips.resolve(slips.payload(a, version=4))
    _verified()
