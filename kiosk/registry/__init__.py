"""The registries (items, inspectors, targets, conflicts, trainings, other departments'
inspections): all-or-nothing CSV/XLSX import, export, and paged search that stays fast on a
million targets.

One module per idea: kinds (the lists and their columns), cells (one cell's value and reason),
tabular (reading CSV and XLSX files), importer (the checks), writer (the bulk upsert),
pg_copy (PostgreSQL's COPY), rows (the cell text of stored rows), exporter, search. The names
below are the ones the CLI, the screens and the tests use; note that
`kiosk.registry.search` is the search function (import the module's other names from
kiosk.registry.search directly). Tunables (writer.BULK_FTS_ROWS, cells.INT_MAX) are read
from their own modules, so patch them there."""
from __future__ import annotations

from kiosk.registry.exporter import export_file
from kiosk.registry.importer import ImportResult, import_file
from kiosk.registry.kinds import (
    CRITERIA,
    FALSE_WORDS,
    KINDS,
    METHODS,
    MODELS,
    RISK_CLASSES,
    SIZE_CLASSES,
    TRUE_WORDS,
    Column,
    Kind,
    columns,
    columns_doc,
)
from kiosk.registry.search import COUNT_CAP, CategoryFilter, count, count_capped, search
from kiosk.registry.tabular import ImportRejected

__all__ = [
    "COUNT_CAP", "CRITERIA", "FALSE_WORDS", "KINDS", "METHODS", "MODELS", "RISK_CLASSES",
    "SIZE_CLASSES", "TRUE_WORDS", "CategoryFilter", "Column", "ImportRejected", "ImportResult",
    "Kind", "columns", "columns_doc", "count", "count_capped", "export_file", "import_file",
    "search",
]
