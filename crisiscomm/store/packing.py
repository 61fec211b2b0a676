"""How an incident's record (its row's data, its statements and their versions) is kept.

On SQLite a closed incident's record is compressed (zlib, stored as a BLOB): that record is
JSON of about 4 KB per row (every checklist tick with its person and time; a statement
version's texts in every language), just over what fits in a page beside its row, so each
row took a page of its own plus an overflow page, mostly empty. Compressed, the incident row
is a quarter of that and rows share pages (0009_compact_storage.sql). An open incident's
record stays text: every command reads and rewrites it, and would pay for compressing it
each time. PostgreSQL compresses such values itself (TOAST): there the record stays text.
Reading takes either form, so rows written before the change read as they always did.
"""

from __future__ import annotations

import zlib

__all__ = ["pack", "unpack"]

# the fastest level: the record is written by most commands, and the higher levels gain
# little on it (about 10%) for a third more time
LEVEL = 1


def pack(text: str) -> bytes:
    """The JSON text compressed, as SQLite keeps it."""
    return zlib.compress(text.encode("utf-8"), LEVEL)


def unpack(value: str | bytes) -> str:
    """The JSON text of a stored value: compressed (bytes) or as written before (text)."""
    if isinstance(value, str):
        return value
    return zlib.decompress(value).decode("utf-8")
