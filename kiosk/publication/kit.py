"""Publishing (Art. 13, 4, 5): a draw's kit or the public lists written to a folder, each a
new version kept in the store and traced in the audit chain before its files appear."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from db.models import Draw, Item, PlanTask, Publication, User
from kiosk import access, audit
from kiosk.errors import UserError
from kiosk.store import write_tx

# The kit of a draw, in the order SHA256SUMS lists it.
KIT_FILES = ("notice.pdf", "notice.csv", "notice.html", "record.json", "pool.tsv",
             "inspectors.tsv", "conflicts.tsv", "verify.py")


@dataclass(frozen=True)
class Published:
    """What a publication wrote: its version, folder, files with their SHA-256, and results."""

    publication_id: int
    version: int
    folder: Path
    files: dict[str, str]
    counts: dict[str, int]


def _require_leader(user: User | None, what: str) -> User:
    user = access.active_user(user)
    if user is None or not access.may_publish(user.role):
        if user is not None:
            audit.record(user.username, "publish.refused", "publication", what, role=user.role)
        raise UserError(access.MAY_NOT_PUBLISH)
    return user


def _out_dir(out) -> Path:
    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"无法创建公示目录“{path}”：{e.strerror or e}。") from None
    if not path.is_dir():
        raise UserError(f"“{path}”不是目录，无法写入公示文件。")
    return path


def sha256sums(files: dict[str, bytes]) -> bytes:
    """`sha256sum -c` format: hash, two spaces, file name."""
    return "".join(f"{hashlib.sha256(b).hexdigest()}  {n}\n" for n, b in files.items()).encode()


def _next_version(kind: str, draw_id: int | None) -> int:
    q = Publication.select(Publication.version).where(Publication.kind == kind)
    q = q.where(Publication.draw == draw_id) if draw_id else q.where(Publication.draw.is_null())
    return max([v for (v,) in q.tuples()], default=0) + 1


def _archive(stem: str, version: int, files: dict[str, bytes]) -> Path:
    from kiosk.draw.documents import folder

    d = folder("publications", stem, f"v{version}")
    for name, data in files.items():
        (d / name).write_bytes(data)
        os.chmod(d / name, 0o644)
    return d


def _write(user: User, kind: str, draw_id: int | None, version: int, out: Path,
           files: dict[str, bytes], results: dict, effective: dt.date, stem: str,
           **detail: object) -> Published:
    """Inside the caller's write transaction: the row, one audited export per file, then the
    publication event carrying every hash. A failure removes the files this call wrote."""
    hashes = {n: hashlib.sha256(b).hexdigest() for n, b in files.items()}
    try:
        archive = _archive(stem, version, files)
    except OSError as e:
        raise UserError(f"无法在本机存档公示文件：{e.strerror or e}。") from None
    pub = Publication.create(kind=kind, draw=draw_id, version=version,
                             published_by=user.username, effective_date=effective,
                             files_json=json.dumps(hashes, ensure_ascii=False, sort_keys=True),
                             results_json=json.dumps(results, ensure_ascii=False,
                                                     sort_keys=True),
                             archive=str(archive))
    written: list[Path] = []
    try:
        for name, data in files.items():
            audit.audited_export(user.username, "publication", out / name,
                                 lambda p, data=data: p.write_bytes(data),
                                 action="publish.file", publication=pub.id, version=version)
            written.append(out / name)
        covers = [("draw", draw_id)] if draw_id else []
        audit.record(user.username, f"publish.{kind}", "publication", pub.id, covers=covers,
                     version=version, draw=draw_id, files=hashes, folder=str(out), **detail)
    except BaseException as e:
        for p in written:
            p.unlink(missing_ok=True)
        if isinstance(e, OSError):  # the whole publication rolls back with its trace
            raise UserError(f"无法写入公示文件到“{out}”：{e.strerror or e}。") from None
        raise
    for p in written:  # the kit is public: readable by anyone the folder is handed to
        os.chmod(p, 0o644)
    return Published(pub.id, version, out, hashes, results.get("counts", {}))


def publish_draw(draw_id: int, out, user: User | None, today: dt.date | None = None) -> Published:
    """Write the kit of a sealed draw to `out` as its next version (only a leader)."""
    from kiosk.draw.pool import listing_bytes
    from kiosk.publication import notice, notice_csv, notice_html, notice_pdf, verify_py

    user = _require_leader(user, f"draw:{draw_id}")
    draw = notice.sealed_draw(draw_id)
    out = _out_dir(out)
    today = today or dt.date.today()
    with write_tx():
        version = _next_version("draw", draw.id)
        data = notice.notice_data(draw.id, version, today)
        files: dict[str, bytes] = {}
        with tempfile.TemporaryDirectory() as stage:
            pdf_path = notice_pdf.render(data, Path(stage) / "notice.pdf")
            files["notice.pdf"] = pdf_path.read_bytes()
        files["notice.csv"] = notice_csv.render(data)
        files["notice.html"] = notice_html.render(data).encode()
        files["record.json"] = json.dumps(data["record"], ensure_ascii=False,
                                          indent=1).encode()
        for kind in ("pool", "inspectors", "conflicts"):
            files[f"{kind}.tsv"] = listing_bytes(draw, kind)
        files["verify.py"] = verify_py.source().encode()
        files["SHA256SUMS"] = sha256sums(files)
        results = {"results": {t["uscc"]: t["result"] for t in data["targets"]},
                   "counts": notice.counts(data), "doc_no": data["doc_no"]}
        return _write(user, "draw", draw.id, version, out, files, results, today,
                      f"{draw.task.code}-{draw.attempt_no}", task=draw.task.code)


def publish_lists(out, user: User | None, today: dt.date | None = None) -> Published:
    """Write the public item list (with its history) and inspector directory (Art. 4, 5)."""
    from kiosk.publication import lists

    user = _require_leader(user, "lists")
    out = _out_dir(out)
    today = today or dt.date.today()
    with write_tx():
        for (item_id,) in Item.select(Item.id).tuples():
            lists.record_item_version(item_id)
        version = _next_version("lists", None)
        files = lists.render_lists(today)
        files["SHA256SUMS"] = sha256sums(files)
        counts = {"items": len(lists.current_items()),
                  "inspectors": len(lists.inspector_directory(today))}
        return _write(user, "lists", None, version, out, files, {"counts": counts}, today,
                      "lists", effective_date=str(today))


@dataclass(frozen=True)
class Version:
    version: int
    published_at: str
    published_by: str
    counts: dict[str, int]
    archive: str
    files: dict[str, str]


def is_published(draw_id: int) -> bool:
    """Whether a draw's results have been published at least once (Art. 12 ends there)."""
    return Publication.select().where((Publication.kind == "draw")
                                      & (Publication.draw == draw_id)).exists()


def versions(draw_id: int | None, kind: str = "draw") -> list[Version]:
    """Every published version of a draw's notice (or of the lists), oldest first."""
    q = Publication.select().where(Publication.kind == kind)
    q = q.where(Publication.draw == draw_id) if draw_id else q.where(Publication.draw.is_null())
    return [Version(p.version, str(p.published_at), p.published_by,
                    json.loads(p.results_json).get("counts", {}), p.archive,
                    json.loads(p.files_json))
            for p in q.order_by(Publication.version)]


@dataclass(frozen=True)
class SealedDraw:
    """A row of the Publish screen: a sealed draw and how often it was published."""

    draw_id: int
    task: str
    attempt: int
    item: str
    draw_date: str
    targets: int
    published: int


def sealed_draws() -> list[SealedDraw]:
    from peewee import fn

    from db.models import Assignment

    counts = dict(Publication.select(Publication.draw, fn.COUNT(Publication.id))
                  .where(Publication.kind == "draw").group_by(Publication.draw).tuples())
    sizes = dict(Assignment.select(Assignment.draw, fn.COUNT(Assignment.id))
                 .group_by(Assignment.draw).tuples())
    q = (Draw.select(Draw.id, Draw.attempt_no, Draw.draw_date, PlanTask.code, Item.code,
                     Item.name)
         .join(PlanTask).join(Item).where(Draw.state == "sealed")
         .order_by(Draw.draw_date.desc(), Draw.id.desc()))
    return [SealedDraw(d, code, n, f"{icode} {iname}", str(day), sizes.get(d, 0),
                       counts.get(d, 0))
            for d, n, day, code, icode, iname in q.tuples()]


def export_exchange(year: int, out, user: User | None) -> Published:
    """The provincial exchange files for `year` (Art. 16), audited like a publication."""
    from kiosk.publication import exchange

    user = _require_leader(user, f"exchange:{year}")
    out = _out_dir(out)
    today = dt.date.today()
    with write_tx():
        files = exchange.render(year)
        files["SHA256SUMS"] = sha256sums(files)
        version = _next_version("exchange", None)
        n = len(json.loads(files["exchange.json"])["results"])
        return _write(user, "exchange", None, version, out, files,
                      {"counts": {"results": n}, "year": year}, today, f"exchange-{year}",
                      year=year)


def suggested_folder(draw_id: int | None) -> Path:
    """Where the Publish screen offers to write the next version: the store's files folder,
    one sub-folder per version (a USB stick or web folder is typed over it)."""
    from kiosk.draw.documents import folder

    if draw_id is None:
        return folder("publications-out") / f"lists-v{_next_version('lists', None)}"
    draw = notice_draw(draw_id)
    stem = f"{draw.task.code}-{draw.attempt_no}-v{_next_version('draw', draw.id)}"
    return folder("publications-out") / stem


def notice_draw(draw_id: int) -> Draw:
    from kiosk.publication.notice import sealed_draw

    return sealed_draw(draw_id)
