"""Which language the command line speaks, chosen before anything is printed.

In order: `--lang` (anywhere on the command line), CRISISCOMM_LANG, the office's
`settings.language` (the office in CRISISCOMM_OFFICE or ./office.yaml), then the usual
LANGUAGE / LC_ALL / LC_MESSAGES / LANG; English when none of them names a language we
have. A language named on purpose (`--lang`, CRISISCOMM_LANG) that we do not have is a
usage error; a locale we have no catalog for (`LANG=de_DE.UTF-8`, `C.UTF-8`) is not.

click prints its own messages ("Usage:", "No such option") through the standard gettext
domain; those messages are in our catalog too, so the process's default domain is ours.
"""

from __future__ import annotations

import gettext
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from crisiscomm import i18n
from crisiscomm.errors import UsageError
from crisiscomm.i18n import _

__all__ = ["choose", "office_language", "speak", "split_lang_option"]

OPTION = "--lang"
# commands with a `--lang` option of their own
OWN_LANG = {("statement", "edit")}
# the top-level `settings:` key up to the next top-level key
_SETTINGS = re.compile(r"^settings\s*:.*?(?=^[^\s#]|\Z)", re.MULTILINE | re.DOTALL)
# `language:` on a line that is not a comment, block or flow style
_LANGUAGE_KEY = re.compile(r"^[^#\n]*\blanguage\s*:", re.MULTILINE)


def split_lang_option(argv: Sequence[str]) -> tuple[str | None, list[str]]:
    """The value of `--lang X` / `--lang=X` and the arguments without it (up to `--`).

    After a command that has a `--lang` of its own (`statement edit`: the language of the
    text), `--lang` is that command's; the interface language then goes before the command
    name (`crisiscomm --lang ru statement edit ... --lang kaa`).
    """
    chosen: str | None = None
    rest: list[str] = []
    words: list[str] = []
    args = iter(argv)
    for arg in args:
        owned = tuple(words[:2]) in OWN_LANG
        if arg == "--" or (owned and (arg == OPTION or arg.startswith(OPTION + "="))):
            rest.append(arg)
            rest.extend(args)
            break
        if arg == OPTION:
            chosen = next(args, "")
        elif arg.startswith(OPTION + "="):
            chosen = arg.partition("=")[2]
        else:
            rest.append(arg)
            if not arg.startswith("-"):
                words.append(arg)
    return chosen, rest


def _refuse(name: str, source: str) -> UsageError:
    return UsageError(
        _("{source} asks for language `{name}`, which crisiscomm does not have").format(
            source=source, name=name
        ),
        hint=_("languages: {codes}").format(
            codes=", ".join(f"{code} ({title})" for code, title in i18n.LANGUAGE_NAMES.items())
        ),
    )


def _explicit(name: str, source: str) -> str:
    code = i18n.normalise(name)
    if code is None:
        raise _refuse(name, source)
    return code


def office_language(environ: Mapping[str, str]) -> str | None:
    """The office's `settings.language`, read from its file without checking the rest.

    Every command comes here before it starts, so the file is parsed only when its
    top-level `settings:` section mentions a language at all.
    """
    named = environ.get("CRISISCOMM_OFFICE")
    path = Path(named) if named else Path("office.yaml")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None  # no office here, or one `validate` will explain; not our business now
    section = _SETTINGS.search(text)
    if section is None or not _LANGUAGE_KEY.search(section.group(0)):
        return None
    from crisiscomm.documents.yamllib import yaml

    try:
        content = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None
    settings = content.get("settings") if isinstance(content, dict) else None
    chosen = settings.get("language") if isinstance(settings, dict) else None
    return i18n.normalise(chosen) if isinstance(chosen, str) else None


def choose(lang_option: str | None, environ: dict[str, str] | None = None) -> str:
    """The language to speak; UsageError for one asked for on purpose that we do not have."""
    environ = dict(os.environ) if environ is None else environ
    if lang_option is not None:
        return _explicit(lang_option, OPTION)
    if named := environ.get("CRISISCOMM_LANG"):
        return _explicit(named, "CRISISCOMM_LANG")
    return office_language(environ) or i18n.from_environment(environ) or i18n.SOURCE


def speak(code: str) -> None:
    """Use `code` for our messages and for click's own."""
    i18n.use(code)
    gettext.bindtextdomain(i18n.DOMAIN, str(i18n.LOCALE_DIR))
    gettext.textdomain(i18n.DOMAIN)
    # gettext.gettext (which click calls) picks its language from the environment on
    # every call; LANGUAGE is the variable meant for this, and a child process (`drill`
    # runs none, `serve` none either) would only speak the same language
    os.environ["LANGUAGE"] = code
