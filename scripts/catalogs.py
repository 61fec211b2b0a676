"""The message catalogs: extract, update, compile and check them with Babel.

    python scripts/catalogs.py extract   # crisiscomm/locale/crisiscomm.pot from the code
    python scripts/catalogs.py update    # merge the template into each language's .po
    python scripts/catalogs.py compile [LANG...]  # .po -> .mo (the .mo files are committed)
    python scripts/catalogs.py check [LANG...]  # what CI checks; exit 1 naming each problem

The template holds three kinds of message: every `_()`, `N_()` and `ngettext()` call in
crisiscomm; the help texts of the commands (their docstrings and options' `help=`, as click
shows them); and click's own messages ("Usage:", "No such option: {name}"), which click
looks up in our catalog too. See docs/translating.md for the translators' side.
"""

from __future__ import annotations

import inspect
import io
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LOCALE = ROOT / "crisiscomm" / "locale"
TEMPLATE = LOCALE / "crisiscomm.pot"
LANGUAGES = ("kaa", "ru", "uz")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
HEADER = "Messages of crisiscomm, the crisis communication protocol engine."
# `{name}`, `{n:g}`, `{error!r}` (not `{{` or `}}`)
PLACEHOLDER = re.compile(r"(?<!\{)\{([^\W\d]\w*)(?:![rsa])?(?::[^{}]*)?\}")
# click's own printf-style placeholders: `%(name)s`
PRINTF = re.compile(r"%\((\w+)\)[sdr]")


def po_path(code: str) -> Path:
    return LOCALE / code / "LC_MESSAGES" / "crisiscomm.po"


def mo_path(code: str) -> Path:
    return LOCALE / code / "LC_MESSAGES" / "crisiscomm.mo"


def _code_messages(catalog: Catalog) -> None:
    for filename, lineno, message, comments, context in extract_from_dir(
        ROOT / "crisiscomm", keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)
    ):
        catalog.add(
            message,
            locations=[(f"crisiscomm/{filename}", lineno)],
            auto_comments=comments,
            context=context,
        )


def _help_texts() -> Iterator[tuple[str, str, int]]:
    """(help text, file, line) of every command and option, as click shows them."""
    import click

    from crisiscomm import cli

    def where(command: click.Command) -> tuple[str, int]:
        callback = inspect.unwrap(command.callback) if command.callback else None
        if callback is None:
            return "crisiscomm/cli/__init__.py", 1
        file = Path(inspect.getsourcefile(callback) or "").resolve().relative_to(ROOT)
        return str(file), callback.__code__.co_firstlineno

    def walk(command: click.Command) -> Iterator[tuple[str, str, int]]:
        file, line = where(command)
        for attribute in ("help", "short_help", "epilog"):
            if text := getattr(command, attribute, None):
                yield text, file, line
        for param in command.params:
            if isinstance(param, click.Option) and param.help:
                yield param.help, file, line
        if isinstance(command, click.Group) and not isinstance(command, cli.LazyGroup):
            for subcommand in command.commands.values():
                yield from walk(subcommand)

    from crisiscomm import i18n

    # a command shown earlier in this process carries its help in the language it was shown
    # in; `localise` under English puts the texts as written back
    with i18n.speaking(i18n.SOURCE):
        yield from walk(cli.localise(cli.cli))
        for name, (module, attribute, _summary) in cli.COMMANDS.items():
            __import__(f"crisiscomm.cli.{module}")
            command = getattr(sys.modules[f"crisiscomm.cli.{module}"], attribute)
            assert isinstance(command, click.Command), name
            yield from walk(cli.localise(command))


def _click_messages(catalog: Catalog) -> None:
    import click

    folder = Path(click.__file__).parent
    for filename, lineno, message, comments, context in extract_from_dir(folder, keywords=KEYWORDS):
        catalog.add(
            message,
            locations=[(f"click/{filename}", lineno)],
            auto_comments=["click's own message", *comments],
            context=context,
            flags=["python-format"] if "%" in str(message) else [],
        )


# click's messages that reach gettext through a variable, out of the extractor's sight:
# (message, click's module, the source line that sets it)
CLICK_RUNTIME = (("required", "core.py", 'extra["required"] = "required"'),)


def template() -> Catalog:
    """Every message crisiscomm can show, extracted from the code now."""
    catalog = Catalog(project="crisiscomm", header_comment=f"# {HEADER}", fuzzy=False)
    _code_messages(catalog)
    for text, file, line in _help_texts():
        catalog.add(text, locations=[(file, line)], auto_comments=["command help"])
    _click_messages(catalog)
    for message, module, line in _click_runtime():
        catalog.add(
            message, locations=[(f"click/{module}", line)], auto_comments=["click's own message"]
        )
    return catalog


def _click_runtime() -> Iterator[tuple[str, str, int]]:
    import click

    for message, module, code in CLICK_RUNTIME:
        source = (Path(click.__file__).parent / module).read_text(encoding="utf-8")
        line = next((n for n, text in enumerate(source.splitlines(), 1) if code in text), 1)
        yield message, module, line


def _write(catalog: Catalog, path: Path, **options: bool) -> None:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, omit_header=False, **options)
    path.parent.mkdir(parents=True, exist_ok=True)
    # no timestamps: a catalog changes only when its messages do
    text = re.sub(rb'"(POT|PO)-(Creation|Revision)-Date: [^"]*\\n"\n', b"", buffer.getvalue())
    path.write_bytes(text)


def read(path: Path, code: str | None = None) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=code)


def extract() -> None:
    _write(template(), TEMPLATE, sort_by_file=True)


def _new_catalog(code: str) -> Catalog:
    from crisiscomm.i18n import LANGUAGE_NAMES

    return Catalog(
        locale=code,
        project="crisiscomm",
        version="1",
        header_comment=f"# {HEADER}\n# {LANGUAGE_NAMES[code]} ({code}); see docs/translating.md.",
        language_team=f"crisiscomm {code}",
        fuzzy=False,
    )


def update() -> None:
    new = read(TEMPLATE)
    for code in LANGUAGES:
        path = po_path(code)
        catalog = read(path, code) if path.exists() else _new_catalog(code)
        catalog.update(new, update_header_comment=False, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        _write(catalog, path, sort_by_file=True)


# Babel dates a catalog it reads without dates "now"; the compiled catalog must depend on
# the translations only, so that `check` can rebuild it and compare
FIXED_DATE = datetime(2026, 1, 1, tzinfo=UTC)


def mo_bytes(code: str) -> bytes:
    catalog = read(po_path(code), code)
    catalog.creation_date = catalog.revision_date = FIXED_DATE
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def compile_all(codes: tuple[str, ...] = LANGUAGES) -> None:
    for code in codes:
        mo_path(code).write_bytes(mo_bytes(code))


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text)) | set(PRINTF.findall(text))


def problems_of(message: Message, code: str, plurals: int) -> list[str]:
    """What is wrong with one translated message: untranslated, fuzzy, placeholders."""
    ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    name = f"{code}: msgid {ids[0]!r}"
    if message.fuzzy:
        return [f"{name} is fuzzy (check the translation, then remove the fuzzy flag)"]
    if len(ids) > 1 and len(strings) != plurals:
        return [f"{name} has {len(strings)} plural forms, the language has {plurals}"]
    if not all(strings):
        return [f"{name} is not translated"]
    # a plural form may leave out what only one English form has ("Did you mean
    # {possibility}?" / "(Possible options: {possibilities})"), never add to them
    wanted = set.intersection(*(_placeholders(str(i)) for i in ids))
    allowed = set().union(*(_placeholders(str(i)) for i in ids))
    found: list[str] = []
    for string in strings:
        given = _placeholders(string or "")
        if missing := wanted - given:
            found.append(f"{name}: msgstr lacks {', '.join(sorted(missing))}")
        if unknown := given - allowed:
            found.append(f"{name}: msgstr has {', '.join(sorted(unknown))}, not in the msgid")
    return found


def check(template_catalog: Catalog | None = None, codes: tuple[str, ...] = LANGUAGES) -> list[str]:
    """Every problem of the catalogs against the code as it is now."""
    expected = template_catalog or template()
    problems: list[str] = []
    for code in codes:
        path = po_path(code)
        if not path.exists():
            problems.append(f"{code}: no catalog {path.relative_to(ROOT)} (run update)")
            continue
        catalog = read(path, code)
        for wanted in expected:
            if not wanted.id:
                continue
            message = catalog.get(wanted.id, context=wanted.context)
            if message is None:
                problems.append(f"{code}: msgid {wanted.id!r} is not in the catalog (run update)")
                continue
            problems.extend(problems_of(message, code, catalog.num_plurals))
        if not mo_path(code).exists() or mo_path(code).read_bytes() != mo_bytes(code):
            problems.append(f"{code}: {mo_path(code).relative_to(ROOT)} is stale (run compile)")
    return problems


def main(argv: list[str]) -> int:
    action, codes = (argv[0], tuple(argv[1:]) or LANGUAGES) if argv else ("", ())
    if action not in ("extract", "update", "compile", "check") or not set(codes) <= {*LANGUAGES}:
        print(__doc__)
        return 2
    if action == "check":
        problems = check(codes=codes)
        print("\n".join(problems) or "catalogs complete")
        return 1 if problems else 0
    {"extract": extract, "update": update}.get(action, lambda: compile_all(codes))()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
