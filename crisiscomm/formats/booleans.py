"""Yes and no: the words each language writes, and every way officers type them.

Written: `awa`/`yaq` in Karakalpak, `ha`/`yoʻq` in Uzbek (with ʻ, U+02BB), `да`/`нет` in
Russian, `yes`/`no` in English. A playbook fact may give its own words per language
(`words: {ru: [объявлена, не объявлена]}`), which are accepted when typed too. Typed:
any of those in any language, `true`/`false`, `1`/`0`, `y`/`n`, and the spellings of
other keyboards (`yo'q`, `yoq`, `йўқ`, `ҳа`, `ий`, `жоқ`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache

from crisiscomm.formats.locales import is_karakalpak, is_uzbek_latin, parts
from crisiscomm.formats.typed import InvalidInput, name_key

__all__ = ["BOOLEAN_WORDS", "boolean_text", "boolean_words", "parse_boolean"]

# the words a statement writes, (true, false), by language
BOOLEAN_WORDS: Mapping[str, tuple[str, str]] = {
    "kaa": ("awa", "yaq"),
    "uz": ("ha", "yo\u02bbq"),
    "uz-cyrl": ("ҳа", "йўқ"),
    "ru": ("да", "нет"),
    "en": ("yes", "no"),
}
# what officers type, in any language (compared by `name_key`)
TRUE_TYPED = ("true", "yes", "y", "1", "ha", "ҳа", "ха", "да", "awa", "аўа", "ий", "ийә", "ия")
FALSE_TYPED = ("false", "no", "n", "0", "yo'q", "йўқ", "нет", "yaq", "яқ", "joq", "жоқ", "йоқ")


def boolean_words(
    language: str, overrides: Mapping[str, Sequence[str]] | None = None
) -> tuple[str, str] | None:
    """The (true, false) words of `language`: the fact's own, else the table's; None
    for a language with neither."""
    for code in (language, language.lower(), "-".join(parts(language))):
        if overrides and code in overrides:
            true, false = overrides[code]
            return str(true), str(false)
    if is_karakalpak(language):
        return BOOLEAN_WORDS["kaa"]
    if is_uzbek_latin(language):
        return BOOLEAN_WORDS["uz"]
    found = parts(language)
    for key in ("-".join(found[:2]), found[0]):
        if key in BOOLEAN_WORDS:
            return BOOLEAN_WORDS[key]
    return None


def boolean_text(
    value: bool, language: str, overrides: Mapping[str, Sequence[str]] | None = None
) -> str | None:
    """`awa`, `yoʻq`, `да`, `no` ...: the word for `value` in `language`, or None where
    the language has no words."""
    words = boolean_words(language, overrides)
    if words is None:
        return None
    return words[0] if value else words[1]


def parse_boolean(text: str, overrides: Mapping[str, Sequence[str]] | None = None) -> bool:
    """Yes or no as typed, in any language; InvalidInput otherwise."""
    typed = name_key(text)
    if not typed:
        raise InvalidInput("")
    for words in (overrides or {}).values():  # a fact's own words first: they are exact
        if typed == name_key(str(words[0])):
            return True
        if typed == name_key(str(words[1])):
            return False
    if typed in _typed_words(True):
        return True
    if typed in _typed_words(False):
        return False
    raise InvalidInput("")


@cache
def _typed_words(value: bool) -> frozenset[str]:
    """The keys of every word typed for `value`, in any language."""
    typed = TRUE_TYPED if value else FALSE_TYPED
    written = [words[0 if value else 1] for words in BOOLEAN_WORDS.values()]
    return frozenset(name_key(word) for word in (*typed, *written))
