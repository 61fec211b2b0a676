"""Texts a playbook shows officers, per language: schema, model, lint, merge, the shipped
files, and a record that keeps ids whatever language is spoken."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from crisiscomm import i18n
from crisiscomm.clock import SimulatedClock
from crisiscomm.engine import service
from crisiscomm.playbook.compile import compile_playbook
from crisiscomm.playbook.model import Playbook, localized
from crisiscomm.store import Store
from crisiscomm.ui import readmodel
from crisiscomm.ui.render import detail_plain
from crisiscomm.validation import check_paths

from .conftest import FIXTURES, REPO

Write = Callable[[str, str], Path]

SHIPPED = sorted([*(REPO / "playbooks").glob("*.yaml"), *(REPO / "protocols").glob("*.yaml")])
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
KARAKALPAK_LETTERS = set("áǵıńóúÁǴÍŃÓÚ")

TITLED = """\
crisiscomm: 1
id: book
extends: base
states:
  detection:
    title:
      en: Detection
      ru: Обнаружение
    checklist:
      - id: log_source
        text:
          en: Record the source
          ru: Запишите источник
  statement:
    title: Holding statement
roles:
  duty_officer:
    title: {en: Duty press officer, ru: Дежурный сотрудник пресс-службы}
"""


@pytest.fixture
def speak() -> Iterator[Callable[[str], None]]:
    """Speak a language for the test; English again after it."""
    yield i18n.use
    i18n.use("en")


def book(write: Write, text: str = TITLED) -> Path:
    write("protocols/base.yaml", (FIXTURES / "good/base.yaml").read_text(encoding="utf-8"))
    return write("book.yaml", text)


def findings(path: Path) -> list[tuple[str, str, str, int]]:
    return [
        (f.rule, f.severity.value, f.message, f.location.line) for f in check_paths([path]).findings
    ]


# -- the model ----------------------------------------------------------------------------


def test_localized_picks_the_language_then_english_then_the_first(
    speak: Callable[[str], None],
) -> None:
    texts = {"kaa": "Tekseriw", "ru": "Проверка", "en": "Verification"}
    assert localized(texts, "ru") == "Проверка"
    assert localized(texts, "uz") == "Verification"  # none in Uzbek: English
    assert localized({"kaa": "Tekseriw", "ru": "Проверка"}, "uz") == "Tekseriw"  # the first
    assert localized("Verification", "ru") == "Verification"  # one text for all
    assert localized(None, default="verification") == "verification"
    speak("ru")
    assert localized(texts) == "Проверка"  # by default the interface language in use


def test_playbook_texts_follow_the_interface_language(
    write: Write, speak: Callable[[str], None]
) -> None:
    playbook = compile_playbook(book(write))
    assert playbook.state_title("detection") == "Detection"
    assert playbook.checklist("detection") == [("log_source", "Record the source", True)]
    speak("ru")
    assert playbook.state_title("detection") == "Обнаружение"
    assert playbook.state_title("statement") == "Holding statement"  # written once
    assert playbook.state_title("closed") == "closed"  # no title: the id
    assert playbook.role_title("duty_officer") == "Дежурный сотрудник пресс-службы"
    assert playbook.role_title("head_of_press") == "Head of press"
    assert playbook.checklist("detection") == [("log_source", "Запишите источник", True)]
    assert playbook.state_title("detection", "en") == "Detection"  # or any language asked


# -- schema and lint ----------------------------------------------------------------------


def test_a_text_per_language_is_valid_and_a_missing_language_is_a_warning(write: Write) -> None:
    path = book(write)
    # base speaks en and ru: every text above has both, the plain ones are fine as they are
    assert findings(path) == []
    path = book(write, TITLED.replace("          ru: Запишите источник\n", ""))
    assert findings(path) == [
        (
            "missing-translation",
            "warning",
            "`states.detection.checklist.0.text` has no text in: ru",
            11,
        )
    ]


def test_a_role_title_without_a_language_is_named_at_its_line(write: Write) -> None:
    text = TITLED.replace(
        "{en: Duty press officer, ru: Дежурный сотрудник пресс-службы}", "{en: Duty press officer}"
    )
    assert findings(book(write, text)) == [
        ("missing-translation", "warning", "`roles.duty_officer.title` has no text in: ru", 18)
    ]


@pytest.mark.parametrize(
    ("title", "wording"),
    [("{}", "title"), ("{ru: ''}", "title"), ("[Обнаружение]", "title"), ("{RU: x}", "RU")],
)
def test_a_malformed_text_per_language_is_a_schema_error(
    write: Write, title: str, wording: str
) -> None:
    text = TITLED.replace(
        "    title:\n      en: Detection\n      ru: Обнаружение\n", f"    title: {title}\n"
    )
    found = findings(book(write, text))
    assert [rule for rule, *_rest in found] == ["schema"], found
    assert wording in found[0][2] and found[0][3] == 6


def test_messages_per_language_are_templates_checked_in_each_language(write: Write) -> None:
    text = TITLED.replace(
        "  statement:\n    title: Holding statement\n",
        "  statement:\n"
        "    title: Holding statement\n"
        "    escalation:\n"
        "      - after: 10m\n"
        "        notify: [duty_officer]\n"
        "        message:\n"
        "          en: 'Reminder: $incident_id'\n"
        "          ru: 'Напоминание: $incident_number'\n",
    )
    assert findings(book(write, text)) == [
        (
            "template-placeholder",
            "error",
            "placeholder `$incident_number` is neither a fact nor a built-in",
            21,
        )
    ]


def test_an_extending_playbook_rewords_one_language_of_an_inherited_title(write: Write) -> None:
    book(write)
    write("protocols/titled.yaml", TITLED.replace("id: book", "id: titled\nkind: protocol"))
    path = write(
        "child.yaml",
        "crisiscomm: 1\nid: child\nextends: titled\nstates:\n"
        "  detection:\n    title: {ru: Выявление}\n",
    )
    playbook = compile_playbook(path)
    assert playbook.states["detection"]["title"] == {"en": "Detection", "ru": "Выявление"}


# -- the shipped files --------------------------------------------------------------------


def _texts(playbook: Playbook) -> Iterator[tuple[str, object]]:
    for name, state in playbook.states.items():
        yield f"states.{name}.title", state.get("title")
        for item in state.get("checklist") or []:
            yield f"states.{name}.checklist.{item['id']}", item.get("text")
    for name, role in playbook.roles.items():
        if "title" in role:
            yield f"roles.{name}.title", role["title"]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_shipped_titles_and_checklists_are_in_four_languages(path: Path) -> None:
    playbook = compile_playbook(path)
    karakalpak = ""
    for where, text in _texts(playbook):
        assert isinstance(text, dict), where
        assert list(text) == ["kaa", "uz", "ru", "en"], where
        kaa, uz, ru, en = (str(text[code]) for code in ("kaa", "uz", "ru", "en"))
        assert not CYRILLIC.search(kaa) and not CYRILLIC.search(uz), where  # Latin script
        assert CYRILLIC.search(ru) and not CYRILLIC.search(en), where
        assert "'" not in uz and "`'" not in uz, where  # oʻ gʻ (U+02BB) and ʼ (U+02BC)
        assert "'" not in kaa, where
        karakalpak += kaa
        # an id a text names (`first_source`) is named in every language
        assert re.findall(r"`\w+`", kaa) == re.findall(r"`\w+`", en), where
        assert re.findall(r"`\w+`", uz) == re.findall(r"`\w+`", en), where
        assert re.findall(r"`\w+`", ru) == re.findall(r"`\w+`", en), where
    assert KARAKALPAK_LETTERS & set(karakalpak)  # á ǵ ı ń ó ú, not a transliteration


def test_uzbek_uses_the_turned_comma_in_the_shipped_texts() -> None:
    playbook = compile_playbook(REPO / "protocols" / "standard.yaml")
    assert playbook.state_title("clearance", "uz") == "Toʻliq bayonotni kelishish"
    assert "\u02bb" in playbook.state_title("clearance", "uz")
    assert playbook.state_title("release", "uz") == "Eʼlon qilish"  # U+02BC, the tutuq belgisi


# -- the record keeps ids -----------------------------------------------------------------


def test_the_record_keeps_ids_whatever_the_language_shown(
    store: Store, clock: SimulatedClock, speak: Callable[[str], None], write: Write
) -> None:
    path = book(write)
    opened: dict[str, Any] = {
        "store": store,
        "clock": clock,
        "severity": None,
        "facts": ["region=Nukus"],
    }
    speak("ru")
    first = service.open_incident(
        **opened, playbook_ref=str(path), title="Прорыв дамбы", actor="aziz"
    ).id
    service.check_item(store=store, clock=clock, incident_id=first, item="log_source", actor="aziz")
    service.advance(
        store=store, clock=clock, incident_id=first, trigger="confirm", note=None, actor="aziz"
    )
    speak("en")
    second = service.open_incident(
        **opened, playbook_ref=str(path), title="Прорыв дамбы", actor="aziz"
    ).id
    service.check_item(
        store=store, clock=clock, incident_id=second, item="log_source", actor="aziz"
    )
    service.advance(
        store=store, clock=clock, incident_id=second, trigger="confirm", note=None, actor="aziz"
    )

    def kept(incident_id: str) -> list[tuple[str, object]]:
        return [(e.type, e.data) for e in store.events(incident_id)]

    # the same acts in two languages make the same record: ids, never a title
    assert kept(first) == kept(second)
    text = repr(kept(first))
    assert "log_source" in text and "detection" in text
    assert not CYRILLIC.search(text.replace("Прорыв дамбы", ""))
    assert "Record the source" not in text and "Detection" not in text
    # only what is shown changes
    shown = detail_plain(readmodel.detail(store=store, incident_id=first), clock.now())
    assert "confirm: Detection → Holding statement" in shown
    speak("ru")
    shown = detail_plain(readmodel.detail(store=store, incident_id=first), clock.now())
    assert "confirm: Обнаружение → Holding statement" in shown
    assert "log_source: Запишите источник" in shown
