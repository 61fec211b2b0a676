"""The store: incidents, their hash-chained events, timers and outbox, in one database.

Every line of SQL crisiscomm runs is in this module (and the migrations it applies), in the
subset SQLite and PostgreSQL share: `:name` parameters, `INSERT ... ON CONFLICT`,
`RETURNING`. What differs (connecting, BEGIN, DDL types, error messages) is in dialect.py.

Each write is ONE transaction (DESIGN.md invariants 1 and 2): the incident row, its new
events, its timers and its outbox rows commit together or not at all. Concurrent officers are
kept apart by an optimistic version check: `commit` updates the incident only if it still has
the version the caller read, and otherwise raises ConflictError with nothing written.

The event hash chain is described in chain.py; `verify_chain` recomputes it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import groupby
from pathlib import Path
from types import TracebackType
from typing import Any

from crisiscomm.clock import SystemClock, format_utc, parse_utc
from crisiscomm.errors import (
    ConflictError,
    CrisisCommError,
    NotFoundError,
    RefusedError,
    StoreError,
    UsageError,
)
from crisiscomm.i18n import _
from crisiscomm.playbook.model import canonical_json
from crisiscomm.store.chain import StoredEvent, event_hash_of_json, first_problem
from crisiscomm.store.dialect import Connection, Dialect, SQLiteDialect, dialect_for
from crisiscomm.store.rows import (
    ChainProblem,
    EventRow,
    IncidentRow,
    NewEvent,
    NewTimer,
    OutboxMessage,
    OutboxRow,
    TimerRow,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "MIGRATIONS_DIR",
    "Migration",
    "Store",
    "TimerAlreadyFired",
    "default_db_path",
    "migrations",
    "open_store",
]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
DEFAULT_TIMEOUT = 5.0  # seconds to wait for another writer before giving up

INCIDENT_COLUMNS = (
    "id, playbook_id, playbook_hash, title, severity, state, generation, state_entered_at, "
    "opened_at, closed_at, opened_by, data, version, event_count, last_hash"
)
EVENT_COLUMNS = "incident_id, seq, at, actor, type, data, prev_hash, hash"
TIMER_COLUMNS = (
    "id, incident_id, kind, key, due_at, generation, fired_at, retired_at, late_by_seconds, data"
)

# -- schema -------------------------------------------------------------------------------
SCHEMA_VERSION = "SELECT max(version) FROM schema_version"
RECORD_SCHEMA_VERSION = (
    "INSERT INTO schema_version (version, applied_at) VALUES (:version, :applied_at)"
)

# -- incidents ----------------------------------------------------------------------------
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
# the same for a change that leaves the row's other columns as they were: an UPDATE that
# names closed_at rewrites the open-incidents index entry even when the value is the same
UPDATE_INCIDENT_DATA = """
    UPDATE incidents
    SET data = :data, version = version + 1, event_count = :event_count, last_hash = :last_hash
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

# -- events -------------------------------------------------------------------------------
INSERT_EVENT = f"""
    INSERT INTO events ({EVENT_COLUMNS})
    VALUES (:incident_id, :seq, :at, :actor, :type, :data, :prev_hash, :hash)
"""
EVENTS = f"SELECT {EVENT_COLUMNS} FROM events WHERE incident_id = :incident_id ORDER BY seq"
CHAIN_HEADS = "SELECT id, event_count, last_hash FROM incidents"
CHAIN_HEAD_OF = "SELECT id, event_count, last_hash FROM incidents WHERE id = :id"
CHAIN_EVENTS = f"SELECT {EVENT_COLUMNS} FROM events ORDER BY incident_id, seq"
CHAIN_EVENTS_OF = f"SELECT {EVENT_COLUMNS} FROM events WHERE incident_id = :id ORDER BY seq"

# -- timers -------------------------------------------------------------------------------
INSERT_TIMER = """
    INSERT INTO timers (incident_id, kind, key, due_at, generation, data)
    VALUES (:incident_id, :kind, :key, :due_at, :generation, :data)
"""
RETIRE_TIMERS = """
    UPDATE timers SET retired_at = :retired_at
    WHERE incident_id = :incident_id AND generation < :generation
      AND fired_at IS NULL AND retired_at IS NULL
"""
TIMERS = f"SELECT {TIMER_COLUMNS} FROM timers WHERE incident_id = :incident_id ORDER BY due_at, id"
PENDING_TIMERS = f"""
    SELECT {TIMER_COLUMNS} FROM timers
    WHERE incident_id = :incident_id AND fired_at IS NULL AND retired_at IS NULL
    ORDER BY due_at, id
"""
DUE_TIMERS = f"""
    SELECT {TIMER_COLUMNS} FROM timers
    WHERE fired_at IS NULL AND retired_at IS NULL AND due_at <= :now
    ORDER BY due_at, id
    LIMIT :limit
"""
PENDING_WAKEUPS = """
    SELECT id, incident_id, due_at FROM timers
    WHERE fired_at IS NULL AND retired_at IS NULL AND due_at <= :until
      AND (id > :after_id OR due_at > :after_due)
    ORDER BY due_at, id
    LIMIT :limit
"""
CLAIM_TIMER = """
    UPDATE timers SET fired_at = :fired_at, late_by_seconds = :late_by_seconds
    WHERE id = :id AND generation = :generation AND fired_at IS NULL AND retired_at IS NULL
"""

# -- outbox -------------------------------------------------------------------------------
INSERT_OUTBOX = """
    INSERT INTO outbox (incident_id, idempotency_key, channel, recipient, payload, status,
                        attempts, next_attempt_at, created_at)
    VALUES (:incident_id, :idempotency_key, :channel, :recipient, :payload, 'pending',
            0, :created_at, :created_at)
    ON CONFLICT (idempotency_key) DO NOTHING
"""
OUTBOX = """
    SELECT idempotency_key, channel, recipient, payload FROM outbox
    WHERE incident_id = :incident_id ORDER BY id
"""

# -- outbox delivery ----------------------------------------------------------------------
# crisiscomm/notify/outbox.py takes due rows, sends them, then marks each. Taking a row
# counts the attempt and leases the row (next_attempt_at moves to :lease_until), so a
# process that dies mid-send leaves it due again once the lease ends: at-least-once.
# The row as taken (its attempts and lease) fences the later marks: a taker whose lease
# ran out, and whose row another process took since, can no longer reschedule or bury it.
OUTBOX_COLUMNS = (
    "id, incident_id, idempotency_key, channel, recipient, payload, status, attempts, "
    "next_attempt_at, created_at, sent_at, last_error"
)
# The due ids are chosen once (MATERIALIZED): as a plain `IN (subquery)`, PostgreSQL may run
# the subquery again per row and take more than :limit rows.
TAKE_DUE_OUTBOX = f"""
    WITH due AS MATERIALIZED (
        SELECT id FROM outbox
        WHERE status = 'pending' AND next_attempt_at <= :now
        ORDER BY next_attempt_at, id
        LIMIT :limit{{skip_locked}}
    )
    UPDATE outbox SET attempts = attempts + 1, next_attempt_at = :lease_until
    WHERE id IN (SELECT id FROM due) AND status = 'pending' AND next_attempt_at <= :now
    RETURNING {OUTBOX_COLUMNS}
"""
# The one dialect difference of this section (it belongs with the others in dialect.py):
# PostgreSQL lets concurrent takers pass over rows another has locked; SQLite's write lock
# (BEGIN IMMEDIATE) already lets one taker in at a time.
TAKE_SKIP_LOCKED = {"postgresql": " FOR UPDATE SKIP LOCKED"}
AS_TAKEN = "id = :id AND status = 'pending' AND attempts = :attempts AND next_attempt_at = :leased"
MARK_OUTBOX_SENT = """
    UPDATE outbox SET status = 'sent', sent_at = :sent_at
    WHERE id = :id AND status <> 'sent'
"""
MARK_OUTBOX_RETRY = f"""
    UPDATE outbox SET next_attempt_at = :next_attempt_at, last_error = :last_error
    WHERE {AS_TAKEN}
"""
MARK_OUTBOX_DEAD = f"""
    UPDATE outbox SET status = 'dead', last_error = :last_error
    WHERE {AS_TAKEN}
"""
DEFER_OUTBOX = f"""
    UPDATE outbox SET attempts = attempts - 1, next_attempt_at = :next_attempt_at
    WHERE {AS_TAKEN}
"""
RENEW_OUTBOX_LEASE = f"""
    UPDATE outbox SET next_attempt_at = :next_attempt_at
    WHERE {AS_TAKEN}
"""
LIST_OUTBOX = f"""
    SELECT {OUTBOX_COLUMNS} FROM outbox
    WHERE status IN (:status_1, :status_2, :status_3)
    ORDER BY created_at DESC, id DESC
    LIMIT :limit
"""
GET_OUTBOX_ROW = f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = :id"
RETRY_OUTBOX = f"""
    UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = :now
    WHERE id = :id AND status = 'dead'
    RETURNING {OUTBOX_COLUMNS}
"""
OUTBOX_COUNTS = "SELECT status, count(*), count(last_error) FROM outbox GROUP BY status"
OUTBOX_STATUSES = ("pending", "sent", "dead")


@dataclass(frozen=True, order=True)
class Migration:
    """One numbered schema change shipped in the package: `migrations/0001_initial.sql`."""

    version: int
    path: Path

    def statements(self, dialect: Dialect) -> list[str]:
        """The migration's statements for this database (comment lines dropped)."""
        lines = self.path.read_text(encoding="utf-8").splitlines()
        text = "\n".join(line for line in lines if not line.lstrip().startswith("--"))
        return [s.strip() for s in dialect.ddl(text).split(";") if s.strip()]


def migrations(folder: Path | None = None) -> list[Migration]:
    """The shipped migrations, in order; their numbers run 1, 2, 3 ... without gaps."""
    found = sorted(
        Migration(int(path.name.split("_", 1)[0]), path)
        for path in (folder or MIGRATIONS_DIR).glob("[0-9][0-9][0-9][0-9]_*.sql")
    )
    if not found or [m.version for m in found] != list(range(1, len(found) + 1)):
        # a packaging mistake (package_data without store/migrations/*.sql), not a user's
        raise RuntimeError(
            f"the database migrations in {folder or MIGRATIONS_DIR} are missing or not "
            "numbered 1..n: reinstall crisiscomm"
        )
    return found


def default_db_path() -> Path:
    """Where the database lives unless --db or CRISISCOMM_DB say otherwise."""
    base = os.environ.get("XDG_DATA_HOME", "")
    try:
        root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "share"
    except RuntimeError:  # no home folder (some service accounts)
        raise UsageError(
            _("there is no home folder to keep the database in"),
            hint=_("set CRISISCOMM_DB or give --db PATH"),
        ) from None
    return root / "crisiscomm" / "crisiscomm.db"


def open_store(
    target: str | Path | None = None, *, timeout: float = DEFAULT_TIMEOUT, create: bool = True
) -> Store:
    """Open (creating or upgrading in place) the database at a path or `postgresql://` URL.

    None means $CRISISCOMM_DB, else `default_db_path()`. `timeout` is how long to wait for
    another writer before giving up with a StoreError. With `create=False`, a database file
    that does not exist is a UsageError (a mistyped path), not a new empty database.
    """
    if target is None or target == "":
        target = os.environ.get("CRISISCOMM_DB") or default_db_path()
    dialect = dialect_for(target, timeout)
    if not create and isinstance(dialect, SQLiteDialect) and not dialect.path.exists():
        raise UsageError(
            _("there is no database at {path}").format(path=dialect.path),
            hint=_(
                "check --db or CRISISCOMM_DB: the office's database is the file "
                "open-incident created; open-incident with a new path starts a new one"
            ),
        )
    store = Store(dialect.connect(), dialect)
    try:
        store.migrate()
    except BaseException:
        store.close()
        raise
    return store


class TimerAlreadyFired(Exception):
    """Another wake-up fired this timer first, or it no longer applies: do nothing."""

    def __init__(self, timer_id: int) -> None:
        super().__init__(f"timer {timer_id} already fired or retired")
        self.timer_id = timer_id


class Store:
    """One open database. Use `open_store`; close it, or use it as a context manager."""

    def __init__(self, connection: Connection, dialect: Dialect) -> None:
        self._connection: Connection | None = connection
        self._dialect = dialect
        self.where = dialect.where  # the file or URL (without password), for messages
        self.backend = dialect.name  # "sqlite" or "postgresql"
        self.schema_version = 0
        self._depth = 0  # open transaction (1) and savepoints inside it
        # Threads of one process writing to one SQLite file can share a lock: they then wait
        # for each other on it, woken at once, instead of in SQLite's busy handler, which
        # polls with sleeps of 1 ms and more. Other processes still meet the busy timeout.
        self.writer_lock: AbstractContextManager[Any] = nullcontext()

    # -- lifecycle ------------------------------------------------------------------------

    def scratch(self) -> None:
        """Stop syncing each commit to disk (SQLite): for a drill's throw-away database only.

        A process crash still loses nothing committed; a power cut may lose the last
        commits. Never for an office's real database.
        """
        if self.backend == "sqlite":
            self._execute("PRAGMA synchronous = OFF")

    def close(self) -> None:
        """Close the connection; closing twice is harmless."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def migrate(self, folder: Path | None = None) -> int:
        """Bring the schema up to date in place; refuse a database from a newer crisiscomm."""
        known = migrations(folder)
        latest = known[-1].version
        current = self._read_schema_version()
        if current < latest:
            with self._transaction():
                if self._dialect.migration_lock:
                    self._execute(self._dialect.migration_lock)
                current = self._read_schema_version()  # another process may have done it
                if current == 0:
                    self._refuse_foreign_database()
                for migration in known[current:]:
                    for statement in migration.statements(self._dialect):
                        self._execute(statement)
                    self._execute(
                        RECORD_SCHEMA_VERSION,
                        version=migration.version,
                        applied_at=format_utc(SystemClock().now()),
                    )
                current = max(current, latest)
        if current > latest:
            raise StoreError(
                _(
                    "the database {where} was made by a newer crisiscomm (schema {found}; "
                    "this one knows {known}): upgrade crisiscomm"
                ).format(where=self.where, found=current, known=latest),
                hint=_("pip install --upgrade crisiscomm, then run the command again"),
            )
        self.schema_version = current
        return current

    # -- writes ---------------------------------------------------------------------------

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One write transaction around several writes, each of which keeps its own
        all-or-nothing (a savepoint): one commit (one fsync) for all of them.

        For `serve` firing many due timers at once. The database stays locked for writers
        until the batch ends (SQLite), or the rows it changed stay locked (PostgreSQL):
        keep batches short.
        """
        with self._transaction():
            yield

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Inside a `batch`: a part that is undone alone if it raises, reads included (a
        failed statement on PostgreSQL leaves the rest of the batch usable). Outside one,
        a transaction of its own."""
        with self._transaction():
            yield

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
            chained, last_hash = _chain(incident_id, 0, "", events)
            stored = _incident(
                self._fetchone(
                    INSERT_INCIDENT,
                    **_incident_params(incident),
                    id=incident_id,
                    event_count=len(events),
                    last_hash=last_hash,
                ),
                statements=incident.data.get("statements") or {},
            )
            self._execute(
                INSERT_STATEMENTS,
                incident_id=incident_id,
                data=_json(incident.data.get("statements") or {}),
            )
            self._append(stored, chained, timers, outbox, at=events[0].at)
        return stored

    def allocate_incident_id(self, year: int) -> str:
        """Take the next incident number of a year, `INC-2026-0042`, in its own transaction.

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
        `statements_changed`; the rest of the row is rewritten by every commit. With
        `claim`, the commit is that timer's firing: it is marked fired in the same
        transaction, and TimerAlreadyFired (nothing written) if it already fired, was
        retired or belongs to another state entry.

        Updates title, severity, state, generation, state_entered_at, closed_at and data (the
        playbook pin, opening time and opener never change). With `retire_timers`, the
        pending timers of earlier generations are retired at the first event's time. Raises
        ConflictError, with nothing written, if someone else committed in between.
        """
        _require_events(events)
        # The chain continues from the head the caller read (`incident` carries it); the
        # UPDATE only matches if the version and that head are still what is stored, so
        # no separate read of the head is needed inside the transaction.
        event_count, last_hash = incident.event_count, incident.last_hash
        chained, new_last_hash = _chain(incident.id, event_count, last_hash, events)
        only_data = before is not None and all(
            getattr(incident, column) == getattr(before, column) for column in ROW_COLUMNS
        )
        with self._transaction():
            record = self._fetchone_or_none(
                UPDATE_INCIDENT_DATA if only_data else UPDATE_INCIDENT,
                **({"data": _incident_data(incident)} if only_data else _incident_params(incident)),
                id=incident.id,
                expected_version=expected_version,
                read_event_count=event_count,
                read_last_hash=last_hash,
                event_count=event_count + len(events),
                last_hash=new_last_hash,
            )
            if record is None:
                if self._fetchone_or_none(CHAIN_HEAD, id=incident.id) is None:
                    raise _no_incident(incident.id)
                raise _conflict(incident.id)
            if claim is not None:
                # the timer whose firing this is: claimed in the same transaction, so it
                # fires exactly once however many processes woke up for it (invariant 4);
                # claimed after the incident row is locked, the order `advance` locks them in
                claimed = self._execute(
                    CLAIM_TIMER,
                    id=claim.id,
                    generation=claim.generation,
                    fired_at=format_utc(events[0].at),
                    late_by_seconds=late_by_seconds,
                )
                if claimed.rowcount != 1:
                    raise TimerAlreadyFired(claim.id)
            if statements_changed:
                self._execute(
                    UPDATE_STATEMENTS,
                    incident_id=incident.id,
                    data=_json(incident.data.get("statements") or {}),
                )
            stored = replace(
                incident,
                version=int(record[0]),
                event_count=event_count + len(events),
                last_hash=new_last_hash,
            )
            if retire_timers:
                self._execute(
                    RETIRE_TIMERS,
                    retired_at=format_utc(events[0].at),
                    incident_id=stored.id,
                    generation=stored.generation,
                )
            self._append(stored, chained, timers, outbox, at=events[0].at)
        return stored

    def claim_timer(
        self, timer_id: int, generation: int, fired_at: datetime, late_by_seconds: float
    ) -> bool:
        """Mark a timer fired; True only for the one caller that claimed it (invariant 4).

        False when it already fired, was retired, or belongs to another state entry.
        """
        with self._transaction():
            if self._dialect.lock_incident_of_timer:
                self._execute(self._dialect.lock_incident_of_timer, id=timer_id)
            cursor = self._execute(
                CLAIM_TIMER,
                id=timer_id,
                generation=generation,
                fired_at=format_utc(fired_at),
                late_by_seconds=late_by_seconds,
            )
            return bool(cursor.rowcount == 1)

    # -- reads ----------------------------------------------------------------------------

    def get_incident(self, incident_id: str, *, statements: bool = True) -> IncidentRow:
        """The incident as stored; NotFoundError if there is none with this id.

        With `statements=False` its data has no "statements" (the texts in every language
        are most of an incident's data; steps that do not touch them need not read them).
        """
        with self._driver_errors():
            record = self._fetchone_or_none(GET_INCIDENT, id=incident_id)
            if record is None:
                raise _no_incident(incident_id)
            if not statements:
                return _incident(record)
            texts = self._fetchone_or_none(GET_STATEMENTS, incident_id=incident_id)
        return _incident(record, statements=json.loads(texts[0]) if texts else {})

    def list_incidents(self, *, open_only: bool = False) -> list[IncidentRow]:
        """Incidents, newest first; only those not closed with `open_only`.

        For listing: their data has no "statements" (get_incident reads those).
        """
        with self._driver_errors():
            records = self._execute(LIST_OPEN_INCIDENTS if open_only else LIST_INCIDENTS)
            return [_incident(record) for record in records.fetchall()]

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

    def events(self, incident_id: str) -> list[EventRow]:
        """The incident's events in order (none for an unknown incident)."""
        with self._driver_errors():
            records = self._execute(EVENTS, incident_id=incident_id).fetchall()
        return [_event(record) for record in records]

    def timers(self, incident_id: str, *, pending_only: bool = True) -> list[TimerRow]:
        """The incident's timers by due time: by default only those neither fired nor retired."""
        with self._driver_errors():
            sql = PENDING_TIMERS if pending_only else TIMERS
            records = self._execute(sql, incident_id=incident_id).fetchall()
        return [_timer(record) for record in records]

    def outbox(self, incident_id: str) -> list[OutboxMessage]:
        """The notifications the incident's commits queued, in the order they were written."""
        with self._driver_errors():
            records = self._execute(OUTBOX, incident_id=incident_id).fetchall()
        return [
            OutboxMessage(
                idempotency_key=key,
                channel=channel,
                recipient=recipient,
                payload=json.loads(payload),
            )
            for key, channel, recipient, payload in records
        ]

    def due_timers(self, now: datetime, limit: int = 100) -> list[TimerRow]:
        """Pending timers of every incident due at `now` or earlier, the most overdue first."""
        with self._driver_errors():
            records = self._execute(DUE_TIMERS, now=format_utc(now), limit=limit).fetchall()
        return [_timer(record) for record in records]

    def pending_wakeups(
        self,
        until: datetime,
        limit: int,
        *,
        after_id: int = 0,
        after_due: datetime | None = None,
    ) -> list[tuple[int, str, str]]:
        """(id, incident id, due time as stored) of pending timers due by `until`, soonest
        first: what a scheduler needs to wake up for them (`parse_utc` reads the due time).

        Only the ones it has not seen: with an id above `after_id`, or due after `after_due`
        (the `until` of its last look). The defaults give all of them.
        """
        with self._driver_errors():
            records = self._execute(
                PENDING_WAKEUPS,
                until=format_utc(until),
                limit=limit,
                after_id=after_id,
                after_due=format_utc(after_due) if after_due is not None else None,
            ).fetchall()
        wakeups: list[tuple[int, str, str]] = records  # both drivers give tuples of these
        return wakeups

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
                    raise _no_incident(incident_id)
                rows = self._execute(CHAIN_EVENTS_OF, id=incident_id)
            expected = {str(i): (int(count), str(last)) for i, count, last in heads}
            for chain_id, chain in groupby(rows, key=lambda row: str(row[0])):
                events: list[StoredEvent] = [tuple(row[1:]) for row in chain]
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

    # -- outbox delivery ------------------------------------------------------------------

    def take_due_outbox(
        self, *, now: datetime, lease_until: datetime, limit: int = 100
    ) -> list[OutboxRow]:
        """Take up to `limit` pending rows due at `now`, most overdue first; in id order.

        Each taken row counts one more attempt and is leased until `lease_until`: no other
        taker gets it before then (PostgreSQL takers skip rows another is taking), and if
        this process dies before marking it, it is due again then.
        """
        sql = TAKE_DUE_OUTBOX.replace("{skip_locked}", TAKE_SKIP_LOCKED.get(self.backend, ""))
        with self._transaction():
            records = self._execute(
                sql, now=format_utc(now), lease_until=format_utc(lease_until), limit=limit
            ).fetchall()
        return sorted((_outbox_row(record) for record in records), key=lambda row: row.id)

    def mark_outbox_sent(self, rows: Sequence[OutboxRow], *, sent_at: datetime) -> int:
        """Record taken rows as delivered, in one transaction; how many were not yet."""
        marked = 0
        with self._transaction():
            for row in rows:
                cursor = self._execute(MARK_OUTBOX_SENT, id=row.id, sent_at=format_utc(sent_at))
                marked += cursor.rowcount
        return marked

    def mark_outbox_retry(self, row: OutboxRow, *, next_attempt_at: datetime, error: str) -> bool:
        """Schedule the next attempt of a taken row, keeping the error.

        False (nothing changed) if the row was taken again or marked since.
        """
        return self._update_taken(
            MARK_OUTBOX_RETRY, row, next_attempt_at=format_utc(next_attempt_at), last_error=error
        )

    def mark_outbox_dead(self, row: OutboxRow, *, error: str) -> bool:
        """Give up on a taken row: a dead letter, kept for a person to see and re-queue.

        False (nothing changed) if the row was taken again or marked since.
        """
        return self._update_taken(MARK_OUTBOX_DEAD, row, last_error=error)

    def defer_outbox(self, row: OutboxRow, *, next_attempt_at: datetime) -> bool:
        """Hand back a taken row unsent, its attempt not counted, due at `next_attempt_at`.

        For rows of a channel that just failed: they wait with it instead of each waiting
        for its own timeout. False (nothing changed) if the row was taken again since.
        """
        return self._update_taken(DEFER_OUTBOX, row, next_attempt_at=format_utc(next_attempt_at))

    def renew_outbox_lease(
        self, rows: Sequence[OutboxRow], *, lease_until: datetime
    ) -> list[OutboxRow]:
        """Extend the lease of taken rows; the ones still held, as now taken, in order."""
        until = format_utc(lease_until)
        held = []
        with self._transaction():
            for row in rows:
                cursor = self._execute(RENEW_OUTBOX_LEASE, **_as_taken(row), next_attempt_at=until)
                if cursor.rowcount == 1:
                    held.append(replace(row, next_attempt_at=parse_utc(until)))
        return held

    def list_outbox(
        self, *, statuses: Sequence[str] = ("pending", "dead"), limit: int = 1000
    ) -> list[OutboxRow]:
        """Outbox rows with one of `statuses` ("pending", "sent", "dead"), newest first."""
        wanted = list(dict.fromkeys(statuses))
        unknown = [status for status in wanted if status not in OUTBOX_STATUSES]
        if not wanted or unknown:
            raise ValueError(f"statuses must be some of {OUTBOX_STATUSES}, not {statuses!r}")
        padded = (wanted * 3)[:3]  # the IN list has three places; repeats change nothing
        with self._driver_errors():
            records = self._execute(
                LIST_OUTBOX,
                status_1=padded[0],
                status_2=padded[1],
                status_3=padded[2],
                limit=limit,
            ).fetchall()
        return [_outbox_row(record) for record in records]

    def get_outbox_row(self, outbox_id: int) -> OutboxRow:
        """One outbox row; NotFoundError if there is none with this id."""
        with self._driver_errors():
            record = self._fetchone_or_none(GET_OUTBOX_ROW, id=outbox_id)
        if record is None:
            raise _no_outbox_row(outbox_id)
        return _outbox_row(record)

    def retry_outbox(self, outbox_id: int, *, now: datetime) -> OutboxRow:
        """Put a dead letter back in the queue: pending, attempts from 0, due at `now`.

        NotFoundError for an unknown id; RefusedError for a row that is not dead.
        """
        with self._transaction():
            record = self._fetchone_or_none(RETRY_OUTBOX, id=outbox_id, now=format_utc(now))
            if record is None:
                found = self._fetchone_or_none(GET_OUTBOX_ROW, id=outbox_id)
                if found is None:
                    raise _no_outbox_row(outbox_id)
                status = _outbox_row(found).status
                raise RefusedError(
                    _(
                        "outbox row {id} is {status}, not dead: only a dead letter is re-queued"
                    ).format(id=outbox_id, status=status),
                    hint=_("run `crisiscomm outbox --dead` to see the dead letters"),
                )
        return _outbox_row(record)

    def outbox_counts(self) -> dict[str, int]:
        """How many outbox rows are pending, sent and dead, and "failing": pending ones
        whose last attempt failed (waiting for their retry)."""
        with self._driver_errors():
            records = self._execute(OUTBOX_COUNTS).fetchall()
        counts = dict.fromkeys((*OUTBOX_STATUSES, "failing"), 0)
        for status, count, with_error in records:
            counts[str(status)] = int(count)
            if status == "pending":
                counts["failing"] = int(with_error)
        return counts

    def _update_taken(self, sql: str, row: OutboxRow, **params: Any) -> bool:
        with self._transaction():
            cursor = self._execute(sql, **_as_taken(row), **params)
            return bool(cursor.rowcount == 1)

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
        self._executemany(INSERT_EVENT, events)
        self._executemany(
            INSERT_TIMER,
            [
                {
                    "incident_id": incident.id,
                    "kind": timer.kind,
                    "key": timer.key,
                    "due_at": format_utc(timer.due_at),
                    "generation": incident.generation,
                    "data": canonical_json(timer.data),
                }
                for timer in timers
            ],
        )
        self._executemany(
            INSERT_OUTBOX,
            [
                {
                    "incident_id": incident.id,
                    "idempotency_key": message.idempotency_key,
                    "channel": message.channel,
                    "recipient": message.recipient,
                    "payload": canonical_json(message.payload),
                    "created_at": format_utc(at),
                }
                for message in outbox
            ],
        )

    def _next_incident_id(self, year: int) -> str:
        number = self._fetchone(NEXT_NUMBER, name=f"incident:{year}")[0]
        return f"INC-{year}-{number:04d}"

    def _read_schema_version(self) -> int:
        with self._driver_errors():
            exists = self._fetchone(self._dialect.table_exists, name="schema_version")[0]
            if not exists:
                return 0
            return int(self._fetchone(SCHEMA_VERSION)[0] or 0)

    def _refuse_foreign_database(self) -> None:
        """An SQLite file holding another program's tables is not ours to add tables to."""
        if self._dialect.table_count and self._fetchone(self._dialect.table_count)[0]:
            raise self._dialect.foreign()

    @property
    def _conn(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("the store is closed")
        return self._connection

    def _execute(self, sql: str, **params: Any) -> Any:
        if params:
            return self._conn.execute(self._dialect.sql(sql), params)
        return self._conn.execute(self._dialect.sql(sql))

    def _executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self._conn.cursor().executemany(self._dialect.sql(sql), rows)

    def _fetchone(self, sql: str, **params: Any) -> Any:
        record = self._fetchone_or_none(sql, **params)
        if record is None:
            raise RuntimeError(f"no row from: {sql.strip()}")
        return record

    def _fetchone_or_none(self, sql: str, **params: Any) -> Any:
        return self._execute(sql, **params).fetchone()

    @contextmanager
    def _driver_errors(self) -> Iterator[None]:
        """A driver's exception becomes a StoreError a person can act on; bugs stay bugs."""
        try:
            yield
        except CrisisCommError:
            raise
        except Exception as error:
            mapped = self._dialect.store_error(error)
            if mapped is None:
                raise
            raise mapped from error

    @contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[None]:
        """BEGIN ... COMMIT, rolled back on any exception, however it ends.

        Inside a `batch` it is a savepoint instead: its failure undoes its own writes only.
        """
        with self._driver_errors():
            if self._depth:
                name = f"crisiscomm_{self._depth}"
                self._execute(f"SAVEPOINT {name}")
                self._depth += 1
                try:
                    yield
                    self._execute(f"RELEASE SAVEPOINT {name}")
                except BaseException:
                    with suppress(Exception):
                        self._execute(f"ROLLBACK TO SAVEPOINT {name}")
                        self._execute(f"RELEASE SAVEPOINT {name}")
                    raise
                finally:
                    self._depth -= 1
                return
            with self.writer_lock if write else nullcontext():
                self._execute(self._dialect.begin_write if write else self._dialect.begin_read)
                self._depth = 1
                try:
                    yield
                    if self._dialect.failed_transaction(self._conn):
                        raise StoreError(
                            _("a statement failed inside the transaction; nothing was written"),
                            hint=_("run the command again; if it fails again, report it"),
                        )
                    self._execute("COMMIT")
                except BaseException:
                    self._rollback()
                    raise
                finally:
                    self._depth = 0

    def _rollback(self) -> None:
        # if the connection is gone, the server (or SQLite, on the next open) rolls back
        with suppress(Exception):
            self._execute("ROLLBACK")


def _json(value: Any) -> str:
    """Compact JSON for columns that are read back, not hashed (the chain uses canonical)."""
    # check_circular=False: JSON read from JSON has no cycles, and the check costs a fifth
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), check_circular=False)


def _require_events(events: Sequence[NewEvent]) -> None:
    if not events:
        raise ValueError("every change is recorded as at least one event (DESIGN.md invariant 2)")


def _chain(
    incident_id: str, after_seq: int, prev_hash: str, events: Sequence[NewEvent]
) -> tuple[list[dict[str, Any]], str]:
    """The events as rows continuing the chain after `after_seq`, and the new last hash."""
    rows = []
    for seq, event in enumerate(events, start=after_seq + 1):
        at = format_utc(event.at)
        data = canonical_json(event.data)
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


def _incident_data(incident: IncidentRow) -> str:
    """The incident row's `data` column: the data without its statements (their own table)."""
    return _json({key: value for key, value in incident.data.items() if key != "statements"})


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
        "data": _incident_data(incident),
    }


def _incident(record: Sequence[Any], *, statements: dict[str, Any] | None = None) -> IncidentRow:
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
        data={**json.loads(data), "statements": statements} if statements else json.loads(data),
        version=int(version),
        event_count=int(event_count),
        last_hash=last_hash,
    )


def _event(record: Sequence[Any]) -> EventRow:
    incident_id, seq, at, actor, type_, data, prev_hash, digest = record
    return EventRow(
        incident_id=incident_id,
        seq=int(seq),
        at=parse_utc(at),
        actor=actor,
        type=type_,
        data=json.loads(data),
        prev_hash=prev_hash,
        hash=digest,
    )


def _timer(record: Sequence[Any]) -> TimerRow:
    id_, incident_id, kind, key, due_at, generation, fired_at, retired_at, late, data = record
    return TimerRow(
        id=int(id_),
        incident_id=incident_id,
        kind=kind,
        key=key,
        due_at=parse_utc(due_at),
        generation=int(generation),
        fired_at=None if fired_at is None else parse_utc(fired_at),
        retired_at=None if retired_at is None else parse_utc(retired_at),
        late_by_seconds=None if late is None else float(late),
        data=json.loads(data),
    )


# -- outbox delivery ----------------------------------------------------------------------


def _outbox_row(record: Sequence[Any]) -> OutboxRow:
    (
        id_,
        incident_id,
        key,
        channel,
        recipient,
        payload,
        status,
        attempts,
        next_attempt_at,
        created_at,
        sent_at,
        last_error,
    ) = record
    return OutboxRow(
        id=int(id_),
        incident_id=incident_id,
        idempotency_key=key,
        channel=channel,
        recipient=recipient,
        payload=json.loads(payload),
        status=status,
        attempts=int(attempts),
        next_attempt_at=parse_utc(next_attempt_at),
        created_at=parse_utc(created_at),
        sent_at=None if sent_at is None else parse_utc(sent_at),
        last_error=last_error,
    )


def _as_taken(row: OutboxRow) -> dict[str, Any]:
    """The parameters of AS_TAKEN: the row as its taker holds it."""
    return {"id": row.id, "attempts": row.attempts, "leased": format_utc(row.next_attempt_at)}


def _no_outbox_row(outbox_id: int) -> NotFoundError:
    return NotFoundError(
        _("no outbox row {id}").format(id=outbox_id),
        hint=_("run `crisiscomm outbox --all` to see the outbox"),
    )


def _no_incident(incident_id: str) -> NotFoundError:
    return NotFoundError(
        _("no incident {id}").format(id=incident_id),
        hint=_("run `crisiscomm list` to see the incidents"),
    )


def _conflict(incident_id: str) -> ConflictError:
    return ConflictError(
        _("incident {id} changed since you read it; run the command again").format(id=incident_id)
    )
