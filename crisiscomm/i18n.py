"""The one gettext entry point: every message a person reads goes through `_()`.

English is the source language; the office's languages are Karakalpak in Latin script
(`kaa`), Uzbek in Latin script (`uz`) and Russian (`ru`). Catalogs live in
`crisiscomm/locale/<lang>/LC_MESSAGES/crisiscomm.mo` (built from the `.po` beside them, see
docs/translating.md).

The interface language is chosen once per process with `use()` (the command line does it
from `--lang`, CRISISCOMM_LANG, the office's setting, then LANGUAGE / LC_ALL / LC_MESSAGES /
LANG); `_()` and `ngettext()` translate into it at call time. A message for a particular
person (a notification in their preferred language) goes through `translator(code)`.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

__all__ = [
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "LOCALE_DIR",
    "N_",
    "_",
    "from_environment",
    "language",
    "ngettext",
    "normalise",
    "speaking",
    "translator",
    "use",
]

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "crisiscomm"
SOURCE = "en"

# the languages crisiscomm speaks, each named in itself
LANGUAGE_NAMES: Mapping[str, str] = {
    "en": "English",
    "kaa": "Qaraqalpaqsha",
    "ru": "Русский",
    "uz": "Oʻzbekcha",
}
LANGUAGES = tuple(LANGUAGE_NAMES)

# locale spellings that mean one of ours: `uz_UZ.UTF-8`, `uz_Latn`, `kaa-Latn-UZ`, `ru-RU`
_SCRIPTS_NOT_OURS = {"cyrl"}  # Uzbek or Karakalpak in Cyrillic: we have no such catalog


@cache
def translator(code: str) -> gettext.NullTranslations:
    """The catalog for one language (English: messages as written)."""
    if code == SOURCE:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[code], fallback=True)


_current = SOURCE
_translation: gettext.NullTranslations = translator(SOURCE)
# a text for one person (a notification in their language) is made under `speaking()`,
# which holds in this thread only: the process's language stays as it is elsewhere
_speaking: ContextVar[tuple[str, gettext.NullTranslations] | None] = ContextVar(
    "speaking", default=None
)


def normalise(name: str) -> str | None:
    """One of LANGUAGES for a language or locale name, or None if we have no catalog for it.

    `ru_RU.UTF-8` -> ru, `uz_UZ` -> uz, `kaa-Latn` -> kaa, `C`, `POSIX`, `de_DE` -> None.
    """
    name = name.strip().split(".", 1)[0].split("@", 1)[0]
    parts = name.replace("-", "_").lower().split("_")
    if not parts or parts[0] not in LANGUAGE_NAMES:
        return None
    if any(part in _SCRIPTS_NOT_OURS for part in parts[1:]):
        return None
    return parts[0]


def from_environment(environ: Mapping[str, str] | None = None) -> str | None:
    """The language the usual locale variables ask for, if we have it.

    LANGUAGE is a colon-separated list of preferences; LC_ALL, LC_MESSAGES and LANG name one
    locale each, and the first of them that is set decides (as in gettext).
    """
    environ = os.environ if environ is None else environ
    for preference in (environ.get("LANGUAGE") or "").split(":"):
        if preference and (code := normalise(preference)):
            return code
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if value := environ.get(variable):
            return normalise(value)
    return None


def use(code: str) -> None:
    """Speak `code` (one of LANGUAGES) from now on in this process."""
    global _current, _translation
    if code not in LANGUAGE_NAMES:
        raise ValueError(code)
    _current, _translation = code, translator(code)


@contextmanager
def speaking(code: str) -> Iterator[None]:
    """Speak `code` inside the block, in this thread only (`_()` and `language()` follow)."""
    if code not in LANGUAGE_NAMES:
        raise ValueError(code)
    token = _speaking.set((code, translator(code)))
    try:
        yield
    finally:
        _speaking.reset(token)


def language() -> str:
    """The language now in use: the block's under `speaking()`, else the process's."""
    override = _speaking.get()
    return override[0] if override else _current


def _(message: str) -> str:
    """Translate a UI message."""
    override = _speaking.get()
    return (override[1] if override else _translation).gettext(message)


def N_(message: str) -> str:
    """Mark a message for translation where it is defined; `_()` translates it where shown."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a UI message that depends on a count."""
    override = _speaking.get()
    return (override[1] if override else _translation).ngettext(singular, plural, n)
