"""verify_chain names the first event edited, removed or reordered behind crisiscomm's back."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest

from crisiscomm.playbook.model import canonical_json
from crisiscomm.store import ChainProblem, Store, open_store
from crisiscomm.store.chain import event_hash
from tests.conftest_store import (  # noqa: F401 (fixtures, used by name)
    disarm_event_guard,
    note,
    open_incident,
    pg_admin_fixture,
    sql,
    store_fixture,
    target_fixture,
)

ID = "INC-2026-0001"


@pytest.fixture
def five(store: Store, target: str) -> Store:
    """INC-2026-0001 with events 1..5, and a healthy INC-2026-0002 beside it; the event
    log's triggers taken away, as the database's owner could, so that the tests can
    tamper with events (tests/test_event_log_guard.py: anyone else is refused)."""
    incident = open_incident(store)
    for text in ["Нукус", "Қоңырат", "Xojeli", "Мойнақ"]:
        incident = note(store, incident, text)
    note(store, open_incident(store), "untouched")
    assert store.verify_chain() == []
    disarm_event_guard(target)
    return store


def stored(target: str, digest: str) -> str:
    """A hash as an SQL literal of the bytes the events table keeps (migration 0011)."""
    if target.startswith("postgresql://"):
        return f"decode('{digest}', 'hex')"
    return f"X'{digest}'"


def problems(store: Store) -> list[tuple[str, int, str]]:
    found = store.verify_chain()
    assert store.verify_chain(ID) == [p for p in found if p.incident_id == ID]
    return [(p.incident_id, p.seq, p.problem) for p in found]


def test_the_documented_formula(five: Store) -> None:
    first, second = five.events(ID)[:2]
    body = canonical_json(
        {
            "incident_id": ID,
            "seq": 2,
            "at": "2026-04-03T06:00:00.000000Z",
            "actor": "aziz",
            "type": "note",
            "data": {"text": "Нукус"},
        }
    )
    assert second.hash == hashlib.sha256((first.hash + body).encode("utf-8")).hexdigest()


def test_an_edited_event(five: Store, target: str) -> None:
    sql(
        target,
        f"UPDATE events SET data = '{{\"text\":\"Nukus\"}}' WHERE incident_id = '{ID}' AND seq = 2",
    )
    assert problems(five) == [(ID, 2, "event 2 was edited: its content no longer matches its hash")]


def test_an_edited_actor_then_a_later_edit_reports_the_first(five: Store, target: str) -> None:
    sql(target, f"UPDATE events SET actor = 'someone' WHERE incident_id = '{ID}' AND seq IN (3, 5)")
    assert problems(five) == [(ID, 3, "event 3 was edited: its content no longer matches its hash")]


def test_an_edit_with_a_recomputed_hash(five: Store, target: str) -> None:
    event = five.events(ID)[1]
    forged = event_hash(
        event.prev_hash,
        incident_id=ID,
        seq=2,
        at="2026-04-03T06:00:00.000000Z",
        actor="aziz",
        type="note",
        data={"text": "forged"},
    )
    sql(
        target,
        f"UPDATE events SET data = '{json.dumps({'text': 'forged'})}', hash = {stored(target, forged)} "
        f"WHERE incident_id = '{ID}' AND seq = 2",
    )
    assert problems(five) == [
        (ID, 2, "event 2 was replaced: event 3 was chained to a different event 2")
    ]


def test_a_removed_event(five: Store, target: str) -> None:
    sql(target, f"DELETE FROM events WHERE incident_id = '{ID}' AND seq = 3")
    assert problems(five) == [(ID, 3, "event 3 was removed: the log jumps from event 2 to 4")]


def test_a_removed_last_event(five: Store, target: str) -> None:
    sql(target, f"DELETE FROM events WHERE incident_id = '{ID}' AND seq = 5")
    assert problems(five) == [
        (ID, 5, "event 5 was removed: the incident has 5 events, the log ends at 4")
    ]


def test_a_removed_event_with_the_rest_renumbered(five: Store, target: str) -> None:
    sql(target, f"DELETE FROM events WHERE incident_id = '{ID}' AND seq = 3")
    for seq in (4, 5):
        sql(target, f"UPDATE events SET seq = {seq - 1} WHERE incident_id = '{ID}' AND seq = {seq}")
    sql(target, f"UPDATE incidents SET event_count = 4 WHERE id = '{ID}'")
    assert problems(five) == [
        (ID, 3, "event 3 was recorded as event 4: events were reordered or renumbered")
    ]


def test_a_swapped_pair(five: Store, target: str) -> None:
    where = f"WHERE incident_id = '{ID}' AND seq"
    sql(target, f"UPDATE events SET seq = -1 {where} = 3")
    sql(target, f"UPDATE events SET seq = 3 {where} = 4")
    sql(target, f"UPDATE events SET seq = 4 {where} = -1")
    assert problems(five) == [
        (ID, 3, "event 3 was recorded as event 4: events were reordered or renumbered")
    ]


def test_swapped_contents(five: Store, target: str) -> None:
    sql(
        target,
        f"UPDATE events SET data = '{{\"text\":\"Xojeli\"}}' WHERE incident_id = '{ID}' AND seq = 3",
    )
    sql(
        target,
        f"UPDATE events SET data = '{{\"text\":\"Қоңырат\"}}' WHERE incident_id = '{ID}' AND seq = 4",
    )
    assert problems(five) == [(ID, 3, "event 3 was edited: its content no longer matches its hash")]


def test_a_replaced_last_event(five: Store, target: str) -> None:
    last = five.events(ID)[-1]
    forged = event_hash(
        last.prev_hash,
        incident_id=ID,
        seq=5,
        at="2026-04-03T06:00:00.000000Z",
        actor="aziz",
        type="note",
        data={},
    )
    sql(
        target,
        f"UPDATE events SET data = '{{}}', hash = {stored(target, forged)} "
        f"WHERE incident_id = '{ID}' AND seq = 5",
    )
    assert problems(five) == [
        (ID, 5, "event 5 was replaced: the incident recorded a different last event")
    ]


def test_every_event_removed(five: Store, target: str) -> None:
    sql(target, f"DELETE FROM events WHERE incident_id = '{ID}'")
    assert problems(five) == [
        (ID, 1, "event 1 was removed: the incident has 5 events, the log ends at 0")
    ]


def test_an_event_added_by_hand(five: Store, target: str) -> None:
    sql(target, f"UPDATE incidents SET event_count = 4 WHERE id = '{ID}'")
    assert problems(five) == [
        (ID, 5, "event 5 was added outside crisiscomm: the incident has only 4 events")
    ]


def test_each_broken_incident_is_reported_once(five: Store, target: str) -> None:
    sql(target, "UPDATE events SET type = 'x' WHERE seq = 1")
    assert five.verify_chain() == [
        ChainProblem(ID, 1, "event 1 was edited: its content no longer matches its hash"),
        ChainProblem(
            "INC-2026-0002", 1, "event 1 was edited: its content no longer matches its hash"
        ),
    ]


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"text": 'Qaraqalpaqstan "suw" — Нөкис\n\\ \u2028 😀', "b": [1, 2.5, None, True]},
        {"z": {"y": {"x": ["ä", {"ключ": "мән"}]}}, "a": -0.0, "n": 10**20},
    ],
)
def test_the_hash_of_an_event_is_of_its_canonical_json(data: dict[str, object]) -> None:
    """The chain's hash is put together from the data's text; it must equal hashing the
    canonical JSON of the whole event, which is what the docstring promises verifiers."""
    event = {
        "incident_id": "INC-2026-0001",
        "seq": 7,
        "at": "2026-04-03T06:00:00.000000Z",
        "actor": 'Aziz "Press" Karimov',
        "type": "note",
        "data": data,
    }
    expected = hashlib.sha256(("f" * 64 + canonical_json(event)).encode("utf-8")).hexdigest()
    assert event_hash("f" * 64, **event) == expected  # type: ignore[arg-type]


def test_hashes_kept_as_hexadecimal_text_become_bytes_with_the_chain_intact(target: str) -> None:
    """Migration 0011 on a database whose events kept their hashes as hexadecimal text: the
    same hashes as 32 bytes each, the chain verifies, the log is still append-only."""
    with open_store(target) as store:
        incident = open_incident(store)
        for text in ["Нукус", "Қоңырат"]:
            incident = note(store, incident, text)
        before = store.events(ID)
    if target.startswith("postgresql://"):
        sql(
            target,
            "ALTER TABLE events ALTER COLUMN prev_hash TYPE text USING encode(prev_hash, 'hex'), "
            "ALTER COLUMN hash TYPE text USING encode(hash, 'hex')",
        )
    else:  # the table as 0001 made it, the hashes as text
        disarm_event_guard(target)
        lite = sqlite3.connect(target, isolation_level=None)
        lite.execute("PRAGMA foreign_keys = OFF")
        lite.execute("CREATE TABLE old AS SELECT * FROM events")
        lite.execute("UPDATE old SET prev_hash = lower(hex(prev_hash)), hash = lower(hex(hash))")
        lite.execute("DROP TABLE events")
        lite.execute("ALTER TABLE old RENAME TO events")
        lite.close()
    assert sql(target, "SELECT count(*) FROM events WHERE length(hash) = 64") == [(3,)]
    sql(target, "DELETE FROM schema_version WHERE version >= 11")

    with open_store(target) as store:
        assert store.events(ID) == before
        assert store.verify_chain() == []
        note(store, store.get_incident(ID), "Xojeli")
        assert store.verify_chain() == []
    octets = "octet_length" if target.startswith("postgresql://") else "length"
    assert sql(target, f"SELECT DISTINCT {octets}(hash) FROM events") == [(32,)]
    assert sql(target, f"SELECT {octets}(prev_hash) FROM events WHERE seq = 1") == [(0,)]
    with pytest.raises(Exception, match="the event log is append-only: DELETE of events"):
        sql(target, "DELETE FROM events")
