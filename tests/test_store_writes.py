"""What a command writes: a statement's versions one row each (migration 0008), written only
when added or changed; a released statement's outbox rows referring to the released
version instead of copying its texts, read back as they always were."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import timedelta
from typing import Any

from crisiscomm.clock import SimulatedClock
from crisiscomm.engine import service
from crisiscomm.playbook.model import canonical_json
from crisiscomm.store import NewEvent, OutboxMessage, Store, open_store
from crisiscomm.store.packing import pack, unpack
from crisiscomm.store.rows import IncidentRow
from tests.conftest import confirm, open_press, release_holding
from tests.conftest_store import (  # noqa: F401 (fixtures, used by name)
    T0,
    open_incident,
    pg_admin_fixture,
    sql,
    store_fixture,
    target_fixture,
)

KARAKALPAK = "Nókis qalasında suw tasqını"
RUSSIAN = "Наводнение в Нукусе"


def version(number: int, texts: dict[str, str]) -> dict[str, Any]:
    return {
        "version": number,
        "texts": texts,
        "values": {"place": "Нукус"},
        "hash": f"{number:064d}",
        "author": "aziz",
        "at": "2026-04-03T06:00:00.000000Z",
    }


def holding(*versions: dict[str, Any], approvals: tuple[Any, ...] = ()) -> dict[str, Any]:
    return {"holding": {"versions": list(versions), "approvals": list(approvals), "released": []}}


def edit_record(target: str, table: str, old: str, new: str) -> None:
    """Replace `old` by `new` in the `data` of every row of `table`, behind the store's back
    (on SQLite, where the record is kept compressed, by unpacking and packing it again)."""
    if target.startswith("postgresql://"):
        sql(target, f"UPDATE {table} SET data = replace(data, '{old}', '{new}')")
        return
    lite = sqlite3.connect(target, isolation_level=None)
    try:
        rows = lite.execute(f"SELECT rowid, data FROM {table}").fetchall()
        lite.executemany(
            f"UPDATE {table} SET data = ? WHERE rowid = ?",
            [(pack(unpack(data).replace(old, new)), rowid) for rowid, data in rows],
        )
    finally:
        lite.close()


def change(
    store: Store, before: IncidentRow, statements: dict[str, Any], **commit: Any
) -> IncidentRow:
    """Commit `statements` as the incident's, from `before` as read."""
    return store.commit(
        incident=replace(before, data={**before.data, "statements": statements}),
        expected_version=before.version,
        events=[NewEvent(at=T0, actor="aziz", type="statement.changed")],
        timers=[],
        retire_timers=False,
        outbox=commit.pop("outbox", []),
        before=before,
        **commit,
    )


def test_versions_are_rows_and_a_command_writes_only_what_changed(
    store: Store, target: str
) -> None:
    first = version(1, {"kaa": KARAKALPAK, "ru": RUSSIAN})
    opened = open_incident(store, data={"facts": {}, "statements": holding(first)})
    read = store.get_incident(opened.id)
    assert read.data == opened.data
    [[kept]] = sql(
        target, f"SELECT data FROM incident_statements WHERE incident_id = '{opened.id}'"
    )
    assert json.loads(unpack(kept)) == {"holding": {"approvals": [], "released": []}}

    # an approval leaves the version's row as it is: a change made behind the store's back
    # survives it (the row was not written again)
    edit_record(target, "statement_versions", "Нукусе", "НУКУСЕ")
    approval = {"version": 1, "hash": first["hash"], "role": "legal", "actor": "rustam"}
    approved = change(store, read, holding(first, approvals=(approval,)))
    assert (
        RUSSIAN.upper()[-6:]
        in store.get_incident(opened.id).data["statements"]["holding"]["versions"][0]["texts"]["ru"]
    )
    edit_record(target, "statement_versions", "НУКУСЕ", "Нукусе")

    # a new version is one more row; marking it rewrites that row alone
    second = version(2, {"kaa": KARAKALPAK, "ru": RUSSIAN + "!"})
    edited = change(store, approved, holding(first, second, approvals=(approval,)))
    marked = {**second, "correction": {"of": 1, "note": "исправлено"}}
    final = change(store, edited, holding(first, marked, approvals=(approval,)))
    assert store.get_incident(opened.id) == final
    assert store.get_incident(opened.id).data["statements"]["holding"]["versions"] == [
        first,
        marked,
    ]
    rows = sql(target, "SELECT statement, version FROM statement_versions ORDER BY version")
    assert rows == [("holding", 1), ("holding", 2)]


def test_statements_written_whole_when_the_change_was_not_read_with_them(store: Store) -> None:
    opened = open_incident(store)
    without = store.get_incident(opened.id, statements=False)
    first = version(1, {"ru": RUSSIAN})
    committed = change(store, without, holding(first))
    assert store.get_incident(opened.id) == committed


def test_the_migration_moves_versions_out_of_older_databases(target: str) -> None:
    first = version(1, {"kaa": KARAKALPAK, "ru": RUSSIAN})
    second = version(2, {"kaa": KARAKALPAK + ".", "ru": RUSSIAN + "."})
    statements = {
        **holding(first, second, approvals=({"version": 2, "role": "legal"},)),
        "closing": {"versions": [], "approvals": [], "released": [], "extra": "ў"},
    }
    with open_store(target) as store:
        opened = open_incident(store, data={"facts": {}, "statements": statements})
    # as a database before migration 0008 held them: the whole record in one row
    whole = canonical_json(statements).replace("'", "''")
    sql(target, f"UPDATE incident_statements SET data = '{whole}'")
    sql(target, "DROP TABLE statement_versions")
    sql(target, "DELETE FROM schema_version WHERE version >= 8")
    with open_store(target) as store:
        assert store.get_incident(opened.id).data == opened.data
    rows = sql(target, "SELECT statement, version FROM statement_versions ORDER BY version")
    assert rows == [("holding", 1), ("holding", 2)]


def test_a_released_statement_row_refers_to_its_version(store: Store, target: str) -> None:
    first = version(1, {"ru": RUSSIAN, "kaa": KARAKALPAK})
    opened = open_incident(store, data={"facts": {}, "statements": holding(first)})
    payload = {
        "incident_id": opened.id,
        "kind": "statement",
        "statement": "holding",
        "version": 1,
        "subject": "Заявление",
        "texts_from": ["kaa", "ru"],
    }
    read = store.get_incident(opened.id)
    change(
        store,
        read,
        holding(first),
        outbox=[OutboxMessage("k:site", "website", "public", payload)],
    )
    [[stored]] = sql(target, "SELECT payload FROM outbox")
    assert RUSSIAN not in stored
    # read back exactly as the row with the texts copied in was
    copied = {
        **{k: v for k, v in payload.items() if k != "texts_from"},
        "texts": first["texts"],
        "text": f"{KARAKALPAK}\n\n{RUSSIAN}",
    }
    expected = json.loads(canonical_json(copied))
    [message] = store.outbox(opened.id)
    assert canonical_json(message.payload) == canonical_json(expected)
    assert list(message.payload) == list(expected)
    [row] = store.take_due_outbox(now=T0, lease_until=T0 + timedelta(minutes=5))
    assert (row.payload, row.texts_from) == (expected, ("kaa", "ru"))
    assert store.get_outbox_row(row.id).payload == expected
    assert [r.payload for r in store.list_outbox()] == [expected]

    # a channel's progress is kept, the row still refers to the version
    assert store.record_outbox_progress(row, payload={**row.payload, "sent": {"1": 7}})
    [[stored]] = sql(target, "SELECT payload FROM outbox")
    assert RUSSIAN not in stored
    assert json.loads(stored)["sent"] == {"1": 7}
    assert store.get_outbox_row(row.id).payload == {**expected, "sent": {"1": 7}}


def test_a_release_queues_the_texts_once(store: Store, clock: SimulatedClock) -> None:
    incident_id = open_press(store, clock)
    confirm(store, clock, incident_id)
    release_holding(store, clock, incident_id)
    _playbook, incident = service.load(store=store, incident_id=incident_id)
    [released] = incident.data["statements"]["holding"]["versions"]
    messages = [m for m in store.outbox(incident_id) if m.payload["kind"] == "statement"]
    assert messages
    for message in messages:
        assert message.payload["texts"] == released["texts"]
        assert message.payload["text"] == "\n\n".join(
            released["texts"][language] for language in _playbook.languages
        )
        assert "texts_from" not in message.payload


def test_a_change_of_the_statements_alone_leaves_the_incident_data(
    store: Store, target: str
) -> None:
    first = version(1, {"ru": RUSSIAN})
    facts = {"facts": {"place": "Нукус"}}
    opened = open_incident(store, data={**facts, "statements": holding(first)})
    read = store.get_incident(opened.id)
    # changed behind the store's back: an approval does not write the column again ...
    edit_record(target, "incidents", "Нукус", "НУКУС")
    approval = {"version": 1, "hash": first["hash"], "role": "legal", "actor": "rustam"}
    approved = change(store, read, holding(first, approvals=(approval,)))
    assert store.get_incident(opened.id).data["facts"] == {"place": "НУКУС"}
    # ... a change of the facts does
    store.commit(
        incident=replace(approved, data={**approved.data, "facts": {"place": "Чимбай"}}),
        expected_version=approved.version,
        events=[NewEvent(at=T0, actor="aziz", type="fact-set")],
        timers=[],
        retire_timers=False,
        outbox=[],
        statements_changed=False,
        before=approved,
    )
    assert store.get_incident(opened.id).data == {
        "facts": {"place": "Чимбай"},
        "statements": holding(first, approvals=(approval,)),
    }
