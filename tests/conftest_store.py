"""Fixtures and a worker process for the store tests; tests/test_store*.py import them.

The fixtures are `pg_admin`, `target` and `store`; import them as `*_fixture`.

Every store test runs on an SQLite file in tmp_path, and on PostgreSQL when
CRISISCOMM_TEST_PG_URL is set (each test in a fresh schema, dropped afterwards). With
CRISISCOMM_REQUIRE_PG=1 a missing or unreachable server fails the test instead of skipping it.

Run as `python -m tests.conftest_store MODE TARGET ...` it is the other officer: a separate
process that races the test on the same database, or commits in a loop until it is killed.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crisiscomm.errors import ConflictError
from crisiscomm.playbook.model import canonical_json
from crisiscomm.store import (
    IncidentRow,
    NewEvent,
    NewTimer,
    OutboxMessage,
    Store,
    open_store,
)

REPO = Path(__file__).resolve().parents[1]
PG_URL_ENV = "CRISISCOMM_TEST_PG_URL"
REQUIRE_PG_ENV = "CRISISCOMM_REQUIRE_PG"

T0 = datetime(2026, 4, 3, 6, 0, tzinfo=UTC)
PLAYBOOK = canonical_json({"id": "flood", "title": "Суў тасқыны / Наводнение", "states": {}})
PLAYBOOK_HASH = hashlib.sha256(PLAYBOOK.encode("utf-8")).hexdigest()


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="session", name="pg_admin")
def pg_admin_fixture() -> Iterator[Any]:
    """A connection to the test server that creates and drops the per-test schemas."""
    url = os.environ.get(PG_URL_ENV, "")
    required = os.environ.get(REQUIRE_PG_ENV) == "1"
    if not url:
        if required:
            pytest.fail(f"{REQUIRE_PG_ENV}=1 but {PG_URL_ENV} is not set")
        pytest.skip(f"PostgreSQL tests need {PG_URL_ENV}")
    try:
        import psycopg

        connection = psycopg.connect(url, autocommit=True, connect_timeout=5)
    except Exception as error:
        if required:
            pytest.fail(f"cannot reach PostgreSQL at {url}: {error}")
        pytest.skip(f"cannot reach PostgreSQL at {url}: {error}")
    with connection:
        yield connection


@pytest.fixture(params=["sqlite", "postgresql"], name="target")
def target_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: an SQLite file path or a PostgreSQL URL with its own schema."""
    if request.param == "sqlite":
        yield str(tmp_path / "crisiscomm.db")
        return
    admin = request.getfixturevalue("pg_admin")
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin.execute(f"CREATE SCHEMA {schema}")
    base = os.environ[PG_URL_ENV]
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(name="store")
def store_fixture(target: str) -> Iterator[Store]:
    with open_store(target) as opened:
        yield opened


# -- helpers ---------------------------------------------------------------------------------


def sql(target: str, statement: str) -> list[tuple[Any, ...]]:
    """Run one statement straight on the database (as someone tampering with it would)."""
    if target.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(target, autocommit=True) as connection:
            cursor = connection.execute(statement)
            return list(cursor.fetchall()) if cursor.description else []
    lite = sqlite3.connect(target, isolation_level=None)
    try:
        return list(lite.execute(statement).fetchall())
    finally:
        lite.close()


def disarm_event_guard(target: str) -> None:
    """Take away the triggers that keep the event log append-only (migration 0003), as an
    attacker who owns the database can: drop them (SQLite), or disable them as the tables'
    owner (PostgreSQL). What `audit verify` must then still catch is their tampering."""
    if target.startswith("postgresql://"):
        sql(target, "ALTER TABLE events DISABLE TRIGGER USER")
        return
    for name in ("events_append_only_update", "events_append_only_delete"):
        sql(target, f"DROP TRIGGER {name}")


def new_incident(
    *, opened_at: datetime = T0, title: str = "Nókis qalasında suw tasqını", **fields: Any
) -> IncidentRow:
    """An incident as the engine hands it to create_incident."""
    values: dict[str, Any] = {
        "id": "",
        "playbook_id": "flood",
        "playbook_hash": PLAYBOOK_HASH,
        "title": title,
        "severity": "high",
        "state": "detected",
        "generation": 1,
        "state_entered_at": opened_at,
        "opened_at": opened_at,
        "closed_at": None,
        "opened_by": "aziz",
        "data": {"facts": {"region": "Qaraqalpaqstan"}},
    }
    values.update(fields)
    return IncidentRow(**values)


def open_incident(
    store: Store,
    *,
    opened_at: datetime = T0,
    timers: Sequence[NewTimer] = (),
    outbox: Sequence[OutboxMessage] = (),
    **fields: Any,
) -> IncidentRow:
    """Create an incident with one `opened` event."""
    return store.create_incident(
        incident=new_incident(opened_at=opened_at, **fields),
        playbook_content=PLAYBOOK,
        events=[NewEvent(at=opened_at, actor="aziz", type="opened", data={"note": "ашылды"})],
        timers=list(timers),
        outbox=list(outbox),
    )


def note(
    store: Store, incident: IncidentRow, text: str, *, at: datetime | None = None
) -> IncidentRow:
    """Commit one `note` event on the incident as last read."""
    return store.commit(
        incident=incident,
        expected_version=incident.version,
        events=[
            NewEvent(
                at=at or incident.state_entered_at, actor="aziz", type="note", data={"text": text}
            )
        ],
        timers=[],
        retire_timers=False,
        outbox=[],
    )


def worker(*args: str) -> subprocess.Popen[str]:
    """Start `python -m tests.conftest_store ARGS` as a separate process."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.conftest_store", *args],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


# -- the worker process ------------------------------------------------------------------------


def _ready_then_wait() -> None:
    print("ready", flush=True)
    sys.stdin.readline()  # the test writes "go" once every worker is ready


def _race_commit(store: Store, incident_id: str, name: str) -> None:
    incident = store.get_incident(incident_id)
    _ready_then_wait()
    try:
        store.commit(
            incident=replace(incident, data={"last_note_by": name}),
            expected_version=incident.version,
            events=[NewEvent(at=T0 + timedelta(minutes=1), actor=name, type="note", data={})],
            timers=[NewTimer(kind="reminder", key=f"reminder:{name}", due_at=T0)],
            retire_timers=False,
            outbox=[OutboxMessage(f"{incident_id}:{name}", "console", name, {})],
        )
    except ConflictError as error:
        print(f"conflict: {error.message}", flush=True)
    else:
        print("won", flush=True)


def _race_claim(store: Store, timer_id: str, generation: str) -> None:
    _ready_then_wait()
    claimed = store.claim_timer(int(timer_id), int(generation), T0 + timedelta(hours=1), 3600.0)
    print("claimed" if claimed else "missed", flush=True)


def _loop(store: Store) -> None:
    """Open an incident every 10 commits; commit forever; report each commit once it is durable."""
    incident: IncidentRow | None = None
    for i in range(1_000_000):
        at = T0 + timedelta(seconds=i)
        if i % 10 == 0:
            incident = open_incident(store, opened_at=at)
            print(f"opened {incident.id}", flush=True)
        assert incident is not None
        incident = store.commit(
            incident=replace(incident, data={"i": i}),
            expected_version=incident.version,
            events=[NewEvent(at=at, actor="worker", type="note", data={"i": i})],
            timers=[NewTimer(kind="reminder", key=f"reminder:{i}", due_at=at)],
            retire_timers=False,
            outbox=[OutboxMessage(f"{incident.id}:{i}", "console", "head", {"i": i})],
        )
        print(f"committed {incident.id} {incident.event_count}", flush=True)


def main(argv: Sequence[str]) -> int:
    mode, target, *rest = argv
    if mode == "open":  # the first command on a new database, racing another
        _ready_then_wait()
        with open_store(target) as store:
            print(f"schema {store.schema_version}", flush=True)
        return 0
    with open_store(target) as store:
        if mode == "race-commit":
            _race_commit(store, *rest)
        elif mode == "race-claim":
            _race_claim(store, *rest)
        elif mode == "loop":
            _loop(store)
        else:
            raise SystemExit(f"unknown mode {mode}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
