"""The register's tables: items, their links to incidents, personal data, events and timers.

`InboxTables` writes an item the way incidents.py writes an incident: the item row (under an
optimistic version check), its hash-chained events (`inbox_events`, the chain of chain.py),
its new timers, its links and its personal data commit in ONE transaction. A timer is
claimed exactly once, in the transaction that records its firing. `verify_chain` checks
the items' chains after the incidents', so `audit verify` covers the register too.

Personal data (a citizen's name and contacts) is only in `inbox_people`; the events hold
its reference and a keyed hash (`person_hash`), so erasing it keeps every chain valid.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from crisiscomm.clock import format_utc, parse_utc
from crisiscomm.errors import ConflictError, RefusedError
from crisiscomm.i18n import _
from crisiscomm.lazy import names_on_first_use
from crisiscomm.playbook.model import canonical_json
from crisiscomm.store.chain import StoredEvent, first_problem
from crisiscomm.store.events import EventTables, chain_events
from crisiscomm.store.outbox import INSERT_ITEM_OUTBOX, outbox_params
from crisiscomm.store.rows import (
    ChainProblem,
    EventRow,
    NewEvent,
    NewTimer,
    OutboxMessage,
    TimerRow,
)
from crisiscomm.store.timers import timer_row

if TYPE_CHECKING:
    from crisiscomm.store.inbox_rows import InboxItem, PersonRecord

__all__ = [
    "InboxItem",
    "InboxTables",
    "PersonRecord",
    "no_item",
    "person_hash",
]

ITEM_COLUMNS = (
    "id, kind, status, received_at, channel, source, language, subject, text, assignee, "
    "answer, external_id, due_at, extended, reach, closed_at, data, generation, version, "
    "event_count, last_hash"
)
INSERT_ITEM = f"""
    INSERT INTO inbox_items ({ITEM_COLUMNS})
    VALUES (:id, :kind, :status, :received_at, :channel, :source, :language, :subject, :text,
            :assignee, :answer, :external_id, :due_at, :extended, :reach, :closed_at, :data,
            :generation, 1, :event_count, :last_hash)
"""
UPDATE_ITEM = """
    UPDATE inbox_items
    SET status = :status, assignee = :assignee, answer = :answer, due_at = :due_at,
        extended = :extended, reach = :reach, closed_at = :closed_at, data = :data,
        generation = :generation, version = version + 1, event_count = :event_count,
        last_hash = :last_hash
    WHERE id = :id AND version = :expected_version
      AND event_count = :read_event_count AND last_hash = :read_last_hash
    RETURNING version
"""
ADD_NUMBERS = """
    INSERT INTO counters (name, value) VALUES (:name, :count)
    ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value
    RETURNING value
"""
GET_ITEM = f"SELECT {ITEM_COLUMNS} FROM inbox_items WHERE id = :id"
ITEMS_BY_EXTERNAL = f"SELECT {ITEM_COLUMNS} FROM inbox_items WHERE external_id IN ({{ids}})"
EXTERNAL_CHUNK = 500  # ids per query: well under SQLite's limit of parameters
INSERT_EVENT = """
    INSERT INTO inbox_events (item_id, seq, at, actor, type, data, prev_hash, hash)
    VALUES (:incident_id, :seq, :at, :actor, :type, :data, :prev_hash, :hash)
"""
EVENT_COLUMNS = "item_id, seq, at, actor, type, data, prev_hash, hash"
EVENTS = f"SELECT {EVENT_COLUMNS} FROM inbox_events WHERE item_id = :id ORDER BY seq"
ALL_EVENTS = f"SELECT {EVENT_COLUMNS} FROM inbox_events ORDER BY item_id, seq"
HEADS = "SELECT id, event_count, last_hash FROM inbox_items"
INSERT_LINK = """
    INSERT INTO inbox_links (item_id, incident_id) VALUES (:item_id, :incident_id)
    ON CONFLICT (item_id, incident_id) DO NOTHING
"""
LINKS = "SELECT incident_id FROM inbox_links WHERE item_id = :id ORDER BY incident_id"
INSERT_PERSON = """
    INSERT INTO inbox_people (ref, item_id, name, contact, hash_key)
    VALUES (:ref, :item_id, :name, :contact, :hash_key)
"""
GET_PERSON = "SELECT ref, name, contact, erased_at FROM inbox_people WHERE ref = :ref"
TIMER_COLUMNS = (
    "id, item_id, kind, key, due_at, generation, fired_at, retired_at, late_by_seconds, data"
)
INSERT_TIMER = """
    INSERT INTO inbox_timers (item_id, kind, key, due_at, generation, data)
    VALUES (:item_id, :kind, :key, :due_at, :generation, :data)
"""
RETIRE_TIMERS = """
    UPDATE inbox_timers SET retired_at = :retired_at
    WHERE item_id = :item_id AND generation < :generation
      AND fired_at IS NULL AND retired_at IS NULL
"""
PENDING_TIMERS = f"""
    SELECT {TIMER_COLUMNS} FROM inbox_timers
    WHERE item_id = :item_id AND fired_at IS NULL AND retired_at IS NULL ORDER BY due_at, id
"""
DUE_TIMERS = f"""
    SELECT {TIMER_COLUMNS} FROM inbox_timers
    WHERE fired_at IS NULL AND retired_at IS NULL AND due_at <= :now
    ORDER BY due_at, id LIMIT :limit
"""
NEXT_DUE = "SELECT min(due_at) FROM inbox_timers WHERE fired_at IS NULL AND retired_at IS NULL"
CLAIM_TIMER = """
    UPDATE inbox_timers SET fired_at = :fired_at, late_by_seconds = :late_by_seconds
    WHERE id = :id AND generation = :generation AND fired_at IS NULL AND retired_at IS NULL
"""
LOCK_ITEM = "SELECT id FROM inbox_items WHERE id = :id FOR UPDATE"


# the register's rows live in inbox_rows.py, built on first use: every command loads this
# module with the store, and most never read the register
__getattr__ = names_on_first_use(
    __name__, dict.fromkeys(("InboxItem", "PersonRecord"), "crisiscomm.store.inbox_rows")
)


def person_hash(person: PersonRecord) -> str:
    """The keyed hash the log holds instead of the personal data (the key is erased with it)."""
    import hmac  # only here, with personal data: every command imports this module

    body = canonical_json({"name": person.name, "contact": person.contact})
    return hmac.new(bytes.fromhex(person.hash_key), body.encode(), hashlib.sha256).hexdigest()


def no_item(item_id: str) -> RefusedError:
    """The refusal for an item id the register does not have."""
    return RefusedError(
        _("no register item {id}").format(id=item_id),
        hint=_("run `crisiscomm inbox list` to see the items"),
    )


class InboxTables(EventTables):
    """The inbox_items, inbox_links, inbox_people, inbox_events and inbox_timers tables."""

    # -- writes ---------------------------------------------------------------------------

    def add_inbox_items(
        self,
        entries: Sequence[tuple[InboxItem, Sequence[NewEvent], Sequence[NewTimer]]],
        *,
        people: Sequence[PersonRecord | None] = (),
        links: Sequence[Sequence[str]] = (),
    ) -> list[tuple[InboxItem, bool]]:
        """Store new items, all in one transaction; per entry the item and whether it is new.

        An item whose `external_id` the register already has is not added again: the stored
        one is returned (importing the same file twice adds nothing). Ids are allocated from
        the year of `received_at`. `people[n]` and `links[n]` belong to `entries[n]`.
        """
        if any(not events for _item, events, _timers in entries):
            raise ValueError("a register item is stored with at least one event")
        # One statement per table for the whole file, not one per row and table: importing
        # 10,000 rows is otherwise mostly the driver's per-statement cost (benchmarks/inbox.py)
        result: list[tuple[InboxItem, bool] | None] = [None] * len(entries)
        with self._transaction():
            known = self._items_by_external(
                [item.external_id for item, _events, _timers in entries if item.external_id]
            )
            fresh: list[int] = []
            first_of: dict[str, int] = {}  # an external id's first row in this file
            later: list[tuple[int, int]] = []  # (a row repeating an external id, its first)
            per_year: dict[int, int] = {}
            for index, (item, _events, _timers) in enumerate(entries):
                external = item.external_id
                if external is not None and external in known:
                    result[index] = (known[external], False)
                elif external is not None and external in first_of:
                    later.append((index, first_of[external]))
                else:
                    if external is not None:
                        first_of[external] = index
                    fresh.append(index)
                    year = item.received_at.year
                    per_year[year] = per_year.get(year, 0) + 1
            numbers = {}  # per year, the numbers its new items take, in the file's order
            for year, count in per_year.items():
                last = int(self._fetchone(ADD_NUMBERS, name=f"inbox:{year}", count=count)[0])
                numbers[year] = iter(range(last - count + 1, last + 1))
            stored_rows: list[tuple[InboxItem, list[dict[str, Any]], Sequence[NewTimer]]] = []
            person_rows: list[dict[str, Any]] = []
            link_rows: list[dict[str, Any]] = []
            for index in fresh:
                item, events, timers = entries[index]
                year = item.received_at.year
                item_id = item.id or f"INB-{year}-{next(numbers[year]):04d}"
                chained, last_hash = chain_events(item_id, 0, "", events)
                stored = _stored_copy(
                    item, id=item_id, version=1, event_count=len(events), last_hash=last_hash
                )
                stored_rows.append((stored, chained, timers))
                person = people[index] if index < len(people) else None
                if person is not None:
                    person_rows.append(
                        {
                            "ref": person.ref,
                            "item_id": item_id,
                            "name": person.name,
                            "contact": person.contact,
                            "hash_key": person.hash_key,
                        }
                    )
                for incident_id in links[index] if index < len(links) else ():
                    link_rows.append({"item_id": item_id, "incident_id": incident_id})
                result[index] = (stored, True)
            self._executemany(INSERT_ITEM, [_params(stored) for stored, _c, _t in stored_rows])
            self._executemany(INSERT_PERSON, person_rows)
            self._executemany(INSERT_LINK, link_rows)
            self._append_items(stored_rows)
        for index, first in later:  # the same external id twice in one file: added once
            result[index] = (cast("tuple[InboxItem, bool]", result[first])[0], False)
        return cast("list[tuple[InboxItem, bool]]", result)

    def commit_inbox_item(
        self,
        *,
        item: InboxItem,
        before: InboxItem,
        events: Sequence[NewEvent],
        timers: Sequence[NewTimer] = (),
        links: Sequence[str] = (),
        claim: TimerRow | None = None,
        late_by_seconds: float = 0.0,
        outbox: Sequence[OutboxMessage] = (),
    ) -> InboxItem:
        """Record a change of an item made from `before` (the version the caller read),
        with the notifications it queues (`outbox`, the item's rows: migration 0006).

        A new `generation` retires the timers of the earlier ones. With `claim`, the change is
        that timer's firing (TimerAlreadyFired from timers.py if it fired or was retired).
        ConflictError, nothing written, if someone else changed the item in between.
        """
        from crisiscomm.store.timers import TimerAlreadyFired

        if not events:
            raise ValueError("a change of a register item records at least one event")
        chained, last_hash = chain_events(item.id, before.event_count, before.last_hash, events)
        count = before.event_count + len(events)
        with self._transaction():
            record = self._fetchone_or_none(
                UPDATE_ITEM,
                **{k: v for k, v in _params(item).items() if k in _UPDATED},
                id=item.id,
                expected_version=before.version,
                read_event_count=before.event_count,
                read_last_hash=before.last_hash,
                event_count=count,
                last_hash=last_hash,
            )
            if record is None:
                self._get_item(item.id)  # no_item when it is not there at all
                raise ConflictError(
                    _("{id} was changed by someone else meanwhile; nothing was written").format(
                        id=item.id
                    ),
                    hint=_("look at it again (`crisiscomm inbox show {id}`), then retry").format(
                        id=item.id
                    ),
                )
            if claim is not None and not self._claim_inbox_timer(
                claim, events[0].at, late_by_seconds
            ):
                raise TimerAlreadyFired(claim.id)
            stored = replace(item, version=int(record[0]), event_count=count, last_hash=last_hash)
            if stored.generation != before.generation:
                self._execute(
                    RETIRE_TIMERS,
                    retired_at=format_utc(events[0].at),
                    item_id=item.id,
                    generation=stored.generation,
                )
            for incident_id in links:
                self._execute(INSERT_LINK, item_id=item.id, incident_id=incident_id)
            self._append_item(stored, chained, timers)
            self._executemany(
                INSERT_ITEM_OUTBOX,
                [{"item_id": item.id, **outbox_params(m, events[0].at)} for m in outbox],
            )
        return stored

    def claim_inbox_timer(
        self, timer: TimerRow, fired_at: datetime, late_by_seconds: float
    ) -> bool:
        """Mark an item's timer fired with nothing else recorded; True for the one caller."""
        with self._transaction():
            return self._claim_inbox_timer(timer, fired_at, late_by_seconds)

    # -- reads ----------------------------------------------------------------------------

    def get_inbox_item(self, item_id: str) -> InboxItem:
        """The item as stored; a refusal naming the id when there is none."""
        with self._driver_errors():
            return self._get_item(item_id)

    def inbox_items(self, where: str = "", **params: Any) -> list[InboxItem]:
        """Items, newest first; `where` is a condition the register's service builds from
        fixed pieces (values only ever as `:name` parameters)."""
        query = f"SELECT {ITEM_COLUMNS} FROM inbox_items"
        if where:
            query += f" WHERE {where}"
        query += " ORDER BY received_at DESC, id DESC"
        with self._driver_errors():
            return [_item(record) for record in self._execute(query, **params).fetchall()]

    def inbox_links(self, item_id: str) -> list[str]:
        """The incidents an item is linked to."""
        with self._driver_errors():
            return [str(row[0]) for row in self._execute(LINKS, id=item_id).fetchall()]

    def inbox_person(self, ref: str) -> PersonRecord | None:
        """The personal data behind a reference (None when there is none)."""
        with self._driver_errors():
            row = self._fetchone_or_none(GET_PERSON, ref=ref)
        if row is None:
            return None
        from crisiscomm.store.inbox_rows import PersonRecord

        return PersonRecord(
            ref=row[0],
            name=row[1],
            contact=row[2],
            hash_key="",
            erased_at=None if row[3] is None else parse_utc(row[3]),
        )

    def inbox_events(self, item_id: str) -> list[EventRow]:
        """The item's events in order."""
        with self._driver_errors():
            rows = self._execute(EVENTS, id=item_id).fetchall()
        return [_event(row) for row in rows]

    def inbox_timers(self, item_id: str) -> list[TimerRow]:
        """The item's pending timers, soonest first."""
        with self._driver_errors():
            rows = self._execute(PENDING_TIMERS, item_id=item_id).fetchall()
        return [timer_row(row) for row in rows]

    def due_inbox_timers(self, now: datetime, limit: int = 100) -> list[TimerRow]:
        """Pending timers of every item due at `now` or earlier, the most overdue first."""
        with self._driver_errors():
            rows = self._execute(DUE_TIMERS, now=format_utc(now), limit=limit).fetchall()
        return [timer_row(row) for row in rows]

    def next_inbox_timer(self) -> datetime | None:
        """When the soonest pending timer of the register is due (None: there is none)."""
        with self._driver_errors():
            at = self._fetchone(NEXT_DUE)[0]
        return None if at is None else parse_utc(at)

    def verify_chain(self, incident_id: str | None = None) -> list[ChainProblem]:
        """The incidents' chains (events.py), then the register items' (all, or one item)."""
        if incident_id is not None and incident_id.startswith("INB-"):
            return self._verify_items(incident_id)
        problems = super().verify_chain(incident_id)
        if incident_id is None:
            problems += self._verify_items(None)
        return problems

    # -- plumbing -------------------------------------------------------------------------

    def _verify_items(self, item_id: str | None) -> list[ChainProblem]:
        problems: list[ChainProblem] = []
        with self._transaction(write=False):
            if item_id is None:
                heads = self._execute(HEADS).fetchall()
                rows = self._execute(ALL_EVENTS).fetchall()
            else:
                self._get_item(item_id)
                heads = self._execute(HEADS + " WHERE id = :id", id=item_id).fetchall()
                rows = self._execute(EVENTS, id=item_id).fetchall()
        chains: dict[str, list[StoredEvent]] = {}
        for row in rows:
            chains.setdefault(str(row[0]), []).append(tuple(row[1:]))
        for chain_id, count, last in heads:
            found = first_problem(
                str(chain_id),
                chains.pop(str(chain_id), []),
                event_count=int(count),
                last_hash=str(last),
            )
            if found is not None:
                problems.append(found)
        for chain_id in chains:
            problems.append(
                ChainProblem(chain_id, 1, _("the item was removed but its events remain"))
            )
        return sorted(problems, key=lambda problem: problem.incident_id)

    def _get_item(self, item_id: str) -> InboxItem:
        record = self._fetchone_or_none(GET_ITEM, id=item_id)
        if record is None:
            raise no_item(item_id)
        return _item(record)

    def _items_by_external(self, external_ids: Sequence[str]) -> dict[str, InboxItem]:
        """The stored items with these external ids, by external id."""
        found: dict[str, InboxItem] = {}
        unique = list(dict.fromkeys(external_ids))
        for start in range(0, len(unique), EXTERNAL_CHUNK):
            chunk = unique[start : start + EXTERNAL_CHUNK]
            names = {f"external_{n}": value for n, value in enumerate(chunk)}
            query = ITEMS_BY_EXTERNAL.format(ids=", ".join(f":{name}" for name in names))
            for record in self._execute(query, **names).fetchall():
                item = _item(record)
                found[str(item.external_id)] = item
        return found

    def _append_item(
        self, item: InboxItem, chained: list[dict[str, Any]], timers: Sequence[NewTimer]
    ) -> None:
        self._append_items([(item, chained, timers)])

    def _append_items(
        self, rows: Sequence[tuple[InboxItem, list[dict[str, Any]], Sequence[NewTimer]]]
    ) -> None:
        """The new events and timers of items stored in this transaction, in one statement
        per table (search.py adds their index rows)."""
        self._executemany(INSERT_EVENT, [event for _item, chained, _t in rows for event in chained])
        self._executemany(
            INSERT_TIMER,
            [
                {
                    "item_id": item.id,
                    "kind": timer.kind,
                    "key": timer.key,
                    "due_at": format_utc(timer.due_at),
                    "generation": item.generation,
                    "data": canonical_json(timer.data) if timer.data else "{}",
                }
                for item, _chained, timers in rows
                for timer in timers
            ],
        )

    def _claim_inbox_timer(self, timer: TimerRow, fired_at: datetime, late: float) -> bool:
        if self.backend == "postgresql":  # the item first, as every writer locks them
            self._execute(LOCK_ITEM, id=timer.incident_id)
        cursor = self._execute(
            CLAIM_TIMER,
            id=timer.id,
            generation=timer.generation,
            fired_at=format_utc(fired_at),
            late_by_seconds=late,
        )
        return bool(cursor.rowcount == 1)


_UPDATED = frozenset(
    {"status", "assignee", "answer", "due_at", "extended", "reach", "closed_at", "data"}
    | {"generation"}
)


def _stored_copy(item: InboxItem, **changes: Any) -> InboxItem:
    """`dataclasses.replace(item, **changes)` without its checks, ~6x faster: an import
    stores thousands. InboxItem's fields are plain (no __post_init__, no InitVar)."""
    from crisiscomm.store.inbox_rows import InboxItem

    copy = object.__new__(InboxItem)
    copy.__dict__.update(item.__dict__, **changes)
    return copy


def _utc(moment: datetime | None) -> str | None:
    return None if moment is None else format_utc(moment)


def _params(item: InboxItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "kind": item.kind,
        "status": item.status,
        "received_at": format_utc(item.received_at),
        "channel": item.channel,
        "source": item.source,
        "language": item.language,
        "subject": item.subject,
        "text": item.text,
        "assignee": item.assignee,
        "answer": item.answer,
        "external_id": item.external_id,
        "due_at": _utc(item.due_at),
        "extended": int(item.extended),
        "reach": item.reach,
        "closed_at": _utc(item.closed_at),
        "data": json.dumps(item.data, ensure_ascii=False, separators=(",", ":"))
        if item.data
        else "{}",
        "generation": item.generation,
        "event_count": item.event_count,
        "last_hash": item.last_hash,
    }


def _item(record: Sequence[Any]) -> InboxItem:
    (id_, kind, status, received_at, channel, source, language, subject, text, assignee) = record[
        :10
    ]
    (answer, external_id, due_at, extended, reach, closed_at, data, generation) = record[10:18]
    version, event_count, last_hash = record[18:]
    from crisiscomm.store.inbox_rows import InboxItem

    return InboxItem(
        id=id_,
        kind=kind,
        status=status,
        received_at=parse_utc(received_at),
        channel=channel,
        source=source,
        language=language,
        subject=subject,
        text=text,
        assignee=assignee,
        answer=answer,
        external_id=external_id,
        due_at=None if due_at is None else parse_utc(due_at),
        extended=bool(extended),
        reach=None if reach is None else int(reach),
        closed_at=None if closed_at is None else parse_utc(closed_at),
        data=json.loads(data),
        generation=int(generation),
        version=int(version),
        event_count=int(event_count),
        last_hash=last_hash,
    )


def _event(record: Sequence[Any]) -> EventRow:
    item_id, seq, at, actor, type_, data, prev_hash, digest = record
    return EventRow(
        incident_id=item_id,
        seq=int(seq),
        at=parse_utc(at),
        actor=actor,
        type=type_,
        data=json.loads(data),
        prev_hash=prev_hash,
        hash=digest,
    )
