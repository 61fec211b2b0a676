"""Checks on texts the public will read: is there anything visible in them at all?

A text of zero-width spaces, joiners, direction marks or other format characters looks
empty on every screen, yet `str.strip()` keeps it. Such a statement must never be
cleared and released as if it said something.
"""

from __future__ import annotations

import unicodedata

__all__ = ["has_visible_text"]

# categories that draw nothing on their own: format (zero-width space, joiners, direction
# marks, soft hyphen), controls, separators (spaces), unassigned and private use, and
# combining marks with no letter to sit on
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc", "Cs", "Co", "Cn", "Zs", "Zl", "Zp", "Mn", "Me"})
# letters and symbols that are drawn blank
_BLANK_GLYPHS = frozenset({"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"})


def has_visible_text(text: str) -> bool:
    """Whether `text` has at least one character a reader would see."""
    return any(
        unicodedata.category(char) not in _INVISIBLE_CATEGORIES and char not in _BLANK_GLYPHS
        for char in text
    )
