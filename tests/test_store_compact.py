"""What a closed incident keeps (migrations 0009 and 0010): retired timers deleted, not kept,
and on SQLite the incident's record compressed against its playbook's dictionaries, in pages
it shares; databases made before them migrate with nothing of the record lost."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from crisiscomm.errors import ConflictError, StoreError
from crisiscomm.store import NewEvent, NewTimer, Store, open_store
from crisiscomm.store.packing import dictionary_id, pack, unpack
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


def dictionaries(lite: sqlite3.Connection) -> Callable[[int], bytes]:
    """The packing dictionaries of an SQLite database, by id, read straight from it."""
    return lambda number: lite.execute(
        "SELECT content FROM pack_dictionaries WHERE id = ?", (number,)
    ).fetchone()[0]


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
                [(unpack(data, dictionaries(lite)), rowid) for rowid, data in rows],
            )
        lite.execute("DROP TABLE pack_dictionaries")
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


# a statement as the incidents of one playbook release it: the template's words, other facts
TEMPLATE = (
    "Qaraqalpaqstan Respublikası Ministrler Keńesiniń baspasóz xızmeti. {place} rayonında "
    "suw dárejesi kóterildi; turǵınlar qáwipsiz jerlerge kóshirilmekte. Ishonch telefonı "
    "{phone}. Keyingi maǵlıwmat {time} berilip barıladı. "
) * 6


def statements(place: str, phone: str) -> dict[str, Any]:
    text = TEMPLATE.format(place=place, phone=phone, time="18:00")
    return {
        "holding": {
            "versions": [{"version": 1, "texts": {"kaa": text, "ru": text.upper()}}],
            "approvals": [{"by": "aziz", "at": "2026-04-03T06:10:00Z"}],
            "released": [1],
        }
    }


def closed_incidents(store: Store, places: list[str]) -> list[Any]:
    incidents = []
    for number, place in enumerate(places):
        data = {"facts": {"place": place}, "statements": statements(place, f"1050-{number}")}
        opened = open_incident(store, data=data)
        incidents.append(close(store, store.get_incident(opened.id)))
    return incidents


def test_closed_records_are_packed_against_their_playbooks_dictionaries(target: str) -> None:
    places = ["Nókis", "Beruniy", "Tórtkúl", "Xojeli", "Shımbay"]
    with open_store(target) as store:
        incidents = closed_incidents(store, places)
        assert [store.get_incident(i.id) for i in incidents] == incidents
    with open_store(target) as store:  # a new connection reads them from the dictionaries
        assert [store.get_incident(i.id) for i in incidents] == incidents
        assert [i.id for i in store.list_incidents()] == [i.id for i in reversed(incidents)]
    if target.startswith("postgresql://"):  # TOAST compresses there: no dictionaries
        assert stored_as(target) == {str}
        return
    scopes = sql(target, "SELECT scope FROM pack_dictionaries ORDER BY scope")
    assert scopes == [("incident:flood",), ("statements:flood",), ("version:holding:flood",)]
    versions = sql(target, "SELECT data FROM statement_versions ORDER BY incident_id")
    alone = len(pack(unpack(versions[-1][0], dictionaries(sqlite3.connect(target)))))
    for (data,) in versions:
        assert dictionary_id(data) is not None
        # the texts say what the first incident's said, with another place and phone
        assert len(data) < alone / 4


def test_closed_rows_share_pages_instead_of_keeping_the_page_they_had_open(
    target: str,
) -> None:
    if target.startswith("postgresql://"):
        return
    big = {"facts": {"checklist": [f"item {n} ticked by aziz" for n in range(120)]}}
    with open_store(target) as store:
        for _number in range(24):
            opened = open_incident(store, data=big)  # open: about 4 KB, a page of its own
            close(store, store.get_incident(opened.id))
    [(pages, rows)] = sql(
        target,
        "SELECT count(*), sum(ncell) FROM dbstat WHERE name = 'incidents' AND pagetype = 'leaf'",
    )
    assert rows == 24 and pages <= 6


def test_a_rolled_back_dictionary_is_not_used_again(target: str) -> None:
    """A commit that made a dictionary and was rolled back took the dictionary with it: its
    id may go to another, so a record must never be packed against what the connection
    remembered of it."""
    if target.startswith("postgresql://"):
        return
    with open_store(target) as store:
        first = open_incident(store, data={"facts": {"place": "Nókis"}, "statements": {}})
        stale = store.get_incident(first.id)
        advance(store, stale, T0 + timedelta(minutes=5), [])  # someone else's change
        try:
            close(store, stale)  # its version is stale: refused after making the dictionary
        except ConflictError:
            pass
        else:
            raise AssertionError("the stale close was not refused")
        assert sql(target, "SELECT count(*) FROM pack_dictionaries") == [(0,)]
        other = open_incident(
            store, title="Other", data={"facts": {"district": "Beruniy", "level": 3}}
        )
        done = close(store, store.get_incident(other.id))
    with open_store(target) as store:
        assert store.get_incident(done.id) == done


def test_a_missing_dictionary_is_said_plainly(target: str) -> None:
    if target.startswith("postgresql://"):
        return
    with open_store(target) as store:
        [done] = closed_incidents(store, ["Nókis"])
    sql(target, "DELETE FROM pack_dictionaries")
    with open_store(target) as store:
        try:
            store.get_incident(done.id)
        except StoreError as error:
            assert re.search(r"refers to packing dictionary \d+, which is missing", str(error))
            assert "restore it from a backup" in str(error.hint)
        else:
            raise AssertionError("a record without its dictionary was read")


def test_migration_0010_packs_the_closed_records_again_against_dictionaries(
    target: str,
) -> None:
    if target.startswith("postgresql://"):
        return
    with open_store(target) as store:
        incidents = closed_incidents(store, ["Nókis", "Beruniy", "Tórtkúl"])
        still_open = open_incident(store, data={"facts": {}, "statements": STATEMENTS})
    # as 0009 left them: each part compressed alone, no dictionaries, the schema at 9
    lite = sqlite3.connect(target, isolation_level=None)
    for table in RECORD_TABLES:
        rows = lite.execute(f"SELECT rowid, data FROM {table}").fetchall()
        lite.executemany(
            f"UPDATE {table} SET data = ? WHERE rowid = ?",
            [
                (pack(unpack(data, dictionaries(lite))) if isinstance(data, bytes) else data, rowid)
                for rowid, data in rows
            ],
        )
    lite.execute("DROP TABLE pack_dictionaries")
    lite.execute("DELETE FROM schema_version WHERE version >= 10")
    lite.close()
    with open_store(target) as store:
        assert [store.get_incident(i.id) for i in incidents] == incidents
        assert store.get_incident(still_open.id) == still_open
        assert store.verify_chain() == []
    packed = sql(target, "SELECT data FROM statement_versions WHERE typeof(data) = 'blob'")
    assert len(packed) == 3 and all(dictionary_id(data) is not None for (data,) in packed)
    assert sql(target, "SELECT typeof(data) FROM incidents WHERE id = '" + still_open.id + "'") == [
        ("text",)
    ]
