"""Timers firing on a simulated clock: escalation ladder, reminders until acknowledged,
deadline missed, cadence, late firing after downtime, stale and duplicate wake-ups."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

from crisiscomm.clock import SimulatedClock
from crisiscomm.engine import service
from crisiscomm.store import Store, open_store
from tests.conftest_store import pg_admin_fixture, target_fixture  # noqa: F401 (fixtures)

from .conftest import START, confirm, open_press, release_holding


def events(store: Store, incident_id: str, *types: str) -> list[tuple[str, dict[str, object]]]:
    return [(e.type, e.data) for e in store.events(incident_id) if e.type in types]


def test_escalation_ladder_reminders_until_acknowledged_and_deadline(
    store: Store, clock: SimulatedClock
) -> None:
    incident_id = open_press(store, clock)
    assert service.fire_due(store=store, clock=clock) == 0

    clock.advance(timedelta(minutes=10))
    assert service.fire_due(store=store, clock=clock) == 1
    [(_kind, data)] = events(store, incident_id, "escalation")
    assert (
        data["step"] == 1 and data["people"] == ["Aziz Karimov"] and "late_by_seconds" not in data
    )
    [reminder] = [t for t in store.timers(incident_id) if t.kind == "reminder"]
    assert reminder.due_at == START + timedelta(minutes=15)
    console = [m for m in store.outbox(incident_id) if m.payload["kind"] == "escalation"]
    assert [(m.channel, m.payload["text"]) for m in console] == [
        ("console", f"Reminder: {incident_id}")
    ]

    service.acknowledge(store=store, clock=clock, incident_id=incident_id, actor="aziz")
    clock.advance(timedelta(minutes=5))
    assert (
        service.fire_due(store=store, clock=clock) == 2
    )  # the reminder (claimed, silent) and step 2
    assert [d["step"] for _k, d in events(store, incident_id, "escalation")] == [1, 2]
    assert events(store, incident_id, "reminder") == []  # aziz has it: no more reminders
    step_two = [m for m in store.outbox(incident_id) if m.payload["kind"] == "escalation"][-2:]
    assert {m.channel for m in step_two} == {"console", "ops"}
    assert all(m.payload["people"] == ["Dilnoza Yusupova"] for m in step_two)

    clock.advance(timedelta(minutes=5))
    assert service.fire_due(store=store, clock=clock) == 1
    [(_kind, data)] = events(store, incident_id, "deadline.missed")
    assert data["notified"] == ["duty_officer"]
    assert store.timers(incident_id, pending_only=True) == []
    assert store.verify_chain(incident_id) == []


def test_reminders_repeat_while_nobody_acknowledges(store: Store, clock: SimulatedClock) -> None:
    incident_id = open_press(store, clock)
    clock.advance(timedelta(minutes=10))
    service.fire_due(store=store, clock=clock)
    for _round in range(2):
        clock.advance(timedelta(minutes=5))
        service.fire_due(store=store, clock=clock)
    rounds = [d["round"] for _k, d in events(store, incident_id, "reminder")]
    assert rounds == [1, 2]


def test_downtime_fires_each_overdue_timer_once_marked_late(
    store: Store, clock: SimulatedClock
) -> None:
    incident_id = open_press(store, clock)
    clock.advance(timedelta(hours=1))  # nothing ran for an hour
    service.fire_due(store=store, clock=clock)
    fired = [e for e in store.events(incident_id) if e.type in ("escalation", "deadline.missed")]
    assert sorted((e.type, e.data.get("step"), e.data["late_by_seconds"]) for e in fired) == [
        ("deadline.missed", None, 2400.0),
        ("escalation", 1, 3000.0),
        ("escalation", 2, 2700.0),
    ]
    late = {
        t.key: t.late_by_seconds
        for t in store.timers(incident_id, pending_only=False)
        if t.fired_at
    }
    assert late["deadline"] == 2400.0
    assert service.fire_due(store=store, clock=clock) == 0  # and never again


def test_a_stale_timer_does_nothing(store: Store, clock: SimulatedClock) -> None:
    incident_id = open_press(store, clock)
    [deadline] = [t for t in store.timers(incident_id) if t.kind == "deadline"]
    confirm(store, clock, incident_id)
    clock.advance(timedelta(minutes=30))
    before = len(store.events(incident_id))
    assert service.fire_timer(store=store, clock=clock, timer=deadline) is False
    assert len(store.events(incident_id)) == before
    # the first state's timers were retired; the new state's deadline is 40 min after entry
    assert store.due_timers(clock.now()) == []


def test_two_wake_ups_fire_a_timer_once(db: Path, store: Store, clock: SimulatedClock) -> None:
    incident_id = open_press(store, clock)
    [deadline] = [t for t in store.timers(incident_id) if t.kind == "deadline"]
    clock.advance(timedelta(minutes=20))
    with open_store(db) as other:
        results = [
            service.fire_timer(store=store, clock=clock, timer=deadline),
            service.fire_timer(store=other, clock=clock, timer=deadline),
        ]
    assert results == [True, False]
    assert len(events(store, incident_id, "deadline.missed")) == 1


def drive_to_follow_up(store: Store, clock: SimulatedClock) -> str:
    incident_id = open_press(store, clock)
    kwargs = {"store": store, "clock": clock, "incident_id": incident_id}
    confirm(store, clock, incident_id)
    release_holding(store, clock, incident_id)
    service.advance(**kwargs, trigger="publish", note=None, actor="aziz")  # type: ignore[arg-type]
    return incident_id


def test_a_missed_update_escalates_and_keeps_checking(store: Store, clock: SimulatedClock) -> None:
    incident_id = drive_to_follow_up(store, clock)
    clock.advance(timedelta(hours=2))
    service.fire_due(store=store, clock=clock)
    [(_kind, data)] = events(store, incident_id, "update.missed")
    assert data["notified"] == ["head_of_press"]
    pending = [t for t in store.timers(incident_id, pending_only=True) if t.kind == "promise"]
    assert [t.due_at - clock.now() for t in pending] == [timedelta(hours=2)]


def test_a_kept_promise_needs_no_escalation(store: Store, clock: SimulatedClock) -> None:
    incident_id = drive_to_follow_up(store, clock)
    kwargs = {"store": store, "clock": clock, "incident_id": incident_id}
    clock.advance(timedelta(minutes=90))
    service.set_facts(**kwargs, assignments=["evacuated=300"], actor="aziz")  # type: ignore[arg-type]
    service.draft_statement(**kwargs, statement="update", actor="aziz")  # type: ignore[arg-type]
    service.approve(**kwargs, name="update", actor="dilnoza")  # type: ignore[arg-type]
    service.release_statement(**kwargs, statement="update", actor="aziz")  # type: ignore[arg-type]
    clock.advance(timedelta(minutes=30))  # the first cadence check comes due
    service.fire_due(store=store, clock=clock)
    assert events(store, incident_id, "update.missed") == []


def test_two_processes_fire_a_timer_once_on_each_backend(target: str) -> None:
    """Two connections (as two `serve` processes have) race for the same due timer."""
    clock = SimulatedClock(START)
    with open_store(target) as first, open_store(target) as second:
        incident_id = open_press(first, clock)
        due = [t for t in first.timers(incident_id) if t.kind == "deadline"]
        clock.advance(timedelta(minutes=25))
        results = [service.fire_timer(store=s, clock=clock, timer=due[0]) for s in (second, first)]
        assert results == [True, False]
        assert service.fire_due(store=first, clock=clock) == 2  # the two escalation steps
        assert service.fire_due(store=second, clock=clock) == 0
        kinds = [e.type for e in first.events(incident_id)]
        assert kinds.count("deadline.missed") == 1 and kinds.count("escalation") == 2


def test_a_firing_that_fails_is_undone_alone_and_raised_after_the_others(
    store: Store, clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crisiscomm.engine import timers

    broken, healthy = open_press(store, clock), open_press(store, clock, title="Second")
    fire = timers.fire_timer

    def fire_or_break(playbook, incident, timer, *, now):  # type: ignore[no-untyped-def]
        if incident.id == broken:
            raise ValueError("a template this firing cannot render")
        return fire(playbook, incident, timer, now=now)

    monkeypatch.setattr(timers, "fire_timer", fire_or_break)
    clock.advance(timedelta(minutes=10))
    firings = service.fire_batch(store=store, clock=clock)
    assert sorted((f.timer.incident_id, f.fired, str(f.error)) for f in firings) == [
        (broken, False, "a template this firing cannot render"),
        (healthy, True, "None"),
    ]
    assert [k for k, _d in events(store, healthy, "escalation")] == ["escalation"]
    assert events(store, broken, "escalation") == []
    # still due, its next try put off a second (0002_timer_retry.sql)
    [still_due] = [t for t in store.timers(broken) if t.due_at <= clock.now()]
    assert (still_due.key, still_due.failures) == ("escalation:0", 1)
    assert still_due.next_try_at == clock.now() + timedelta(seconds=1)
    assert store.due_timers(clock.now()) == []  # not tried again before then
    clock.advance(timedelta(minutes=5))
    with pytest.raises(ValueError, match="cannot render"):
        service.fire_due(store=store, clock=clock)
    assert [d["step"] for _k, d in events(store, healthy, "escalation")] == [1, 2]
    assert store.verify_chain() == []


def test_more_failing_timers_than_a_batch_holds_do_not_hold_back_the_others(
    db: Path, store: Store, clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Failed timers stay due and are the most overdue: a pass must not take them again and
    again (it used to, forever in `serve`), but go on to the timers behind them."""
    from crisiscomm.engine import timers
    from crisiscomm.serve import Server

    monkeypatch.setattr(service, "FIRE_BATCH", 2)  # three timers each: more than a batch
    broken = {open_press(store, clock, title=f"Broken {n}") for n in range(2)}
    clock.advance(timedelta(minutes=1))
    healthy = [open_press(store, clock, title="Healthy"), open_press(store, clock, title="H2")]
    fire = timers.fire_timer

    def fire_or_break(playbook, incident, timer, *, now):  # type: ignore[no-untyped-def]
        if incident.id in broken:
            raise ValueError("a template this firing cannot render")
        return fire(playbook, incident, timer, now=now)

    monkeypatch.setattr(timers, "fire_timer", fire_or_break)
    clock.advance(timedelta(minutes=10))  # escalation:0 of every incident is due
    with pytest.raises(ValueError, match="cannot render"):
        service.fire_due(store=store, clock=clock, limit=2)
    assert [len(events(store, i, "escalation")) for i in healthy] == [1, 1]
    clock.advance(timedelta(minutes=5))  # escalation:1 is due too
    server = Server(target=str(db), clock=clock)
    passing = threading.Thread(target=server.fire_due, daemon=True)
    passing.start()
    passing.join(10)
    assert not passing.is_alive()
    assert [len(events(store, i, "escalation")) for i in healthy] == [2, 2]
    still_due = {t.incident_id for i in broken for t in store.timers(i) if t.due_at <= clock.now()}
    assert still_due == broken


def test_a_timer_claimed_alone_locks_its_incident_first(target: str) -> None:
    """PostgreSQL: a batch that claims a timer with nothing to do (say, an acknowledged
    reminder) and then fires another of the same incident must lock the incident first, as
    an officer's command does, or the two deadlock and one of them fails."""
    import time

    from crisiscomm.errors import ConflictError

    if not target.startswith("postgresql://"):
        pytest.skip("SQLite's write lock covers the whole database: no row locks to order")
    clock = SimulatedClock(START)
    with open_store(target) as batch_store, open_store(target) as officer_store:
        incident_id = open_press(batch_store, clock)
        service.check_item(
            store=batch_store, clock=clock, incident_id=incident_id, item="log_source", actor="aziz"
        )
        clock.advance(timedelta(minutes=30))
        first, second = sorted(batch_store.timers(incident_id), key=lambda t: t.due_at)[:2]
        outcome: dict[str, object] = {}

        def officer() -> None:
            time.sleep(0.3)  # while the batch holds its claim
            try:
                service.advance(
                    store=officer_store,
                    clock=clock,
                    incident_id=incident_id,
                    trigger="confirm",
                    note=None,
                    actor="aziz",
                )
                outcome["officer"] = "advanced"
            except ConflictError:
                outcome["officer"] = "asked to run again"  # the escalation changed it first

        thread = threading.Thread(target=officer)
        thread.start()
        with batch_store.batch():
            with batch_store.savepoint():
                assert batch_store.claim_timer(first.id, first.generation, clock.now(), 0.0)
            time.sleep(1.0)  # the officer's command is waiting now
            with batch_store.savepoint():
                assert service.fire_timer(store=batch_store, clock=clock, timer=second)
        thread.join(15)
        assert outcome == {"officer": "asked to run again"}


def test_a_step_that_chases_a_statement_falls_silent_once_it_is_released(
    store: Store, clock: SimulatedClock, tmp_path: Path
) -> None:
    """`until_released`: "the holding statement must be out" is not sent once it is out,
    while the incident stays in the state to finish publishing."""
    from .conftest import PRESS

    playbook = tmp_path / "press.yaml"
    playbook.write_text(
        Path(PRESS)
        .read_text(encoding="utf-8")
        .replace(
            "  statement:\n    phase: initial\n    owner: duty_officer\n    deadline: 40m\n",
            "  statement:\n    phase: initial\n    owner: duty_officer\n    deadline: 40m\n"
            "    escalation:\n"
            "      - {after: 5m, notify: [duty_officer], repeat: 5m, until_released: [holding]}\n"
            "      - {after: 20m, notify: [head_of_press], until_released: [holding]}\n"
            "      - {after: 30m, notify: [head_of_press]}\n",
        ),
        encoding="utf-8",
    )
    incident_id = open_press(store, clock, playbook_ref=str(playbook))
    confirm(store, clock, incident_id)
    entered = clock.now()
    clock.advance(timedelta(minutes=6))
    service.fire_due(store=store, clock=clock)
    assert [d["step"] for _k, d in events(store, incident_id, "escalation")] == [1]
    release_holding(store, clock, incident_id)
    before = len(store.outbox(incident_id))
    clock.set(entered + timedelta(minutes=21))  # the reminder (11m) and step 2 (20m) are due
    service.fire_due(store=store, clock=clock)
    assert events(store, incident_id, "reminder") == []
    assert [d["step"] for _k, d in events(store, incident_id, "escalation")] == [1]
    assert len(store.outbox(incident_id)) == before  # nobody was told
    assert store.due_timers(clock.now()) == []  # claimed, and no further reminder armed
    clock.set(entered + timedelta(minutes=31))
    service.fire_due(store=store, clock=clock)  # a step without `until_released` still runs
    assert [d["step"] for _k, d in events(store, incident_id, "escalation")] == [1, 3]
