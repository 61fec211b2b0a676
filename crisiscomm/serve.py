"""`crisiscomm serve`: wake up when a timer is due, fire it, deliver the outbox.

APScheduler 3 only wakes the engine (DESIGN.md invariant 5). Our timers table is the
truth; the scheduler's jobs are disposable, rebuilt from it at start and re-synced every
`sync_interval` seconds so timers created by other processes (an officer's
`open-incident`) are picked up. Its known pitfalls, and the guards here:

- `misfire_grace_time` defaults to 1 s, after which a late job is silently skipped:
  every job has `misfire_grace_time=None` (fire late, never skip), and missed or failed
  jobs are logged from the scheduler's events;
- job stores must not be shared between processes and jobs whose function cannot be
  imported are dropped: the default in-memory store, rebuilt from the database;
- naive datetimes and local time zones: aware UTC `DateTrigger`s only;
- jobs carry primitive arguments (timer id, incident id), never objects.

Firing claims the timer in the same transaction as its outcome, so several `serve`
processes on one database fire each timer exactly once.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from crisiscomm.clock import Clock, SystemClock, format_utc

if TYPE_CHECKING:
    from apscheduler.events import JobExecutionEvent
    from apscheduler.schedulers.base import BaseScheduler

    from crisiscomm.store import Store

__all__ = ["JsonLogFormatter", "Server", "channel_problems", "tick"]

logger = logging.getLogger(__name__)

# how far ahead timers are turned into scheduler jobs at each sync
HORIZON = timedelta(minutes=10)
SYNC_BATCH = 20_000
DELIVERY_BATCH = 100


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def _log(level: int, message: str, **fields: Any) -> None:
    logger.log(level, message, extra={"fields": fields})


def _deliver(store: Store, clock: Clock) -> dict[str, int]:
    """Deliver everything the outbox holds due, batch after batch; counts by outcome."""
    from crisiscomm.notify.outbox import deliver_due

    counts = {"sent": 0, "retried": 0, "dead": 0}
    while True:
        # each batch takes its rows (and their leases) at its own time
        report = deliver_due(store, now=clock.now(), limit=DELIVERY_BATCH)
        counts["sent"] += report.sent
        counts["retried"] += report.retried
        counts["dead"] += report.dead
        if report.sent + report.retried + report.dead + report.deferred < DELIVERY_BATCH:
            return counts


def channel_problems(store: Store) -> list[str]:
    """Misconfigured channels of the playbooks open incidents pinned (unset `${VAR}`s
    named, never their values): better said at start than at 3 a.m."""
    from crisiscomm.engine.service import pinned_playbook
    from crisiscomm.notify.check import check_channels

    problems: list[str] = []
    hashes = {incident.playbook_hash for incident in store.list_incidents(open_only=True)}
    for content_hash in sorted(hashes):
        playbook = pinned_playbook(store, content_hash)
        problems += [f"{playbook.id}: {p}" for p in check_channels(playbook.channels)]
    return list(dict.fromkeys(problems))


def tick(*, store: Store, clock: Clock) -> dict[str, int]:
    """One pass for cron or a systemd timer: fire what is due, deliver the outbox."""
    from crisiscomm.engine import service

    fired = service.fire_due(store=store, clock=clock)
    return {"fired": fired, **_deliver(store, clock)}


@dataclass
class Server:
    """The scheduler, the database target and which timers have a job."""

    target: str | None
    clock: Clock = field(default_factory=SystemClock)
    sync_interval: float = 1.0
    scheduled: dict[int, datetime] = field(default_factory=dict)
    _local: threading.local = field(default_factory=threading.local)
    _scheduler: BaseScheduler | None = None

    def store(self) -> Store:
        """This thread's connection (SQLite connections belong to the thread that opened
        them; the scheduler runs jobs in its worker thread)."""
        from crisiscomm.store import open_store

        if getattr(self._local, "store", None) is None:
            self._local.store = open_store(self.target)
        store: Store = self._local.store
        return store

    def sync(self) -> None:
        """Give every pending timer due within the horizon a job (once)."""
        from apscheduler.triggers.date import DateTrigger

        assert self._scheduler is not None
        until = self.clock.now() + HORIZON
        for timer in self.store().due_timers(until, SYNC_BATCH):
            if self.scheduled.get(timer.id) == timer.due_at:
                continue
            self._scheduler.add_job(
                self.fire,
                DateTrigger(run_date=timer.due_at.astimezone(UTC), timezone=UTC),
                args=[timer.id, timer.incident_id],
                id=f"timer-{timer.id}",
                replace_existing=True,
                misfire_grace_time=None,
                coalesce=False,
            )
            self.scheduled[timer.id] = timer.due_at
        self.deliver()

    def fire(self, timer_id: int, incident_id: str) -> None:
        """Job: fire one timer (if still pending) and deliver what it produced."""
        from crisiscomm.engine import service

        self.scheduled.pop(timer_id, None)
        store = self.store()
        pending = [t for t in store.timers(incident_id, pending_only=True) if t.id == timer_id]
        if not pending:
            return  # fired by another process, or retired when the incident moved on
        timer = pending[0]
        now = self.clock.now()
        fired = service.fire_timer(store=store, clock=self.clock, timer=timer)
        late = max(0.0, (now - timer.due_at).total_seconds())
        _log(
            logging.INFO if fired else logging.DEBUG,
            "timer fired" if fired else "timer already handled",
            event="timer.fired" if fired else "timer.skipped",
            timer=timer_id,
            incident=incident_id,
            kind=timer.kind,
            due_at=format_utc(timer.due_at),
            late_by_seconds=round(late, 3),
        )
        if fired and self._scheduler is not None:
            # deliver soon, in one pass for every firing due by then, not one pass each
            self._scheduler.add_job(
                self.deliver,
                id="deliver",
                replace_existing=True,
                next_run_time=self.clock.now(),
                misfire_grace_time=None,
            )

    def deliver(self) -> None:
        """Deliver due outbox rows; delivery problems are logged, never fatal."""
        try:
            counts = _deliver(self.store(), self.clock)
        except Exception:  # a broken channel must not stop timers from firing
            logger.exception("outbox delivery failed", extra={"fields": {"event": "outbox.error"}})
            return
        if any(counts.values()):
            _log(logging.INFO, "outbox delivered", event="outbox.delivered", **counts)

    def _on_job_event(self, event: JobExecutionEvent) -> None:
        from apscheduler.events import EVENT_JOB_MISSED

        if event.code == EVENT_JOB_MISSED:
            _log(logging.WARNING, "job missed", event="job.missed", job=event.job_id)
        elif event.exception is not None:
            _log(
                logging.ERROR,
                f"job failed: {type(event.exception).__name__}: {event.exception}",
                event="job.error",
                job=event.job_id,
            )

    def run(
        self, *, install_signals: bool = True, started: Callable[[], None] | None = None
    ) -> None:
        """Run until SIGTERM/SIGINT (or `stop`): catch up on overdue timers, then keep time."""
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.blocking import BlockingScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        scheduler = BlockingScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"misfire_grace_time": None, "coalesce": False, "max_instances": 1},
        )
        self._scheduler = scheduler
        scheduler.add_listener(self._on_job_event, EVENT_JOB_MISSED | EVENT_JOB_ERROR)
        scheduler.add_job(
            self.sync,
            IntervalTrigger(seconds=self.sync_interval, timezone=UTC),
            id="sync",
            next_run_time=self.clock.now(),
            misfire_grace_time=None,
            coalesce=True,
        )
        if install_signals:
            for number in (signal.SIGTERM, signal.SIGINT):
                signal.signal(number, lambda _signum, _frame: self.stop())
        for problem in channel_problems(self.store()):
            _log(logging.WARNING, f"channel problem: {problem}", event="channel.problem")
        _log(logging.INFO, "serve started", event="serve.started", sync_interval=self.sync_interval)
        if started is not None:
            started()
        scheduler.start()
        _log(logging.INFO, "serve stopped", event="serve.stopped")

    def stop(self) -> None:
        """Stop after the job that is running, if any."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
