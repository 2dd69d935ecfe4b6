"""Task slips: one QR-coded page per assignment, their HMAC tokens, and resolving a scan."""
from __future__ import annotations

import base64
import gc
import hashlib
import hmac
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from db.models import (
    Assignment,
    AssignmentMember,
    Draw,
    Inspector,
    Item,
    PlanTask,
    Target,
)
from kiosk import audit, settings
from kiosk.errors import UserError
from kiosk.ops.files import partial_names, sweep_partials, writer_tag
from kiosk.store import write_tx
from kiosk.workdays import DEADLINE_RULE

TOKEN_CHARS = 20  # base32: 100 bits of HMAC-SHA256, case-insensitive for scanners
SECRET_NAME = "slip_hmac"

_CODE_RE = re.compile(r"\d{4}-\d{2}-\d{3,6}")
_PAYLOAD_RE = re.compile(r"(?P<base>\S+?)/r/(?P<code>[^/?#\s]+)\?k=(?P<token>[A-Za-z0-9]+)")


# ---------------------------------------------------------------- tokens and payloads

def _secret() -> bytes:
    # The key file outside the store (kiosk/secrets.py): a reader of the store cannot forge.
    from kiosk import secrets as kiosk_secrets

    return kiosk_secrets.slip_secret()


def _token(key: bytes, task_code: str, version: int) -> str:
    mac = hmac.new(key, f"slip\x00{task_code}\x00{int(version)}".encode(), hashlib.sha256)
    return base64.b32encode(mac.digest()).decode()[:TOKEN_CHARS]


def token(task_code: str, version: int) -> str:
    """The slip token: HMAC-SHA256 of task code and print version under this kiosk's secret."""
    return _token(_secret(), task_code, version)


def base_url() -> str:
    return settings.get("base_url").strip().rstrip("/")


def payload(assignment: Assignment, version: int | None = None) -> str:
    """The QR text of the assignment's slip at its current (or the given) print version."""
    v = assignment.slip_version if version is None else version
    return f"{base_url()}/r/{assignment.task_code}?k={token(assignment.task_code, v)}"


# ---------------------------------------------------------------- resolving a scan

def _refuse(actor: str, reason: str, message: str, text: str, code: str = "") -> UserError:
    audit.record(actor, "slips.refused", "assignment", code, reason=reason, text=text[:200])
    return UserError(message)


def resolve(text: str, actor: str = "scanner") -> Assignment:
    """The assignment a scanned payload (or a task code typed by hand) names.

    A bare task code returns its assignment; the caller must then require a login by a
    team member. Every refusal is one Chinese sentence and an audit event `slips.refused`.
    """
    s = (text or "").strip()
    if _CODE_RE.fullmatch(s):
        a = Assignment.get_or_none(Assignment.task_code == s)
        if a is None:
            raise _refuse(actor, "unknown_code", f"任务编号 {s} 不存在，请核对后重新输入。", s, s)
        return a
    m = _PAYLOAD_RE.fullmatch(s)
    if m is None:
        raise _refuse(actor, "bad_shape", "无法识别扫码内容：请扫描任务单上的二维码，"
                      "或输入任务编号（如 2026-07-0013）。", s)
    code, tok = m["code"], m["token"].upper()
    if m["base"].rstrip("/") != base_url():
        raise _refuse(actor, "wrong_base_url",
                      "该二维码不是本终端的任务单（地址不符），已拒绝并记录。", s, code)
    a = Assignment.get_or_none(Assignment.task_code == code)
    if a is None:
        raise _refuse(actor, "unknown_code",
                      f"任务编号 {code} 不存在，该任务单无效，已拒绝并记录。", s, code)
    key = _secret()
    if a.slip_version > 0 and hmac.compare_digest(_token(key, code, a.slip_version), tok):
        return a
    # The next version too: a print is moved into place just before its version bump
    # commits, so a crash between the two leaves a finished PDF one version ahead of the
    # store. Its slips are genuine (same key) and the next print would carry the same codes.
    if hmac.compare_digest(_token(key, code, a.slip_version + 1), tok):
        return a
    for v in range(a.slip_version - 1, 0, -1):
        if hmac.compare_digest(_token(key, code, v), tok):
            raise _refuse(actor, "superseded",
                          f"任务 {code} 的任务单已重新打印（第 {a.slip_version} 版），"
                          f"此单（第 {v} 版）已作废，请使用最新打印的任务单。", s, code)
    raise _refuse(actor, "bad_token", f"任务单 {code} 校验失败：二维码被改动或不是本终端打印的，"
                  "已拒绝并记录。", s, code)


# ---------------------------------------------------------------- rendering

@dataclass
class SlipData:
    """Everything one slip shows (read in bulk, so 1,000 slips take a handful of queries)."""

    assignment_id: int
    task_code: str
    version: int  # the version this print will carry
    target_name: str
    target_uscc: str
    target_address: str
    stratum: str
    team: list[tuple[str, str]]  # (name, cert_no)


def _draw_context(draw: Draw) -> dict:
    task = PlanTask.get_by_id(draw.task_id)
    item = Item.get_by_id(task.item_id)
    return {"item": item, "task": task, "seed": draw.seed, "draw": draw}


def _slip_rows(assignments: list[Assignment], versions: dict[int, int]) -> list[SlipData]:
    ids = [a.id for a in assignments]
    targets: dict[int, tuple[str, str, str]] = {}
    team: dict[int, list[tuple[str, str]]] = {i: [] for i in ids}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        q = (Assignment.select(Assignment.id, Target.name, Target.uscc, Target.address)
             .join(Target).where(Assignment.id.in_(chunk)).tuples())
        for aid, name, uscc, addr in q:
            targets[aid] = (name, uscc, addr)
        q = (AssignmentMember.select(AssignmentMember.assignment, Inspector.name,
                                     Inspector.cert_no)
             .join(Inspector).where(AssignmentMember.assignment.in_(chunk))
             .order_by(AssignmentMember.assignment, AssignmentMember.position).tuples())
        for aid, name, cert in q:
            team[aid].append((name, cert))
    return [SlipData(a.id, a.task_code, versions[a.id] + 1, *targets[a.id], a.stratum,
                     team[a.id]) for a in assignments]


def _render(ctx: dict, rows: list[SlipData], out: Path, key: bytes, base: str,
            chain_head: tuple[int, str]) -> Path:
    # A 1,000-page document is ~10^6 live objects that the cyclic GC would rescan over and
    # over (~5% of the time); nothing here makes reference cycles worth collecting early.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _render_pages(ctx, rows, out, key, base, chain_head)
    finally:
        if paused:
            gc.enable()


def _render_pages(ctx: dict, rows: list[SlipData], out: Path, key: bytes, base: str,
                  chain_head: tuple[int, str]) -> Path:
    from kiosk.printing.base import KioskPDF

    item: Item = ctx["item"]
    draw: Draw = ctx["draw"]
    # The title is the only bold CJK text: outlined regular glyphs spare the Bold face.
    pdf = KioskPDF(doc_title="双随机抽查任务单", real_bold=False)
    # one slip, one page: long fields are cut, never spilled onto a second page
    pdf.set_auto_page_break(False, margin=pdf.footer_height)
    pdf.page_count = len(rows)
    w = pdf.epw
    small = pdf.w < 160
    qr_size = 38 if small else 48
    size = 9.5 if small else 10.5
    lw = 24 if small else 30
    basis = item.legal_basis.replace("\r", "").replace("\n", "；")
    # GB/T 9704: the document number (机关代字〔年份〕序号) of the draw the slips come from.
    subtitle = (f"双随机任〔{ctx['task'].year}〕{draw.id}号 · {ctx['task'].code} "
                f"第 {draw.attempt_no} 次摇号（{draw.draw_date}）")
    head = f"#{chain_head[0]} {chain_head[1]}"
    notice = ("检查结束后，凭本单在终端扫码（或输入任务编号并登录）录入检查报告。"
              "本单仅限检查组成员使用，抽查结果公示前不得外传（第十二条）。")
    for row in rows:
        pdf.add_page()
        pdf.footer_note = f"{row.task_code} · 第 {row.version} 版 · 重新打印后旧单作废"
        top = pdf.get_y()
        text = f"{base}/r/{row.task_code}?k={_token(key, row.task_code, row.version)}"
        # QR at the top right, with its text under it for a person to read or type.
        qx = pdf.w - pdf.r_margin - qr_size
        pdf.qr(text, qx, top, qr_size)
        if text.isascii():
            pdf.set_font("Courier", size=5.4)
        else:  # an internationalised base URL: Courier has no such glyphs
            pdf.font(5.4)
        cap_w = qr_size + 10
        cap = pdf.wrap(text.replace("?k=", "\n?k=", 1), cap_w)
        cap_bottom = pdf.text_lines(cap, pdf.w - pdf.r_margin - cap_w, top + qr_size, 2.4,
                                    width=cap_w, align="C")
        left_w = w - qr_size - 4
        x = pdf.l_margin
        pdf.font(17 if small else 20)
        y = pdf.bold_lines(["双随机抽查任务单"], x, top + 1, 10)
        pdf.font(9)
        y = pdf.text_lines(["任务编号"], x, y + 1, 5)
        pdf.set_font("Courier", "B", size=19 if small else 21)
        y = pdf.text_lines([row.task_code], x, y, 8.5)
        pdf.font(8.5)
        pdf.set_text_color(70)
        y = pdf.text_lines(pdf.wrap(f"{subtitle} · 分层：{row.stratum or '—'}", left_w),
                           x, y + 0.5, 4.4)
        pdf.set_text_color(0)
        pdf.set_xy(x, max(y, cap_bottom) + 2)
        pdf.kv("检查对象", row.target_name, label_w=lw, size=size + 1, max_lines=2)
        pdf.kv("信用代码", row.target_uscc, label_w=lw, size=size)
        pdf.kv("地址", row.target_address, label_w=lw, size=size, max_lines=2)
        pdf.kv("抽查事项", f"{item.code} {item.name}", label_w=lw, size=size, max_lines=2)
        pdf.kv("法律依据", basis, label_w=lw, size=size, max_lines=3)
        pdf.kv("检查方式", item.method, label_w=lw, size=size)
        pdf.kv("检查人员", "\n".join(f"{n}（执法证号 {c}）" for n, c in row.team),
               label_w=lw, size=size, max_lines=4)
        pdf.kv("报告时限", DEADLINE_RULE, label_w=lw, size=size, max_lines=2)
        pdf.kv("摇号种子", ctx["seed"][:16] + "...", label_w=lw, size=size, mono=True)
        pdf.kv("审计链头", head, label_w=lw, size=size - 1.5, mono=True, max_lines=2)
        pdf.font(8)
        pdf.set_text_color(60)
        y = pdf.text_lines(pdf.wrap(notice, w), x, pdf.get_y() + 2, 3.9)
        pdf.set_text_color(0)
        # signatures sit at the bottom of the page, whatever the fields above took
        pdf.set_y(max(y, pdf.h - pdf.b_margin - 12))
        pdf.signature_lines(["领取人", "发放人"], size=9)
    sweep_stale(out.parent)
    # The machine and pid in the name let the next print there remove what a killed one left.
    tmp = tempfile.NamedTemporaryFile(dir=out.parent, prefix=f".slips-{writer_tag()}-",
                                      suffix=".pdf", delete=False)
    tmp.close()
    try:
        pdf.output(tmp.name)
    except BaseException:
        os.unlink(tmp.name)
        raise
    return Path(tmp.name)


def sweep_stale(folder: Path) -> int:
    """Remove half-written slip PDFs (`.slips-HOST-PID-*.pdf`) of this machine's processes
    that are gone: a killed print must not leave names and task codes lying in the folder."""
    return sweep_partials(folder, _SLIPS_PARTIAL)


_SLIPS_PARTIAL = partial_names(r"\.slips-", "-", r"\.pdf")


def _print(assignments: list[Assignment], draw: Draw, out_path: os.PathLike | str,
           actor: str, entity: str, entity_id: object) -> Path:
    out = Path(out_path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"无法创建目录“{out.parent}”：{e.strerror or e}。") from None
    if not assignments:
        raise UserError("该次摇号没有任务，无可打印的任务单。")
    ids = [a.id for a in assignments]
    before: dict[int, int] = {}
    for i in range(0, len(ids), 500):
        before.update(Assignment.select(Assignment.id, Assignment.slip_version)
                      .where(Assignment.id.in_(ids[i:i + 500])).tuples())
    rows = _slip_rows(assignments, before)
    # Render first, then bump: a failed print (no font, full disk) leaves valid slips valid.
    try:
        tmp = _render(_draw_context(draw), rows, out, _secret(), base_url(), audit.head())
    except OSError as e:
        raise UserError(f"无法写入任务单文件“{out}”：{e.strerror or e}。") from None
    # Art. 12: the file's hash goes into the event, and only its owner may read it.
    os.chmod(tmp, 0o600)
    sha = hashlib.sha256(tmp.read_bytes()).hexdigest()
    try:
        with write_tx():
            now_v: dict[int, int] = {}
            for i in range(0, len(ids), 500):
                now_v.update(Assignment.select(Assignment.id, Assignment.slip_version)
                             .where(Assignment.id.in_(ids[i:i + 500])).tuples())
            if now_v != before:
                raise UserError("另一终端刚刚打印了这些任务单，请重新打印。")
            for i in range(0, len(ids), 500):
                (Assignment.update(slip_version=Assignment.slip_version + 1)
                 .where(Assignment.id.in_(ids[i:i + 500])).execute())
            audit.record(actor, "slips.print", entity, entity_id, draw=draw.id,
                         count=len(rows), first=rows[0].task_code, last=rows[-1].task_code,
                         versions=sorted({r.version for r in rows}), file=out.name,
                         sha256=sha)
            # Inside the transaction: if the file cannot take its place, the versions are
            # not bumped and the slips already handed out stay valid.
            try:
                os.replace(tmp, out)
            except OSError as e:
                raise UserError(f"无法写入任务单文件“{out}”：{e.strerror or e}。") from None
    finally:
        if tmp.exists():
            tmp.unlink()
    for a in assignments:
        a.slip_version = before[a.id] + 1
    return out


def render_slips(draw_id: int, out_path: os.PathLike | str, actor: str) -> Path:
    """Print every slip of a sealed draw into one PDF (one page each); bumps every version."""
    draw = Draw.get_or_none(Draw.id == draw_id)
    if draw is None:
        raise UserError(f"摇号记录 {draw_id} 不存在。")
    if draw.state != "sealed":
        raise UserError("该次摇号尚未封存，不能打印任务单。")
    from kiosk import confidential  # Art. 12: before publication, the operator only

    confidential.require(actor, draw, "slips")
    assignments = list(Assignment.select().where(Assignment.draw == draw)
                       .order_by(Assignment.position))
    return _print(assignments, draw, out_path, actor, "draw", draw.id)


def render_slip_for(assignment: Assignment | str, out_path: os.PathLike | str,
                    actor: str) -> Path:
    """Reprint one slip (a task code or an Assignment): only its version is bumped."""
    if isinstance(assignment, str):
        found = Assignment.get_or_none(Assignment.task_code == assignment.strip())
        if found is None:
            raise UserError(f"任务编号 {assignment.strip()} 不存在。")
        assignment = found
    draw = Draw.get_by_id(assignment.draw_id)
    if draw.state != "sealed":
        raise UserError("该次摇号尚未封存，不能打印任务单。")
    from kiosk import confidential

    confidential.require(actor, draw, "slips")
    return _print([assignment], draw, out_path, actor, "assignment", assignment.task_code)
