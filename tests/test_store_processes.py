"""Separate processes on one database: racing officers, racing timers, a killed command."""

from __future__ import annotations

import os
import signal
import subprocess

from crisiscomm.store import NewTimer, Store, open_store
from crisiscomm.store.store import migrations
from tests.conftest_store import (  # noqa: F401 (fixtures, used by name)
    T0,
    open_incident,
    pg_admin_fixture,
    sql,
    store_fixture,
    target_fixture,
    worker,
)


def race(workers: list[subprocess.Popen[str]]) -> list[str]:
    """Let the workers get ready (each has read the database), then start them at once."""
    for process in workers:
        assert process.stdout is not None and process.stdin is not None
        if process.stdout.readline() != "ready\n":
            process.kill()
            raise AssertionError(process.communicate()[1])
    for process in workers:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    results = []
    for process in workers:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        results.append(out.strip())
    return sorted(results)


def test_two_officers_commit_on_one_incident_at_once(store: Store, target: str) -> None:
    incident = open_incident(store)
    results = race(
        [worker("race-commit", target, incident.id, name) for name in ("aziz", "gulnara")]
    )
    assert results == [
        "conflict: incident INC-2026-0001 changed since you read it; run the command again",
        "won",
    ]
    after = store.get_incident(incident.id)
    winner = store.events(incident.id)[-1].actor
    assert (after.version, after.event_count, after.data) == (2, 2, {"last_note_by": winner})
    assert [t.key for t in store.timers(incident.id)] == [f"reminder:{winner}"]
    assert sql(target, "SELECT idempotency_key FROM outbox") == [(f"{incident.id}:{winner}",)]
    assert store.verify_chain() == []


def test_two_processes_claim_one_timer(store: Store, target: str) -> None:
    incident = open_incident(store, timers=[NewTimer(kind="deadline", key="deadline", due_at=T0)])
    [timer] = store.timers(incident.id)
    args = (str(timer.id), str(timer.generation))
    assert race([worker("race-claim", target, *args) for _ in range(2)]) == [
        "claimed",
        "missed",
    ]
    [fired] = store.timers(incident.id, pending_only=False)
    assert fired.fired_at is not None and fired.late_by_seconds == 3600.0


def test_two_first_commands_on_a_new_database(target: str) -> None:
    latest = len(migrations())
    assert race([worker("open", target) for _ in range(2)]) == [f"schema {latest}"] * 2
    assert sql(target, "SELECT version FROM schema_version ORDER BY version") == [
        (n,) for n in range(1, latest + 1)
    ]


def kill_after(target: str, commits: int) -> list[str]:
    """Start a worker committing in a loop, SIGKILL it after `commits` reports; all its reports."""
    process = worker("loop", target)
    assert process.stdout is not None
    lines: list[str] = []
    while sum(line.startswith("committed") for line in lines) < commits:
        line = process.stdout.readline()
        if not line:
            raise AssertionError(process.communicate()[1])
        lines.append(line)
    os.kill(process.pid, signal.SIGKILL)
    rest, _ = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    return lines + [line for line in rest.splitlines(keepends=True) if line.endswith("\n")]


def test_a_command_killed_mid_loop_loses_nothing_it_reported(target: str) -> None:
    for commits in (17, 30, 43):  # a different moment of the loop each time
        lines = kill_after(target, commits)
        with open_store(target) as store:
            assert store.verify_chain() == []
            for line in lines:
                word, incident_id, *count = line.split()
                stored = store.get_incident(incident_id)  # every reported incident is there
                if word == "committed":
                    assert stored.event_count >= int(count[0])
            for incident in store.list_incidents():
                events = store.events(incident.id)
                assert [e.seq for e in events] == list(range(1, incident.event_count + 1))
                # each commit wrote its event, its timer and its outbox row, or none of them
                commits_stored = incident.event_count - 1
                assert len(store.timers(incident.id, pending_only=False)) == commits_stored
                outbox = sql(
                    target, f"SELECT count(*) FROM outbox WHERE incident_id = '{incident.id}'"
                )
                assert outbox == [(commits_stored,)]
                if commits_stored:
                    assert incident.data == events[-1].data
    with open_store(target) as store:  # and the database still takes writes
        assert len(store.list_incidents()) >= 2 + 3 + 4
        assert open_incident(store).id.startswith("INC-2026-")
