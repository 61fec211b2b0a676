"""What a closed incident keeps (migration 0009): retired timers deleted, not kept, and on
SQLite the incident's record compressed; databases made before it migrate with nothing of
the record lost."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import timedelta
from typing import Any

from crisiscomm.store import NewEvent, NewTimer, Store, open_store
from crisiscomm.store.packing import unpack
from tests.conftest_store import (  # noqa: F401 (fixtures, used by name)
    T0,
    open_incident,
    pg_admin_fixture,
    sql,
    store_fixture,
    target_fixture,
)

RECORD_TABLES = ("incidents", "incident_statements", "statement_versions")
STATEMENTS = {
    "holding": {
        "versions": [{"version": 1, "texts": {"ru": "Наводнение в Нукусе", "kaa": "Nókis"}}],
        "approvals": [],
        "released": [],
    }
}


def advance(store: Store, incident: Any, at: Any, timers: list[NewTimer]) -> Any:
    """Enter the next state at `at`, with new timers, retiring the earlier state's."""
    return store.commit(
        incident=replace(incident, generation=incident.generation + 1, state_entered_at=at),
        expected_version=incident.version,
        events=[NewEvent(at=at, actor="aziz", type="transition")],
        timers=timers,
        retire_timers=True,
        outbox=[],
    )


def stored_as(target: str) -> set[type]:
    """The Python types the record's tables hand back for their data."""
    return {
        type(row[0]) for table in RECORD_TABLES for row in sql(target, f"SELECT data FROM {table}")
    }


def close(store: Store, incident: Any) -> Any:
    return store.commit(
        incident=replace(incident, state="closed", closed_at=T0 + timedelta(minutes=20)),
        expected_version=incident.version,
        events=[NewEvent(at=T0 + timedelta(minutes=20), actor="aziz", type="closed")],
        timers=[],
        retire_timers=True,
        outbox=[],
    )


def test_the_record_is_compressed_on_sqlite_when_the_incident_closes(
    store: Store, target: str
) -> None:
    opened = open_incident(store, data={"facts": {"place": "Нукус"}, "statements": STATEMENTS})
    assert stored_as(target) == {str}  # open: every command rewrites it
    closed = close(store, store.get_incident(opened.id))
    assert store.get_incident(opened.id) == closed
    assert stored_as(target) == ({str} if target.startswith("postgresql://") else {bytes})


def test_a_closing_incident_keeps_only_its_fired_timers(store: Store) -> None:
    opened = open_incident(
        store,
        timers=[
            NewTimer(kind="reminder", key="remind", due_at=T0 + timedelta(minutes=10)),
            NewTimer(kind="promise", key="promise", due_at=T0 + timedelta(hours=2)),
        ],
    )
    reminder, promise = store.timers(opened.id)
    assert store.claim_timer(reminder.id, reminder.generation, reminder.due_at, 0.0)
    moved = advance(store, store.get_incident(opened.id), T0 + timedelta(minutes=15), [])
    # the incident's own promise outlives the state; closing retires it too
    assert [t.key for t in store.timers(moved.id)] == ["promise"]
    closed = close(store, moved)
    assert [t.key for t in store.timers(closed.id, pending_only=False)] == ["remind"]
    # a wake-up that comes late for the deleted timer still fires nothing
    assert not store.claim_timer(promise.id, promise.generation, promise.due_at, 0.0)


def test_migration_0009_keeps_the_record_and_drops_only_retired_timers(target: str) -> None:
    with open_store(target) as store:
        opened = open_incident(
            store,
            data={"facts": {"place": "Нукус"}, "statements": STATEMENTS},
            timers=[
                NewTimer(kind="reminder", key="remind", due_at=T0 + timedelta(minutes=10)),
                NewTimer(kind="deadline", key="deadline", due_at=T0 + timedelta(minutes=30)),
                NewTimer(kind="promise", key="promise", due_at=T0 + timedelta(hours=2)),
            ],
        )
        reminder, deadline, promise = store.timers(opened.id)
        assert store.claim_timer(reminder.id, reminder.generation, reminder.due_at, 1.5)
        done = open_incident(store, data={"facts": {}, "statements": STATEMENTS})
        done = close(store, store.get_incident(done.id))
    # as a database before 0009 held them: the record as text, retired timers kept as rows
    # (the one with the highest id among them), and the schema at 8
    sql(target, f"UPDATE timers SET retired_at = 'then' WHERE id IN ({deadline.id}, {promise.id})")
    if not target.startswith("postgresql://"):
        lite = sqlite3.connect(target, isolation_level=None)
        for table in RECORD_TABLES:
            rows = lite.execute(f"SELECT rowid, data FROM {table}").fetchall()
            lite.executemany(
                f"UPDATE {table} SET data = ? WHERE rowid = ?",
                [(unpack(data), rowid) for rowid, data in rows],
            )
        lite.close()
        assert sql(target, "SELECT DISTINCT typeof(data) FROM incidents") == [("text",)]
    sql(target, "DELETE FROM schema_version WHERE version >= 9")

    with open_store(target) as store:
        assert store.get_incident(opened.id) == opened
        assert store.get_incident(done.id) == done
        [kept] = store.timers(opened.id, pending_only=False)
        assert (kept.id, kept.fired_at, kept.late_by_seconds) == (reminder.id, reminder.due_at, 1.5)
        # a new timer never takes the id of one deleted (a `serve` may still know that id)
        read = store.get_incident(opened.id)
        later = T0 + timedelta(hours=1)
        advance(store, read, later, [NewTimer(kind="deadline", key="deadline", due_at=later)])
        newest = max(t.id for t in store.timers(opened.id))
        assert newest > promise.id
        assert store.verify_chain() == []
    if not target.startswith("postgresql://"):  # the closed incident's record compressed
        for table, owner in zip(RECORD_TABLES, ("id", "incident_id", "incident_id"), strict=True):
            kinds = f"SELECT {owner}, typeof(data) FROM {table} ORDER BY 1"
            assert {kind for _id, kind in sql(target, kinds)} == {"text", "blob"}
            assert (done.id, "blob") in sql(target, kinds)
