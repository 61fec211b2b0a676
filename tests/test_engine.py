"""The engine through the service functions, on a real SQLite file and a simulated clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from crisiscomm.clock import SimulatedClock
from crisiscomm.engine import service
from crisiscomm.errors import (
    ConflictError,
    CrisisCommError,
    NotFoundError,
    RefusedError,
    UsageError,
)
from crisiscomm.store import Store

from .conftest import FIXTURES, START, confirm, open_press, release_holding


def refused(call: Callable[..., object], **kwargs: Any) -> RefusedError:
    with pytest.raises(RefusedError) as caught:
        call(**kwargs)
    return caught.value


def test_open_pins_the_playbook_and_computes_timers(store: Store, clock: SimulatedClock) -> None:
    incident_id = open_press(store, clock)
    assert incident_id == "INC-2026-0001"
    view = service.view(store=store, incident_id=incident_id)
    assert view.incident.state == "detection"
    assert view.incident.data["facts"] == {"region": "Nukus"}
    due = {t.key: t.due_at - START for t in view.timers}
    assert due == {
        "deadline": timedelta(minutes=20),
        "escalation:0": timedelta(minutes=10),
        "escalation:1": timedelta(minutes=15),
    }
    assert view.possible == ["confirm", "false_alarm"]
    [opened] = service.timeline(store=store, incident_id=incident_id)
    assert (opened.type, opened.actor, opened.at) == ("opened", "aziz", START)


def test_severity_scales_deadlines(store: Store, clock: SimulatedClock) -> None:
    incident_id = open_press(store, clock, severity="high")
    timers = service.view(store=store, incident_id=incident_id).timers
    assert {t.key: t.due_at - START for t in timers}["deadline"] == timedelta(minutes=10)


def test_on_enter_notification_goes_to_the_outbox_without_secrets(
    store: Store, clock: SimulatedClock
) -> None:
    incident_id = open_press(store, clock)
    [message] = store.outbox(incident_id)
    assert message.channel == "ops"
    assert message.payload["text"] == f"New incident {incident_id} in Nukus"


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"facts": []}, UsageError, "missing required facts: region"),
        ({"severity": "extreme"}, UsageError, "unknown severity `extreme`"),
        (
            {"facts": ["region=Nukus", "evacuated=many"]},
            UsageError,
            "fact `evacuated` must be a whole number; `many` is not",
        ),
        (
            {"facts": ["region=Nukus", "level=medium"]},
            UsageError,
            "fact `level` must be one of: low, high; `medium` is not",
        ),
        ({"facts": ["region"]}, UsageError, "`region` is not key=value"),
        (
            {"facts": ["region=Nukus", "depth=3"]},
            UsageError,
            "`depth` is not a fact of playbook press",
        ),
        ({"playbook_ref": "nosuch"}, NotFoundError, "no playbook with id `nosuch`"),
    ],
)
def test_bad_openings_are_refused_and_leave_nothing(
    store: Store,
    clock: SimulatedClock,
    overrides: dict[str, Any],
    error: type[CrisisCommError],
    message: str,
) -> None:
    with pytest.raises(error) as caught:
        open_press(store, clock, **overrides)
    assert caught.value.message == message
    assert store.list_incidents() == []
    assert open_press(store, clock) == "INC-2026-0001"  # no number was used up


def test_refused_advance_says_why_and_what_is_possible(store: Store, clock: SimulatedClock) -> None:
    incident_id = open_press(store, clock)
    error = refused(
        service.advance,
        store=store,
        clock=clock,
        incident_id=incident_id,
        trigger="confirm",
        note=None,
        actor="aziz",
    )
    assert error.message == (
        "`confirm` refused:\n"
        f"  - checklist item `log_source` is not done (Record the source): crisiscomm check {incident_id} log_source"
    )
    assert error.hint == "possible here: confirm, false_alarm"
    error = refused(
        service.advance,
        store=store,
        clock=clock,
        incident_id=incident_id,
        trigger="close",
        note=None,
        actor="aziz",
    )
    assert error.message == "`close` is not possible from state detection"


def test_advance_moves_retires_old_timers_and_arms_new_ones(
    store: Store, clock: SimulatedClock
) -> None:
    incident_id = open_press(store, clock)
    service.check_item(
        store=store, clock=clock, incident_id=incident_id, item="log_source", actor="aziz"
    )
    clock.advance(timedelta(minutes=7))
    incident = service.advance(
        store=store,
        clock=clock,
        incident_id=incident_id,
        trigger="confirm",
        note="two sources",
        actor="aziz",
    )
    assert (incident.state, incident.generation) == ("statement", 2)
    pending = store.timers(incident_id, pending_only=True)
    assert [(t.key, t.generation, t.due_at - clock.now()) for t in pending] == [
        ("deadline", 2, timedelta(minutes=40))
    ]
    # the first state's timers were retired: deleted, as the transition event says why
    assert [t.generation for t in store.timers(incident_id, pending_only=False)] == [2]
    types = [e.type for e in service.timeline(store=store, incident_id=incident_id)]
    assert types == ["opened", "checked", "transition"]


def test_note_required_and_trigger_from_several_states(store: Store, clock: SimulatedClock) -> None:
    incident_id = open_press(store, clock)
    error = refused(
        service.advance,
        store=store,
        clock=clock,
        incident_id=incident_id,
        trigger="false_alarm",
        note=" ",
        actor="aziz",
    )
    assert "`false_alarm` needs a --note saying why" in error.message
    incident = service.advance(
        store=store,
        clock=clock,
        incident_id=incident_id,
        trigger="false_alarm",
        note="prank call",
        actor="aziz",
    )
    assert incident.closed_at == START
    error = refused(
        service.check_item,
        store=store,
        clock=clock,
        incident_id=incident_id,
        item="log_source",
        actor="aziz",
    )
    assert error.message == f"incident {incident_id} is closed (false_alarm)"
    assert service.list_incidents(store=store, open_only=True) == []


def drive_to_statement(store: Store, clock: SimulatedClock) -> str:
    incident_id = open_press(store, clock)
    confirm(store, clock, incident_id)
    return incident_id


def test_statement_clearance_four_eyes_order_and_hash_binding(
    store: Store, clock: SimulatedClock, tmp_path: Path
) -> None:
    incident_id = drive_to_statement(store, clock)
    kwargs: dict[str, Any] = {"store": store, "clock": clock, "incident_id": incident_id}
    service.draft_statement(**kwargs, statement="holding", actor="aziz")
    _playbook, incident = service.load(store=store, incident_id=incident_id)
    version = incident.data["statements"]["holding"]["versions"][0]
    # 06:00 Tashkent + 2 h cadence of the follow-up state, as each language dates it
    assert version["texts"]["ru"] == (
        "Происшествие: Nukus. Следующее сообщение: 3 апреля 2026\u202fг., 08:00."
    )
    assert version["texts"]["kaa"] == (
        "Nukus aymaǵında hádiyse. Keyingi xabar: 2026-jıl 3-aprel, 08:00."
    )

    error = refused(service.approve, **kwargs, name="holding", actor="aziz")
    assert error.message == "aziz wrote a version of `holding` and may not approve it (four-eyes)"
    error = refused(service.approve, **kwargs, name="holding", actor="rustam")
    assert (
        error.message
        == "`holding` waits for approval by head_of_press first (clearance order: head_of_press, legal)"
    )
    error = refused(service.release_statement, **kwargs, statement="holding", actor="aziz")
    assert (
        error.message == "version 1 of `holding` is not cleared: waiting for head_of_press, legal"
    )

    service.approve(**kwargs, name="holding", actor="dilnoza")
    text = tmp_path / "ru.txt"
    text.write_text("Происшествие в Нукусе. Следующее сообщение в 08:00.\n", encoding="utf-8")
    service.edit_statement(**kwargs, statement="holding", language="ru", file=text, actor="dilnoza")
    error = refused(service.approve, **kwargs, name="holding", actor="dilnoza")
    assert (
        error.message == "dilnoza wrote a version of `holding` and may not approve it (four-eyes)"
    )
    error = refused(service.approve, **kwargs, name="holding", actor="rustam")
    assert (
        "waits for approval by head_of_press first" in error.message
    )  # the edit voided the approval


UPDATE_CHECKS = ("cadence", "promise")


def test_release_then_guard_passes_and_cadence_is_armed(
    store: Store, clock: SimulatedClock
) -> None:
    incident_id = drive_to_statement(store, clock)
    kwargs: dict[str, Any] = {"store": store, "clock": clock, "incident_id": incident_id}
    service.draft_statement(**kwargs, statement="holding", actor="aziz")
    service.approve(**kwargs, name="holding", actor="dilnoza")
    service.approve(**kwargs, name="holding", actor="Rustam Aliev")
    clock.advance(timedelta(minutes=30))
    service.release_statement(**kwargs, statement="holding", actor="aziz")
    messages = [m for m in store.outbox(incident_id) if m.payload["kind"] == "statement"]
    assert [(m.channel, m.recipient) for m in messages] == [("console", "public")]
    error = refused(service.release_statement, **kwargs, statement="holding", actor="aziz")
    assert error.message == "version 1 of `holding` was already released"

    incident = service.advance(**kwargs, trigger="publish", note=None, actor="aziz")
    assert incident.state == "follow_up"
    # what is checked is the time the holding statement promised (drafted + the 2h
    # cadence), not two hours from entering follow_up: the promise outlives its state
    checks = [t for t in store.timers(incident_id, pending_only=True) if t.kind in UPDATE_CHECKS]
    assert [(t.kind, t.due_at - clock.now()) for t in checks] == [
        ("promise", timedelta(hours=1, minutes=30))
    ]


def test_roles_approvals_and_facts_guard_closing(store: Store, clock: SimulatedClock) -> None:
    incident_id = drive_to_statement(store, clock)
    kwargs: dict[str, Any] = {"store": store, "clock": clock, "incident_id": incident_id}
    release_holding(store, clock, incident_id)
    service.advance(**kwargs, trigger="publish", note=None, actor="aziz")

    error = refused(service.advance, **kwargs, trigger="close", note=None, actor="aziz")
    assert error.message == (
        "`close` refused:\n"
        "  - only members of head_of_press may fire `close`; you are `aziz` (use --as NAME)\n"
        f"  - fact `evacuated` has no value: crisiscomm set {incident_id} evacuated=...\n"
        f"  - needs approval by legal: crisiscomm approve {incident_id} close (as a legal member)"
    )
    service.set_facts(**kwargs, assignments=["evacuated=1200"], actor="aziz")
    error = refused(service.approve, **kwargs, name="close", actor="aziz")
    assert error.message == (
        "aziz cannot approve `close`: it still needs an approval from legal, a role aziz "
        "does not hold"
    )
    assert error.hint == "who can: Rustam Aliev (use --as NAME)"
    service.approve(**kwargs, name="close", actor="rustam")
    error = refused(service.approve, **kwargs, name="close", actor="Dilnoza Yusupova")
    assert error.message == "`close` has every approval it needs"
    assert error.hint == f"crisiscomm advance {incident_id} close"
    incident = service.advance(**kwargs, trigger="close", note=None, actor="Dilnoza Yusupova")
    assert incident.state == "closed" and incident.closed_at is not None
    assert store.timers(incident_id, pending_only=True) == []
    assert store.verify_chain(incident_id) == []


def test_statement_missing_value_is_named(store: Store, clock: SimulatedClock) -> None:
    incident_id = drive_to_statement(store, clock)
    error = refused(
        service.draft_statement,
        store=store,
        clock=clock,
        incident_id=incident_id,
        statement="update",
        actor="aziz",
    )
    assert error.message == "statement `update` needs $evacuated, which have no value yet"
    assert error.hint == f"crisiscomm set {incident_id} evacuated=..."


def test_acknowledge_once_per_state(store: Store, clock: SimulatedClock) -> None:
    incident_id = open_press(store, clock)
    service.acknowledge(store=store, clock=clock, incident_id=incident_id, actor="aziz")
    error = refused(
        service.acknowledge, store=store, clock=clock, incident_id=incident_id, actor="aziz"
    )
    assert error.message == f"aziz has already acknowledged {incident_id} in this state"
    pending = {t.key for t in store.timers(incident_id, pending_only=True)}
    assert "deadline" in pending  # an acknowledgement never stops the deadline


def test_a_stale_read_is_a_conflict_and_writes_nothing(store: Store, clock: SimulatedClock) -> None:
    from crisiscomm.engine import incident as steps

    incident_id = open_press(store, clock)
    playbook, stale = service.load(store=store, incident_id=incident_id)
    service.check_item(
        store=store, clock=clock, incident_id=incident_id, item="log_source", actor="aziz"
    )
    outcome = steps.add_note(stale, text="late note", actor="dilnoza", now=clock.now())
    with pytest.raises(ConflictError) as caught:
        store.commit(
            incident=outcome.incident,
            expected_version=stale.version,
            events=outcome.events,
            timers=[],
            retire_timers=False,
            outbox=[],
        )
    assert (
        caught.value.message
        == f"incident {incident_id} changed since you read it; run the command again"
    )
    assert [e.type for e in store.events(incident_id)] == ["opened", "checked"]
    del playbook


def test_unknown_incident(store: Store) -> None:
    with pytest.raises(NotFoundError) as caught:
        service.view(store=store, incident_id="INC-2026-9999")
    assert caught.value.message == "no incident INC-2026-9999"


def test_machine_is_built_once_per_playbook_without_auto_transitions(
    store: Store, clock: SimulatedClock
) -> None:
    from crisiscomm.engine import machine

    incident_id = open_press(store, clock)
    playbook, _incident = service.load(store=store, incident_id=incident_id)
    built = machine._machine(playbook)
    assert machine._machine(playbook) is built
    assert not any(name.startswith("to_") for name in built.machine.events)
    # one model for every incident and call: add_model never runs per incident
    confirm(store, clock, incident_id)
    service.advance(
        store=store,
        clock=clock,
        incident_id=open_press(store, clock),
        trigger="false_alarm",
        note="a prank call",
        actor="dilnoza",
    )
    assert built.machine.models == [built.model]


def test_notify_owner_tells_the_owner_and_open_roles_let_anyone_fire(
    store: Store, clock: SimulatedClock, tmp_path: Path
) -> None:
    text = (FIXTURES / "engine" / "press.yaml").read_text(encoding="utf-8")
    text = text.replace(
        '      - {action: notify, notify: [duty_officer, head_of_press], channels: [ops], message: "New incident $incident_id in $region"}',
        '      - {action: notify_owner, notify: [legal], channels: [ops], message: "Yours: $incident_id"}',
    )
    text = text.replace(
        "    members: [{name: Rustam Aliev, login: rustam}]\n", ""
    )  # legal lists nobody
    text = text.replace("    roles: [head_of_press]\n", "    roles: [legal]\n")
    path = tmp_path / "press.yaml"
    path.write_text(text, encoding="utf-8")
    incident_id = open_press(store, clock, playbook_ref=str(path))
    [message] = store.outbox(incident_id)
    assert (message.recipient, message.payload["text"]) == ("duty_officer", f"Yours: {incident_id}")
    playbook, _incident = service.load(store=store, incident_id=incident_id)
    assert playbook.may_act_for("anyone at all", "legal")
    assert not playbook.may_act_for("anyone at all", "head_of_press")


def test_four_eyes_knows_a_person_by_login_name_and_case(
    store: Store, clock: SimulatedClock
) -> None:
    incident_id = drive_to_statement(store, clock)
    kwargs: dict[str, Any] = {"store": store, "clock": clock, "incident_id": incident_id}
    service.draft_statement(**kwargs, statement="holding", actor="Dilnoza Yusupova")
    for alias in ["dilnoza", "DILNOZA YUSUPOVA", "dilnoza yusupova"]:
        error = refused(service.approve, **kwargs, name="holding", actor=alias)
        assert (
            error.message
            == f"{alias} wrote a version of `holding` and may not approve it (four-eyes)"
        )


def test_a_statement_by_email_goes_to_each_address_of_the_list(
    store: Store, clock: SimulatedClock, tmp_path: Path
) -> None:
    text = (FIXTURES / "engine" / "press.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "  ops: {type: file, path: ops.jsonl}\n",
        "  ops: {type: file, path: ops.jsonl}\n"
        "  media: {type: smtp, host: smtp.example.uz, sender: press@example.uz, to: [desk@example.uz, news@example.kz]}\n",
    )
    text = text.replace(
        "    clearance: [head_of_press, legal]\n    channels: [console]\n",
        "    clearance: [head_of_press, legal]\n    channels: [media]\n",
    )
    path = tmp_path / "press.yaml"
    path.write_text(text, encoding="utf-8")
    incident_id = open_press(store, clock, playbook_ref=str(path))
    confirm(store, clock, incident_id)
    release_holding(store, clock, incident_id)
    sent = [
        (m.channel, m.recipient)
        for m in store.outbox(incident_id)
        if m.payload["kind"] == "statement"
    ]
    assert sent == [("media", "desk@example.uz"), ("media", "news@example.kz")]


@pytest.mark.parametrize("text", ["0001-01-01 00:00", "9999-12-31 23:00+00:00"])
def test_a_datetime_fact_no_time_zone_can_show_is_refused(
    store: Store, clock: SimulatedClock, text: str, tmp_path: Path
) -> None:
    source = (FIXTURES / "engine" / "press.yaml").read_text(encoding="utf-8")
    path = tmp_path / "press.yaml"
    path.write_text(
        source.replace(
            "  level: {type: choice, choices: [low, high]}\n",
            "  level: {type: choice, choices: [low, high]}\n  detected_at: {type: datetime}\n",
        ),
        encoding="utf-8",
    )
    with pytest.raises(UsageError) as caught:
        open_press(
            store, clock, playbook_ref=str(path), facts=["region=Nukus", f"detected_at={text}"]
        )
    assert caught.value.message == (
        f"fact `detected_at` must be a date and time (12.04.2027 17:40); `{text}` is not: "
        "the year must be between 1900 and 2200"
    )


def test_one_person_gives_one_approval_of_a_trigger_whatever_the_spelling(
    store: Store, clock: SimulatedClock, tmp_path: Path
) -> None:
    source = (FIXTURES / "engine" / "press.yaml").read_text(encoding="utf-8")
    path = tmp_path / "press.yaml"
    # Dilnoza holds both roles the close trigger needs approvals from
    source = source.replace(
        "guards: {facts: [evacuated], approvals: [legal]}",
        "guards: {facts: [evacuated], approvals: [legal, head_of_press]}",
    )
    source = source.replace(
        "    members: [{name: Rustam Aliev, login: rustam}]\n",
        "    members: [{name: Rustam Aliev, login: rustam}, {name: Dilnoza Yusupova, login: dilnoza}]\n",
    )
    path.write_text(source, encoding="utf-8")
    incident_id = open_press(store, clock, playbook_ref=str(path))
    kwargs: dict[str, Any] = {"store": store, "clock": clock, "incident_id": incident_id}
    confirm(store, clock, incident_id)
    release_holding(store, clock, incident_id)
    service.advance(**kwargs, trigger="publish", note=None, actor="aziz")
    service.approve(**kwargs, name="close", actor="dilnoza")
    error = refused(service.approve, **kwargs, name="close", actor="Dilnoza Yusupova")
    assert error.message == (
        "Dilnoza Yusupova has already approved `close` (for legal); one approval per person"
    )


def test_entering_a_cadence_state_and_releasing_at_the_same_instant(
    store: Store, clock: SimulatedClock
) -> None:
    incident_id = drive_to_statement(store, clock)
    kwargs: dict[str, Any] = {"store": store, "clock": clock, "incident_id": incident_id}
    release_holding(store, clock, incident_id)
    service.advance(**kwargs, trigger="publish", note=None, actor="aziz")
    service.set_facts(**kwargs, assignments=["evacuated=10"], actor="aziz")
    service.draft_statement(**kwargs, statement="update", actor="aziz")
    service.approve(**kwargs, name="update", actor="dilnoza")
    service.release_statement(**kwargs, statement="update", actor="aziz")  # all at one instant
    keys = sorted(t.key for t in store.timers(incident_id) if t.kind in UPDATE_CHECKS)
    assert keys == ["promise:holding:v1", "promise:update:v1"]


def test_no_step_changes_the_incident_as_read(
    store: Store, clock: SimulatedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Steps copy the incident's data only two levels deep (engine.context.own_data): a step that
    changed something deeper in place would change the incident as read, and this fails."""
    from crisiscomm.engine.autopilot import fact_samples, path_to, plan_transition
    from crisiscomm.engine.permissions import notified_roles
    from crisiscomm.playbook.compile import compile_playbook
    from crisiscomm.playbook.model import canonical_json
    from crisiscomm.store.rows import IncidentRow

    read: list[tuple[IncidentRow, str]] = []
    load = service.load

    def recording_load(**kwargs: Any) -> object:
        playbook, incident = load(**kwargs)
        read.append((incident, canonical_json(incident.data)))
        return playbook, incident

    monkeypatch.setattr(service, "load", recording_load)
    flood = str(FIXTURES.parents[1] / "playbooks" / "flood.yaml")
    compiled = compile_playbook(Path(flood))
    route = path_to(compiled, "closed")
    facts = [f"{k}={v}" for k, v in fact_samples(compiled).items()]
    duty = str(compiled.members("duty_officer")[0]["id"])  # people of the office
    incident_id = service.open_incident(
        store=store,
        clock=clock,
        playbook_ref=flood,
        title="Flood",
        severity=None,
        facts=facts,
        actor=duty,
    ).id
    kwargs: dict[str, Any] = {"store": store, "clock": clock, "incident_id": incident_id}
    edited: set[str] = set()
    for transition in route:
        _playbook, incident = load(store=store, incident_id=incident_id)
        for step in plan_transition(compiled, incident, transition):
            clock.advance(timedelta(minutes=1))
            common: dict[str, Any] = {**kwargs, "actor": step.actor}
            if step.command == "check":
                service.check_item(**common, item=step.args[0])
            elif step.command == "draft":
                service.draft_statement(**common, statement=step.args[0])
            elif step.command == "approve":
                if step.args[0] in compiled.statements and step.args[0] not in edited:
                    edited.add(step.args[0])  # before its first approval: a second version
                    text = tmp_path / "edited.txt"
                    text.write_text(f"Tahrir: {step.args[0]}", encoding="utf-8")
                    author = compiled.statements[step.args[0]]["author"]
                    editor = str(compiled.members(author)[-1]["id"])
                    service.edit_statement(
                        **kwargs, statement=step.args[0], language="uz", file=text, actor=editor
                    )
                service.approve(**common, name=step.args[0])
            elif step.command == "release":
                service.release_statement(**common, statement=step.args[0])
            else:
                service.advance(**common, trigger=step.args[0], note=step.args[1])
            if step.command == "advance" and transition is not route[-1]:
                _playbook, now_in = load(store=store, incident_id=incident_id)
                told = compiled.members(notified_roles(compiled, now_in)[0])[0]["id"]
                service.set_facts(**kwargs, assignments=["settlements=13"], actor=duty)
                service.acknowledge(**kwargs, actor=str(told))
                service.add_note(**kwargs, text="Qayd", actor=duty)
                clock.advance(timedelta(hours=2))
                service.fire_due(store=store, clock=clock)
    assert service.view(store=store, incident_id=incident_id).incident.closed_at is not None
    kinds = {event.type for event in store.events(incident_id)}
    assert {
        "checked",
        "statement.drafted",
        "statement.edited",
        "statement.approved",
        "statement.released",
        "fact.set",
        "acknowledged",
        "note",
        "deadline.missed",
    } <= kinds
    assert len(read) > 50
    changed = [i.id for i, before in read if canonical_json(i.data) != before]
    assert changed == []


def test_drafting_the_same_text_again_is_refused(store: Store, clock: SimulatedClock) -> None:
    """A second identical version (e.g. after the state drafted it on entry) would only ask
    the clearance chain to approve the same words twice."""
    incident_id = open_press(store, clock)
    confirm(store, clock, incident_id)
    kwargs: dict[str, Any] = {"store": store, "clock": clock, "incident_id": incident_id}
    service.draft_statement(**kwargs, statement="holding", actor="aziz")
    error = refused(service.draft_statement, **kwargs, statement="holding", actor="dilnoza")
    assert error.message == (
        "`holding` already reads exactly so: version 1, drafted by aziz; nothing new to draft"
    )
    assert error.hint is not None and f"statement show {incident_id} holding" in error.hint
    clock.advance(timedelta(minutes=1))  # the promised next update moves: a new text
    service.draft_statement(**kwargs, statement="holding", actor="aziz")
    _playbook, incident = service.load(store=store, incident_id=incident_id)
    assert [v["version"] for v in incident.data["statements"]["holding"]["versions"]] == [1, 2]


def test_times_in_refusals_and_statement_views_are_local(
    store: Store, clock: SimulatedClock, capsys: pytest.CaptureFixture[str], db: Path
) -> None:
    """06:00 in Tashkent, as everywhere else an officer reads a time; not raw UTC."""
    from crisiscomm.cli import main

    incident_id = open_press(store, clock)
    kwargs: dict[str, Any] = {"store": store, "clock": clock, "incident_id": incident_id}
    service.check_item(**kwargs, item="log_source", actor="aziz")
    error = refused(service.check_item, **kwargs, item="log_source", actor="aziz")
    assert error.message == (
        "`log_source` was already checked by aziz at 03.04.2026 06:00 (Asia/Tashkent, UTC+05:00)"
    )
    service.advance(**kwargs, trigger="confirm", note=None, actor="aziz")
    release_holding(store, clock, incident_id)
    assert main(["statement", "show", incident_id, "holding", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "  Times: Asia/Tashkent (UTC+05:00)\n" in out  # the zone named once ...
    assert "clearance head_of_press: approved by dilnoza at 03.04.2026 06:00" in out
    assert "released at 03.04.2026 06:00" in out  # ... not with every time
    assert out.count("Asia/Tashkent") == 1
