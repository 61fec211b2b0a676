"""Delivering the outbox (DESIGN.md invariant 6): take due rows, send, mark; retry with
backoff; bury what keeps failing as a visible dead letter.

    report = deliver_due(store, now=clock.now())

At-least-once: a row is marked sent only after its channel accepted it, so a process
that dies between the two leaves it to be sent again (once its lease ends), with the same
idempotency key, which every channel passes on for the receiver to drop the duplicate.
A channel that sends one row as several messages (telegram: a statement in parts) has each
accepted part committed to the row before it sends the next (`progress_recorder`), so a
retry sends only the rest.
Taking a row leases it (`lease`), so several `serve` processes never send the same row at
once; a pass that runs long renews the lease of the rows it has still to send.

Channels are delivered independently: the pass sends the rows of local channels (console,
file) itself and gives each remote channel (smtp, webhook) a lane of its own (lanes.py), so
a slow receiver holds neither the other channels' rows nor the pass for long; each send is
bounded by its channel's `timeout`, well within the lease.

A register item's rows (migration 0006) leave through the office's channels
(inbox/notices.py `channels_of`), an incident's through the playbook it pinned.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
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
from crisiscomm.notify.lanes import (
    MARK_EVERY,
    MARK_WITHIN_SECONDS,
    MAX_LANES,
    Lane,
    LaneReport,
    Progress,
    failure_of,
    is_remote,
)
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
OFFICE = "office"  # in place of a playbook hash: the channels of a register item's rows
BACKOFF_BASE = timedelta(seconds=30)  # the wait after the first failure; doubled after each
BACKOFF_CAP = timedelta(minutes=30)
# How long a lane waits for the pass to commit a row's progress (parts of a telegram text)
# before it stops sending that row; the rest goes out on the next attempt.
PROGRESS_WAIT_SECONDS = 10.0


@dataclass
class DeliveryReport:
    """What one pass did: rows sent, rescheduled after a failure, buried, handed back."""

    sent: int = 0
    retried: int = 0
    dead: int = 0
    deferred: int = 0  # not tried: their channel had just failed, or the pass ended first


def retry_delay(attempts: int, rng: random.Random, first: timedelta = BACKOFF_BASE) -> timedelta:
    """The wait after the `attempts`-th failure: 30s (`first`), 1m, 2m ... up to 30m, with
    jitter.

    The jitter (50-100% of the nominal wait) spreads rows that failed together, so a
    receiver coming back is not hit by all of them in the same second.
    """
    nominal = min(BACKOFF_CAP, first * 2 ** max(attempts - 1, 0))
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
    first_retry: timedelta = BACKOFF_BASE,
    before_each: Callable[[], object] | None = None,
    stopping: Callable[[], bool] | None = None,
) -> DeliveryReport:
    """Deliver up to `limit` outbox rows due at `now` through their channels.

    Each row's channel is looked up in the playbook its incident pinned. A failure is
    retried after `retry_delay` (from `first_retry`, with jitter from `rng`; seed one in
    tests); after
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
    delivery.first_retry = first_retry
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
        self.first_retry = BACKOFF_BASE
        # rows taken and not yet tried (or, in a lane, not yet reported), as now leased
        self.pending: dict[int, OutboxRow] = {}
        self.lost: set[int] = set()  # rows whose lease another deliverer has taken over
        self.reports: queue.SimpleQueue[LaneReport] = queue.SimpleQueue()
        self.crash: BaseException | None = None
        self.started = self.renewed = 0.0
        self.lanes_open = 0
        self.thread = threading.get_ident()  # the pass's: the one that writes to the store

    def run(self, rows: list[OutboxRow]) -> None:
        self.started = self.renewed = time.monotonic()
        self.playbook_hashes.update(self.store.playbook_hashes(row.incident_id for row in rows))
        self.pending = {row.id: row for row in rows}
        lanes, local = self.lanes(rows)
        if not lanes:
            self.send_local(local)
            return
        from concurrent.futures import ThreadPoolExecutor

        # counted down by `record` as each lane says it is done, wherever its report is
        # read (also between local rows), so the pass never waits for a report already read
        self.lanes_open = len(lanes)
        workers = min(MAX_LANES, len(lanes))
        with ThreadPoolExecutor(workers, thread_name_prefix="crisiscomm-lane") as executor:
            for lane in lanes:
                executor.submit(
                    lane.run,
                    now=self.now,
                    report=self.reports.put,
                    before_each=self.before_each,
                    stopping=lambda: self.stopping() or self.crash is not None,
                    started=self.started,
                    lost=self.lost,
                )
            try:
                self.send_local(local)
                self.wait_for()
            except BaseException as error:
                self.crash = self.crash or error  # the lanes stop at their next row
                raise
        if self.crash is not None:
            raise self.crash

    def lanes(self, rows: list[OutboxRow]) -> tuple[list[Lane], list[OutboxRow]]:
        """The rows of remote channels, a lane per channel; the rest, sent by the pass."""
        lanes: dict[tuple[str, str], Lane] = {}
        local: list[OutboxRow] = []
        remote: dict[tuple[str, str], Channel | None] = {}
        for row in rows:
            key = (self.playbook_hash(row), row.channel)
            if key not in remote:
                remote[key] = self.remote_channel(key)
            channel = remote[key]
            if channel is None or row.attempts > self.max_attempts:
                local.append(row)
            else:
                lanes.setdefault(key, Lane(key, channel)).rows.append(row)
        return list(lanes.values()), local

    def remote_channel(self, key: tuple[str, str]) -> Channel | None:
        """The channel if it sends to a server; None for a local one, or one that cannot be
        built (each of its rows then fails as the pass tries it)."""
        try:
            channel = self.channel(key)
        except DeliveryError:
            return None
        except CrisisCommError:
            raise
        except Exception:
            return None
        return channel if is_remote(channel) else None

    def send_local(self, rows: list[OutboxRow]) -> None:
        """Send rows of local channels in order, recording the lanes' reports in between."""
        try:
            for index, taken in enumerate(rows):
                self.keep_leases()
                self.before_each()
                self.record_reports()
                if self.stopping():
                    self.hand_back(rows[index:], at=self.now)
                    break
                row = self.pending.pop(taken.id, None)
                if row is None:  # another deliverer has it now
                    continue
                self.deliver(row)
                if len(self.sent) >= MARK_EVERY or (
                    self.sent and time.monotonic() - self.first_unmarked > MARK_WITHIN_SECONDS
                ):
                    self.mark_sent()
        finally:
            self.mark_sent()

    def wait_for(self) -> None:
        """Record the lanes' reports until every lane is done, keeping their rows' leases."""
        wake = min(1.0, self.lease.total_seconds() / 4)
        while self.lanes_open > 0:
            try:
                report = self.reports.get(timeout=wake)
            except queue.Empty:
                pass
            else:
                self.record(report)
            self.keep_leases()

    def keep_leases(self) -> None:
        """In a long pass, renew the lease of the rows still to send before another
        deliverer may take them; the rows it lost are skipped."""
        if time.monotonic() - self.renewed <= self.lease.total_seconds() / 2:
            return
        elapsed = timedelta(seconds=time.monotonic() - self.started)
        self.mark_sent()
        held = self.store.renew_outbox_lease(
            list(self.pending.values()), lease_until=self.now + elapsed + self.lease
        )
        self.lost.update(set(self.pending) - {row.id for row in held})
        self.pending = {row.id: row for row in held}
        self.renewed = time.monotonic()

    def record_reports(self) -> None:
        """Record the lanes' reports that have come in (without waiting for more)."""
        while not self.reports.empty():  # the pass is the only reader
            self.record(self.reports.get_nowait())

    def record(self, report: LaneReport) -> None:
        """Record what a lane reports: sent, failed, waiting with its channel, returned."""
        if report.done:
            self.lanes_open -= 1
        if report.crash is not None:
            self.crash = self.crash or report.crash
        if report.progress is not None:
            self.record_progress(report.progress)
        if report.sent:
            for row in report.sent:
                self.pending.pop(row.id, None)
            self.store.mark_outbox_sent(report.sent, sent_at=self.now)
            self.report.sent += len(report.sent)
            _log_sent(report.sent)
        for row, error in report.failed:
            if (current := self.pending.pop(row.id, None)) is not None:
                self.failed(current, error, report.channel)
        if report.waiting:
            first = self.now + retry_delay(1, self.rng, self.first_retry)
            self.defer(report.waiting, at=self.down.get(report.key, first))
        if report.returned:
            # behind what was queued during this pass, so the next pass takes that first
            elapsed = timedelta(seconds=time.monotonic() - self.started)
            at = self.now if self.stopping() else self.now + elapsed
            self.hand_back(report.returned, at=at)

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
                synced[id(channel)] = failure_of(row, channel.sync)
            failure = synced[id(channel)]
            if failure is None:
                durable.append(row)
            else:
                self.failed(row, failure, channel)
        self.store.mark_outbox_sent(durable, sent_at=self.now)
        self.report.sent += len(durable)
        _log_sent(durable)

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

        failure = failure_of(row, send)
        if failure is not None:
            self.failed(row, failure, channel)
            return
        assert channel is not None
        if not self.sent:
            self.first_unmarked = time.monotonic()
        self.sent.append((row, channel))

    def hand_back(self, rows: list[OutboxRow], *, at: datetime) -> None:
        """Give rows not yet tried back, due `at` (now: for the next deliverer), uncounted."""
        self.defer(rows, at=at)

    def defer(self, rows: list[OutboxRow], *, at: datetime) -> None:
        """Put rows not yet tried back, due `at`, their attempt not counted (one commit)."""
        current = [row for row in (self.pending.pop(r.id, None) for r in rows) if row]
        with self.store.batch():
            for row in current:
                self.store.defer_outbox(row, next_attempt_at=at)
        self.report.deferred += len(current)

    def failed(self, row: OutboxRow, error: DeliveryError, channel: Channel | None) -> None:
        message = redact(error.message, channel.secrets if channel is not None else ())
        if error.permanent or row.attempts >= self.max_attempts:
            self.bury(row, message)
            return
        retry_at = self.now + retry_delay(row.attempts, self.rng, self.first_retry)
        if error.retry_after:  # the receiver said when (Telegram's 429): not before
            retry_at = max(retry_at, self.now + timedelta(seconds=error.retry_after))
        if error.channel_down and (
            row.item_id is not None or row.incident_id in self.playbook_hashes
        ):
            self.down[(self.playbook_hash(row), row.channel)] = retry_at
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
        pass at its start: the pinned playbook of an incident never changes); OFFICE for a
        register item's row."""
        if row.item_id is not None:
            return OFFICE
        return self.playbook_hashes[row.incident_id]

    def channel(self, key: tuple[str, str]) -> Channel:
        """The channel `name` as the pinned playbook defines it, built once per pass."""
        from crisiscomm.engine.service import pinned_playbook

        if key not in self.channels:
            playbook_hash, name = key
            definitions: Mapping[str, Any]
            if playbook_hash == OFFICE:
                from crisiscomm.inbox.notices import channels_of
                from crisiscomm.inbox.timers import register_office

                definitions = channels_of(register_office())
            else:
                definitions = pinned_playbook(self.store, playbook_hash).channels
            if name not in definitions:
                raise DeliveryError(
                    _(
                        "channel `{channel}` is not defined in the playbook the incident pinned"
                    ).format(channel=name),
                    permanent=True,
                )
            channel: Any = self.factory(name, definitions[name])
            if hasattr(channel, "record_progress"):
                channel.record_progress = self.progress_recorder(key, channel)
            self.channels[key] = channel
        return self.channels[key]

    def progress_recorder(
        self, key: tuple[str, str], channel: Channel
    ) -> Callable[[OutboxRow, dict[str, Any]], None]:
        """What a channel calls to commit a row's progress mid-send: at once in the pass's
        thread, through the pass (which alone writes to the store) from a lane's."""

        def record(row: OutboxRow, payload: dict[str, Any]) -> None:
            progress = Progress(row, dict(payload))
            if threading.get_ident() == self.thread:
                self.record_progress(progress)
            else:
                self.reports.put(LaneReport(key, channel, progress=progress))
                if not progress.recorded.wait(PROGRESS_WAIT_SECONDS):
                    raise DeliveryError(
                        _(
                            "channel `{channel}`: what was sent could not be recorded in time; "
                            "the rest goes out on the next attempt"
                        ).format(channel=row.channel),
                        channel_down=True,
                    )
            if not progress.held:
                raise DeliveryError(
                    _(
                        "channel `{channel}`: another deliverer has taken the notification "
                        "over; it sends the rest"
                    ).format(channel=row.channel),
                    channel_down=True,
                )

        return record

    def record_progress(self, progress: Progress) -> None:
        """Commit a row's progress for the channel sending it; `recorded` is set however
        this ends (a store that fails raises here, in the pass)."""
        try:
            progress.held = self.store.record_outbox_progress(
                progress.row, payload=progress.payload
            )
        finally:
            progress.recorded.set()


def _log_sent(rows: list[OutboxRow]) -> None:
    for row in rows if logger.isEnabledFor(logging.DEBUG) else ():
        logger.debug(
            "outbox %d sent via %s",
            row.id,
            row.channel,
            extra={"fields": _fields(row, "outbox.sent")},
        )


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
