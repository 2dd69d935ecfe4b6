"""notice.html verifies the draw in a real headless Chromium: the honest page says match, a
page with one changed code says mismatch and where; the JS agrees with the spec vectors and
with Python's canon() on awkward strings."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from kiosk.draw import lottery
from kiosk.publication import notice_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
VECTORS = sorted((Path(__file__).resolve().parents[2] / "shared" / "spec" / "vectors")
                 .glob("public-*.json"))
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")

_VERDICT = re.compile(r'<div id="verdict"([^>]*)>([^<]*)<')


def verdict(page: Path, tmp_path: Path) -> tuple[str, str, str]:
    """(data-result, data-where, text) of #verdict after the page's script has run."""
    p = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={tmp_path / 'chromium-profile'}",
         "--virtual-time-budget=10000", "--dump-dom", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    m = _VERDICT.search(p.stdout)
    assert m, p.stdout[-2000:] + p.stderr[-2000:]
    attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', m.group(1)))
    return attrs.get("data-result", ""), attrs.get("data-where", ""), m.group(2)


def _page(tmp_path: Path, name: str, record: dict) -> Path:
    path = tmp_path / name
    path.write_text(notice_html.render_record_only(record), encoding="utf-8")
    return path


@pytest.mark.skipif(not VECTORS, reason="spec vectors (../shared) not beside the repository")
@pytest.mark.parametrize("vector", VECTORS, ids=lambda p: p.stem)
def test_the_page_agrees_with_the_spec_vectors(vector, tmp_path):
    d = json.loads(vector.read_text("utf-8"))
    rec = {"protocol": "dsr-draw/1", **d["input"], **d["expected"]}
    assert verdict(_page(tmp_path, "v.html", rec), tmp_path)[0] == "match"
    # one changed member of the last team: mismatch, and the page says it is the teams
    bad = json.loads(json.dumps(rec))
    bad["teams"][-1][1][0] = bad["teams"][-1][1][0] + "0"
    result, where, text = verdict(_page(tmp_path, "t.html", bad), tmp_path)
    assert (result, where) == ("mismatch", "teams")
    assert "检查组不一致" in text


def test_canon_in_the_browser_matches_python_on_awkward_strings(tmp_path):
    """Quotes, backslashes, control characters, U+3000 and NBSP around witness entropy,
    combining marks (NFC), astral code points in stratum names (code-point order, not UTF-16)
    and a beacon with a newline escape: the page's seed equals Python's."""
    pool = [[f"9141162300000{n:04d}X", s] for n, s in
            enumerate(["一般", "\U0001F600特", "\uff01高", "一般", "\U0001F600特", "\uff01高",
                       "一般"] * 4)]
    inputs = {"pool": pool, "inspectors": [f"豫{n:03d}" for n in range(7)],
              "conflicts": [["豫001", pool[0][0]]],
              "strata": {"一般": {"ratio_bp": 5000}, "\U0001F600特": {"ratio_bp": 3000},
                         "\uff01高": {"ratio_bp": 10000}},
              "team_size": 2, "system_entropy": "ab" * 32,
              "witness_entropy": ["\u3000 e\u0301 \"引号\" \\ \x01\x1f\x7f\u00a0",
                                  "\x1c骰子 6 2 5\u0085"],
              "beacon": "福彩 \u2028 第1期", "amendments": []}
    res = lottery.run(inputs)
    first_team = res["teams"][0]
    inputs["amendments"] = [{"target": first_team[0], "inspector": first_team[1][0],
                             "reason": "当场申报"}]
    res = lottery.run(inputs)
    rec = {"protocol": "dsr-draw/1", **inputs, "digests": res["digests"],
           "commitment": res["commitment"], "seed": res["seed"], "selected": res["selected"],
           "teams": res["teams"]}
    assert verdict(_page(tmp_path, "a.html", rec), tmp_path)[0] == "match"
    rec["witness_entropy"] = [*rec["witness_entropy"][:1], "\x1c骰子 6 2 6\u0085"]
    result, where, _ = verdict(_page(tmp_path, "b.html", rec), tmp_path)
    assert (result, where) == ("mismatch", "seed")


def test_the_published_notice_matches_and_a_changed_code_does_not(db, tmp_path):
    from db.models import Draw, User
    from kiosk import demo
    from kiosk.publication import publish_draw

    demo.build(fresh=True)
    out = tmp_path / "kit"
    publish_draw(Draw.get(Draw.state == "sealed").id, out, User.get(User.username == "leader"))
    page = out / "notice.html"
    result, _, text = verdict(page, tmp_path)
    assert result == "match", text
    rec = json.loads((out / "record.json").read_text("utf-8"))
    assert f"{len(rec['selected'])} 个抽中对象" in text

    html = page.read_text("utf-8")
    code = rec["selected"][2]
    changed = code[:-1] + ("0" if code[-1] != "0" else "1")
    # one changed code in the embedded record's selection
    embedded = html.index('id="dsr-record"')
    at = html.index(f'"{code}"', html.index('"selected"', embedded))
    tampered = tmp_path / "tampered.html"
    tampered.write_text(html[:at] + f'"{changed}"' + html[at + len(code) + 2:], "utf-8")
    result, where, text = verdict(tampered, tmp_path)
    assert (result, where) == ("mismatch", "selected")
    assert f"第3个抽中对象不一致：页面为 {changed}，重算为 {code}" in text

    # one changed code in the table people read: also a mismatch, named as the table
    cell = f'<td data-target-uscc data-label="统一社会信用代码">{code}</td>'
    at = html.index(cell)
    shown = tmp_path / "table.html"
    shown.write_text(html[:at] + cell.replace(code, changed) + html[at + len(cell):], "utf-8")
    result, where, _ = verdict(shown, tmp_path)
    assert (result, where) == ("mismatch", "table")


def test_a_draw_with_a_beacon_and_an_amendment_publishes_and_verifies(db, tmp_path):
    """The kit of a draw with a declared beacon and an on-the-spot recusal: the page, the
    stand-alone verify.py and the PDF all carry the amendment, and both verifiers match."""
    import sys

    import pypdfium2 as pdfium

    from db.models import User
    from kiosk import auth
    from kiosk.draw import steps
    from kiosk.draw import view as draw_view
    from kiosk.publication import publish_draw
    from tests.draw_world import confirm_all, make_world, run_to_matched

    _item, _targets, _inspectors, tasks = make_world()
    draw_id = run_to_matched(tasks[0].code, beacon_source="福彩3D 开奖号码", beacon="7 0 9")
    first = draw_view.view(draw_id, "operator").selected[0]
    out_cert = first["team"][0]["cert_no"]
    replacement = steps.amend(draw_id, first["uscc"], out_cert, "曾在该单位任职", "operator")
    confirm_all(draw_id)
    steps.seal(draw_id, "operator")
    auth.create_user("leader", "leader123", "leader", "周局长")
    out = tmp_path / "kit"
    publish_draw(draw_id, out, User.get(User.username == "leader"))

    result, _, text = verdict(out / "notice.html", tmp_path)
    assert result == "match", text
    html = (out / "notice.html").read_text("utf-8")
    assert "曾在该单位任职" in html and "福彩3D 开奖号码" in html and "7 0 9" in html
    p = subprocess.run([sys.executable, "-I", "-S", "verify.py", "record.json"], cwd=out,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    doc = pdfium.PdfDocument(str(out / "notice.pdf"))
    pdf_text = "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    assert "当场回避更正" in pdf_text and replacement in pdf_text and "钱正平" in pdf_text
