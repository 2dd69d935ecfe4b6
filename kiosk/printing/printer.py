"""Sending a finished PDF to the configured printer through `lp`, or saying where it was saved."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from kiosk import settings


def print_or_save(path: str | os.PathLike) -> str:
    """Send the PDF to the configured printer through `lp`; a sentence naming the saved file."""
    path = Path(path).resolve()
    printer = settings.get("printer").strip()
    if not printer:
        return f"已保存 PDF：{path}（未设置打印机，请手动打印）。"
    lp = shutil.which("lp")
    if not lp:
        return (f"已保存 PDF：{path}；但本机没有 lp 命令，未能送往打印机 {printer}"
                "（请安装 cups-client）。")
    try:
        r = subprocess.run([lp, "-d", printer, str(path)], capture_output=True, text=True,
                           timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        return f"已保存 PDF：{path}；送往打印机 {printer} 失败：{e}。"
    if r.returncode != 0:
        why = (r.stderr or r.stdout).strip().splitlines()
        return (f"已保存 PDF：{path}；送往打印机 {printer} 失败"
                f"（{why[0] if why else 'lp 退出码 ' + str(r.returncode)}）。")
    job = r.stdout.strip()
    return f"已送往打印机 {printer}{'（' + job + '）' if job else ''}，PDF 保存在：{path}。"
