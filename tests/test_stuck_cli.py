"""Issue 11's stuck points at the command line: `kiosk slips` takes a task code or --draw, never
a bare number; `kiosk open` without a terminal exits with a sentence instead of spinning."""
from __future__ import annotations

import time

import pytest

from tests.test_cli import _one_terminal, demo_db, files_dir, kiosk  # noqa: F401  (fixtures)


@pytest.fixture(scope="module")
def sealed(demo_db):  # noqa: F811
    """(task code, draw id, first target's task code) of the demo's sealed draw."""
    from db import connect
    from db.models import Assignment, Draw

    db = connect(demo_db)
    try:
        draw = Draw.get(Draw.state == "sealed")
        first = (Assignment.select().where(Assignment.draw == draw)
                 .order_by(Assignment.position).first())
        return draw.task.code, draw.id, first.task_code, Assignment.select().where(
            Assignment.draw == draw).count()
    finally:
        db.close()


def pages(path) -> int:
    pdfium = pytest.importorskip("pypdfium2")
    return len(pdfium.PdfDocument(str(path)))


def test_slips_by_task_code_by_draw_and_one_target(demo_db, sealed, tmp_path):  # noqa: F811
    code, draw_id, one, n = sealed
    out = tmp_path / "by-code.pdf"
    p = kiosk("slips", code, "--out", out, "--db", demo_db, check=0, as_="operator")
    assert p.stdout.startswith(f"任务 {code} 第 1 次摇号（摇号编号 {draw_id}）的任务单：")
    assert pages(out) == n
    out = tmp_path / "by-draw.pdf"
    p = kiosk("slips", "--draw", draw_id, "--out", out, "--db", demo_db, check=0, as_="operator")
    assert pages(out) == n
    out = tmp_path / "one.pdf"
    p = kiosk("slips", one, "--out", out, "--db", demo_db, check=0, as_="operator")
    assert p.stdout.startswith(f"任务 {one}（摇号编号 {draw_id}）的任务单：")
    assert pages(out) == 1


EITHER = "请写任务编号（如 2026-RS-01-1），或用 --draw 摇号编号，二者选一。\n"


@pytest.mark.parametrize(("args", "sentence"), [
    (("1",), "“1”不是任务编号：请写任务编号（如 2026-RS-01-1），或用 --draw 1 指定摇号编号。\n"),
    ((), EITHER),
    (("2026-RS-01-1", "--draw", "1"), EITHER),
    (("--draw", "999"), "摇号编号 999 不存在。\n"),
    (("2099-XX-9",), "没有任务编号“2099-XX-9”：请用 kiosk tasks 查看任务编号。\n"),
])
def test_ambiguous_or_unknown_slips_argument_is_one_sentence(demo_db, tmp_path, args,  # noqa: F811
                                                             sentence):
    out = tmp_path / "s.pdf"
    p = kiosk("slips", *args, "--out", out, "--db", demo_db, check=2, as_="operator")
    assert p.stderr == sentence
    assert not out.exists()


def test_slips_of_a_task_not_yet_drawn(demo_db, tmp_path):  # noqa: F811
    import json

    tasks = json.loads(kiosk("tasks", "--json", "--db", demo_db, check=0).stdout)
    planned = next(t["code"] for t in tasks if t["state"] == "planned")
    p = kiosk("slips", planned, "--out", tmp_path / "s.pdf", "--db", demo_db, check=1,
              as_="operator")
    assert p.stderr == f"任务 {planned} 还没有封存的摇号结果，没有任务单可打印。\n"


def test_open_without_a_terminal_exits_with_a_sentence(demo_db, sealed):  # noqa: F811
    from db import connect
    from db.models import Assignment
    from kiosk import slips

    db = connect(demo_db)
    try:
        payload = slips.payload(Assignment.get(Assignment.task_code == sealed[2]))
    finally:
        db.close()
    started = time.monotonic()
    p = kiosk("open", payload, "--db", demo_db, check=1, as_="insp01",
              env_extra={"KIOSK_PASSWORD": "insp123"})
    assert time.monotonic() - started < 60
    assert p.stderr == ("kiosk open 需要在终端中运行才能打开报告表单；"
                        "在脚本中请加 --check 只校验任务单。\n")
