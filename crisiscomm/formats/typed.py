"""What officers type: names compared as they are meant, and the refusal of a value.

Officers type on whatever keyboard is at hand: `Qo'ng'irot` for `Qoʻngʻirot`, `Qonirat`
for `Qońırat`, `KUNGRAD`. `name_key` folds such spellings to one key; a value that does not
fit its kind is refused with `InvalidInput`, saying why where there is more to say than
"this is not a number".
"""

from __future__ import annotations

import unicodedata

__all__ = ["APOSTROPHES", "InvalidInput", "name_key"]

# every sign typed for the Uzbek ʻ (U+02BB) and ʼ (U+02BC): ASCII, typographic, grave, acute
APOSTROPHES = "'\u02bb\u02bc\u2018\u2019`\u00b4\u02b9\u2032"


class InvalidInput(ValueError):
    """Typed text that is not a value of the kind asked for.

    `str(error)` is the reason, in the interface language, or empty when the text simply
    is not of that kind (the caller says what was expected).
    """


def name_key(text: str) -> str:
    """A typed name as it is compared: case, accents, apostrophes and spacing ignored.

    `Qońırat`, `qonirat` and `QONIRAT` are one key; `Qoʻngʻirot`, `Qo'ng'irot` and
    `Qongirot` another. The dotless ı of Karakalpak counts as i.
    """
    decomposed = unicodedata.normalize("NFKD", text.replace("ı", "i").replace("İ", "I"))
    kept = "".join(
        char for char in decomposed if not unicodedata.combining(char) and char not in APOSTROPHES
    )
    return " ".join(kept.replace("-", " ").split()).casefold()
