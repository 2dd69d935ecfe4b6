"""Tamper-evident audit (全程留痕, Art. 9, 14, 18): a hash chain over every event, covering
the rows that matter and the files the kiosk keeps, anchored outside the store.

- chain: append an event (`record`), the head (`head`, `head_text`);
- cover: which rows an event covers, one hash function per kind (`COVERED`, `register`);
- anchor: the terminal's own copy of the last committed head;
- check: `verify`, for `kiosk audit verify` and the Audit screen;
- exports: `audited_export`, an export whose trace is written before its file appears;
- query: the paged, filtered event list of the Audit screen.
"""
from __future__ import annotations

from kiosk.audit.chain import GENESIS, entry_hash, head, head_text, parse_head, record
from kiosk.audit.check import Verdict, verify
from kiosk.audit.cover import COVERED, Kind, register
from kiosk.audit.exports import audited_export

__all__ = ["COVERED", "GENESIS", "Kind", "Verdict", "audited_export", "entry_hash", "head",
           "head_text",
           "parse_head", "record", "register", "verify"]
