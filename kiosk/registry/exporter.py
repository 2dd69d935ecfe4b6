"""Registry export: the whole list as CSV (UTF-8 with BOM) or XLSX with Chinese headers, which
imports back unchanged; the public lists of Art. 4 and 5 leave out private columns."""
from __future__ import annotations

import csv
from pathlib import Path

from kiosk import audit
from kiosk.errors import UserError
from kiosk.guard import csv_cell
from kiosk.registry.kinds import MODELS, find_kind
from kiosk.registry.rows import all_strata, base_query, row_cells


def export_file(kind: str, path, actor: str, *, public: bool = False) -> int:
    """Write the whole registry as .csv (UTF-8 with BOM) or .xlsx with Chinese headers; the file
    imports back unchanged. public=True leaves out non-public columns (Art. 4, 5 lists)."""
    k = find_kind(kind)
    if kind == "conflicts":  # the account behind the login, when it is one (Art. 5, 12)
        from db.models import User
        from kiosk.registry.search import require_kind

        account = User.get_or_none(User.username == actor)
        if account is not None:
            require_kind(kind, account)
    from kiosk import access

    access.require_account(actor, lambda role: access.may_export(role, kind, public),
                           access.MAY_NOT_EXPORT)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise UserError(f"不支持的导出格式“{suffix or path.name}”，请使用 .csv 或 .xlsx。")
    cols = [c for c in k.columns if c.public or not public]
    strata = all_strata() if kind == "items" else None
    query = base_query(kind).order_by(MODELS[kind].id).dicts()
    rows = 0

    def records():
        nonlocal rows
        for r in query.iterator():
            cells = row_cells(k, r, strata)
            rows += 1
            yield [cells[c.field] for c in cols]

    header = [c.label for c in cols]
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(tmp: Path) -> int:
        if suffix == ".csv":
            with open(tmp, "w", encoding="utf-8-sig", newline="") as f:
                w = csv.writer(f)
                w.writerow(header)
                # Excel opens the file directly: a cell like =HYPERLINK(…) must stay text (OWASP).
                w.writerows([csv_cell(v) for v in r] for r in records())
        else:
            import openpyxl
            from openpyxl.cell import WriteOnlyCell
            from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

            wb = openpyxl.Workbook(write_only=True)
            ws = wb.create_sheet(k.label)

            def as_cell(v):
                if not isinstance(v, str):
                    return v
                # XML can't hold most control characters (imports refuse them now; older rows may
                # have them), and text like "=1+1" must stay text rather than become a formula.
                cell = WriteOnlyCell(ws, ILLEGAL_CHARACTERS_RE.sub("", v))
                cell.data_type = "s"
                return cell

            ws.append([as_cell(h) for h in header])
            for r in records():
                ws.append([as_cell(v) for v in r])
            wb.save(tmp)
        return rows

    # The trace first (issue 9): the event (rows, file, SHA-256) and the file's move into
    # place commit together; an export whose audit fails leaves no file. Owner-only (0600).
    return audit.audited_export(actor, kind, path, write, action="registry.export",
                                result_detail=lambda n: {"rows": n}, public=public)
