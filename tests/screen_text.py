"""The screen as plain text, from Textual's public `App.export_screenshot()` SVG.

A text picture is what a reviewer can read in a diff and what stays the same across theme
and colour changes; the SVG is the only public way to get the frame Textual drew."""
from __future__ import annotations

import html
import re

from rich.cells import cell_len
from textual.app import App

# Rich writes one <text> per run of equally styled characters, clipped to its line; x is the
# column times the character width (font size 20 times Rich's default aspect ratio 0.61).
_TEXT = re.compile(r'<text [^>]*?x="(?P<x>[\d.]+)"[^>]*?clip-path="url\(#[^)]*-line-(?P<row>\d+)\)"'
                   r"[^>]*>(?P<text>.*?)</text>", re.S)
_CHAR_WIDTH = 20 * 0.61


def svg_text(svg: str, width: int, height: int) -> str:
    """The characters of a Rich SVG export as lines of text (trailing blanks dropped)."""
    rows: list[list[tuple[int, str]]] = [[] for _ in range(height)]
    for m in _TEXT.finditer(svg):
        row = int(m["row"])
        if row < height:
            rows[row].append((round(float(m["x"]) / _CHAR_WIDTH),
                              html.unescape(m["text"]).replace("\xa0", " ")))
    lines = []
    for runs in rows:
        line, col = "", 0
        for start, text in sorted(runs):
            if start > col:
                line += " " * (start - col)
                col = start
            line += text
            col += cell_len(text)
        lines.append(line.rstrip()[: width * 2])
    return "\n".join(lines).rstrip("\n") + "\n"


def screen_text(app: App) -> str:
    """What the terminal shows now, one line per row."""
    width, height = app.size
    return svg_text(app.export_screenshot(), width, height)


async def settle(app: App) -> None:
    """Wait for the app's workers to finish. An exclusive worker group cancels a superseded
    worker (a row highlighted twice reloads once): that one is not waited for, only the last."""
    from textual.worker import WorkerCancelled

    for _ in range(50):
        try:
            await app.workers.wait_for_complete()
            return
        except WorkerCancelled:
            continue
    raise AssertionError("workers never settled")
