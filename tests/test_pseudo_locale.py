"""Pseudo-localisation: every screen in a generated language that wraps each message in
⟦ ⟧ and makes it a third longer. Whatever English is left outside the brackets, and is not
the office's own data, is a message that bypasses the catalog."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from crisiscomm import i18n
from crisiscomm.cli import COMMANDS, main

from .conftest import FIXTURES
from .test_i18n import catalogs

PSEUDO = "qps"
PRESS = FIXTURES / "engine" / "press.yaml"
# `{name}`, `{n:g}`, `$incident_id`, `%(name)s`, `%s`: kept as they are
KEEP = re.compile(r"\{[^{}]*\}|\$\w+|%\(\w+\)[sdr]|%[sdr]")
WORD = re.compile(r"[A-Za-z]{4,}")


def _pseudo(text: str) -> str:
    """`Open {id}` -> `⟦Open {id} ·····⟧`: the same words, a third longer, bracketed."""
    if not text.strip():
        return text
    lead = text[: len(text) - len(text.lstrip())]
    tail = text[len(text.rstrip()) :]
    body = text.strip()
    padding = "·" * max(2, len(KEEP.sub("", body)) // 3)
    return f"{lead}⟦{body} {padding}⟧{tail}"


@pytest.fixture
def pseudo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[set[str]]:
    """A pseudo catalog of every message of the code, installed as language `qps`; the
    English words of all messages, returned."""
    template = catalogs.template()
    catalog = Catalog(locale="en", fuzzy=False)
    words: set[str] = set()
    for message in template:
        if not message.id:
            continue
        ids = tuple(message.id) if isinstance(message.id, tuple | list) else (message.id,)
        strings = tuple(_pseudo(i) for i in ids)
        catalog.add(message.id, strings if len(ids) > 1 else strings[0])
        for text in ids:
            words.update(w.lower() for w in WORD.findall(KEEP.sub(" ", text)))
    folder = tmp_path / "locale" / PSEUDO / "LC_MESSAGES"
    folder.mkdir(parents=True)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    (folder / "crisiscomm.mo").write_bytes(buffer.getvalue())
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path / "locale")
    monkeypatch.setitem(i18n.LANGUAGE_NAMES, PSEUDO, "Pseudo")
    i18n.translator.cache_clear()
    yield words
    i18n.translator.cache_clear()


def _outside_brackets(text: str) -> str:
    """What is left of a screen without the translated messages, and without what is code
    in every language: options (`--json`), metavariables (`PLAYBOOK`), command lines."""
    text = re.sub(r"⟦.*?⟧", " ", text, flags=re.DOTALL)
    text = re.sub(r"(?<![\w-])--?[A-Za-z][\w-]*", " ", text)
    text = re.sub(r"\b[A-Z][A-Z_]+\b", " ", text)
    return re.sub(r"crisiscomm [a-z-]+( [a-z-]+)?", " ", text)


def _data_words(*texts: str) -> set[str]:
    return {w.lower() for text in texts for w in WORD.findall(text)}


def test_no_screen_shows_an_untranslated_message(
    pseudo: set[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRISISCOMM_LANG", PSEUDO)
    monkeypatch.setenv("COLUMNS", "80")
    db = str(tmp_path / "office.db")
    broken = tmp_path / "broken.yaml"
    broken.write_text("crisiscomm: 1\nid: Broken Id\nstates: {}\n", encoding="utf-8")
    screens: list[tuple[tuple[str, ...], str, str]] = []

    def run(*args: str, code: int = 0) -> str:
        assert main(list(args)) == code, args
        out, err = capsys.readouterr()
        screens.append((args, out, err))
        return out

    opened = run("open-incident", str(PRESS), "--title", "Dam", "--fact", "region=Nukus",
                 "--db", db, "--as", "aziz")  # fmt: skip
    incident_id = opened.split()[0]
    run("check", incident_id, "log_source", "--db", db, "--as", "aziz")
    run("advance", incident_id, "confirm", "--db", db, "--as", "aziz")
    run("advance", incident_id, "publish", "--db", db, "--as", "aziz", code=1)
    run("statement", "draft", incident_id, "holding", "--db", db, "--as", "aziz")
    reading: list[tuple[str, ...]] = [
        ("status", "--db", db),
        ("list", "--db", db),
        ("show", incident_id, "--db", db),
        ("timeline", incident_id, "--db", db),
        ("statement", "show", incident_id, "holding", "--db", db),
        ("outbox", "--db", db),
        ("audit", "verify", "--db", db),
        ("open-incident", "--help"),
        ("--help",),
    ]
    for args in reading:
        run(*args)
    run("validate", str(broken), code=1)
    run("show", "INC-1999-0001", "--db", db, code=2)
    run("nosuchcommand", code=2)

    data = _data_words(
        PRESS.read_text(encoding="utf-8"),
        broken.read_text(encoding="utf-8"),
        str(tmp_path),
        "crisiscomm Dam Nukus Tashkent Asia broken.yaml",
        " ".join(COMMANDS),
    )
    left: list[str] = []
    for args, out, err in screens:
        for stream in (out, err):
            words = set(WORD.findall(_outside_brackets(stream)))
            english = sorted(w for w in words if w.lower() in pseudo and w.lower() not in data)
            if english:
                left.append(f"{' '.join(args)}: {english}\n{stream}")
    assert not left, "\n\n".join(left)
