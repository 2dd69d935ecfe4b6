"""The layer rule of DESIGN.md, checked on the source: db < kiosk < screens, no rules in screens."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Peewee-only method names: a write wherever they are called.
WRITE_CALLS = {"save", "delete_instance", "insert_many", "insert_from", "bulk_create",
               "bulk_update", "get_or_create", "execute_sql"}
# Names that widgets use too (Static.update, TextArea.insert…): a write when called on a model.
MODEL_WRITE_CALLS = {"create", "insert", "update", "delete", "replace", "replace_many"}


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imports(tree: ast.AST) -> list[tuple[str, ast.AST, bool]]:
    """(module, node, at_module_level) for every import in the file."""
    top = set(map(id, getattr(tree, "body", [])))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node, id(node) in top) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node, id(node) in top))
    return found


def type_only(tree: ast.AST) -> set[int]:
    """ids of the nodes inside `if TYPE_CHECKING:` blocks: imports there never run."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) \
                and node.test.id == "TYPE_CHECKING":
            found |= {id(n) for child in node.body for n in ast.walk(child)}
    return found


def runtime_imports(tree: ast.AST) -> list[str]:
    skip = type_only(tree)
    return [m for m, node, _ in imports(tree) if id(node) not in skip]


def model_names(tree: ast.AST) -> set[str]:
    """Names bound to db.models or its classes in this file."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "db.models":
            names |= {a.asname or a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module == "db":
            names |= {a.asname or a.name for a in node.names if a.name == "models"}
        elif isinstance(node, ast.Import):
            names |= {a.asname or a.name for a in node.names if a.name == "db.models"}
    return names


def write_calls(tree: ast.AST) -> list[ast.Call]:
    models = model_names(tree)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        attr, receiver = node.func.attr, node.func.value
        while isinstance(receiver, ast.Attribute):  # models.Item.update -> models
            receiver = receiver.value
        if attr in WRITE_CALLS or (attr in MODEL_WRITE_CALLS and isinstance(receiver, ast.Name)
                                   and receiver.id in models):
            found.append(node)
    return found


def roots(name: str) -> str:
    return name.split(".")[0]


def parse(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_there_is_something_to_check():
    assert sources("db") and sources("kiosk") and sources("screens")


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# screens/ reaches the store through kiosk/ services; these are the only exceptions.
SCREENS_MAY_IMPORT_DB = {
    "screens/workers.py": "opens and closes each thread worker's own connection",
    "screens/app.py": "run() opens the store when the CLI has not already",
}


@pytest.mark.parametrize("path", sources("db"), ids=rel)
def test_db_imports_neither_kiosk_nor_screens(path):
    bad = [m for m, _, _ in imports(parse(path)) if roots(m) in ("kiosk", "screens", "textual")]
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


@pytest.mark.parametrize("path", sources("kiosk"), ids=rel)
def test_kiosk_never_imports_the_ui(path):
    found = imports(parse(path))
    assert not [m for m, _, _ in found if roots(m) == "textual"], path
    ui = [(m, top) for m, _, top in found if roots(m) == "screens"]
    if path.name == "cli.py":
        # The CLI may start the UI, but only lazily inside a function.
        assert not [m for m, top in ui if top], f"cli.py imports screens at module level: {ui}"
    else:
        assert not ui, f"{path.relative_to(ROOT)} imports {ui}"


@pytest.mark.parametrize("path", sources("screens"), ids=rel)
def test_screens_import_db_only_where_allowed(path):
    db = [m for m in runtime_imports(parse(path)) if roots(m) == "db"]
    if rel(path) not in SCREENS_MAY_IMPORT_DB:
        assert not db, f"{rel(path)} imports {db}: ask a kiosk service instead"


@pytest.mark.parametrize("path", sources("screens"), ids=rel)
def test_screens_hold_no_storage_writes(path):
    tree = parse(path)
    assert not [m for m, _, _ in imports(tree) if roots(m) in ("peewee", "playhouse")], path
    writes = [f"line {n.lineno}: .{n.func.attr}()" for n in write_calls(tree)]
    assert not writes, f"{path.relative_to(ROOT)} writes to the store directly: {writes}"


def test_the_checker_catches_a_violation():
    tree = ast.parse("import peewee\nfrom db.models import Target\nTarget.create(uscc='x')\n"
                     "t = Target.get()\nt.save()\nself.query_one(Static).update('ok')\n"
                     "from db import models\nmodels.Item.update(name='x').execute()\n")
    assert [m for m, _, _ in imports(tree)] == ["peewee", "db.models", "db"]
    assert sorted(n.func.attr for n in write_calls(tree)) == ["create", "save", "update"]
    nested = ast.parse("def f():\n    from screens.app import run\n")
    assert [top for _, _, top in imports(nested)] == [False]
    typed = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                      "    from db.models import User\nfrom db.connection import database\n")
    assert runtime_imports(typed) == ["typing", "db.connection"]
