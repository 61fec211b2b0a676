"""The one gettext entry point: every message a person reads goes through `_()`.

English is the source language. Catalogs live in `crisiscomm/locale/<lang>/LC_MESSAGES/
crisiscomm.mo`; the language is chosen by the usual LANGUAGE / LC_ALL / LC_MESSAGES / LANG
variables, and a missing catalog falls back to English.
"""

from __future__ import annotations

import gettext
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"

_translation = gettext.translation("crisiscomm", localedir=LOCALE_DIR, fallback=True)


def _(message: str) -> str:
    """Translate a UI message."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a UI message that depends on a count."""
    return _translation.ngettext(singular, plural, n)
