"""Events: an incident's append-only, hash-chained log (DESIGN.md invariant 2).

`EventTables` reads an incident's events and recomputes the chains (`verify_chain`);
the table keeps each hash as its 32 bytes (migration 0011), read back as hexadecimal;
`chain_events` turns new events into rows that continue a chain, which an incident's write
(incidents.py) inserts with `_insert_events` in its one transaction. The hash itself is
defined in chain.py, without SQL.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import groupby
from typing import Any

from crisiscomm.clock import format_utc, parse_utc
from crisiscomm.i18n import _
from crisiscomm.store.chain import StoredEvent, canonical_text, event_hash_of_json, first_problem
from crisiscomm.store.connection import StoreConnection, no_incident
from crisiscomm.store.rows import ChainProblem, EventRow, NewEvent

__all__ = ["EventTables", "chain_events"]

EVENT_COLUMNS = "incident_id, seq, at, actor, type, data, prev_hash, hash"
INSERT_EVENT = f"""
    INSERT INTO events ({EVENT_COLUMNS})
    VALUES (:incident_id, :seq, :at, :actor, :type, :data, :prev_hash, :hash)
"""
EVENTS = f"SELECT {EVENT_COLUMNS} FROM events WHERE incident_id = :incident_id ORDER BY seq"
CHAIN_HEADS = "SELECT id, event_count, last_hash FROM incidents"
CHAIN_HEAD_OF = "SELECT id, event_count, last_hash FROM incidents WHERE id = :id"
CHAIN_EVENTS = f"SELECT {EVENT_COLUMNS} FROM events ORDER BY incident_id, seq"
CHAIN_EVENTS_OF = f"SELECT {EVENT_COLUMNS} FROM events WHERE incident_id = :id ORDER BY seq"


class EventTables(StoreConnection):
    """The events table, and the chain heads the incident rows keep."""

    def events(self, incident_id: str, *, types: Sequence[str] = ()) -> list[EventRow]:
        """The incident's events in order (none for an unknown incident); with `types`,
        only events of those types (read and parsed in the database, not here)."""
        named = {f"type{n}": kind for n, kind in enumerate(types)}
        query = EVENTS
        if named:
            wanted = ", ".join(f":{name}" for name in named)
            query = EVENTS.replace("ORDER BY seq", f"AND type IN ({wanted}) ORDER BY seq")
        with self._driver_errors():
            records = self._execute(query, incident_id=incident_id, **named).fetchall()
        return [_event(record) for record in records]

    def verify_chain(self, incident_id: str | None = None) -> list[ChainProblem]:
        """Recompute the hash chains; per broken incident, its first bad event."""
        problems: list[ChainProblem] = []
        with self._transaction(write=False):
            if incident_id is None:
                heads = self._execute(CHAIN_HEADS).fetchall()
                rows = self._execute(CHAIN_EVENTS)
            else:
                heads = self._execute(CHAIN_HEAD_OF, id=incident_id).fetchall()
                if not heads:
                    raise no_incident(incident_id)
                rows = self._execute(CHAIN_EVENTS_OF, id=incident_id)
            expected = {str(i): (int(count), str(last)) for i, count, last in heads}
            for chain_id, chain in groupby(rows, key=lambda row: str(row[0])):
                events: list[StoredEvent] = [
                    (*row[1:6], _hex(row[6]), _hex(row[7])) for row in chain
                ]
                if chain_id not in expected:
                    problems.append(
                        ChainProblem(
                            chain_id, 1, _("the incident was removed but its events remain")
                        )
                    )
                    continue
                count, last = expected.pop(chain_id)
                found = first_problem(chain_id, events, event_count=count, last_hash=last)
                if found is not None:
                    problems.append(found)
            for chain_id, (count, last) in expected.items():  # incidents without events
                found = first_problem(chain_id, [], event_count=count, last_hash=last)
                if found is not None:
                    problems.append(found)
        return sorted(problems, key=lambda problem: problem.incident_id)

    def _insert_events(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert events as `chain_events` made them (inside the caller's transaction), their
        hashes as bytes (migration 0011)."""
        unhex = bytes.fromhex
        self._executemany(
            INSERT_EVENT,
            [
                {**row, "prev_hash": unhex(row["prev_hash"]), "hash": unhex(row["hash"])}
                for row in rows
            ],
        )


def chain_events(
    incident_id: str, after_seq: int, prev_hash: str, events: Sequence[NewEvent]
) -> tuple[list[dict[str, Any]], str]:
    """The events as rows continuing the chain after `after_seq`, and the new last hash."""
    rows = []
    for seq, event in enumerate(events, start=after_seq + 1):
        at = format_utc(event.at)
        data = canonical_text(event.data)
        digest = event_hash_of_json(
            prev_hash,
            incident_id=incident_id,
            seq=seq,
            at=at,
            actor=event.actor,
            type=event.type,
            data_json=data,
        )
        rows.append(
            {
                "incident_id": incident_id,
                "seq": seq,
                "at": at,
                "actor": event.actor,
                "type": event.type,
                "data": data,
                "prev_hash": prev_hash,
                "hash": digest,
            }
        )
        prev_hash = digest
    return rows, prev_hash


def _event(record: Sequence[Any]) -> EventRow:
    incident_id, seq, at, actor, type_, data, prev_hash, digest = record
    return EventRow(
        incident_id=incident_id,
        seq=int(seq),
        at=parse_utc(at),
        actor=actor,
        type=type_,
        data=json.loads(data),
        prev_hash=_hex(prev_hash),
        hash=_hex(digest),
    )


def _hex(value: bytes | str) -> str:
    """A hash as the chain spells it (hexadecimal) from the bytes the events table keeps
    (text only where someone wrote text into it by hand: it then matches no hash)."""
    return value.hex() if isinstance(value, bytes | memoryview) else str(value)
