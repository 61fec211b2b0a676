"""The pages and feeds of the public site, rendered by Jinja2 with autoescaping.

Every text from the database (statement texts, values, names) reaches a page as data and
is escaped there: a statement holding `<script>` is published as those characters. The
interface words of a page are looked up in the page's language (`i18n.speaking`); a
statement language crisiscomm does not speak gets English words around its text. Times are
written in the incident's zone as the page's language writes them. Nothing here reads a
clock: the same record gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from crisiscomm.i18n import LANGUAGE_NAMES, _, speaking

__all__ = [
    "CSS",
    "SiteOptions",
    "environment",
    "interface_language",
    "local_time",
    "macro",
    "month_name",
    "render",
    "rfc3339",
    "words",
]

TEMPLATES = Path(__file__).parent / "templates"

# readable on a phone and a desk: one column, large type, contrast above WCAG AA (15:1 for
# the text, 7:1 for links and notes), a visible focus ring, no script, no web fonts
CSS = """\
body{margin:0 auto;max-width:42rem;padding:0 1rem 2rem;color:#1b1b1b;background:#fff;
  font:1.125rem/1.6 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif}
a{color:#0b4f8a}a:focus{outline:3px solid #b35900;outline-offset:2px}
.skip{position:absolute;left:-999rem}.skip:focus{position:static}
header{border-bottom:1px solid #767676;padding:.5rem 0}.site{margin:.25rem 0;font-weight:700}
.langs{list-style:none;padding:0;margin:.25rem 0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
.langs a[aria-current]{font-weight:700;color:#1b1b1b}.big{font-size:1.375rem}
h1{font-size:1.625rem;line-height:1.3}h2{font-size:1.3rem;line-height:1.3;margin-top:2rem}
.id,.meta{color:#4a4a4a;font-size:.95rem}.text p{white-space:pre-line;overflow-wrap:anywhere}
.incidents{list-style:none;padding:0}.incidents li{margin:1rem 0}
article{border-top:1px solid #c8c8c8}dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem}
dt{font-weight:700}dd{margin:0}
.notice{border-left:4px solid #8a5a00;padding:.25rem .75rem;background:#fff8e6}
del{color:#4a4a4a}
.exercise,.mark{background:#fff3cd;color:#5c3c00;border:2px solid #8a5a00;padding:.25rem .5rem}
footer{border-top:1px solid #767676;margin-top:2rem;font-size:.95rem}
"""


@dataclass(frozen=True)
class SiteOptions:
    """What the office says about its site: its name, CAP sender, public address."""

    title: str = ""  # default: "Public statements" in each page's language
    sender: str = "crisiscomm"  # CAP <sender>: the office's identifier, no person
    base_url: str = ""  # https://press.example.uz/ : absolute links in feeds and CAP


@cache
def environment() -> Any:
    """The Jinja2 environment: templates of this package, HTML and XML autoescaped."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, **values: Any) -> bytes:
    """A template rendered as UTF-8 bytes."""
    return str(environment().get_template(template).render(**values)).encode("utf-8")


@cache
def macro(template: str, name: str) -> Any:
    """A macro of a template, called from Python: a fragment rendered (and escaped) once,
    kept, and placed into pages as it is (`lines.html`)."""
    return getattr(environment().get_template(template).module, name)


def interface_language(code: str) -> str:
    """The language of a page's interface words: the page's own, or English."""
    return code if code in LANGUAGE_NAMES else "en"


@contextmanager
def page_language(code: str) -> Iterator[None]:
    """Speak a page's language while its words are looked up."""
    with speaking(interface_language(code)):
        yield


@cache
def words(code: str, title: str = "") -> dict[str, str]:
    """The interface words of a page in language `code`."""
    with page_language(code):
        return {
            "site": title or _("Public statements"),
            "skip": _("Skip to the statements"),
            "languages": _("Languages"),
            "current": _("Current incidents"),
            "recent": _("Recent incidents"),
            "archive": _("Archive"),
            "feed": _("Atom feed"),
            "cap": _("CAP message"),
            "released": _("Released:"),
            "next_update": _("Next update"),
            "hotline": _("Hotline"),
            "ongoing": _("Ongoing"),
            "closed": _("Closed"),
            "nothing": _("No statement has been released yet."),
            "exercise": _("EXERCISE: this is a drill, not a real emergency."),
            "exercise_short": _("EXERCISE"),
            "month": _("Statements released in {month}"),
            "withdrawn_at": _("Withdrawn on {time}:"),
            "corrected_at": _("Corrected on {time}:"),
            "superseded_at": _("Superseded by the correction of {time}."),
            "withdrawn_text": _("The withdrawn text:"),
        }


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=4096)
def _date_text(day: date, code: str) -> str:
    from crisiscomm.formats.dates import date_text

    return date_text(day, code)


@lru_cache(maxsize=8192)
def _time_text(moment: time, code: str) -> str:
    from crisiscomm.formats.dates import time_text

    return time_text(moment, code)


def local_time(moment: datetime, code: str, zone: str) -> str:
    """A moment in the incident's zone as the page's language writes it (as
    `formats.dates.datetime_text` does, with its day and time looked up once each)."""
    local = moment.astimezone(_zone(zone))
    language = interface_language(code)
    return f"{_date_text(local.date(), language)}, {_time_text(local.time(), language)}"


@lru_cache(maxsize=1024)
def month_name(month: str, code: str) -> str:
    """A month of the archive (`2027-03`) as the page's language names it: `2027-jıl
    mart`, `март 2027 г.`, `March 2027`."""
    from crisiscomm.formats.dates import month_text

    year, number = month.split("-")
    return month_text(int(year), int(number), interface_language(code))


def rfc3339(moment: datetime) -> str:
    """A moment in UTC as Atom and HTML `datetime` attributes write it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
