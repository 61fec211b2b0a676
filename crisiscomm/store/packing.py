"""How an incident's record (its row's data, its statements and their versions) is kept.

On SQLite a closed incident's record is compressed (zlib, stored as a BLOB): that record is
JSON of about 4 KB per row (every checklist tick with its person and time; a statement
version's texts in every language), just over what fits in a page beside its row, so each
row took a page of its own plus an overflow page, mostly empty (0009_compact_storage.sql).
An open incident's record stays text: every command reads and rewrites it, and would pay
for compressing it each time. PostgreSQL compresses such values itself (TOAST): there the
record stays text.

Compressed alone, a statement version's texts in four languages still took 2.4 KB, too
big for two to share a page. But the incidents of one playbook say much the same: the
statement's template with other places, figures and times. So each part of the record is
compressed against a dictionary (zlib's preset dictionary) of its kind, for its playbook:
the same part of the first incident of that playbook that closed, kept once in the
`pack_dictionaries` table (0010_pack_dictionaries.sql) and never changed or deleted. A
version then takes about 0.2 KB, and an incident's whole record about 1.3 KB instead of
17 KB in pages. The dictionaries hold what the records hold (the office's own work; the
public's personal data is only in the register's people table, privacy.py).

A packed value names its dictionary: `MARK`, the dictionary's id (4 bytes, big-endian), then
the zlib stream. A value packed without one (0009) is a bare zlib stream, whose first byte
is 0x78; text is a record stored as it was before either. Reading takes all three.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

__all__ = ["DICTIONARY_SIZE", "MARK", "dictionary_id", "pack", "unpack"]

# the fastest level: the record of a closed incident may still be written by a command,
# and the higher levels gain little on it (about 10%) for a third more time
LEVEL = 1
MARK = b"\x01"  # a zlib stream starts with 0x78 (deflate, 32 KB window): never this
# zlib refers back at most 32 KB: a longer dictionary's start would never be used
DICTIONARY_SIZE = 32 * 1024


def pack(text: str, dictionary: tuple[int, bytes] | None = None) -> bytes:
    """The JSON text compressed, as SQLite keeps it; against `dictionary` (its id and
    content) when given."""
    data = text.encode("utf-8")
    if dictionary is None:
        return zlib.compress(data, LEVEL)
    number, content = dictionary
    packer = zlib.compressobj(LEVEL, zdict=content)
    return MARK + number.to_bytes(4, "big") + packer.compress(data) + packer.flush()


def dictionary_id(value: str | bytes) -> int | None:
    """The id of the dictionary a stored value was packed against, or None (text, or
    packed without one)."""
    if isinstance(value, str) or value[:1] != MARK:
        return None
    return int.from_bytes(value[1:5], "big")


def unpack(value: str | bytes, dictionary: Callable[[int], bytes] | None = None) -> str:
    """The JSON text of a stored value: compressed (bytes; against the dictionary that
    `dictionary` gives by id, where it names one) or as written before (text)."""
    if isinstance(value, str):
        return value
    number = dictionary_id(value)
    if number is None:
        return zlib.decompress(value).decode("utf-8")
    if dictionary is None:
        raise ValueError(f"the value was packed against dictionary {number}: give `dictionary`")
    unpacker = zlib.decompressobj(zdict=dictionary(number))
    return (unpacker.decompress(value[5:]) + unpacker.flush()).decode("utf-8")
