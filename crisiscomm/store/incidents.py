"""Incidents: their rows, statements and pinned playbooks, and the one write that records a
change of an incident with its events, timers and outbox rows (DESIGN.md invariants 1, 2).

`IncidentTables` builds on the three other table families because an incident's write spans
them: `create_incident` and `commit` insert the incident row (or update it under the
optimistic version check), its chained events, its timers and its outbox rows in ONE
transaction, and `commit` may claim the timer whose firing it records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from crisiscomm.clock import format_utc, parse_utc
from crisiscomm.errors import ConflictError, NotFoundError
from crisiscomm.i18n import _
from crisiscomm.store.connection import no_incident
from crisiscomm.store.events import EventTables, chain_events
from crisiscomm.store.outbox import OutboxTables
from crisiscomm.store.packing import dictionary_id
from crisiscomm.store.rows import IncidentRow, NewEvent, NewTimer, OutboxMessage, TimerRow
from crisiscomm.store.timers import TimerAlreadyFired, TimerTables

__all__ = ["IncidentTables"]

INCIDENT_COLUMNS = (
    "id, playbook_id, playbook_hash, title, severity, state, generation, state_entered_at, "
    "opened_at, closed_at, opened_by, data, version, event_count, last_hash"
)
PIN_PLAYBOOK = """
    INSERT INTO playbooks (content_hash, playbook_id, content)
    VALUES (:content_hash, :playbook_id, :content)
    ON CONFLICT (content_hash) DO NOTHING
"""
NEXT_NUMBER = """
    INSERT INTO counters (name, value) VALUES (:name, 1)
    ON CONFLICT (name) DO UPDATE SET value = counters.value + 1
    RETURNING value
"""
INSERT_INCIDENT = f"""
    INSERT INTO incidents ({INCIDENT_COLUMNS})
    VALUES (:id, :playbook_id, :playbook_hash, :title, :severity, :state, :generation,
            :state_entered_at, :opened_at, :closed_at, :opened_by, :data, 1, :event_count,
            :last_hash)
    RETURNING {INCIDENT_COLUMNS}
"""
INSERT_STATEMENTS = """
    INSERT INTO incident_statements (incident_id, data) VALUES (:incident_id, :data)
"""
UPDATE_STATEMENTS = """
    UPDATE incident_statements SET data = :data WHERE incident_id = :incident_id
"""
GET_STATEMENTS = "SELECT data FROM incident_statements WHERE incident_id = :incident_id"
# a statement's versions, one row each (migration 0008): a command writes the version it
# adds or marks, never the texts of the others; incident_statements keeps the rest
PUT_VERSION = """
    INSERT INTO statement_versions (incident_id, statement, version, data)
    VALUES (:incident_id, :statement, :version, :data)
    ON CONFLICT (incident_id, statement, version) DO UPDATE SET data = excluded.data
"""
GET_VERSIONS = """
    SELECT statement, data FROM statement_versions WHERE incident_id = :incident_id
    ORDER BY statement, version
"""
# the incident row's columns a change may set besides its data (UPDATE_INCIDENT)
ROW_COLUMNS = ("title", "severity", "state", "generation", "state_entered_at", "closed_at")
CHAIN_HEAD = "SELECT version, event_count, last_hash FROM incidents WHERE id = :id"
UPDATE_INCIDENT = """
    UPDATE incidents
    SET title = :title, severity = :severity, state = :state, generation = :generation,
        state_entered_at = :state_entered_at, closed_at = :closed_at, data = :data,
        version = version + 1, event_count = :event_count, last_hash = :last_hash
    WHERE id = :id AND version = :expected_version
      AND event_count = :read_event_count AND last_hash = :read_last_hash
    RETURNING version
"""
# ... for a change that leaves closed_at as it was (a state change that does not close
# the incident): an UPDATE that names closed_at rewrites the open-incidents index entry
# even when the value is the same, a page more in every such commit
UPDATE_INCIDENT_NOT_CLOSING = """
    UPDATE incidents
    SET title = :title, severity = :severity, state = :state, generation = :generation,
        state_entered_at = :state_entered_at, data = :data,
        version = version + 1, event_count = :event_count, last_hash = :last_hash
    WHERE id = :id AND version = :expected_version
      AND event_count = :read_event_count AND last_hash = :read_last_hash
    RETURNING version
"""
# ... for one that leaves the row's other columns as they were too
UPDATE_INCIDENT_DATA = """
    UPDATE incidents
    SET data = :data, version = version + 1, event_count = :event_count, last_hash = :last_hash
    WHERE id = :id AND version = :expected_version
      AND event_count = :read_event_count AND last_hash = :read_last_hash
    RETURNING version
"""
# ... and for one that leaves the data as it was too (a statement's approval): the head only
UPDATE_INCIDENT_HEAD = """
    UPDATE incidents
    SET version = version + 1, event_count = :event_count, last_hash = :last_hash
    WHERE id = :id AND version = :expected_version
      AND event_count = :read_event_count AND last_hash = :read_last_hash
    RETURNING version
"""
GET_INCIDENT = f"SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = :id"
LIST_INCIDENTS = f"SELECT {INCIDENT_COLUMNS} FROM incidents ORDER BY opened_at DESC, id DESC"
LIST_OPEN_INCIDENTS = f"""
    SELECT {INCIDENT_COLUMNS} FROM incidents WHERE closed_at IS NULL
    ORDER BY opened_at DESC, id DESC
"""
PLAYBOOK_CONTENT = "SELECT content FROM playbooks WHERE content_hash = :content_hash"
PLAYBOOK_HASHES_OF = "SELECT id, playbook_hash FROM incidents WHERE id IN ({ids})"
PLAYBOOK_HASHES_CHUNK = 500  # ids per query: far below either database's parameter limit
# the tables of an incident's record, each with the kind of its part (its dictionary's,
# `_scope`), the incident's row last (the others are read joined to it): compressed once the
# incident is closed (packing.py); those closed before 0010 as it is applied (it makes the
# dictionaries; 0009, which compressed them alone, always runs before it, in its transaction)
RECORD_MIGRATION = 10
RECORD_TABLES = (
    ("statement_versions", "version:{statement}"),
    ("incident_statements", "statements"),
    ("incidents", "incident"),
)
CLOSED_INCIDENTS = "SELECT id FROM incidents WHERE closed_at IS NOT NULL"


class IncidentTables(EventTables, TimerTables, OutboxTables):
    """The incidents, incident_statements, statement_versions, playbooks and counters tables."""

    # -- writes ---------------------------------------------------------------------------

    def create_incident(
        self,
        *,
        incident: IncidentRow,
        playbook_content: str,
        events: Sequence[NewEvent],
        timers: Sequence[NewTimer],
        outbox: Sequence[OutboxMessage],
    ) -> IncidentRow:
        """Store a new incident, its pinned playbook, first events, timers and outbox rows.

        With `incident.id` "", the id (`INC-2026-0042`) is allocated in the same transaction
        from the year of `incident.opened_at` as given; otherwise it is the id an earlier
        `allocate_incident_id` returned. `version`, `event_count` and `last_hash` are ignored.
        """
        _require_events(events)
        content_hash = hashlib.sha256(playbook_content.encode("utf-8")).hexdigest()
        if content_hash != incident.playbook_hash:
            raise ValueError(
                f"playbook_hash {incident.playbook_hash} is not the sha256 of playbook_content "
                f"({content_hash})"
            )
        with self._transaction():
            self._execute(
                PIN_PLAYBOOK,
                content_hash=content_hash,
                playbook_id=incident.playbook_id,
                content=playbook_content,
            )
            incident_id = incident.id or self._next_incident_id(incident.opened_at.year)
            chained, last_hash = chain_events(incident_id, 0, "", events)
            stored = _incident(
                self._fetchone(
                    INSERT_INCIDENT,
                    **self._incident_params(incident),
                    id=incident_id,
                    event_count=len(events),
                    last_hash=last_hash,
                ),
                parse=self._parsed_record,
                statements=incident.data.get("statements") or {},
            )
            statements = incident.data.get("statements") or {}
            self._execute(
                INSERT_STATEMENTS,
                incident_id=incident_id,
                data=self._written(incident, _without_versions(statements), "statements"),
            )
            self._put_versions(incident, incident_id, statements, None)
            self._append(stored, chained, timers, outbox, at=events[0].at)
        return stored

    def allocate_incident_id(self, year: int) -> str:
        """Take the next incident number of a year, `INC-2026-0042`, in its own transaction
        (or in the caller's `batch`, as opening an incident takes it: one commit for both).

        For a caller that needs the id before it builds the events; a number taken by a
        command that then dies is skipped, never reused. `create_incident` with id "" takes
        the number in the incident's own transaction instead, leaving no gap.
        """
        with self._transaction():
            return self._next_incident_id(year)

    def commit(
        self,
        *,
        incident: IncidentRow,
        expected_version: int,
        events: Sequence[NewEvent],
        timers: Sequence[NewTimer],
        retire_timers: bool,
        outbox: Sequence[OutboxMessage],
        statements_changed: bool = True,
        claim: TimerRow | None = None,
        late_by_seconds: float = 0.0,
        before: IncidentRow | None = None,
    ) -> IncidentRow:
        """Record a change of `incident` made from the version the caller read (`before`,
        when given: columns the change left as they were are not rewritten).

        `data["statements"]` (the big part: texts in every language) is written only with
        `statements_changed`, and then only the versions that are new or changed since
        `before` (its statements, when read) and the rest of the statements record if it
        changed; the row's data is rewritten unless it is as in `before`. With
        `claim`, the commit is that timer's firing: it is marked fired in the same
        transaction, and TimerAlreadyFired (nothing written) if it already fired, was
        retired or belongs to another state entry.

        Updates title, severity, state, generation, state_entered_at, closed_at and data (the
        playbook pin, opening time and opener never change). With `retire_timers`, the
        pending timers of earlier generations are retired (deleted: the events say why). Raises
        ConflictError, with nothing written, if someone else committed in between.
        """
        _require_events(events)
        # The chain continues from the head the caller read (`incident` carries it); the
        # UPDATE only matches if the version and that head are still what is stored, so
        # no separate read of the head is needed inside the transaction.
        event_count, last_hash = incident.event_count, incident.last_hash
        chained, new_last_hash = chain_events(incident.id, event_count, last_hash, events)
        only_data = before is not None and all(
            getattr(incident, column) == getattr(before, column) for column in ROW_COLUMNS
        )
        with self._transaction():
            # inside it: packing a closed incident's row may make a dictionary (packing.py)
            if not only_data:
                same_closed = before is not None and incident.closed_at == before.closed_at
                sql = UPDATE_INCIDENT_NOT_CLOSING if same_closed else UPDATE_INCIDENT
                params = self._incident_params(incident)
            elif before is not None and _same_data(incident.data, before.data):
                sql, params = UPDATE_INCIDENT_HEAD, {}
            else:
                sql, params = UPDATE_INCIDENT_DATA, {"data": self._row_value(incident)}
            record = self._fetchone_or_none(
                sql,
                **params,
                id=incident.id,
                expected_version=expected_version,
                read_event_count=event_count,
                read_last_hash=last_hash,
                event_count=event_count + len(events),
                last_hash=new_last_hash,
            )
            if record is None:
                if self._fetchone_or_none(CHAIN_HEAD, id=incident.id) is None:
                    raise no_incident(incident.id)
                raise _conflict(incident.id)
            # the timer whose firing this is: claimed in the same transaction, so it
            # fires exactly once however many processes woke up for it (invariant 4);
            # claimed after the incident row is locked, the order `advance` locks them in
            if claim is not None and not self._claim(
                claim.id, claim.generation, events[0].at, late_by_seconds
            ):
                raise TimerAlreadyFired(claim.id)
            if statements_changed:
                self._write_statements(incident, before)
            if incident.closed_at is not None and (before is None or before.closed_at is None):
                self._pack_records("= :incident_id", incident_id=incident.id)
            stored = _with_head(
                incident,
                version=int(record[0]),
                event_count=event_count + len(events),
                last_hash=new_last_hash,
            )
            if retire_timers:
                self._retire_timers(
                    stored.id, stored.generation, closing=stored.closed_at is not None
                )
            self._append(stored, chained, timers, outbox, at=events[0].at)
        return stored

    # -- reads ----------------------------------------------------------------------------

    def get_incident(self, incident_id: str, *, statements: bool = True) -> IncidentRow:
        """The incident as stored; NotFoundError if there is none with this id.

        With `statements=False` its data has no "statements" (the texts in every language
        are most of an incident's data; steps that do not touch them need not read them).
        """
        with self._driver_errors():
            record = self._fetchone_or_none(GET_INCIDENT, id=incident_id)
            if record is None:
                raise no_incident(incident_id)
            if not statements:
                return _incident(record, parse=self._parsed_record)
            texts = self._fetchone_or_none(GET_STATEMENTS, incident_id=incident_id)
            versions = self._execute(GET_VERSIONS, incident_id=incident_id).fetchall()
        rest = self._parsed_record(texts[0]) if texts else {}
        return _incident(
            record,
            parse=self._parsed_record,
            statements=_with_versions(rest, versions, self._parsed_record),
        )

    def list_incidents(self, *, open_only: bool = False) -> list[IncidentRow]:
        """Incidents, newest first; only those not closed with `open_only`.

        For listing: their data has no "statements" (get_incident reads those).
        """
        with self._driver_errors():
            records = self._execute(LIST_OPEN_INCIDENTS if open_only else LIST_INCIDENTS)
            return [_incident(record, parse=self._parsed) for record in records.fetchall()]

    def playbook_content(self, content_hash: str) -> str:
        """The canonical JSON of a pinned playbook."""
        with self._driver_errors():
            record = self._fetchone_or_none(PLAYBOOK_CONTENT, content_hash=content_hash)
        if record is None:
            raise NotFoundError(
                _("no pinned playbook with content hash {hash}").format(hash=content_hash)
            )
        return str(record[0])

    def playbook_hashes(self, incident_ids: Iterable[str]) -> dict[str, str]:
        """The content hash of the playbook each incident pinned, by incident id (without
        reading the incidents); unknown ids are left out."""
        ids = sorted(set(incident_ids))
        hashes: dict[str, str] = {}
        with self._driver_errors():
            for start in range(0, len(ids), PLAYBOOK_HASHES_CHUNK):
                chunk = ids[start : start + PLAYBOOK_HASHES_CHUNK]
                names = ", ".join(f":id{n}" for n in range(len(chunk)))
                params = {f"id{n}": incident_id for n, incident_id in enumerate(chunk)}
                sql = PLAYBOOK_HASHES_OF.format(ids=names)
                hashes.update((str(i), str(h)) for i, h in self._execute(sql, **params))
        return hashes

    # -- plumbing -------------------------------------------------------------------------

    def _append(
        self,
        incident: IncidentRow,
        events: list[dict[str, Any]],
        timers: Sequence[NewTimer],
        outbox: Sequence[OutboxMessage],
        *,
        at: datetime,
    ) -> None:
        """Insert the chained events, the new timers and the outbox rows of a write."""
        self._insert_events(events)
        self._insert_timers(incident.id, incident.generation, timers)
        self._insert_outbox(incident.id, outbox, at=at)

    def _write_statements(self, incident: IncidentRow, before: IncidentRow | None) -> None:
        """Write what changed of the statements since `before`: versions added or marked,
        one row each, and the rest of the record (approvals, releases) if it changed."""
        statements = incident.data.get("statements") or {}
        read = None if before is None else before.data.get("statements")
        rest = _without_versions(statements)
        if read is None or rest != _without_versions(read):
            data = self._written(incident, rest, "statements")
            self._execute(UPDATE_STATEMENTS, incident_id=incident.id, data=data)
        self._put_versions(incident, incident.id, statements, read)

    def _put_versions(
        self,
        incident: IncidentRow,
        incident_id: str,
        statements: dict[str, Any],
        read: dict[str, Any] | None,
    ) -> None:
        """Upsert the versions not in `read` as they are now (all of them without `read`)."""
        rows = []
        for name, record in statements.items():
            old = ((read or {}).get(name) or {}).get("versions") or []
            for number, version in enumerate(record.get("versions") or []):
                if read is not None and number < len(old) and old[number] == version:
                    continue
                rows.append(
                    {
                        "incident_id": incident_id,
                        "statement": name,
                        "version": int(version["version"]),
                        "data": self._written(incident, version, f"version:{name}"),
                    }
                )
        if rows:
            self._executemany(PUT_VERSION, rows)

    def _next_incident_id(self, year: int) -> str:
        number = self._fetchone(NEXT_NUMBER, name=f"incident:{year}")[0]
        return f"INC-{year}-{number:04d}"

    def _incident_params(self, incident: IncidentRow) -> dict[str, Any]:
        return {**_incident_params(incident), "data": self._row_value(incident)}

    def _row_value(self, incident: IncidentRow) -> str | bytes:
        """The incident row's data column as stored."""
        return self._written(incident, _row_data(incident), "incident")

    def _written(self, incident: IncidentRow, part: dict[str, Any], kind: str) -> str | bytes:
        """A part of the incident's record (of `kind`: "incident", "statements" or
        "version:NAME") as it is to be stored (`_kept`), remembered as parsed: the next
        command reads it back (connection.py `_parsed_record`)."""
        value = self._kept(incident, _json(part), kind)
        self._remember_record(value, part)
        return value

    def _kept(self, incident: IncidentRow, text: str, kind: str) -> str | bytes:
        """A part of the incident's record as stored: compressed once the incident is closed
        (where this database compresses, packing.py); text while it is open, as every
        command rewrites it and reads the statements, and would pay for it each time."""
        if incident.closed_at is None:
            return text
        return self._record(text, _scope(kind, incident.playbook_id))

    def _pack_records(self, which: str, **params: Any) -> None:
        """Compress, each against its dictionary, the parts of the record of the incidents
        `which` names (an SQL condition on the incident's id, e.g. "= :incident_id") that
        are stored as text or packed without a dictionary (before 0010).

        The rows are deleted and inserted again, not updated: SQLite rebalances a b-tree
        page when rows leave it, never when a row shrinks in place, so an incident's row,
        a page of its own while open (its record as text), would keep that page for good
        with three quarters of it empty. The rows' references are checked at the commit
        (`defer_foreign_keys`), when the incident's row is back.
        """
        if not self._dialect.packs_records:
            return
        self._execute("PRAGMA defer_foreign_keys = ON")  # until this transaction ends
        for table, kind in RECORD_TABLES:
            owner = "id" if table == "incidents" else "incident_id"
            cursor = self._execute(
                f"SELECT r.*, i.playbook_id FROM {table} r JOIN incidents i "
                f"ON i.id = r.{owner} WHERE r.{owner} {which}",
                **params,
            )
            columns = [column[0] for column in cursor.description][:-1]
            rows = []
            for *values, playbook_id in cursor.fetchall():
                row = dict(zip(columns, values, strict=True))
                if dictionary_id(row["data"]) is None:
                    scope = _scope(kind.format(**row), playbook_id)
                    row["data"] = self._record(self._unpacked(row["data"]), scope)
                rows.append(row)
            self._execute(f"DELETE FROM {table} WHERE {owner} {which}", **params)
            listed = ", ".join(columns)
            values = ", ".join(f":{column}" for column in columns)
            self._executemany(f"INSERT INTO {table} ({listed}) VALUES ({values})", rows)

    def _after_migration(self, version: int) -> None:
        """Inside migration 0010's transaction: compress the records of the incidents closed
        before it against their dictionaries (the open ones are compressed as they close)."""
        super()._after_migration(version)
        if version == RECORD_MIGRATION:
            self._pack_records(f"IN ({CLOSED_INCIDENTS})")


# Compact JSON for columns that are read back, not hashed (the chain uses canonical), from
# an encoder made once (json.dumps with options builds one per call). check_circular=False:
# JSON read from JSON has no cycles, and the check costs a fifth of the time.
_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


def _without_versions(statements: dict[str, Any]) -> dict[str, Any]:
    """The statements record as incident_statements keeps it: versions have their rows."""
    return {
        name: {key: value for key, value in record.items() if key != "versions"}
        for name, record in statements.items()
    }


def _with_versions(
    rest: dict[str, Any], versions: Iterable[Sequence[Any]], parse: Callable[[Any], Any]
) -> dict[str, Any]:
    """The statements record from incident_statements' data and the version rows."""
    by_statement: dict[str, list[dict[str, Any]]] = {}
    for name, data in versions:
        by_statement.setdefault(name, []).append(parse(data))
    return {
        name: {"versions": by_statement.get(name, []), **record} for name, record in rest.items()
    }


def _require_events(events: Sequence[NewEvent]) -> None:
    if not events:
        raise ValueError("every change is recorded as at least one event (DESIGN.md invariant 2)")


def _same_data(data: dict[str, Any], read: dict[str, Any]) -> bool:
    """Whether the incident row's `data` column (all but the statements) is as read."""
    keys = data.keys() - {"statements"}
    return keys == read.keys() - {"statements"} and all(
        data[key] is read[key] or data[key] == read[key] for key in keys
    )


def _row_data(incident: IncidentRow) -> dict[str, Any]:
    """What the incident row's `data` column holds: the data without its statements (they
    have their own tables)."""
    return {key: value for key, value in incident.data.items() if key != "statements"}


def _incident_params(incident: IncidentRow) -> dict[str, Any]:
    return {
        "playbook_id": incident.playbook_id,
        "playbook_hash": incident.playbook_hash,
        "title": incident.title,
        "severity": incident.severity,
        "state": incident.state,
        "generation": incident.generation,
        "state_entered_at": format_utc(incident.state_entered_at),
        "opened_at": format_utc(incident.opened_at),
        "closed_at": None if incident.closed_at is None else format_utc(incident.closed_at),
        "opened_by": incident.opened_by,
    }


def _scope(kind: str, playbook_id: str) -> str:
    """The packing dictionary's scope of a part of kind `kind` of a playbook's incident."""
    return f"{kind}:{playbook_id}"


def _incident(
    record: Sequence[Any],
    *,
    parse: Callable[[Any], Any],
    statements: dict[str, Any] | None = None,
) -> IncidentRow:
    """The incident of a row; its data from `parse`, copied at the top (the statements are
    added there; a parsed part may be kept and shared, see `_parsed_record`)."""
    (
        id_,
        playbook_id,
        playbook_hash,
        title,
        severity,
        state,
        generation,
        entered,
        opened,
        closed,
        opened_by,
        data,
        version,
        event_count,
        last_hash,
    ) = record
    return IncidentRow(
        id=id_,
        playbook_id=playbook_id,
        playbook_hash=playbook_hash,
        title=title,
        severity=severity,
        state=state,
        generation=int(generation),
        state_entered_at=parse_utc(entered),
        opened_at=parse_utc(opened),
        closed_at=None if closed is None else parse_utc(closed),
        opened_by=opened_by,
        data={**parse(data), "statements": statements} if statements else {**parse(data)},
        version=int(version),
        event_count=int(event_count),
        last_hash=last_hash,
    )


def _with_head(
    incident: IncidentRow, *, version: int, event_count: int, last_hash: str
) -> IncidentRow:
    """The incident with a new chain head: `dataclasses.replace` without its look-up of the
    fields and their defaults (about 5 us of every commit's Python)."""
    return IncidentRow(
        id=incident.id,
        playbook_id=incident.playbook_id,
        playbook_hash=incident.playbook_hash,
        title=incident.title,
        severity=incident.severity,
        state=incident.state,
        generation=incident.generation,
        state_entered_at=incident.state_entered_at,
        opened_at=incident.opened_at,
        closed_at=incident.closed_at,
        opened_by=incident.opened_by,
        data=incident.data,
        version=version,
        event_count=event_count,
        last_hash=last_hash,
    )


def _conflict(incident_id: str) -> ConflictError:
    return ConflictError(
        _("incident {id} changed since you read it; run the command again").format(id=incident_id)
    )
