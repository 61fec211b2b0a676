"""Which rules write a language's values: the Karakalpak table, or a Babel (CLDR) locale.

Language codes are the playbooks' (`kaa`, `uz`, `ru`, `en`, `uz-Cyrl`, `ru-RU`): ISO 639,
optionally with a script or region, `-` or `_` between. Karakalpak in Latin script, the
official one (`kaa`, `kaa-Latn`), has no real CLDR data and is written by `formats.kaa`;
everything else comes from CLDR through Babel, and a code CLDR does not know gets
neutral forms (`12.04.2027 17:40`, `4.12`).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from babel.core import Locale

__all__ = ["babel_locale", "is_karakalpak", "is_uzbek_latin", "parts"]


def parts(code: str) -> list[str]:
    """A language code's parts, lower case: `uz_Latn` -> [uz, latn]."""
    return code.strip().replace("_", "-").lower().split("-")


def is_karakalpak(code: str) -> bool:
    """Karakalpak in Latin script: `kaa`, `kaa-Latn`, `kaa-UZ` (not `kaa-Cyrl`)."""
    found = parts(code)
    return found[0] == "kaa" and "cyrl" not in found


def is_uzbek_latin(code: str) -> bool:
    """Uzbek in Latin script: `uz`, `uz-Latn`, `uz-UZ` (not `uz-Cyrl`)."""
    found = parts(code)
    return found[0] == "uz" and "cyrl" not in found and "arab" not in found


@cache
def babel_locale(code: str) -> Locale | None:
    """The CLDR locale for a language code; None for Karakalpak in Latin script and for
    codes CLDR does not know."""
    if is_karakalpak(code):
        return None
    from babel.core import Locale, UnknownLocaleError

    try:
        return Locale.parse(code.strip().replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return None
