"""Registry search and paging: one page of any list, and counts that stay fast on a million
targets (trigram full-text index on SQLite, index scans in name or id order)."""
from __future__ import annotations

import re
import weakref

import peewee
from peewee import fn

from db.connection import database
from db.models import InspectionRecord, Inspector, Item, ItemStratum, Target, Training
from kiosk.errors import UserError
from kiosk.registry.kinds import MODELS, find_kind
from kiosk.registry.rows import base_query, row_cells

COUNT_CAP = 1000  # searches count at most this many matches (see count_capped())


# Keyed by the database object itself (weakly): an id() can be reused by the next store a
# process opens, which once sent SQLite's FTS query to PostgreSQL.
_FTS_CACHE: weakref.WeakKeyDictionary[peewee.Database, bool] = weakref.WeakKeyDictionary()


def _has_fts(db) -> bool:
    if db not in _FTS_CACHE:
        if isinstance(db, peewee.SqliteDatabase):
            _FTS_CACHE[db] = bool(db.execute_sql(
                "SELECT 1 FROM sqlite_master WHERE name = 'target_fts'").fetchone())
        else:
            _FTS_CACHE[db] = False
    return _FTS_CACHE[db]


_USCC_PREFIX = re.compile(r"^[0-9A-Za-z]+$")


def _contains(term: str, sqlite: bool, column: str = ""):
    """A name-contains condition. On SQLite instr() is used for terms without ASCII letters:
    it scans a million names about 40% faster than LIKE, and case folding does not matter."""
    if sqlite and not re.search(r"[A-Za-z]", term):
        if column:
            return f"instr({column}, ?) > 0", [term]
        return fn.instr(Target.name, term) > 0
    esc = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if column:
        return f"{column} LIKE ? ESCAPE '\\'", [f"%{esc}%"]
    if not sqlite and not re.search(r"[A-Za-z]", term):
        # PostgreSQL: case cannot matter (as instr() on SQLite), and LIKE scans a page of
        # names about three times faster than ILIKE, which lower-cases every name first.
        # The trigram index serves both.
        return peewee.Expression(Target.name, peewee.OP.LIKE, f"%{esc}%")
    return Target.name.contains(term)


def _pg_prefix(p: str):
    """uscc LIKE 'p%', case-sensitive, served by the text_pattern_ops index (migration v11).
    peewee's startswith is ILIKE on PostgreSQL, which no btree serves: a million-row scan.
    A range like SQLite's would follow the database's collation, which may not sort '~' last."""
    esc = p.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return peewee.Expression(Target.uscc, peewee.OP.LIKE, esc + "%")


def _target_filter(text: str):
    """(where expression, trigram terms, short terms) for a target search; see search()."""
    text = text.strip()
    if not text:
        return None, [], []
    sqlite = isinstance(database.obj, peewee.SqliteDatabase)
    if _USCC_PREFIX.match(text) and (text[0].isdigit() or len(text) >= 8
                                     or (len(text) >= 4 and re.search(r"\d", text))):
        p = text.upper()
        if sqlite:
            # A range on the unique index; the alphabet is 0-9A-Z so '~' sorts after all of it.
            prefix = (Target.uscc >= p) & (Target.uscc < p + "~")
        else:
            prefix = _pg_prefix(p)
        if len(p) < 4 or Target.select(Target.id).where(prefix).exists():
            return prefix, [], []
        # A fragment copied from the middle of a code (a slip, a letter): scan the code index.
        # Case-sensitive on both engines, as the codes are stored upper-case.
        return (fn.instr(Target.uscc, p) if sqlite else fn.strpos(Target.uscc, p)) > 0, [], []
    if Target.select(Target.id).where(Target.category == text).exists():
        return CategoryFilter(text), [], []
    if Target.select(Target.id).where(Target.township == text).exists():
        return Target.township == text, [], []
    if len(text) >= 2 and " " not in text:
        # A township named without its 镇/乡/街道 (黄寨 for 黄寨镇): a range on its index.
        township = (Target.township >= text) & (Target.township < text + "\uffff")
        if Target.select(Target.id).where(township).exists():
            return township, [], []
    terms = text.split()
    # Wildcard characters can't be escaped in an FTS5 LIKE, so such words are only filters.
    fts_terms = [t for t in terms if len(t) >= 3 and not re.search(r"[%_\\]", t)] \
        if _has_fts(database.obj) else []
    short = [t for t in terms if t not in fts_terms]
    if fts_terms or sqlite:
        return None, fts_terms, short
    where = None
    for t in short:
        cond = _contains(t, sqlite)
        where = cond if where is None else where & cond
    return where, [], []


def _fts_sql(fts_terms: list[str], short: list[str]) -> tuple[str, list]:
    """Matching rowids in rowid order, straight from the trigram index (LIKE on an FTS5 trigram
    table uses the index): with ORDER BY rowid and a LIMIT inside, FTS5 stops early instead of
    listing every match of a common word."""
    conds, params = [], []
    for t in fts_terms:
        conds.append("name LIKE ?")
        params.append(f"%{t}%")
    for t in short:
        cond, p = _contains(t, True, column="name")
        conds.append(cond)
        params += p
    return f"SELECT rowid FROM target_fts WHERE {' AND '.join(conds)} ORDER BY rowid", params


class CategoryFilter(str):
    """A category search. Its rows come in the order of the (category, active) index, stopped
    (停用) ones first and then by id, so a deep page needs no sort of the whole category."""


def _target_search(text: str, offset: int, limit: int):
    where, fts_terms, short = _target_filter(text)
    q = Target.select()
    if isinstance(where, CategoryFilter):
        if isinstance(database.obj, peewee.SqliteDatabase):
            # Named, because the planner prefers the wider pool index and then sorts.
            sub = peewee.SQL("(SELECT id FROM target INDEXED BY target_category_active "
                             "WHERE category = ? ORDER BY active, id LIMIT ? OFFSET ?)",
                             [str(where), limit, offset])
            return q.where(Target.id.in_(sub)).order_by(Target.active, Target.id)
        return (q.where(Target.category == str(where)).order_by(Target.active, Target.id)
                .offset(offset).limit(limit))
    if fts_terms:
        sql, params = _fts_sql(fts_terms, short)
        sub = peewee.SQL(f"({sql} LIMIT ? OFFSET ?)", [*params, limit, offset])
        return q.where(Target.id.in_(sub)).order_by(Target.id)
    if short:  # SQLite without a trigram word: scan the narrow name index, in name order
        sql, params = _short_sql(short)
        sub = peewee.SQL(f"({sql} ORDER BY name, id LIMIT ? OFFSET ?)", [*params, limit, offset])
        return q.where(Target.id.in_(sub)).order_by(Target.name, Target.id)
    if where is not None:
        q = q.where(where)
    return q.order_by(Target.id).offset(offset).limit(limit)


def _short_sql(short: list[str]) -> tuple[str, list]:
    """Words under 3 characters can't use the trigram index. Scanning the name index (names
    and ids only) instead of the table reads a fraction of the pages, and in name order a
    common word fills the page after a few rows."""
    conds, params = [], []
    for t in short:
        cond, p = _contains(t, True, column="name")
        conds.append(cond)
        params += p
    return f"SELECT id FROM target INDEXED BY target_name WHERE {' AND '.join(conds)}", params


def _target_count(text: str, cap: int) -> int:
    where, fts_terms, short = _target_filter(text)
    db = database.obj
    if fts_terms:
        sql, params = _fts_sql(fts_terms, short)
        return db.execute_sql(f"SELECT COUNT(*) FROM ({sql} LIMIT ?) AS s",
                              [*params, cap + 1]).fetchone()[0]
    if short:
        sql, params = _short_sql(short)
        return db.execute_sql(f"SELECT COUNT(*) FROM ({sql} LIMIT ?) AS s",
                              [*params, cap + 1]).fetchone()[0]
    q = Target.select(Target.id)
    if isinstance(where, CategoryFilter):
        where = Target.category == str(where)
    if where is not None:
        q = q.where(where)
    return peewee.Select([q.limit(cap + 1).alias("s")], [fn.COUNT(peewee.SQL("*"))]) \
        .bind(db).scalar()


def _like_any(text: str, *fields):
    cond = None
    for f in fields:
        c = f.contains(text)
        cond = c if cond is None else cond | c
    return cond


def _other_query(kind: str, text: str):
    q = base_query(kind)
    text = text.strip()
    if not text:
        return q
    if kind == "items":
        return q.where(_like_any(text, Item.code, Item.name, Item.category, Item.lead_office))
    if kind == "inspectors":
        return q.where(_like_any(text, Inspector.name, Inspector.cert_no, Inspector.office))
    if kind == "conflicts":
        return q.where(_like_any(text, Inspector.cert_no, Inspector.name, Target.name)
                       | Target.uscc.startswith(text.upper()))
    if kind == "trainings":
        return q.where(_like_any(text, Inspector.cert_no, Inspector.name, Training.title,
                                 Training.organizer))
    return q.where(Target.uscc.startswith(text.upper())
                   | _like_any(text, InspectionRecord.department, Target.name))


SERVICE = object()  # called by a service, not on behalf of a signed-in account


def require_kind(kind: str, user=SERVICE) -> None:
    """The conflicts registry (who is related to which firm, and why) only to admin, operator
    and auditor (Art. 5, 12): an account without the role is refused in one sentence, logged."""
    from kiosk import access

    if kind != "conflicts" or user is SERVICE:
        return
    user = access.active_user(user)
    if user is not None and access.may_see_conflicts(user.role):
        return
    if user is not None:
        from kiosk import audit
        from kiosk.store import write_tx

        with write_tx():
            audit.record(user.username, "registry.refused", kind, "", role=user.role)
    raise UserError(MAY_NOT_SEE_CONFLICTS)


MAY_NOT_SEE_CONFLICTS = "只有管理员、抽签操作员和纪检审计人员可以查看回避关系。"


def search(kind: str, text: str = "", offset: int = 0, limit: int = 20, *,
           user=SERVICE) -> list[dict]:
    """One page of a registry, in id order (targets found by words under 3 characters: in name
    order), as dicts of the export's cell text keyed by field
    (see columns()) plus 'id'; conflicts/trainings add 'inspector_name', conflicts/inspections
    'target_name'.

    Targets: text of digits/letters starting with a digit (or 8+ long, or 4+ with a digit) is
    a USCC prefix, or a fragment anywhere in the code when no code starts with it; text equal
    to a category or township, or the start of a township's name, filters on it; otherwise each
    blank-separated word must occur in the name (words of 3+ characters use the trigram index,
    shorter ones a LIKE scan that stops at the page). A category's rows come stopped (停用)
    ones first, then by id. Other kinds match name, code, certificate number, office and so on.

    `user`: the signed-in account asking (the conflicts registry is not for every role)."""
    k = find_kind(kind)
    require_kind(kind, user)
    offset, limit = max(0, int(offset)), max(0, int(limit))
    if kind == "targets":
        q = _target_search(text, offset, limit).dicts()
    else:
        q = _other_query(kind, text).order_by(MODELS[kind].id).offset(offset).limit(limit).dicts()
    strata = None
    rows = list(q)
    if kind == "items":
        strata = {}
        ids = [r["id"] for r in rows]
        for s in (ItemStratum.select().where(ItemStratum.item.in_(ids))
                  .order_by(ItemStratum.item, ItemStratum.position, ItemStratum.id)):
            strata.setdefault(s.item_id, []).append((s.name, s.criterion, s.ratio_bp))
    out = []
    for r in rows:
        d = row_cells(k, r, strata)
        d["id"] = r["id"]
        for extra in ("inspector_name", "target_name"):
            if extra in r:
                d[extra] = r[extra]
        out.append(d)
    return out


def count_capped(kind: str, text: str = "", cap: int = COUNT_CAP, *,
                 user=SERVICE) -> tuple[int, bool]:
    """(matches, capped): an exact count of the whole registry for empty text; for a search,
    counting stops after cap matches so a common word stays fast ((cap, True) then)."""
    find_kind(kind)
    require_kind(kind, user)
    model = MODELS[kind]
    if not text.strip():
        return model.select().count(), False
    if kind == "targets":
        n = _target_count(text, cap)
        return (cap, True) if n > cap else (n, False)
    q = _other_query(kind, text).select(model.id)
    n = peewee.Select([q.limit(cap + 1).alias("s")], [fn.COUNT(peewee.SQL("*"))]) \
        .bind(database.obj).scalar()
    return (cap, True) if n > cap else (n, False)


def count(kind: str, text: str = "") -> int:
    """Matches for search(kind, text); at most COUNT_CAP for a non-empty text (count_capped
    says whether it was capped)."""
    return count_capped(kind, text)[0]
