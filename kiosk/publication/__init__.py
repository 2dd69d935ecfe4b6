"""一公开 (Art. 4, 5, 13, 16): a draw's public notice and verification kit, the public lists,
and the provincial exchange export.

- notice: what a draw's notice says (targets, 查处结果, rectifications, verification data);
- notice_pdf, notice_csv, notice_html (verifies in the reader's browser; verifier.js);
- verify_py: the stand-alone verify.py of the kit, generated from kiosk.draw;
- kit: publish a draw or the lists as a new version (leader only), list versions;
- lists: the item list with its history, the inspector directory;
- exchange: the year's published tasks, draws, results and rectifications (Art. 16).
"""
from __future__ import annotations

from kiosk.publication.kit import (
    Published,
    is_published,
    publish_draw,
    publish_lists,
    sealed_draws,
    versions,
)

__all__ = ["Published", "is_published", "publish_draw", "publish_lists", "sealed_draws", "versions"]
