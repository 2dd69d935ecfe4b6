"""The written architecture, checked the way CI runs it: import-linter, ruff, a pure verifier."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(args: list[str], cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})


def test_import_contracts_are_kept():
    """The [tool.importlinter] contracts: screens > kiosk > db, and a protocol, verifier and
    uscc that import no database and no UI."""
    res = run([str(BIN / "lint-imports"), "--no-cache"])
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Contracts: 2 kept, 0 broken." in res.stdout


def test_import_contracts_catch_a_violation(tmp_path):
    """The same contracts on a copy of the tree where uscc imports textual: lint-imports fails
    and names the import, so the check above is not green by accident."""
    for name in ("db", "kiosk", "screens"):
        shutil.copytree(ROOT / name, tmp_path / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    uscc = tmp_path / "kiosk" / "uscc.py"
    uscc.write_text(uscc.read_text(encoding="utf-8") + "\nimport textual  # noqa\n",
                    encoding="utf-8")
    res = run([str(BIN / "lint-imports"), "--no-cache"], cwd=tmp_path,
              PYTHONPATH=str(tmp_path))
    assert res.returncode == 1, res.stdout + res.stderr
    assert "kiosk.uscc -> textual" in res.stdout


@pytest.mark.lint
def test_ruff_is_clean():
    """`ruff check .` with the project's [tool.ruff] rules, as CI runs it.

    Marked `lint`: it fails on any file of the tree, not only the shell's (`-m "not lint"`
    leaves it out while a change is in progress)."""
    res = run([str(BIN / "ruff"), "check", ".", "--output-format", "concise"])
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr


def test_the_verifier_loads_no_database_and_no_ui():
    """`kiosk verify` must run where only the record is: importing the verifier in a fresh
    interpreter brings in neither peewee nor textual, nor our own db or screens layers."""
    code = ("import json, sys\n"
            "import kiosk.draw.verify\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n")
    res = run([sys.executable, "-c", code])
    assert res.returncode == 0, res.stderr
    loaded = set(json.loads(res.stdout))
    assert "kiosk" in loaded  # the import really happened
    assert not loaded & {"peewee", "playhouse", "textual", "db", "screens"}, loaded


def test_the_purity_check_sees_a_heavy_import():
    """The same probe on a module that loads peewee reports it: the check above can fail."""
    code = ("import json, sys\n"
            "import db.connection\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n")
    res = run([sys.executable, "-c", code])
    assert res.returncode == 0, res.stderr
    assert "peewee" in set(json.loads(res.stdout))


def test_the_login_path_loads_no_other_screen():
    """Cold start to the login screen (~0.6 s) pays only for the app and the login screen:
    home and every screen of its menu, and the file dialogs, load after someone signs in."""
    code = ("import json, sys\n"
            "import screens.app, screens.login\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('screens'))))\n")
    res = run([sys.executable, "-c", code])
    assert res.returncode == 0, res.stderr
    loaded = set(json.loads(res.stdout))
    assert {"screens.app", "screens.login", "screens.dialogs.login"} <= loaded
    assert not loaded & {"screens.home", "screens.ceremony", "screens.registry",
                         "screens.report", "screens.dialogs.file"}, loaded
