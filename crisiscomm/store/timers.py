"""Timers: the escalation, reminder and cadence deadlines of incidents (DESIGN.md invariant 4).

`TimerTables` reads the timers table (an incident's timers, the due ones, the wake-ups a
scheduler needs) and claims a timer exactly once: a conditional UPDATE fenced by the state
entry (`generation`) it belongs to. An incident's write (incidents.py) inserts new timers,
retires the ones of earlier state entries and claims the timer it fires, in its one
transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from crisiscomm.clock import format_utc, parse_utc
from crisiscomm.store.chain import canonical_text
from crisiscomm.store.connection import StoreConnection
from crisiscomm.store.rows import NewTimer, TimerRow

__all__ = ["TimerAlreadyFired", "TimerTables", "timer_row"]

TIMER_COLUMNS = (
    "id, incident_id, kind, key, due_at, generation, fired_at, retired_at, late_by_seconds, data, "
    "failures, next_try_at"
)
# a timer whose firing failed waits for its next try (0002_timer_retry.sql)
READY = "(next_try_at IS NULL OR next_try_at <= :now)"
# the first wait after a failed firing, doubled after each, up to RETRY_CAP
RETRY_FIRST = timedelta(seconds=1)
RETRY_CAP = timedelta(minutes=10)
INSERT_TIMER = """
    INSERT INTO timers (incident_id, kind, key, due_at, generation, data)
    VALUES (:incident_id, :kind, :key, :due_at, :generation, :data)
"""
# a state change retires its state's timers; an incident's own (its promises to the public,
# its statements' clearance deadlines) stand until they fire or the incident closes.
# Retiring deletes them (0009_compact_storage.sql): the event log records the change that
# retired them, and a claim that comes late finds no row, so it fires nothing.
RETIRE_STATE_TIMERS = """
    DELETE FROM timers
    WHERE incident_id = :incident_id AND generation < :generation
      AND fired_at IS NULL AND retired_at IS NULL AND kind NOT IN ('promise', 'clearance')
"""
RETIRE_ALL_TIMERS = """
    DELETE FROM timers
    WHERE incident_id = :incident_id AND fired_at IS NULL AND retired_at IS NULL
"""
TIMERS = f"SELECT {TIMER_COLUMNS} FROM timers WHERE incident_id = :incident_id ORDER BY due_at, id"
PENDING_TIMERS = f"""
    SELECT {TIMER_COLUMNS} FROM timers
    WHERE incident_id = :incident_id AND fired_at IS NULL AND retired_at IS NULL
    ORDER BY due_at, id
"""
DUE_TIMERS = f"""
    SELECT {TIMER_COLUMNS} FROM timers
    WHERE fired_at IS NULL AND retired_at IS NULL AND due_at <= :now AND {READY}
    ORDER BY due_at, id
    LIMIT :limit
"""
# PostgreSQL, inside a firing batch: the due timers of incidents no other batch (another
# `serve`) or officer holds, their incidents locked for this batch. Replicas so share the
# due timers instead of queueing behind each other's row locks; what one skips, the one
# holding it fires. Incidents are locked before their timers, as every writer does.
DUE_TIMERS_UNLOCKED = f"""
    WITH due AS MATERIALIZED (
        SELECT incident_id, min(due_at) AS first_due FROM timers
        WHERE fired_at IS NULL AND retired_at IS NULL AND due_at <= :now AND {READY}
        GROUP BY incident_id
        ORDER BY first_due, incident_id
        LIMIT :limit
    ), taken AS MATERIALIZED (
        SELECT incidents.id FROM incidents JOIN due ON due.incident_id = incidents.id
        ORDER BY incidents.id
        FOR UPDATE OF incidents SKIP LOCKED
    )
    SELECT {TIMER_COLUMNS} FROM timers
    WHERE incident_id IN (SELECT id FROM taken)
      AND fired_at IS NULL AND retired_at IS NULL AND due_at <= :now AND {READY}
    ORDER BY due_at, id
    LIMIT :limit
"""
# a backed-off timer wakes the scheduler at its next try, not at its due time (always after
# it: `due_at <= :until` is implied, and lets the pending timers' index narrow the search)
PENDING_WAKEUPS = """
    SELECT id, incident_id, COALESCE(next_try_at, due_at) FROM timers
    WHERE fired_at IS NULL AND retired_at IS NULL AND due_at <= :until
      AND COALESCE(next_try_at, due_at) <= :until
      AND (id > :after_id OR COALESCE(next_try_at, due_at) > :after_due)
    ORDER BY COALESCE(next_try_at, due_at), id
    LIMIT :limit
"""
# when a firing pass should next look at the timers already due (none: None)
NEXT_TRY = """
    SELECT min(COALESCE(next_try_at, due_at)) FROM timers
    WHERE fired_at IS NULL AND retired_at IS NULL AND due_at <= :now
"""
RECORD_FAILURE = """
    UPDATE timers SET failures = failures + 1, next_try_at = :next_try_at
    WHERE id = :id AND fired_at IS NULL AND retired_at IS NULL
"""
CLAIM_TIMER = """
    UPDATE timers SET fired_at = :fired_at, late_by_seconds = :late_by_seconds
    WHERE id = :id AND generation = :generation AND fired_at IS NULL AND retired_at IS NULL
"""


class TimerAlreadyFired(Exception):
    """Another wake-up fired this timer first, or it no longer applies: do nothing."""

    def __init__(self, timer_id: int) -> None:
        super().__init__(f"timer {timer_id} already fired or retired")
        self.timer_id = timer_id


class TimerTables(StoreConnection):
    """The timers table."""

    def timers(self, incident_id: str, *, pending_only: bool = True) -> list[TimerRow]:
        """The incident's timers by due time: by default only those neither fired nor retired."""
        with self._driver_errors():
            sql = PENDING_TIMERS if pending_only else TIMERS
            records = self._execute(sql, incident_id=incident_id).fetchall()
        return [timer_row(record) for record in records]

    def due_timers(self, now: datetime, limit: int = 100, *, take: bool = False) -> list[TimerRow]:
        """Pending timers of every incident due at `now` or earlier, the most overdue first
        (those waiting for their next try after a failed firing excepted).

        With `take`, inside a batch on PostgreSQL: only those of incidents nobody else holds,
        locked until the batch ends (another `serve` takes the others).
        """
        sql = DUE_TIMERS_UNLOCKED if take and self.backend == "postgresql" else DUE_TIMERS
        with self._driver_errors():
            records = self._execute(sql, now=format_utc(now), limit=limit).fetchall()
        return [timer_row(record) for record in records]

    def next_try(self, now: datetime) -> datetime | None:
        """The earliest moment a timer already due at `now` may be fired, if one is left:
        its due time, or its next try after a failed firing."""
        with self._driver_errors():
            at = self._fetchone(NEXT_TRY, now=format_utc(now))[0]
        return None if at is None else parse_utc(at)

    def record_timer_failure(self, timer: TimerRow, now: datetime) -> datetime:
        """Count a failed firing of `timer` and put its next try off: 1 s after the first
        failure, doubled after each, up to RETRY_CAP. When the next try is (returned)."""
        next_try = now + min(RETRY_CAP, RETRY_FIRST * 2 ** min(timer.failures, 20))
        with self._transaction():
            self._execute(RECORD_FAILURE, id=timer.id, next_try_at=format_utc(next_try))
        return next_try

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

    def claim_timer(
        self, timer_id: int, generation: int, fired_at: datetime, late_by_seconds: float
    ) -> bool:
        """Mark a timer fired; True only for the one caller that claimed it (invariant 4).

        False when it already fired, was retired, or belongs to another state entry.
        """
        with self._transaction():
            if self._dialect.lock_incident_of_timer:
                self._execute(self._dialect.lock_incident_of_timer, id=timer_id)
            return self._claim(timer_id, generation, fired_at, late_by_seconds)

    def _claim(
        self, timer_id: int, generation: int, fired_at: datetime, late_by_seconds: float
    ) -> bool:
        """Mark a timer fired inside the caller's transaction; True if this call did."""
        cursor = self._execute(
            CLAIM_TIMER,
            id=timer_id,
            generation=generation,
            fired_at=format_utc(fired_at),
            late_by_seconds=late_by_seconds,
        )
        return bool(cursor.rowcount == 1)

    def _insert_timers(self, incident_id: str, generation: int, timers: Sequence[NewTimer]) -> None:
        """Insert an incident's new timers, of its state entry `generation`."""
        self._executemany(
            INSERT_TIMER,
            [
                {
                    "incident_id": incident_id,
                    "kind": timer.kind,
                    "key": timer.key,
                    "due_at": format_utc(timer.due_at),
                    "generation": generation,
                    "data": canonical_text(timer.data),
                }
                for timer in timers
            ],
        )

    def _retire_timers(self, incident_id: str, generation: int, *, closing: bool = False) -> None:
        """Retire (delete) the pending timers of an incident's state entries before
        `generation`; closing, every pending timer of the incident (see
        INCIDENT_TIMER_KINDS)."""
        if closing:
            self._execute(RETIRE_ALL_TIMERS, incident_id=incident_id)
            return
        self._execute(RETIRE_STATE_TIMERS, incident_id=incident_id, generation=generation)


def timer_row(record: Sequence[Any]) -> TimerRow:
    """A timer as read: the incidents' (11 columns, with the retry state of 0002) or the
    register's (the first 10, which never retries a failed firing)."""
    id_, incident_id, kind, key, due_at, generation, fired_at, retired_at, late, data = record[:10]
    failures, next_try_at = record[10:] or (0, None)
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
        failures=int(failures),
        next_try_at=None if next_try_at is None else parse_utc(next_try_at),
    )
