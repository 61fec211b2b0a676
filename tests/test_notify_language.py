"""Notifications reach each person in their own language, whatever the screen speaks."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from crisiscomm import i18n
from crisiscomm.clock import SimulatedClock
from crisiscomm.engine import service
from crisiscomm.store import Store

from .conftest import FIXTURES

NEEDS_YOU = "$incident_id: $state_title needs you"
DEADLINE_PASSED = "$incident_id: the deadline of $state_title has passed ($deadline)"


def _playbook(tmp_path: Path) -> Path:
    text = (FIXTURES / "engine" / "press.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "members: [{name: Aziz Karimov, login: aziz}]",
        "members: [{name: Aziz Karimov, login: aziz, language: kaa}]",
    ).replace(
        "members: [{name: Dilnoza Yusupova, login: dilnoza}]",
        "members: [{name: Dilnoza Yusupova, login: dilnoza, language: ru}]",
    )
    path = tmp_path / "press.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _expected(code: str, message: str, incident_id: str) -> str:
    translated = i18n.translator(code).gettext(message)
    assert translated != message, f"{code}: {message!r} is not translated"
    return translated.replace("$incident_id", incident_id)


def test_each_person_is_told_in_their_language(
    store: Store, clock: SimulatedClock, tmp_path: Path
) -> None:
    i18n.use("uz")  # the screen speaks Uzbek; nobody told here reads it
    incident = service.open_incident(
        store=store,
        clock=clock,
        playbook_ref=str(_playbook(tmp_path)),
        title="Suv toshqini",
        severity=None,
        facts=["region=Nukus"],
        actor="aziz",
    )
    clock.advance(timedelta(minutes=21))
    service.fire_due(store=store, clock=clock)
    rows = [m for m in store.outbox(incident.id) if m.payload["kind"] in ("escalation", "deadline")]
    by_kind = {(m.payload["kind"], tuple(m.payload["people"])): m.payload for m in rows}

    to_head = by_kind[("escalation", ("Dilnoza Yusupova",))]
    assert to_head["language"] == "ru"
    expected = _expected("ru", NEEDS_YOU, incident.id).split("$state_title")[0]
    assert to_head["text"].startswith(expected)

    to_duty = by_kind[("deadline", ("Aziz Karimov",))]
    assert to_duty["language"] == "kaa"
    assert to_duty["text"].startswith(
        _expected("kaa", DEADLINE_PASSED, incident.id).split("$state_title")[0]
    )
    # the process still speaks what it spoke before
    assert i18n.language() == "uz"


def test_people_of_two_languages_on_one_channel_get_a_row_each(
    store: Store, clock: SimulatedClock, tmp_path: Path
) -> None:
    incident = service.open_incident(
        store=store,
        clock=clock,
        playbook_ref=str(_playbook(tmp_path)),
        title="Flood",
        severity=None,
        facts=["region=Nukus"],
        actor="aziz",
    )
    entered = [m for m in store.outbox(incident.id) if m.payload["kind"] == "on_enter"]
    assert sorted(
        (m.channel, m.payload["language"], tuple(m.payload["people"])) for m in entered
    ) == [
        ("ops", "kaa", ("Aziz Karimov",)),
        ("ops", "ru", ("Dilnoza Yusupova",)),
    ]
    assert len({m.idempotency_key for m in entered}) == 2
    subjects = {m.payload["language"]: m.payload["subject"] for m in entered}
    for code in ("kaa", "ru"):  # a subject with no words may read the same in a language
        subject = i18n.translator(code).gettext("$incident_id: $state_title")
        assert subjects[code] == subject.replace("$incident_id", incident.id).replace(
            "$state_title", "detection"
        )


def test_speaking_holds_in_its_block_and_thread_only() -> None:
    import threading

    i18n.use("en")
    seen: list[str] = []
    with i18n.speaking("ru"):
        assert i18n.language() == "ru"
        worker = threading.Thread(target=lambda: seen.append(i18n.language()))
        worker.start()
        worker.join()
    assert seen == ["en"]
    assert i18n.language() == "en"
