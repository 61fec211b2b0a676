"""What the store keeps between calls to save work is never stale, and opening an incident
takes its number in the incident's own transaction."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from typing import Any

import pytest

from crisiscomm.clock import SimulatedClock
from crisiscomm.playbook.model import canonical_json
from crisiscomm.store import NewEvent, Store
from crisiscomm.store.chain import canonical_text
from crisiscomm.store.packing import pack, unpack
from tests.conftest import open_press
from tests.conftest_store import (  # noqa: F401 (fixtures, used by name)
    T0,
    open_incident,
    pg_admin_fixture,
    sql,
    store_fixture,
    target_fixture,
)


@pytest.mark.parametrize(
    "value",
    [
        {"b": 1, "a": [1.5, None, True, {"z": "Нукус", "y": "\u200b"}]},
        {"text": 'quote " and \\ and \n and \t'},
        [],
        "Qaraqalpaqstan",
        {"big": 10**20, "small": -0.0, "e": 1e-7},
    ],
)
def test_the_stores_canonical_json_is_the_hashed_one(value: Any) -> None:
    assert canonical_text(value) == canonical_json(value)


def edit_data(target: str, old: str, new: str) -> None:
    """Replace `old` by `new` in the incident rows' data, as another process could."""
    if target.startswith("postgresql://"):
        sql(target, f"UPDATE incidents SET data = replace(data, '{old}', '{new}')")
        return
    lite = sqlite3.connect(target, isolation_level=None)
    try:
        rows = lite.execute("SELECT id, data FROM incidents").fetchall()
        lite.executemany(
            "UPDATE incidents SET data = ? WHERE id = ?",
            [
                (
                    data.replace(old, new)
                    if isinstance(data, str)
                    else pack(unpack(data).replace(old, new)),
                    id_,
                )
                for id_, data in rows
            ],
        )
    finally:
        lite.close()


def test_a_record_changed_by_another_process_is_read_as_changed(store: Store, target: str) -> None:
    opened = open_incident(store, data={"facts": {"place": "Нукус"}})
    assert store.get_incident(opened.id).data["facts"] == {"place": "Нукус"}
    edit_data(target, "Нукус", "Чимбай")
    assert store.get_incident(opened.id).data["facts"] == {"place": "Чимбай"}


def test_a_written_record_reads_back_as_written_and_readers_do_not_share_it(
    store: Store,
) -> None:
    opened = open_incident(store, data={"facts": {"place": "Нукус"}})
    read = store.get_incident(opened.id)
    changed = store.commit(
        incident=replace(read, data={**read.data, "facts": {"place": "Чимбай"}}),
        expected_version=read.version,
        events=[NewEvent(at=T0, actor="aziz", type="fact-set")],
        timers=[],
        retire_timers=False,
        outbox=[],
        statements_changed=False,
        before=read,
    )
    first = store.get_incident(changed.id)
    assert first.data == {"facts": {"place": "Чимбай"}}
    first.data["facts"] = {"place": "changed by a reader"}
    first.data["acks"] = {}
    assert store.get_incident(changed.id).data == {"facts": {"place": "Чимбай"}}


def test_opening_takes_its_number_in_the_incidents_transaction(
    store: Store, clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(**_: Any) -> None:
        raise RuntimeError("the process died before the incident was written")

    with monkeypatch.context() as patched:
        patched.setattr(store, "create_incident", fail)
        with pytest.raises(RuntimeError):
            open_press(store, clock)
    # the number the failed opening took was rolled back with it: no gap
    assert open_press(store, clock).endswith("-0001")
