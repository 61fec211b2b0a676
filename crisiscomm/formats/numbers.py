"""Whole numbers and decimals: as each language writes them, and as officers type them.

Written: `1 200` and `4,12` in Karakalpak, Uzbek and Russian (a no-break space groups the
thousands, a comma marks the decimals), `1,200` and `4.12` in English. Typed: `1200`,
`1 200`, `1,200` (English grouping) for whole numbers; `4,12`, `4.12`, `1 200,5`,
`1,200.5` for decimals.
"""

from __future__ import annotations

import re
from functools import lru_cache

from crisiscomm.formats.kaa import DECIMAL, GROUP
from crisiscomm.formats.locales import babel_locale, is_karakalpak
from crisiscomm.formats.typed import InvalidInput
from crisiscomm.i18n import _

__all__ = ["decimal_text", "integer_text", "parse_decimal", "parse_integer"]

# spaces people put between groups of digits, and minus signs they type
_SPACES = " \u00a0\u202f\u2009\u2007"
_MINUS = "-\u2212\u2013"
# patterns, not compiled here: re compiles (and caches) each when a typed number first
# needs it, so the commands that only write numbers never pay for them
_PLAIN = r"[+-]?\d+"
_SPACE_GROUPS = rf"[+-]?\d{{1,3}}(?:[{_SPACES}]\d{{3}})+"
_COMMA_GROUPS = r"[+-]?\d{1,3}(?:,\d{3})+"
_DATE_LIKE = r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}"


def _group(digits: str, separator: str) -> str:
    """`1234567` -> `1 234 567` (every group of three, four-digit numbers too)."""
    head = len(digits) % 3 or 3
    groups = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return separator.join(groups)


# cached: a statement's facts are written again in each language at every draft, and a
# Babel format costs tens of microseconds; typed, so that True is never taken for 1
@lru_cache(maxsize=1024, typed=True)
def integer_text(value: int, language: str) -> str:
    """A whole number as `language` writes it: `1 200`, `1,200`."""
    if is_karakalpak(language):
        sign = "-" if value < 0 else ""
        return sign + _group(str(abs(value)), GROUP)
    locale = babel_locale(language)
    if locale is None:
        return str(value)
    from babel.numbers import format_decimal

    return format_decimal(value, locale=locale)


def decimal_text(value: float, language: str) -> str:
    """A number as `language` writes it: `4,12`, `4.12`, `1 200,5`; whole ones without
    decimals (`3`, not `3,0`), every decimal given kept (`4,125`, not `4,13`)."""
    if value.is_integer():
        return integer_text(int(value), language)
    from decimal import Decimal  # only here: most commands write no number with decimals

    exact = Decimal(repr(value))
    if is_karakalpak(language):
        whole, _dot, fraction = format(abs(exact), "f").partition(".")
        sign = "-" if exact < 0 else ""
        return f"{sign}{_group(whole, GROUP)}{DECIMAL}{fraction}"
    locale = babel_locale(language)
    if locale is None:
        return format(exact, "f")
    from babel.numbers import format_decimal

    return format_decimal(exact, locale=locale, decimal_quantization=False)


def _clean(text: str) -> str:
    """Surrounding spaces gone and every minus sign `-`."""
    cleaned = text.strip()
    for minus in _MINUS[1:]:
        cleaned = cleaned.replace(minus, "-")
    return cleaned


def parse_integer(text: str) -> int:
    """A whole number as typed: `1200`, `1 200`, `1,200`, `-14`; InvalidInput otherwise."""
    cleaned = _clean(text)
    if re.fullmatch(_PLAIN, cleaned) or re.fullmatch(_SPACE_GROUPS, cleaned):
        return int("".join(c for c in cleaned if c not in _SPACES))
    if re.fullmatch(_COMMA_GROUPS, cleaned):
        return int(cleaned.replace(",", ""))
    try:
        number = parse_decimal(cleaned)
    except InvalidInput:
        raise InvalidInput("") from None
    if number.is_integer():  # `4,0`
        return int(number)
    raise InvalidInput(_("it has a decimal part"))


def parse_decimal(text: str) -> float:
    """A number as typed: `4,12`, `4.12`, `1 200`, `1 200,5`, `1,200.5`; InvalidInput
    otherwise (`4,1,2`, `12.04.2027`, `inf`).

    One comma or one point is the decimal mark, whatever the language: `4,120` is four
    and twelve hundredths, as Karakalpak, Uzbek and Russian write it. Only with both
    (`1,200.5`, `1.200,5`), or the same mark repeated (`1,200,000`), does the other mark
    group thousands.
    """
    cleaned = _clean(text)
    if re.fullmatch(_DATE_LIKE, cleaned):
        raise InvalidInput(_("it looks like a date"))
    sign = ""
    if cleaned[:1] in ("+", "-"):
        sign, cleaned = cleaned[0].replace("+", ""), cleaned[1:]
    marks = [c for c in cleaned if c in ",."]
    whole, fraction = cleaned, None
    if len(marks) == 1:
        whole, _mark, fraction = cleaned.partition(marks[0])
    elif len(set(marks)) == 1:  # `1,200,000`: thousands, no decimals
        if not re.fullmatch(rf"\d{{1,3}}(?:{re.escape(marks[0])}\d{{3}})+", cleaned):
            raise InvalidInput(_("it has more than one decimal mark"))
        whole = cleaned.replace(marks[0], "")
    elif marks:  # `1,200.5`: the last mark is the decimal one
        mark, other = marks[-1], ({",", "."} - {marks[-1]}).pop()
        whole, _mark, fraction = cleaned.rpartition(mark)
        if mark in whole:
            raise InvalidInput(_("it has more than one decimal mark"))
        if not re.fullmatch(rf"\d{{1,3}}(?:{re.escape(other)}\d{{3}})+", whole):
            raise InvalidInput("")
        whole = whole.replace(other, "")
    if fraction is not None and not (fraction.isdigit() and fraction.isascii()):
        raise InvalidInput("")
    if re.fullmatch(_SPACE_GROUPS, whole):
        whole = "".join(c for c in whole if c not in _SPACES)
    whole = whole or ("0" if fraction else "")  # `,5` is a half
    if not (whole.isdigit() and whole.isascii()):
        raise InvalidInput("")
    return float(f"{sign}{whole}.{fraction or 0}")
