"""Values as each language writes them, and as officers type them.

Statements are written per language, and so are the values inside them: a boolean is
`awa` in Karakalpak, `ha` in Uzbek, `да` in Russian; `4,12` is Russian for `4.12`; 12
April 2027 is `2027-jıl 12-aprel`, `2027-yil 12-aprel`, `12 апреля 2027 г.`, `April 12,
2027`. This package formats booleans, whole numbers, decimals, dates, times, date-times
and durations per language, and parses the forms officers type (`12.04.2027`, `17:40`,
`4,12`, `1 200`, `yoʻq`, `да`).

CLDR, through Babel, writes Uzbek (Latin), Russian and English; Karakalpak in Latin
script has no real CLDR data, so `kaa.py` carries its small table (months, weekdays,
separators). A leaf: it imports only the i18n module (the reasons of a refusal are
interface messages) besides the standard library and Babel, and loads Babel only when a
value is written.

locales.py    which rules write a language code: the Karakalpak table or a Babel locale
kaa.py        Karakalpak (Latin): months, weekdays, units, separators, the date pattern
numbers.py    whole numbers and decimals
dates.py      dates, times, date-times, durations
booleans.py   yes and no
typed.py      typed names compared as meant (`name_key`), and `InvalidInput`
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crisiscomm.lazy import names_on_first_use

if TYPE_CHECKING:
    from crisiscomm.formats.booleans import (
        BOOLEAN_WORDS,
        boolean_text,
        boolean_words,
        parse_boolean,
    )
    from crisiscomm.formats.dates import (
        date_text,
        datetime_text,
        duration_text,
        month_text,
        parse_date,
        parse_datetime,
        parse_time,
        time_text,
    )
    from crisiscomm.formats.numbers import (
        decimal_text,
        integer_text,
        parse_decimal,
        parse_integer,
    )
    from crisiscomm.formats.typed import InvalidInput, name_key

__all__ = [
    "BOOLEAN_WORDS",
    "InvalidInput",
    "boolean_text",
    "boolean_words",
    "date_text",
    "datetime_text",
    "decimal_text",
    "duration_text",
    "integer_text",
    "month_text",
    "name_key",
    "parse_boolean",
    "parse_date",
    "parse_datetime",
    "parse_decimal",
    "parse_integer",
    "parse_time",
    "time_text",
]

# the module of each name, imported when the name is first asked for: checking a boolean's
# words (validate) or comparing names needs no date or number code
_MODULES = {
    "BOOLEAN_WORDS": "booleans",
    "boolean_text": "booleans",
    "boolean_words": "booleans",
    "parse_boolean": "booleans",
    "date_text": "dates",
    "datetime_text": "dates",
    "duration_text": "dates",
    "month_text": "dates",
    "parse_date": "dates",
    "parse_datetime": "dates",
    "parse_time": "dates",
    "time_text": "dates",
    "decimal_text": "numbers",
    "integer_text": "numbers",
    "parse_decimal": "numbers",
    "parse_integer": "numbers",
    "InvalidInput": "typed",
    "name_key": "typed",
}


__getattr__ = names_on_first_use(
    __name__, {name: f"{__name__}.{module}" for name, module in _MODULES.items()}
)
