"""No person may act under the name the record gives crisiscomm's own acts.

`crisiscomm` (engine.incident.SYSTEM_ACTOR) marks what the system did by itself: reminders,
escalations, the drafts it renders. Typed as `--as crisiscomm`, an edit read as a system
draft, and the statement's real author could then approve their own text.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crisiscomm.cli import main
from crisiscomm.clock import SimulatedClock, SystemClock
from crisiscomm.engine import service
from crisiscomm.engine.incident import SYSTEM_ACTOR
from crisiscomm.errors import UsageError
from crisiscomm.store import Store
from tests.conftest import confirm, open_press

HINT = "give your own name with --as NAME or CRISISCOMM_ACTOR"
LOOKALIKES = [
    "crisiscomm",
    "CrisisComm",
    "  CRISISCOMM  ",
    "crisis comm",
    "crisis-comm",
    "crisis_comm",
    "crisis\u200bcomm",  # a zero-width space
    "\u2060crisiscomm\u00ad",  # a word joiner, a soft hyphen
    "ｃｒｉｓｉｓｃｏｍｍ",  # fullwidth
    "\u0421R\u0406\u0405\u0406\u0405\u0421\u041e\u041c\u041c",  # Cyrillic С І Ѕ О М, a Latin R
    "cr\u0456s\u0456s\u0441\u043emm",  # Cyrillic і с о among Latin letters
]


def message(name: str, source: str) -> str:
    return (
        f"`{name}` ({source}) is the name the record gives crisiscomm's own acts "
        "(reminders, escalations, the drafts it makes); no person may act under it"
    )


@pytest.mark.parametrize("name", LOOKALIKES)
def test_the_systems_name_in_any_spelling_is_refused(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CRISISCOMM_ACTOR", raising=False)
    with pytest.raises(UsageError) as caught:
        service.current_actor(name)
    assert caught.value.message == message(name.strip(), "--as")
    assert caught.value.hint == HINT
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    "name", ["aziz", "Aziz Karimov", "crisiscomm-bot", "Crisis Communications Unit", "Криcис"]
)
def test_other_names_are_who_they_say(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRISISCOMM_ACTOR", raising=False)
    assert service.current_actor(f" {name} ") == name


def test_crisiscomm_actor_and_the_login_name_are_refused_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRISISCOMM_ACTOR", "Crisiscomm")
    with pytest.raises(UsageError) as caught:
        service.current_actor(None)
    assert caught.value.message == message("Crisiscomm", "CRISISCOMM_ACTOR")
    assert service.current_actor("aziz") == "aziz"  # --as still wins over the variable

    monkeypatch.delenv("CRISISCOMM_ACTOR")
    # a service account: the operating-system account is read by one function
    monkeypatch.setattr("crisiscomm.store.store.account_name", lambda: SYSTEM_ACTOR)
    with pytest.raises(UsageError) as caught:
        service.current_actor(None)
    assert caught.value.message == message("crisiscomm", "your login name")
    assert caught.value.hint == HINT


def test_an_edit_as_crisiscomm_is_refused_and_the_author_still_may_not_approve(
    store: Store,
    db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The issue's path: aziz drafts, `--as crisiscomm` edits, aziz approves his own text."""
    monkeypatch.delenv("CRISISCOMM_ACTOR", raising=False)
    clock = SimulatedClock(SystemClock().now())
    incident_id = open_press(store, clock)
    confirm(store, clock, incident_id)
    service.draft_statement(
        store=store, clock=clock, incident_id=incident_id, statement="holding", actor="aziz"
    )
    before = store.events(incident_id)
    text = tmp_path / "holding-ru.txt"
    text.write_text("Наводнение в Нукусе. Следующее сообщение в 19:30.", encoding="utf-8")
    for actor in ("crisiscomm", " CrisisComm"):
        code = main(
            [
                *("statement", "edit", incident_id, "holding"),
                *("--lang", "ru", "--file", str(text), "--as", actor, "--db", str(db)),
            ]
        )
        out, err = capsys.readouterr()
        assert (code, out) == (2, "")
        assert err == (f"crisiscomm: error: {message(actor.strip(), '--as')}\n  hint: {HINT}\n")
    monkeypatch.setenv("CRISISCOMM_ACTOR", SYSTEM_ACTOR)
    code = main(["statement", "edit", incident_id, "holding", "--lang", "ru", "--file", str(text)])
    out, err = capsys.readouterr()
    assert code == 2 and "(CRISISCOMM_ACTOR)" in err
    assert store.events(incident_id) == before  # nothing on the record

    monkeypatch.delenv("CRISISCOMM_ACTOR")
    code = main(["approve", incident_id, "holding", "--as", "aziz", "--db", str(db)])
    out, err = capsys.readouterr()
    assert code == 1, (out, err)  # the newest version is still aziz's own: four eyes
    assert store.events(incident_id) == before
