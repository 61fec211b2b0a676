"""Promises kept and clearances chased (issue 13): a promised update outlives the state it
was made in; a clearance step that sits is reminded, then its deputies, then escalated;
a statement text with nothing visible in it, or a placeholder left in it, never goes out."""

from __future__ import annotations

import json
import signal
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from crisiscomm.cli import main
from crisiscomm.clock import SimulatedClock
from crisiscomm.engine import service
from crisiscomm.errors import RefusedError, UsageError
from crisiscomm.store import Store, open_store

from .conftest import FIXTURES
from .test_serve import WAIT, Serve, wait_for

PROMISE = str(FIXTURES / "engine" / "promise.yaml")


def open_promise(store: Store, clock: SimulatedClock, region: str = "Nukus") -> str:
    incident = service.open_incident(
        store=store,
        clock=clock,
        playbook_ref=PROMISE,
        title="Water main burst",
        severity=None,
        facts=[f"region={region}"],
        actor="aziz",
    )
    return incident.id


def steps(store: Store, clock: SimulatedClock, incident_id: str) -> dict[str, Any]:
    return {"store": store, "clock": clock, "incident_id": incident_id}


def release_holding(store: Store, clock: SimulatedClock, incident_id: str) -> None:
    kwargs = steps(store, clock, incident_id)
    service.draft_statement(**kwargs, statement="holding", actor="aziz")
    service.approve(**kwargs, name="holding", actor="dilnoza")
    service.release_statement(**kwargs, statement="holding", actor="aziz")


def edit(kwargs: dict[str, Any], statement: str, language: str, text: str) -> None:
    """`crisiscomm statement edit` with the text in a file, as aziz."""
    file = Path(f"edit-{language}.txt")
    file.write_text(text, encoding="utf-8")
    service.edit_statement(
        **kwargs, statement=statement, language=language, file=file, actor="aziz"
    )


def fired(store: Store, incident_id: str, kind: str) -> list[dict[str, Any]]:
    return [e.data for e in store.events(incident_id) if e.type == kind]


# -- 1. a promise to the public outlives the state it was made in -------------------------


def test_a_promise_made_in_one_state_is_kept_after_the_state_changes(
    store: Store, clock: SimulatedClock
) -> None:
    incident_id = open_promise(store, clock)
    release_holding(store, clock, incident_id)  # "next update at" now + 4 s
    service.advance(
        **steps(store, clock, incident_id), trigger="investigate", note=None, actor="aziz"
    )
    clock.advance(timedelta(seconds=4))
    service.fire_due(store=store, clock=clock)
    [missed] = fired(store, incident_id, "update.missed")
    # the state the incident is in has no cadence: the promise's own state says who is told
    assert missed["state"] == "investigate" and missed["promised_in"] == "holding"
    assert missed["notified"] == ["head_of_press"]
    clock.advance(timedelta(seconds=4))  # still no update: checked again, one cadence on
    service.fire_due(store=store, clock=clock)
    assert len(fired(store, incident_id, "update.missed")) == 2


def test_a_later_release_keeps_the_promise_and_closing_retires_it(
    store: Store, clock: SimulatedClock
) -> None:
    incident_id = open_promise(store, clock)
    kwargs = steps(store, clock, incident_id)
    release_holding(store, clock, incident_id)
    service.advance(**kwargs, trigger="investigate", note=None, actor="aziz")
    clock.advance(timedelta(seconds=3))
    service.draft_statement(**kwargs, statement="bare", actor="aziz")
    service.approve(**kwargs, name="bare", actor="dilnoza")
    service.release_statement(**kwargs, statement="bare", actor="aziz")
    clock.advance(timedelta(seconds=2))
    service.fire_due(store=store, clock=clock)
    assert fired(store, incident_id, "update.missed") == []
    service.advance(**kwargs, trigger="close", note=None, actor="aziz")
    assert store.timers(incident_id, pending_only=True) == []


def test_one_missed_update_is_counted_once_when_the_next_state_has_a_cadence_too(
    store: Store, clock: SimulatedClock
) -> None:
    """The press playbook's follow_up has a cadence of its own: entering it arms no second
    check while the holding statement's promise stands."""
    from .conftest import confirm, open_press
    from .conftest import release_holding as release_press_holding

    incident_id = open_press(store, clock)
    confirm(store, clock, incident_id)
    release_press_holding(store, clock, incident_id)
    service.advance(**steps(store, clock, incident_id), trigger="publish", note=None, actor="aziz")
    clock.advance(timedelta(hours=2))
    service.fire_due(store=store, clock=clock)
    assert len(fired(store, incident_id, "update.missed")) == 1


# -- 2. a clearance step that sits is chased -----------------------------------------------


def test_a_clearance_step_that_sits_is_reminded_then_deputies_then_escalated(
    store: Store, clock: SimulatedClock
) -> None:
    incident_id = open_promise(store, clock)
    kwargs = steps(store, clock, incident_id)
    service.draft_statement(**kwargs, statement="full", actor="aziz")
    clock.advance(timedelta(seconds=10))
    service.fire_due(store=store, clock=clock)
    [remind] = fired(store, incident_id, "clearance.overdue")
    assert (remind["stage"], remind["role"], remind["people"]) == (
        "remind",
        "head_of_press",
        ["Dilnoza Yusupova"],  # the approver, not yet the deputy
    )
    clock.advance(timedelta(seconds=10))
    service.fire_due(store=store, clock=clock)
    deputies = fired(store, incident_id, "clearance.overdue")[-1]
    assert deputies["people"] == ["Dilnoza Yusupova", "Bekzod Nurmatov"]
    # a state change does not stop the chase: the version still waits
    service.advance(**kwargs, trigger="investigate", note=None, actor="aziz")
    clock.advance(timedelta(seconds=10))
    service.fire_due(store=store, clock=clock)
    escalated = fired(store, incident_id, "clearance.overdue")[-1]
    assert (escalated["stage"], escalated["notified"]) == ("escalate", ["minister_office"])
    texts = [
        m.payload["text"] for m in store.outbox(incident_id) if m.payload["kind"] == "clearance"
    ]
    assert len(texts) == 3 and "has waited for your approval (Head of press)" in texts[0]


def test_approving_stops_the_step_and_starts_the_next_steps_deadlines(
    store: Store, clock: SimulatedClock
) -> None:
    incident_id = open_promise(store, clock)
    kwargs = steps(store, clock, incident_id)
    service.draft_statement(**kwargs, statement="full", actor="aziz")
    clock.advance(timedelta(seconds=12))
    service.fire_due(store=store, clock=clock)  # head_of_press reminded at 10 s
    service.approve(**kwargs, name="full", actor="dilnoza")
    clock.advance(timedelta(seconds=30))
    service.fire_due(store=store, clock=clock)
    chased = [(d["role"], d["stage"]) for d in fired(store, incident_id, "clearance.overdue")]
    assert chased == [("head_of_press", "remind"), ("legal", "remind")]
    service.approve(**kwargs, name="full", actor="rustam")
    later = store.due_timers(clock.now() + timedelta(days=1))
    assert [t for t in later if t.kind == "clearance"] == []


def test_a_new_version_silences_the_old_ones_deadlines_and_starts_its_own(
    store: Store, clock: SimulatedClock
) -> None:
    incident_id = open_promise(store, clock)
    kwargs = steps(store, clock, incident_id)
    service.draft_statement(**kwargs, statement="full", actor="aziz")
    clock.advance(timedelta(seconds=8))
    edit(kwargs, "full", "en", "New facts.")
    clock.advance(timedelta(seconds=2))  # the first version's reminder comes due: silent
    service.fire_due(store=store, clock=clock)
    assert fired(store, incident_id, "clearance.overdue") == []
    clock.advance(timedelta(seconds=8))  # ten seconds after the edit
    service.fire_due(store=store, clock=clock)
    [remind] = fired(store, incident_id, "clearance.overdue")
    assert remind["version"] == 2


def test_lint_and_schema_check_clearance_deadlines(
    write: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    book = write(
        "book.yaml",
        Path(PROMISE)
        .read_text(encoding="utf-8")
        .replace(
            "      legal: {remind: 5s, channels: [log]}",
            "      legal: {escalate: 5s, channels: [log]}",
        ),
    )
    assert main(["validate", str(book)]) == 1
    out = capsys.readouterr().out
    assert "statements.full.clearance_deadlines.legal: `escalate` needs `escalate_to` too" in out


# -- 5. nothing invisible, nothing unfilled goes out ----------------------------------------


@pytest.mark.parametrize(
    "text", ["\u200b", " \u200b\u200d\u2060\n", "\u3164", "\u0301", "\ufeff\u00a0"]
)
def test_an_edit_to_an_invisible_text_is_refused_naming_the_language(
    store: Store, clock: SimulatedClock, text: str
) -> None:
    incident_id = open_promise(store, clock)
    kwargs = steps(store, clock, incident_id)
    service.draft_statement(**kwargs, statement="holding", actor="aziz")
    with pytest.raises(UsageError) as refused:
        edit(kwargs, "holding", "ru", text)
    assert refused.value.message.startswith("the ru text is empty: it has no visible character")


def test_an_edit_that_leaves_a_placeholder_is_refused(store: Store, clock: SimulatedClock) -> None:
    incident_id = open_promise(store, clock)
    kwargs = steps(store, clock, incident_id)
    service.draft_statement(**kwargs, statement="holding", actor="aziz")
    with pytest.raises(UsageError) as refused:
        edit(kwargs, "holding", "en", "Flood in $region.")
    assert refused.value.message == "the en text still contains the placeholder $region"


def test_a_text_that_renders_invisible_is_cleared_but_never_released(
    store: Store, clock: SimulatedClock
) -> None:
    incident_id = open_promise(store, clock, region="\u200b\u200b")
    kwargs = steps(store, clock, incident_id)
    service.draft_statement(**kwargs, statement="bare", actor="aziz")
    service.approve(**kwargs, name="bare", actor="dilnoza")
    with pytest.raises(RefusedError) as refused:
        service.release_statement(**kwargs, statement="bare", actor="aziz")
    assert refused.value.message == (
        "version 1 of `bare` cannot go out: the en text is empty: it has no visible "
        "character (only spaces or invisible characters such as zero-width spaces)"
    )
    assert "--lang en" in (refused.value.hint or "")
    assert [e.type for e in store.events(incident_id)][-1] == "statement.approved"


def test_the_cli_refuses_an_invisible_edit_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "office.db")
    assert main(["open-incident", PROMISE, "--title", "T", "--fact", "region=Nukus", "--db", db, "--as", "aziz", "--json"]) == 0  # fmt: skip
    incident_id = json.loads(capsys.readouterr().out)["id"]
    assert main(["statement", "draft", incident_id, "holding", "--db", db, "--as", "aziz"]) == 0
    invisible = tmp_path / "ru.txt"
    invisible.write_text("\u200b\n", encoding="utf-8")
    code = main(
        ["statement", "edit", incident_id, "holding", "--lang", "ru", "--file", str(invisible),
         "--db", db, "--as", "aziz"]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 2
    assert "the ru text is empty: it has no visible character" in captured.err
    assert "Traceback" not in captured.err


# -- 1, in real time: `serve` keeps the promise across a state change ------------------------


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "office.db"
    with open_store(path):
        pass
    return path


def test_serve_escalates_a_promise_broken_after_a_state_change(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--db", str(db), "--as", "aziz"]
    assert main(["open-incident", PROMISE, "--title", "T", "--fact", "region=Nukus", "--json", *common]) == 0  # fmt: skip
    incident_id = json.loads(capsys.readouterr().out)["id"]
    serve = Serve(db)
    try:
        assert main(["statement", "draft", incident_id, "holding", *common]) == 0
        assert main(["approve", incident_id, "holding", "--db", str(db), "--as", "dilnoza"]) == 0
        assert main(["release", incident_id, "holding", *common]) == 0
        assert main(["advance", incident_id, "investigate", *common]) == 0

        def missed() -> list[dict[str, Any]]:
            with open_store(db) as store:
                return fired(store, incident_id, "update.missed")

        wait_for(lambda: len(missed()) >= 1)
        assert missed()[0]["promised_in"] == "holding"
    finally:
        serve.process.send_signal(signal.SIGTERM)
        assert serve.process.wait(timeout=WAIT) == 0
