"""QR symbols from qrcode's public API: level M, a version per payload length, one fixed mask."""
from __future__ import annotations

import functools
import re

import qrcode
from qrcode.constants import ERROR_CORRECT_M

from kiosk.errors import UserError

ERROR_CORRECTION = ERROR_CORRECT_M
# qrcode scores all eight masks by default, ~4 ms a code: 4 s of a 1,000-slip print. Any
# mask is valid (ISO/IEC 18004); the penalty only steers away from patterns that slow a
# scanner down. Over 200 slip payloads (ASCII and Chinese base URLs) mask 2 scored lowest
# on average and within a few percent of each payload's best, so every slip uses it.
MASK = 2

_DARK_RUN = re.compile(rb"\x01+")


@functools.lru_cache(maxsize=256)
def version_for(nbytes: int) -> int:
    """The smallest version that holds nbytes in byte mode at level M, as qrcode fits it.

    Payloads of one length (every slip of a print) get one version, so one size of symbol;
    a numeric or alphanumeric payload needs fewer bits and fits the same version."""
    probe = qrcode.QRCode(error_correction=ERROR_CORRECTION)
    probe.add_data(b"a" * nbytes, optimize=0)  # lowercase: byte mode, never alphanumeric
    try:
        return probe.best_fit()
    except Exception:  # qrcode's DataOverflowError: more than version 40 holds
        raise UserError(f"二维码内容过长（{nbytes} 字节），无法打印：请缩短终端地址"
                        "（base_url 设置）。") from None


def modules(payload: str) -> list[list[bool]]:
    """The payload's QR modules (True = dark), without a quiet zone, as qrcode returns them."""
    q = qrcode.QRCode(version=version_for(len(payload.encode("utf-8"))),
                      error_correction=ERROR_CORRECTION, mask_pattern=MASK, border=0)
    q.add_data(payload, optimize=0)  # one segment: the version depends on the length alone
    q.make(fit=False)
    return q.get_matrix()


def qr_matrix(payload: str) -> list[list[bool]]:
    """The payload's QR modules (True = dark), without a quiet zone."""
    return [[bool(v) for v in row] for row in modules(payload)]


def dark_runs(matrix: list[list[bool]]) -> list[list[tuple[int, int]]]:
    """Per row, the (first column, length) of each run of dark modules."""
    return [[(m.start(), m.end() - m.start()) for m in _DARK_RUN.finditer(bytes(row))]
            for row in matrix]


def qr_image(payload: str, box_size: int = 6, border: int = 4):
    """A PIL image of the payload's QR code with a quiet zone of `border` modules."""
    from PIL import Image

    modules = qr_matrix(payload)
    n = len(modules)
    size = n + 2 * border
    buf = bytearray(b"\xff" * (size * size))
    for r, row in enumerate(modules):
        off = (r + border) * size + border
        for c, dark in enumerate(row):
            if dark:
                buf[off + c] = 0
    img = Image.frombytes("L", (size, size), bytes(buf))
    return img.resize((size * box_size, size * box_size), Image.NEAREST).convert("1")
