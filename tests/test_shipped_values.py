"""Every statement of every shipped playbook, rendered in each language with values of
every kind: no English word of the interface (`yes`, `no`, `none`) in a Karakalpak, Uzbek
or Russian text, no Latin-script place name in a Cyrillic one, no stored UTC time."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from crisiscomm.clock import SimulatedClock
from crisiscomm.engine import service
from crisiscomm.engine.statements import draft_texts
from crisiscomm.playbook.compile import compile_playbook
from crisiscomm.store import Store

REPO = Path(__file__).resolve().parents[1]
PLAYBOOKS = sorted((REPO / "playbooks").glob("*.yaml"))
START = datetime(2027, 4, 12, 12, 40, tzinfo=UTC)  # 17:40 in Tashkent
ENGLISH = re.compile(r"\b(?:yes|no|none|true|false|null)\b", re.IGNORECASE)
STORED_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
# the places the facts name: a district and a hydro-post whose names differ by language
PLACES = {"districts": "qongirat", "hydroposts": "qipshaq", "shelters": "beruniy_school_12"}
# $now (17:40 in Tashkent) as each language's statements date it
NOW = {
    "kaa": "2027-jıl 12-aprel, 17:40",
    "uz": "2027-yil 12-aprel, 17:40",
    "ru": "12 апреля 2027\u202fг., 17:40",
    "en": "April 12, 2027, 5:40\u202fPM",
}


def facts_for(playbook: Any) -> list[str]:
    """A value of every fact, typed the way officers type them."""
    typed = []
    for name, fact in playbook.facts.items():
        kind = fact.get("type", "string")
        if kind == "place":
            typed.append(f"{name}={PLACES[fact['gazetteer']]}")
        elif kind == "integer":
            typed.append(f"{name}=1 200")
        elif kind == "number":
            typed.append(f"{name}=4,12")
        elif kind == "boolean":
            typed.append(f"{name}=да")
        elif kind == "datetime":
            typed.append(f"{name}=12.04.2027 17:10")
        elif kind == "choice":
            typed.append(f"{name}={fact['choices'][0]}")
        elif "language" in str(fact.get("description")):  # one value per language
            typed += [f"{name}.{lang}=({lang})" for lang in playbook.languages]
        else:
            typed.append(f"{name}=1050")
    return typed


@pytest.mark.parametrize("path", PLAYBOOKS, ids=[p.stem for p in PLAYBOOKS])
def test_shipped_statements_speak_each_language_in_their_values(store: Store, path: Path) -> None:
    playbook = compile_playbook(path)
    clock = SimulatedClock(START)
    owner = str(playbook.state(playbook.initial)["owner"])
    actor = str(playbook.members(owner)[0]["id"])
    incident_id = service.open_incident(
        store=store,
        clock=clock,
        playbook_ref=str(path),
        title="Values of every kind",
        severity=None,
        facts=facts_for(playbook),
        actor=actor,
    ).id
    pinned, incident = service.load(store=store, incident_id=incident_id)
    gazetteer = pinned.gazetteer
    latin_names = {
        str(name)
        for places in gazetteer.values()
        for place in places.values()
        for code, name in place.items()
        if code in ("kaa", "uz", "en") and not CYRILLIC.search(str(name))
    } - {str(place["ru"]) for places in gazetteer.values() for place in places.values()}
    assert {"Qońırat", "Qoʻngʻirot", "Kungrad", "Qıpshaq", "Kipchak"} <= latin_names
    uses = {  # the place facts, by the gazetteer list they take their places from
        name: str(fact["gazetteer"])
        for name, fact in pinned.facts.items()
        if fact.get("type") == "place"
    }
    for statement, definition in pinned.statements.items():
        texts, _values = draft_texts(pinned, incident, statement, clock.now())
        for language, text in texts.items():
            template = definition["text"][language]
            if language != "en":
                assert not ENGLISH.search(text), (statement, language, text)
            assert not STORED_TIME.search(text), (statement, language, text)
            if "$now" in template:
                assert NOW[language] in text, (statement, language, text)
            for fact, list_name in uses.items():
                if re.search(rf"\$(?:{fact}\b|\{{{fact}\}})", template):
                    name = gazetteer[list_name][PLACES[list_name]][language]
                    assert name in text, (statement, language, fact, text)
        assert [name for name in latin_names if name in texts["ru"]] == [], statement


def test_the_shipped_playbooks_name_their_districts_from_the_gazetteer() -> None:
    places = {
        path.stem: {
            name: fact["gazetteer"]
            for name, fact in compile_playbook(path).facts.items()
            if fact.get("type") == "place"
        }
        for path in PLAYBOOKS
    }
    assert places["flood"] == {"district": "districts", "gauge_station": "hydroposts"}
    assert places["industrial-accident"] == {"district": "districts"}
    assert places["outbreak"] == {"district": "districts"}
