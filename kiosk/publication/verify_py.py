"""The stand-alone `verify.py` shipped in a published kit: kiosk/draw/lottery.py and
kiosk/draw/verify.py joined into one file that needs only Python's standard library.

Generated from the very modules `kiosk verify` runs, so the two cannot drift apart: the
same checks, the same sentences, the same exit codes (0 match, 1 mismatch, 2 malformed)."""
from __future__ import annotations

import ast
import inspect

from kiosk.draw import joint, lottery
from kiosk.draw import verify as draw_verify

HEADER = '''#!/usr/bin/env python3
"""Stand-alone verifier of the draw protocol dsr-draw/1 (standard library only).

Usage:  python3 verify.py record.json
Exit code 0: the record recomputes exactly; 1: it does not (the first difference is
printed); 2: the file is unreadable or malformed. Check the kit first with
`sha256sum -c SHA256SUMS`. Generated from the kiosk's own lottery.py and verify.py.
"""
from __future__ import annotations

'''


def _body(module) -> list[str]:
    """The module's source without its docstring and its `from __future__` line."""
    src = inspect.getsource(module)
    tree = ast.parse(src)
    lines = src.splitlines()
    skip: set[int] = set()
    for node in tree.body:
        is_doc = (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                  and isinstance(node.value.value, str) and node is tree.body[0])
        is_future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
        is_kiosk = isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kiosk")
        if is_doc or is_future or is_kiosk:
            skip.update(range(node.lineno - 1, node.end_lineno))
    return [line for n, line in enumerate(lines) if n not in skip]


def source() -> str:
    """The text of verify.py."""
    verify_lines = [line.replace("python -m kiosk.draw.verify", "python3 verify.py")
                    for line in _body(draw_verify)]
    return "".join([
        HEADER,
        "# ---- the protocol (kiosk/draw/lottery.py) ----\n",
        "\n".join(_body(lottery)).strip("\n"), "\n\n\n",
        "# ---- joint tasks, Art. 11 (kiosk/draw/joint.py) ----\n",
        "\n".join(_body(joint)).strip("\n"), "\n\n\n",
        "# ---- the verifier (kiosk/draw/verify.py) ----\n",
        "import sys as _sys\n\n",
        "lottery = _sys.modules[__name__]  # verify's `lottery.X` names this file's own code\n",
        "\n".join(verify_lines).strip("\n"), "\n",
    ])
