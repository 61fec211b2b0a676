"""The interface language: how it is chosen, and that the catalogs are whole and shipped."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from crisiscomm import i18n
from crisiscomm.cli import main
from crisiscomm.cli.language import choose, office_language, split_lang_option

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import catalogs  # noqa: E402


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("ru_RU.UTF-8", "ru"),
        ("ru", "ru"),
        ("uz_UZ.UTF-8", "uz"),
        ("uz_Latn_UZ", "uz"),
        ("uz_Cyrl", None),  # Uzbek in Cyrillic: no catalog of ours
        ("kaa-Latn", "kaa"),
        ("kaa_UZ.UTF-8@latin", "kaa"),
        ("en_GB.UTF-8", "en"),
        ("C.UTF-8", None),
        ("POSIX", None),
        ("de_DE.UTF-8", None),
        ("", None),
    ],
)
def test_locale_names_map_to_our_languages(name: str, code: str | None) -> None:
    assert i18n.normalise(name) == code


def test_locale_variables_in_gettext_order() -> None:
    assert i18n.from_environment({"LANGUAGE": "de:uz", "LANG": "ru_RU.UTF-8"}) == "uz"
    assert i18n.from_environment({"LC_ALL": "ru_RU.UTF-8", "LANG": "uz_UZ"}) == "ru"
    assert i18n.from_environment({"LC_MESSAGES": "kaa_UZ", "LANG": "ru_RU"}) == "kaa"
    # the first of LC_ALL, LC_MESSAGES, LANG that is set decides, even with no catalog
    assert i18n.from_environment({"LC_ALL": "C.UTF-8", "LANG": "ru_RU.UTF-8"}) is None
    assert i18n.from_environment({}) is None


def test_lang_option_is_taken_anywhere_before_double_dash() -> None:
    assert split_lang_option(["--lang", "ru", "status"]) == ("ru", ["status"])
    assert split_lang_option(["show", "INC-1", "--lang=uz"]) == ("uz", ["show", "INC-1"])
    assert split_lang_option(["note", "--", "--lang", "x"]) == (None, ["note", "--", "--lang", "x"])


def test_a_command_s_own_lang_option_stays_its_own() -> None:
    edit = ["statement", "edit", "INC-1", "holding", "--lang", "kaa", "--text", "T"]
    assert split_lang_option(["--lang", "ru", *edit]) == ("ru", edit)
    assert split_lang_option(edit) == (None, edit)
    show = ["statement", "show", "INC-1", "holding", "--lang", "ru"]
    assert split_lang_option(show) == ("ru", show[:-2])


def test_the_commands_with_a_lang_option_of_their_own_are_known() -> None:
    import click

    from crisiscomm.cli import COMMANDS, LazyGroup, cli
    from crisiscomm.cli.language import OWN_LANG

    def walk(command: click.Command, path: tuple[str, ...]) -> set[tuple[str, ...]]:
        owning = {path} if any("--lang" in p.opts for p in command.params) else set()
        if isinstance(command, click.Group) and not isinstance(command, LazyGroup):
            for name, sub in command.commands.items():
                owning |= walk(sub, (*path, name))
        return owning

    context = click.Context(cli)
    found = set().union(
        *(walk(cli.get_command(context, name), (name,)) for name in COMMANDS)  # type: ignore[arg-type]
    )
    assert found == OWN_LANG


def test_choice_order(tmp_path: Path) -> None:
    office = tmp_path / "elsewhere" / "office.yaml"
    office.parent.mkdir()
    office.write_text("settings:\n  language: uz\n", encoding="utf-8")
    environ = {"CRISISCOMM_OFFICE": str(office), "LANG": "ru_RU.UTF-8"}
    assert choose("kaa", {**environ, "CRISISCOMM_LANG": "ru"}) == "kaa"
    assert choose(None, {**environ, "CRISISCOMM_LANG": "ru"}) == "ru"
    assert choose(None, environ) == "uz"
    assert choose(None, {"LANG": "ru_RU.UTF-8"}) == "ru"  # ./office.yaml: none here
    assert choose(None, {"LANG": "C.UTF-8"}) == "en"


def test_office_setting_is_read_from_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert office_language({}) is None
    (tmp_path / "office.yaml").write_text(
        "settings:\n  acting_for: allowed\n# each person's `language:` is theirs\npeople: {}\n",
        encoding="utf-8",
    )
    assert office_language({}) is None
    (tmp_path / "office.yaml").write_text("settings: {language: kaa}\n", encoding="utf-8")
    assert office_language({}) == "kaa"
    # a broken office is for `validate` to explain; the language falls through
    (tmp_path / "office.yaml").write_text("settings: [\n", encoding="utf-8")
    assert office_language({}) is None


@pytest.mark.parametrize(
    ("args", "environ", "source", "name"),
    [
        (["--lang", "de", "list"], {}, "--lang", "de"),
        (["list", "--lang=uz_Cyrl"], {}, "--lang", "uz_Cyrl"),
        (["list"], {"CRISISCOMM_LANG": "fr_FR"}, "CRISISCOMM_LANG", "fr_FR"),
    ],
)
def test_a_language_we_do_not_have_is_a_usage_error(
    args: list[str],
    environ: dict[str, str],
    source: str,
    name: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for variable, value in environ.items():
        monkeypatch.setenv(variable, value)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err == (
        f"crisiscomm: error: {source} asks for language `{name}`, which crisiscomm does not"
        " have\n  hint: languages: en (English), kaa (Qaraqalpaqsha), ru (Русский),"
        " uz (Oʻzbekcha)\n"
    )


def _run(*args: str, **environ: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crisiscomm", *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", **environ},
        check=False,
    )


@pytest.mark.parametrize("code", ["kaa", "uz", "ru"])
def test_click_s_own_messages_speak_the_language(code: str) -> None:
    english = "No such command {name!r}."
    translated = i18n.translator(code).gettext(english)
    assert translated != english, f"{code}: click's message is not translated"
    result = _run("--lang", code, "nosuchcommand")
    assert result.returncode == 2
    assert translated.format(name="nosuchcommand") in result.stderr
    usage = i18n.translator(code).gettext("Usage:")
    assert result.stderr.startswith(usage + " crisiscomm")


@pytest.mark.parametrize("code", ["kaa", "uz", "ru"])
def test_help_texts_speak_the_language(code: str) -> None:
    from crisiscomm.cli.incident import open_incident

    assert open_incident.help
    help_text = i18n.translator(code).gettext(open_incident.help)
    assert help_text != open_incident.help
    result = _run("open-incident", "--help", LANG=f"{code}_UZ.UTF-8")
    assert result.returncode == 0, result.stderr
    first = help_text.split("\n", 1)[0]
    assert " ".join(result.stdout.split()).count(" ".join(first.split())) == 1
    title_help = i18n.translator(code).gettext("Short title of the incident.")
    assert " ".join(title_help.split()) in " ".join(result.stdout.split())


def test_catalogs_are_whole() -> None:
    """Every message of the code translated in kaa, uz and ru: no fuzzy entry, each
    placeholder kept, the language's plural forms, and the compiled .mo up to date."""
    assert catalogs.check() == []


def test_the_catalog_check_names_what_is_wrong() -> None:
    from babel.messages.catalog import Message

    assert catalogs.problems_of(Message("Open {id}", ""), "ru", 3) == [
        "ru: msgid 'Open {id}' is not translated"
    ]
    assert catalogs.problems_of(Message("Open {id}", "Открыть"), "ru", 3) == [
        "ru: msgid 'Open {id}': msgstr lacks id"
    ]
    assert catalogs.problems_of(Message("Open {id}", "Открыть {ид}"), "ru", 3) == [
        "ru: msgid 'Open {id}': msgstr lacks id",
        "ru: msgid 'Open {id}': msgstr has ид, not in the msgid",
    ]
    assert catalogs.problems_of(
        Message(("{n} day", "{n} days"), ("{n} день", "{n} дня")), "ru", 3
    ) == ["ru: msgid '{n} day' has 2 plural forms, the language has 3"]
    # a plural form may leave out what only one English form has, never add
    options = ("Did you mean {possibility}?", "(Possible options: {possibilities})")
    said = ("Вы имели в виду {possibility}?", "(Варианты: {possibilities})", "(Варианты: {x})")
    assert catalogs.problems_of(Message(options, said), "ru", 3) == [
        "ru: msgid 'Did you mean {possibility}?': msgstr has x, not in the msgid"
    ]
    fuzzy = Message("Open", "Открыть", flags=["fuzzy"])
    assert catalogs.problems_of(fuzzy, "ru", 3) == [
        "ru: msgid 'Open' is fuzzy (check the translation, then remove the fuzzy flag)"
    ]


def test_a_new_message_without_translations_is_named() -> None:
    template = catalogs.template()
    template.add("A message nobody has translated yet")
    problems = catalogs.check(template, codes=("ru",))
    assert "ru: msgid 'A message nobody has translated yet' is not in the catalog (run update)" in (
        problems
    )


def test_the_wheel_carries_the_compiled_catalogs(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("crisiscomm-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for code in catalogs.LANGUAGES:
        assert f"crisiscomm/locale/{code}/LC_MESSAGES/crisiscomm.mo" in names
    # and the other files a non-editable install reads at run time
    package = REPO / "crisiscomm"
    needed = [
        *package.glob("publish/templates/*"),
        *package.glob("report/*.j2"),
        *package.glob("**/*.json"),
        *package.glob("store/migrations/*.sql"),
        package / "publish" / "CAP-v1.2.xsd",
    ]
    missing = [str(p.relative_to(REPO)) for p in needed if str(p.relative_to(REPO)) not in names]
    assert missing == []


def test_no_message_hides_inside_an_f_string() -> None:
    """Babel's extractor reads an f-string as one string: a `_()` inside one never reaches
    the catalogs. Translate first, then format: `_("by {person}").format(person=...)`."""
    import ast

    hidden: list[str] = []
    for path in sorted((REPO / "crisiscomm").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.JoinedStr):
                continue
            for inner in ast.walk(node):
                if (
                    isinstance(inner, ast.Call)
                    and isinstance(inner.func, ast.Name)
                    and inner.func.id in {"_", "ngettext", "N_"}
                ):
                    hidden.append(f"{path.relative_to(REPO)}:{inner.lineno}")
    assert hidden == []
