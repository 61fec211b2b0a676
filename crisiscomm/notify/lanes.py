"""Channels that talk to a server, delivered side by side: a lane (a thread) each.

A delivery pass (outbox.py) sends the rows of local channels (console, file) itself, in
order, and hands the rows of each remote channel (smtp, webhook: `remote = True`) to a lane
of its own, which sends them in order and reports what became of them; the pass alone
writes to the store. So a receiver that answers slowly holds only its own rows: each of its
sends ends by its channel's `timeout` (deadline.py), and once the pass has run PASS_SECONDS
its lane starts no new send, so its other rows go back to the outbox for the next pass,
behind what was queued meanwhile. At most MAX_LANES lanes send at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from crisiscomm.errors import CrisisCommError
from crisiscomm.i18n import _
from crisiscomm.notify.channels import Channel
from crisiscomm.notify.errors import DeliveryError
from crisiscomm.store.rows import OutboxRow

__all__ = ["Lane", "LaneReport", "Progress", "failure_of", "is_remote"]

MAX_LANES = 8
# After this long a pass starts no new send on a remote channel (each lane sends one row at
# least): a notification queued meanwhile on any channel waits for the pass to end, at most
# this plus one send's `timeout`.
PASS_SECONDS = 1.0
# Sent rows are marked in groups (one commit, one fsync, for many sends): at most this many,
# or this many seconds after the oldest unmarked send. A process that dies before marking
# sends those rows again, with their idempotency keys.
MARK_EVERY = 50
MARK_WITHIN_SECONDS = 0.2

ChannelKey = tuple[str, str]  # (the pinned playbook's content hash, the channel's name)


def is_remote(channel: Channel) -> bool:
    """Whether a channel sends to a server (and so gets a lane of its own)."""
    return bool(getattr(channel, "remote", False))


@dataclass
class Progress:
    """A lane's request to the pass, which alone writes to the store: commit what a channel
    has sent of a row so far (its payload, as the channel updated it), then set `recorded`;
    the channel sends no more of the row until then."""

    row: OutboxRow
    payload: dict[str, Any]
    recorded: threading.Event = field(default_factory=threading.Event)
    held: bool = False  # set by the pass: the row was still this deliverer's, and is updated


@dataclass
class LaneReport:
    """What became of some of a lane's rows, reported to the pass as it happens."""

    key: ChannelKey
    channel: Channel
    sent: list[OutboxRow] = field(default_factory=list)  # accepted and made durable
    failed: list[tuple[OutboxRow, DeliveryError]] = field(default_factory=list)
    waiting: list[OutboxRow] = field(default_factory=list)  # not tried: the channel is down
    returned: list[OutboxRow] = field(default_factory=list)  # not tried: the pass is over
    crash: BaseException | None = None  # what a channel raised that is not its failure
    progress: Progress | None = None  # a row's parts sent so far, to commit at once
    done: bool = False  # the lane's last report


@dataclass
class Lane:
    """The rows of one remote channel in one pass, in the order they are sent."""

    key: ChannelKey
    channel: Channel
    rows: list[OutboxRow] = field(default_factory=list)

    def run(
        self,
        *,
        now: datetime,
        report: Callable[[LaneReport], None],
        before_each: Callable[[], object],
        stopping: Callable[[], bool],
        started: float,
        lost: Container[int],
    ) -> None:
        """Send the rows (`lost` ids skipped), syncing every MARK_EVERY rows or
        MARK_WITHIN_SECONDS; report each outcome, and `done` last. A failure with the
        channel down leaves the rest waiting with it; once `stopping()`, or after the first
        row once the pass (begun at monotonic `started`) has run PASS_SECONDS, the rows not
        tried are returned."""
        unsynced: list[OutboxRow] = []
        first_unsynced = 0.0

        def sync() -> None:
            nonlocal unsynced
            if not unsynced:
                return
            batch, unsynced = unsynced, []
            failure = failure_of(batch[0], self.channel.sync)
            if failure is None:
                report(LaneReport(self.key, self.channel, sent=batch))
            else:
                report(LaneReport(self.key, self.channel, failed=[(r, failure) for r in batch]))

        try:
            for index, row in enumerate(self.rows):
                before_each()
                late = index > 0 and time.monotonic() - started > PASS_SECONDS
                if late or stopping():
                    report(LaneReport(self.key, self.channel, returned=self.rows[index:]))
                    break
                if row.id in lost:
                    continue
                failure = failure_of(row, partial(self.channel.send, row, now=now))
                if failure is not None:
                    sync()
                    report(LaneReport(self.key, self.channel, failed=[(row, failure)]))
                    if failure.channel_down:
                        rest = self.rows[index + 1 :]
                        report(LaneReport(self.key, self.channel, waiting=rest))
                        break
                    continue
                if not unsynced:
                    first_unsynced = time.monotonic()
                unsynced.append(row)
                if (
                    len(unsynced) >= MARK_EVERY
                    or time.monotonic() - first_unsynced > MARK_WITHIN_SECONDS
                ):
                    sync()
            sync()
        except BaseException as error:  # reported to the pass, which raises it
            report(LaneReport(self.key, self.channel, crash=error))
        finally:
            report(LaneReport(self.key, self.channel, done=True))


def failure_of(row: OutboxRow, attempt: Callable[[], None]) -> DeliveryError | None:
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
        )  # the pass redacts
    return None
