"""The outbox: notifications written in an incident's (or a register item's) transaction,
delivered after it (DESIGN.md invariant 6).

`OutboxTables` reads what an incident queued, and serves crisiscomm/notify/outbox.py's
delivery: take due rows under a lease, mark them sent, retried, deferred or dead, re-queue
a dead letter, count rows by status. An incident's write (incidents.py) queues its messages
with `_insert_outbox`; a register item's (inbox.py) with `INSERT_ITEM_OUTBOX` (migration
0006: a row belongs to an incident or to an item). The idempotency key makes a repeated
one a no-op. A row as read names its incident, or its item, in `incident_id`; `item_id` is
set for an item's rows only.

A released statement's row refers to the released version (`TEXTS_FROM`, migration 0008)
instead of copying its texts in every language into every channel's row: every read of
a row fills in "texts" and "text" from the version, so channels see the payload they
always saw, byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from crisiscomm.clock import format_utc, parse_utc
from crisiscomm.errors import NotFoundError, RefusedError
from crisiscomm.i18n import _
from crisiscomm.store.chain import canonical_text
from crisiscomm.store.connection import StoreConnection
from crisiscomm.store.rows import OutboxMessage, OutboxRow

__all__ = ["INSERT_ITEM_OUTBOX", "TEXTS_FROM", "OutboxTables", "outbox_params"]

# the payload key of a released statement's row: the languages, in order, whose texts are
# the released version's ("texts"), joined by a blank line into "text"
TEXTS_FROM = "texts_from"
STATEMENT_VERSION = """
    SELECT data FROM statement_versions
    WHERE incident_id = :incident_id AND statement = :statement AND version = :version
"""

INSERT_OUTBOX = """
    INSERT INTO outbox (incident_id, idempotency_key, channel, recipient, payload, status,
                        attempts, next_attempt_at, created_at)
    VALUES (:incident_id, :idempotency_key, :channel, :recipient, :payload, 'pending',
            0, :created_at, :created_at)
    ON CONFLICT (idempotency_key) DO NOTHING
"""
INSERT_ITEM_OUTBOX = """
    INSERT INTO outbox (item_id, idempotency_key, channel, recipient, payload, status,
                        attempts, next_attempt_at, created_at)
    VALUES (:item_id, :idempotency_key, :channel, :recipient, :payload, 'pending',
            0, :created_at, :created_at)
    ON CONFLICT (idempotency_key) DO NOTHING
"""
ITEM_OUTBOX = """
    SELECT idempotency_key, channel, recipient, payload FROM outbox
    WHERE item_id = :item_id ORDER BY id
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
    "id, coalesce(incident_id, item_id), idempotency_key, channel, recipient, payload, "
    "status, attempts, next_attempt_at, created_at, sent_at, last_error, item_id"
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
# what a channel sending a row in several messages has had accepted so far (telegram), in
# the row's payload; only by the taker still holding it (attempts fence a takeover)
RECORD_OUTBOX_PROGRESS = """
    UPDATE outbox SET payload = :payload
    WHERE id = :id AND status = 'pending' AND attempts = :attempts
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
DEAD_LETTERS = "SELECT count(*) FROM outbox WHERE incident_id = :incident_id AND status = 'dead'"
# an incident's failed notifications, read by its index: dead, or pending after a failure
FAILED_OF_INCIDENT = f"""
    SELECT {OUTBOX_COLUMNS} FROM outbox
    WHERE incident_id = :incident_id
      AND (status = 'dead' OR (status = 'pending' AND last_error IS NOT NULL))
    ORDER BY created_at DESC, id DESC
"""
RETRY_OUTBOX = f"""
    UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = :now
    WHERE id = :id AND status = 'dead'
    RETURNING {OUTBOX_COLUMNS}
"""
# one count per status, each read from the status index (the failing ones from the small
# pending index): no scan of the whole table
OUTBOX_COUNTS = """
    SELECT (SELECT count(*) FROM outbox WHERE status = 'pending'),
           (SELECT count(*) FROM outbox WHERE status = 'sent'),
           (SELECT count(*) FROM outbox WHERE status = 'dead'),
           (SELECT count(*) FROM outbox WHERE status = 'pending' AND last_error IS NOT NULL)
"""
# sent rows older than the retention, a batch at a time, in the status index's order
# (oldest created first), so a batch reads no more of the index than it deletes
PRUNE_OUTBOX = """
    DELETE FROM outbox WHERE id IN (
        SELECT id FROM outbox WHERE status = 'sent' AND sent_at < :before
        ORDER BY created_at, id LIMIT :limit
    )
"""
OUTBOX_STATUSES = ("pending", "sent", "dead")


class OutboxTables(StoreConnection):
    """The outbox table."""

    def outbox(self, incident_id: str) -> list[OutboxMessage]:
        """The notifications the incident's commits queued, in the order they were written."""
        with self._driver_errors():
            records = self._execute(OUTBOX, incident_id=incident_id).fetchall()
            return [
                replace(m, payload=self._with_texts(incident_id, m.payload)[0])
                for m in _messages(records)
            ]

    def item_outbox(self, item_id: str) -> list[OutboxMessage]:
        """The notifications a register item's commits queued, in the order they were written."""
        with self._driver_errors():
            records = self._execute(ITEM_OUTBOX, item_id=item_id).fetchall()
        return _messages(records)

    # -- delivery -------------------------------------------------------------------------

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
            rows = self._rows(records)
        return sorted(rows, key=lambda row: row.id)

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

    def record_outbox_progress(self, row: OutboxRow, *, payload: dict[str, Any]) -> bool:
        """Commit a taken row's payload as its channel updated it mid-send (the parts it
        sent); False (nothing changed) if another deliverer has taken the row since."""
        if row.texts_from:  # stored as it was: referring to the released version's texts
            payload = {k: v for k, v in payload.items() if k not in ("texts", "text")}
            payload[TEXTS_FROM] = list(row.texts_from)
        with self._transaction():
            cursor = self._execute(
                RECORD_OUTBOX_PROGRESS,
                id=row.id,
                attempts=row.attempts,
                payload=canonical_text(payload),
            )
            return bool(cursor.rowcount == 1)

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
            return self._rows(records)

    def failed_outbox(self, incident_id: str) -> list[OutboxRow]:
        """The incident's notifications that failed, newest first: its dead letters, and
        the pending ones whose last attempt failed (waiting for their retry)."""
        with self._driver_errors():
            records = self._execute(FAILED_OF_INCIDENT, incident_id=incident_id).fetchall()
            return self._rows(records)

    def dead_letters(self, incident_id: str) -> int:
        """How many of an incident's notifications are dead letters (read by its index)."""
        with self._driver_errors():
            return int(self._fetchone(DEAD_LETTERS, incident_id=incident_id)[0])

    def get_outbox_row(self, outbox_id: int) -> OutboxRow:
        """One outbox row; NotFoundError if there is none with this id."""
        with self._driver_errors():
            record = self._fetchone_or_none(GET_OUTBOX_ROW, id=outbox_id)
            if record is None:
                raise _no_outbox_row(outbox_id)
            return self._rows([record])[0]

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
            return self._rows([record])[0]

    def outbox_counts(self) -> dict[str, int]:
        """How many outbox rows are pending, sent and dead, and "failing": pending ones
        whose last attempt failed (waiting for their retry)."""
        with self._driver_errors():
            record = self._fetchone(OUTBOX_COUNTS)
        return dict(zip((*OUTBOX_STATUSES, "failing"), map(int, record), strict=True))

    def prune_outbox(self, *, before: datetime, batch: int = 5000) -> int:
        """Delete the rows sent before `before` (the event log keeps what was notified);
        how many. Batches of `batch` rows, each its own short transaction, so delivery
        and commands are not held up; pending and dead rows are never pruned."""
        pruned = 0
        while True:
            with self._transaction():
                cursor = self._execute(PRUNE_OUTBOX, before=format_utc(before), limit=batch)
                count = int(cursor.rowcount or 0)
            pruned += count
            if count < batch:
                return pruned

    def _rows(self, records: Sequence[Any]) -> list[OutboxRow]:
        """Rows as read, each released statement's with its texts (`_with_texts`)."""
        rows = []
        versions: dict[tuple[str, str, int], str] = {}  # a release's channels share one
        for row in map(_outbox_row, records):
            if row.item_id is None and TEXTS_FROM in row.payload:
                payload, languages = self._with_texts(row.incident_id, row.payload, versions)
                row = replace(row, payload=payload, texts_from=languages)
            rows.append(row)
        return rows

    def _with_texts(
        self,
        incident_id: str,
        payload: dict[str, Any],
        versions: dict[tuple[str, str, int], str] | None = None,
    ) -> tuple[dict[str, Any], tuple[str, ...]]:
        """A payload referring to a released version (`TEXTS_FROM`) with its texts filled
        in, as it would have been stored with them (keys sorted, as canonical JSON has
        them), and the languages; any other payload as it is, and ()."""
        languages = payload.get(TEXTS_FROM)
        if not isinstance(languages, list):
            return payload, ()
        key = (incident_id, str(payload["statement"]), int(payload["version"]))
        versions = {} if versions is None else versions
        if key not in versions:
            statement, number = key[1:]
            record = self._fetchone(
                STATEMENT_VERSION, incident_id=incident_id, statement=statement, version=number
            )
            versions[key] = self._unpacked(record[0])
        texts = json.loads(versions[key])["texts"]
        full = {name: value for name, value in payload.items() if name != TEXTS_FROM}
        full["texts"] = texts
        full["text"] = "\n\n".join(texts[language] for language in languages)
        return json.loads(canonical_text(full)), tuple(languages)

    def _update_taken(self, sql: str, row: OutboxRow, **params: Any) -> bool:
        with self._transaction():
            cursor = self._execute(sql, **_as_taken(row), **params)
            return bool(cursor.rowcount == 1)

    def _insert_outbox(
        self, incident_id: str, outbox: Sequence[OutboxMessage], *, at: datetime
    ) -> None:
        """Queue an incident's messages, created (and first due) at `at`."""
        self._executemany(
            INSERT_OUTBOX,
            [{"incident_id": incident_id, **outbox_params(message, at)} for message in outbox],
        )


def outbox_params(message: OutboxMessage, at: datetime) -> dict[str, Any]:
    """The parameters of an outbox insert but its owner (`incident_id` or `item_id`)."""
    return {
        "idempotency_key": message.idempotency_key,
        "channel": message.channel,
        "recipient": message.recipient,
        "payload": canonical_text(message.payload),
        "created_at": format_utc(at),
    }


def _messages(records: Sequence[Any]) -> list[OutboxMessage]:
    return [
        OutboxMessage(
            idempotency_key=key, channel=channel, recipient=recipient, payload=json.loads(payload)
        )
        for key, channel, recipient, payload in records
    ]


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
        item_id,
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
        item_id=item_id,
    )


def _as_taken(row: OutboxRow) -> dict[str, Any]:
    """The parameters of AS_TAKEN: the row as its taker holds it."""
    return {"id": row.id, "attempts": row.attempts, "leased": format_utc(row.next_attempt_at)}


def _no_outbox_row(outbox_id: int) -> NotFoundError:
    return NotFoundError(
        _("no outbox row {id}").format(id=outbox_id),
        hint=_("run `crisiscomm outbox --all` to see the outbox"),
    )
