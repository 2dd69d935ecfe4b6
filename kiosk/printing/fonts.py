"""Finding the CJK font every printed page embeds: KIOSK_CJK_FONT, fontconfig, the usual paths.

Official papers (GB/T 9704) set their body in a 宋体/仿宋-style serif: find_body_face()
prefers Noto Serif CJK where installed and falls back to the sans face find_cjk_face() finds."""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from kiosk.errors import UserError

FONT_MISSING = ("未找到中文字体：请安装 fonts-noto-cjk（或 fonts-wqy-zenhei），"
                "或用 KIOSK_CJK_FONT 指定字体文件。")

KNOWN_FONT_PATHS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
)


@dataclass(frozen=True)
class FontFace:
    path: Path
    index: int = 0  # face number inside a .ttc collection


def _collection_index(path: Path) -> int:
    """The Simplified Chinese face of a .ttc (Noto CJK puts JP first), else the first face."""
    if path.suffix.lower() not in (".ttc", ".otc"):
        return 0
    try:
        from fontTools.ttLib import TTCollection

        coll = TTCollection(str(path), lazy=True)
        names = [font["name"].getDebugName(1) or "" for font in coll.fonts]
        for want in (" SC", "Zen Hei", "Micro Hei"):
            for i, name in enumerate(names):
                if want in name and "Mono" not in name:
                    return i
    except Exception:  # an unreadable collection: let fpdf2 report it on embedding
        pass
    return 0


def _fc(args: list[str]) -> str:
    exe = shutil.which(args[0])
    if not exe:
        return ""
    try:
        return subprocess.run([exe, *args[1:]], capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _looks_cjk(family: str, path: str) -> bool:
    s = (family + " " + os.path.basename(path)).lower()
    return any(k in s for k in ("cjk", "wenquanyi", "wqy", "source han", "sourcehan",
                                "noto sans sc", "noto serif sc", "simsun", "simhei",
                                "droid sans fallback", "ar pl"))


@functools.lru_cache(maxsize=8)
def _find_face(env_value: str) -> FontFace:
    if env_value:
        p = Path(env_value).expanduser()
        if not p.is_file():
            raise UserError(f"KIOSK_CJK_FONT 指向的字体文件不存在：{env_value}。请改正该路径，"
                            "或安装 fonts-noto-cjk（或 fonts-wqy-zenhei）。")
        return FontFace(p, _collection_index(p))
    # fc-match always answers with *some* font; only take it when it is a CJK one.
    out = _fc(["fc-match", "-f", "%{file}|%{index}|%{family}", "Noto Sans CJK SC"])
    if out.count("|") >= 2:
        file, index, family = out.split("|", 2)
        if file and Path(file).is_file() and _looks_cjk(family, file):
            return FontFace(Path(file), int(index or 0))
    listing = _fc(["fc-list", ":lang=zh-cn", "-f", "%{file}|%{index}|%{family}\n"])
    best: tuple[int, FontFace] | None = None
    prefs = ("Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei")
    for line in listing.splitlines():
        if line.count("|") < 2:
            continue
        file, index, family = line.split("|", 2)
        if not Path(file).is_file() or "Mono" in family or not file.lower().endswith(
                (".ttf", ".ttc", ".otf", ".otc")):
            continue
        rank = next((i for i, p in enumerate(prefs) if p in family), len(prefs))
        if best is None or rank < best[0]:
            best = (rank, FontFace(Path(file), int(index or 0)))
    if best is not None:
        return best[1]
    for known in KNOWN_FONT_PATHS:
        p = Path(known)
        if p.is_file():
            return FontFace(p, _collection_index(p))
    raise UserError(FONT_MISSING)


def find_cjk_face() -> FontFace:
    """The CJK font file and its face number; UserError naming the package when none."""
    return _find_face(os.environ.get("KIOSK_CJK_FONT", ""))


def find_cjk_font() -> Path:
    """The CJK font file: KIOSK_CJK_FONT, then fontconfig, then the usual Debian paths."""
    return find_cjk_face().path


def bold_face(regular: FontFace) -> FontFace | None:
    """The Bold file beside a '…Regular…' font (Noto ships one), else None."""
    name = regular.path.name
    if "Regular" in name:
        bold = regular.path.with_name(name.replace("Regular", "Bold"))
        if bold.is_file():
            return FontFace(bold, regular.index)
    return None


SERIF_FONT_PATHS = (
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJKsc-Regular.otf",
)


@functools.lru_cache(maxsize=8)
def _find_serif(env_value: str) -> FontFace:
    if env_value:  # an explicit font is the bureau's choice for every document
        return _find_face(env_value)
    out = _fc(["fc-match", "-f", "%{file}|%{index}|%{family}", "Noto Serif CJK SC"])
    if out.count("|") >= 2:
        file, index, family = out.split("|", 2)
        if (file and Path(file).is_file() and _looks_cjk(family, file)
                and "serif" in family.lower() and "sans" not in family.lower()):
            return FontFace(Path(file), int(index or 0))
    for known in SERIF_FONT_PATHS:
        p = Path(known)
        if p.is_file():
            return FontFace(p, _collection_index(p))
    return _find_face("")


def find_body_face() -> FontFace:
    """The serif CJK face for a document's body (Noto Serif CJK SC), else the sans one."""
    return _find_serif(os.environ.get("KIOSK_CJK_FONT", ""))
