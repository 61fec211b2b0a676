"""Delivering the outbox (DESIGN.md invariant 6): take due rows, send, mark; retry with
backoff; bury what keeps failing as a visible dead letter.

    report = deliver_due(store, now=clock.now())

At-least-once: a row is marked sent only after its channel accepted it, so a process
that dies between the two leaves it to be sent again (once its lease ends), with the same
idempotency key, which every channel passes on for the receiver to drop the duplicate.
Taking a row leases it (`lease`), so several `serve` processes never send the same row at
once; a pass that runs long renews the lease of the rows it has still to send.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from crisiscomm.clock import format_utc
from crisiscomm.errors import CrisisCommError
from crisiscomm.i18n import _
from crisiscomm.notify.channels import Channel, ChannelFactory
from crisiscomm.notify.env import redact
from crisiscomm.notify.errors import DeliveryError
from crisiscomm.notify.settings import DEFAULT_LEASE

if TYPE_CHECKING:
    from crisiscomm.store import Store
    from crisiscomm.store.rows import OutboxRow

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "DeliveryReport",
    "deliver_due",
    "retry_delay",
]

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)  # the wait after the first failure; doubled after each
BACKOFF_CAP = timedelta(minutes=30)
# Sent rows are marked in groups (one commit, one fsync, for many sends): at most this many,
# or this many seconds after the oldest unmarked send. A process that dies before marking
# sends those rows again, with their idempotency keys.
MARK_EVERY = 50
MARK_WITHIN_SECONDS = 0.2


@dataclass
class DeliveryReport:
    """What one pass did: rows sent, rescheduled after a failure, buried, handed back."""

    sent: int = 0
    retried: int = 0
    dead: int = 0
    deferred: int = 0  # not tried: their channel had just failed in this pass


def retry_delay(attempts: int, rng: random.Random) -> timedelta:
    """The wait after the `attempts`-th failure: 30s, 1m, 2m ... up to 30m, with jitter.

    The jitter (50-100% of the nominal wait) spreads rows that failed together, so a
    receiver coming back is not hit by all of them in the same second.
    """
    nominal = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(attempts - 1, 0))
    return nominal * rng.uniform(0.5, 1.0)


def deliver_due(
    store: Store,
    *,
    now: datetime,
    limit: int = 100,
    max_attempts: int = MAX_ATTEMPTS,
    rng: random.Random | None = None,
    channels: ChannelFactory | None = None,
    lease: timedelta = DEFAULT_LEASE,
    before_each: Callable[[], object] | None = None,
    stopping: Callable[[], bool] | None = None,
) -> DeliveryReport:
    """Deliver up to `limit` outbox rows due at `now` through their channels.

    Each row's channel is looked up in the playbook its incident pinned. A failure is
    retried after `retry_delay` (jitter from `rng`; seed one in tests); after
    `max_attempts` attempts, or at once when retrying cannot help, the row is dead until
    `crisiscomm outbox retry ID`. Errors stored and logged never hold a secret. Raises
    only what the store raises; a channel's failure is recorded on its row. `before_each`
    runs before the rows are taken and before each row (`serve` waits there while timers are
    firing: they come first). Once `stopping()` is true (`serve` is shutting down), the rows
    not yet tried are handed back, due at once for the next deliverer, their attempt not
    counted.
    """
    wait = before_each or (lambda: None)
    delivery = _Delivery(
        store,
        now,
        max_attempts,
        rng or random.Random(),
        channels,
        lease,
        wait,
        stopping or (lambda: False),
    )
    wait()
    delivery.run(store.take_due_outbox(now=now, lease_until=now + lease, limit=limit))
    return delivery.report


class _Delivery:
    """One pass: the rows taken, the playbooks and channels it has looked up."""

    def __init__(
        self,
        store: Store,
        now: datetime,
        max_attempts: int,
        rng: random.Random,
        factory: ChannelFactory | None,
        lease: timedelta,
        before_each: Callable[[], object],
        stopping: Callable[[], bool],
    ) -> None:
        self.store = store
        self.now = now
        self.max_attempts = max_attempts
        self.rng = rng
        self.factory = factory or ChannelFactory()
        self.lease = lease
        self.report = DeliveryReport()
        self.before_each = before_each
        self.sent: list[tuple[OutboxRow, Channel]] = []  # sent, not yet synced and marked
        self.first_unmarked = 0.0
        self.playbook_hashes: dict[str, str] = {}
        self.channels: dict[tuple[str, str], Channel] = {}
        self.down: dict[tuple[str, str], datetime] = {}  # channel -> when it is tried again
        self.stopping = stopping

    def run(self, rows: list[OutboxRow]) -> None:
        started = renewed = time.monotonic()
        self.playbook_hashes.update(self.store.playbook_hashes(row.incident_id for row in rows))
        try:
            while rows:
                if time.monotonic() - renewed > self.lease.total_seconds() / 2:
                    # a long pass: keep the rows still to send before another deliverer may
                    elapsed = timedelta(seconds=time.monotonic() - started)
                    self.mark_sent()
                    rows = self.store.renew_outbox_lease(
                        rows, lease_until=self.now + elapsed + self.lease
                    )
                    renewed = time.monotonic()
                    if not rows:
                        break
                self.before_each()
                if self.stopping():
                    self.hand_back(rows)
                    break
                self.deliver(rows.pop(0))
                if len(self.sent) >= MARK_EVERY or (
                    self.sent and time.monotonic() - self.first_unmarked > MARK_WITHIN_SECONDS
                ):
                    self.mark_sent()
        finally:
            self.mark_sent()

    def mark_sent(self) -> None:
        """Make the rows sent so far durable in their channels, then record them as sent in
        one transaction; a channel that cannot has its rows retried, like a failed send."""
        if not self.sent:
            return
        sent, self.sent = self.sent, []
        synced: dict[int, DeliveryError | None] = {}
        durable: list[OutboxRow] = []
        for row, channel in sent:
            if id(channel) not in synced:
                synced[id(channel)] = _failure(row, channel.sync)
            failure = synced[id(channel)]
            if failure is None:
                durable.append(row)
            else:
                self.failed(row, failure, channel)
        self.store.mark_outbox_sent(durable, sent_at=self.now)
        self.report.sent += len(durable)
        for row in durable if logger.isEnabledFor(logging.DEBUG) else ():
            logger.debug(
                "outbox %d sent via %s",
                row.id,
                row.channel,
                extra={"fields": _fields(row, "outbox.sent")},
            )

    def deliver(self, row: OutboxRow) -> None:
        if row.attempts > self.max_attempts:  # taken before by deliverers that died mid-send
            self.bury(row, _("gave up after {n} attempts").format(n=row.attempts - 1))
            return
        key = (self.playbook_hash(row), row.channel)
        if key in self.down:
            self.store.defer_outbox(row, next_attempt_at=self.down[key])
            self.report.deferred += 1
            return
        channel: Channel | None = None

        def send() -> None:
            nonlocal channel
            channel = self.channel(key)
            channel.send(row, now=self.now)

        failure = _failure(row, send)
        if failure is not None:
            self.failed(row, failure, channel)
            return
        assert channel is not None
        if not self.sent:
            self.first_unmarked = time.monotonic()
        self.sent.append((row, channel))

    def hand_back(self, rows: list[OutboxRow]) -> None:
        """Give rows not yet tried back, due now (for the next deliverer), uncounted."""
        for row in rows:
            self.store.defer_outbox(row, next_attempt_at=self.now)
        self.report.deferred += len(rows)

    def failed(self, row: OutboxRow, error: DeliveryError, channel: Channel | None) -> None:
        message = redact(error.message, channel.secrets if channel is not None else ())
        if error.permanent or row.attempts >= self.max_attempts:
            self.bury(row, message)
            return
        retry_at = self.now + retry_delay(row.attempts, self.rng)
        if error.channel_down and row.incident_id in self.playbook_hashes:
            self.down[(self.playbook_hashes[row.incident_id], row.channel)] = retry_at
        self.store.mark_outbox_retry(row, next_attempt_at=retry_at, error=message)
        self.report.retried += 1
        logger.warning(
            "outbox %d (%s, %s): attempt %d failed, next at %s: %s",
            row.id,
            row.incident_id,
            row.channel,
            row.attempts,
            format_utc(retry_at),
            message,
            extra={"fields": _fields(row, "outbox.retry", next_attempt_at=format_utc(retry_at))},
        )

    def bury(self, row: OutboxRow, message: str) -> None:
        self.store.mark_outbox_dead(row, error=message)
        self.report.dead += 1
        logger.error(
            "outbox %d (%s, %s) is a dead letter after %d attempts: %s",
            row.id,
            row.incident_id,
            row.channel,
            row.attempts,
            message,
            extra={"fields": _fields(row, "outbox.dead")},
        )

    def playbook_hash(self, row: OutboxRow) -> str:
        """The content hash of the playbook the row's incident pinned (read for the whole
        pass at its start: the pinned playbook of an incident never changes)."""
        return self.playbook_hashes[row.incident_id]

    def channel(self, key: tuple[str, str]) -> Channel:
        """The channel `name` as the pinned playbook defines it, built once per pass."""
        from crisiscomm.engine.service import pinned_playbook

        if key not in self.channels:
            playbook_hash, name = key
            definitions: Mapping[str, Any] = pinned_playbook(self.store, playbook_hash).channels
            if name not in definitions:
                raise DeliveryError(
                    _(
                        "channel `{channel}` is not defined in the playbook the incident pinned"
                    ).format(channel=name),
                    permanent=True,
                )
            self.channels[key] = self.factory(name, definitions[name])
        return self.channels[key]


def _failure(row: OutboxRow, attempt: Callable[[], None]) -> DeliveryError | None:
    """What went wrong when `attempt` (a channel's send or sync) ran, or None.

    A bug in a channel must not stop the others: it becomes the row's failure too.
    """
    try:
        attempt()
    except DeliveryError as error:
        return error
    except CrisisCommError:
        raise
    except Exception as error:
        kind = type(error).__name__
        return DeliveryError(
            _("channel `{channel}` failed: {kind}: {error}").format(
                channel=row.channel, kind=kind, error=error
            )
        )  # failed() redacts
    return None


def _fields(row: OutboxRow, event: str, **more: Any) -> dict[str, Any]:
    """The structured fields of a log line about a row (`serve --log-format json` shows them)."""
    return {
        "event": event,
        "outbox_id": row.id,
        "incident_id": row.incident_id,
        "channel": row.channel,
        "attempts": row.attempts,
        "idempotency_key": row.idempotency_key,
        **more,
    }
