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
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from crisiscomm.clock import Clock, SystemClock, format_utc

if TYPE_CHECKING:
    from apscheduler.events import JobExecutionEvent
    from apscheduler.schedulers.base import BaseScheduler

    from crisiscomm.engine.service import Firing
    from crisiscomm.store import Store

__all__ = ["JsonLogFormatter", "Server", "channel_problems", "tick"]

logger = logging.getLogger(__name__)

# how far ahead timers are turned into scheduler jobs at each sync
HORIZON = timedelta(minutes=10)
SYNC_BATCH = 20_000
DELIVERY_BATCH = 100
FULL_SYNC_EVERY = 30
RECHECK_SYNCS = 5  # an incremental sync also reads ids the last ones saw (see `sync`)
MAX_DELIVERY_WAIT_SECONDS = 1.0
STOP_CHECK_SECONDS = 0.5  # how often the main thread looks up from waiting for a stop
DELIVERY_GATHER_SECONDS = 0.05


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


def _deliver(
    store: Store,
    clock: Clock,
    before_each: Callable[[], object] | None = None,
    stopping: Callable[[], bool] = lambda: False,
) -> dict[str, int]:
    """Deliver everything the outbox holds due, batch after batch, until `stopping()`;
    counts by outcome."""
    from crisiscomm.notify.outbox import deliver_due

    counts = {"sent": 0, "retried": 0, "dead": 0}
    while not stopping():
        # each batch takes its rows (and their leases) at its own time
        report = deliver_due(
            store,
            now=clock.now(),
            limit=DELIVERY_BATCH,
            before_each=before_each,
            stopping=stopping,
        )
        counts["sent"] += report.sent
        counts["retried"] += report.retried
        counts["dead"] += report.dead
        if report.sent + report.retried + report.dead + report.deferred < DELIVERY_BATCH:
            return counts
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
    """The scheduler, the database target and which timers have a job.

    Three threads share the work, so a slow channel or a big re-sync never delays a firing
    (the main thread only waits for the stop): the scheduler's worker fires timers (all due
    ones at each wake-up, in batches of one transaction), a second worker re-syncs the
    jobs, and a delivery thread drains the outbox whenever a firing queued something (and
    every `sync_interval` for retries).
    """

    target: str | None
    clock: Clock = field(default_factory=SystemClock)
    sync_interval: float = 1.0
    scheduled: dict[int, str] = field(default_factory=dict)  # timer id -> due time as stored
    _local: threading.local = field(default_factory=threading.local)
    _scheduler: BaseScheduler | None = None
    _wake_delivery: threading.Event = field(default_factory=threading.Event)
    # this process's threads take turns writing on it, not by SQLite's busy polling
    _writer_lock: threading.Lock = field(default_factory=threading.Lock)
    _syncs: int = 0
    # the highest timer id each of the last RECHECK_SYNCS complete syncs had seen
    _seen_ids: deque[int] = field(default_factory=lambda: deque([0], maxlen=RECHECK_SYNCS))
    _seen_until: datetime | None = None  # the horizon the last complete sync covered
    _stopping: threading.Event = field(default_factory=threading.Event)
    _idle: threading.Event = field(default_factory=threading.Event)  # set: no firing running

    def __post_init__(self) -> None:
        self._idle.set()

    def store(self) -> Store:
        """This thread's connection (SQLite connections belong to the thread that opened
        them; the scheduler runs jobs in its worker threads)."""
        from crisiscomm.store import open_store

        if getattr(self._local, "store", None) is None:
            store = open_store(self.target)
            if store.backend == "sqlite":
                store.writer_lock = self._writer_lock
            self._local.store = store
        opened: Store = self._local.store
        return opened

    def sync(self) -> None:
        """Give every pending timer due within the horizon a job (once).

        Each sync reads only the timers it has not seen (ids above what the sync
        RECHECK_SYNCS syncs ago had seen, and those the horizon has reached since): PostgreSQL
        hands out ids before commit, so a transaction can commit an id below one already
        seen; looking back a few syncs finds those of any transaction shorter than that.
        Every FULL_SYNC_EVERY-th sync reads them all, for slower ones, and so a timer whose
        firing failed gets its next try.
        """
        from apscheduler.triggers.date import DateTrigger

        from crisiscomm.clock import parse_utc

        assert self._scheduler is not None
        until = self.clock.now() + HORIZON
        full = self._syncs % FULL_SYNC_EVERY == 0
        self._syncs += 1
        wakeups = self.store().pending_wakeups(
            until,
            SYNC_BATCH,
            after_id=0 if full else self._seen_ids[0],
            after_due=None if full else self._seen_until,
        )
        if len(wakeups) < SYNC_BATCH:  # saw everything up to `until`
            self._seen_until = until
            self._seen_ids.append(max([self._seen_ids[-1], *(wakeup[0] for wakeup in wakeups)]))
        for timer_id, incident_id, due in wakeups:
            if self.scheduled.get(timer_id) == due:
                continue
            self.scheduled[timer_id] = due
            self._scheduler.add_job(
                self.fire,
                DateTrigger(run_date=parse_utc(due), timezone=UTC),
                args=[timer_id, incident_id],
                id=f"timer-{timer_id}",
                replace_existing=True,
                misfire_grace_time=None,
                coalesce=False,
            )

    def fire(self, timer_id: int, incident_id: str) -> None:
        """Job: fire every timer due now, this one among them, unless a batch of this
        process fired it already (or it was retired: then the batch finds nothing)."""
        if self.scheduled.pop(timer_id, None) is None:
            return
        self.fire_due()

    def fire_due(self) -> None:
        """Fire what is due, batch after batch; log each firing; wake the delivery.

        A timer whose firing failed stays due: the next pass (the next wake-up of any timer,
        or its own job, which the next full sync gives it again) tries it once more; this
        pass does not, so it cannot hold back the timers behind it.
        """
        from crisiscomm.engine import service

        self._idle.clear()
        failed: set[int] = set()  # tried again at a later pass, not again in this one
        try:
            while not self._stopping.is_set():
                firings = service.fire_batch(
                    store=self.store(), clock=self.clock, limit=service.FIRE_BATCH, skip=failed
                )
                for firing in firings:
                    self.scheduled.pop(firing.timer.id, None)
                    _log_firing(firing)
                    if firing.error is not None:
                        failed.add(firing.timer.id)
                if any(firing.fired for firing in firings):
                    self._wake_delivery.set()
                if len(firings) < service.FIRE_BATCH:
                    return
        finally:
            self._idle.set()

    def _not_firing(self) -> None:
        """Before each delivery: wait while timers are firing. Python runs one thread at
        a time; a delivery running beside a firing would make it late, and deliveries can
        wait milliseconds. Never longer than MAX_DELIVERY_WAIT_SECONDS at a time."""
        self._idle.wait(MAX_DELIVERY_WAIT_SECONDS)

    def deliver_forever(self) -> None:
        """The delivery thread: drain the outbox when woken, and every `sync_interval`."""
        while not self._stopping.is_set():
            if self._wake_delivery.wait(self.sync_interval):
                # let the firings of the next moments join this pass: fewer, fuller passes
                self._stopping.wait(DELIVERY_GATHER_SECONDS)
            self._wake_delivery.clear()
            if not self._stopping.is_set():
                self.deliver()

    def deliver(self) -> None:
        """Deliver due outbox rows; delivery problems are logged, never fatal."""
        try:
            counts = _deliver(self.store(), self.clock, self._not_firing, self._stopping.is_set)
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
        """Run until SIGTERM/SIGINT (or `stop`): catch up on overdue timers, then keep time.

        The scheduler runs in the background; this thread waits for the stop, which can come
        at any moment, start-up included, and then lets the running firing pass and the
        delivery of the row in hand finish (rows not yet tried go back to the outbox).
        """
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={
                "default": ThreadPoolExecutor(max_workers=1),  # firing
                "sync": ThreadPoolExecutor(max_workers=1),
            },
            job_defaults={"misfire_grace_time": None, "coalesce": False, "max_instances": 1},
        )
        self._scheduler = scheduler
        scheduler.add_listener(self._on_job_event, EVENT_JOB_MISSED | EVENT_JOB_ERROR)
        scheduler.add_job(
            self.sync,
            IntervalTrigger(seconds=self.sync_interval, timezone=UTC),
            id="sync",
            executor="sync",
            # the scheduler keeps real time whatever clock the engine reads: a next run in
            # a simulated past would make it count every missed interval since then
            next_run_time=SystemClock().now(),
            misfire_grace_time=None,
            coalesce=True,
        )
        delivery = threading.Thread(target=self.deliver_forever, name="delivery", daemon=True)
        if install_signals:
            for number in (signal.SIGTERM, signal.SIGINT):
                signal.signal(number, lambda _signum, _frame: self.stop())
        for problem in channel_problems(self.store()):
            _log(logging.WARNING, f"channel problem: {problem}", event="channel.problem")
        where = self.store().where  # a mistyped path shows here: serve starts it empty
        _log(
            logging.INFO,
            f"serve started on {where}",
            event="serve.started",
            database=where,
            sync_interval=self.sync_interval,
        )
        if started is not None:
            started()
        delivery.start()
        try:
            if not self._stopping.is_set():
                scheduler.start()
            while not self._stopping.wait(STOP_CHECK_SECONDS):
                pass
        finally:
            self.stop()
            if scheduler.running:
                _shut_down(scheduler)
            delivery.join()
        _log(logging.INFO, "serve stopped", event="serve.stopped")

    def stop(self) -> None:
        """Ask `run` to stop (safe from a signal handler and from any thread)."""
        self._stopping.set()
        self._wake_delivery.set()


def _shut_down(scheduler: BaseScheduler) -> None:
    """Stop the scheduler; the firing pass in hand ends (between batches) first.

    APScheduler's pitfall: `shutdown` marks the scheduler stopped at once, and a wake-up
    that is handing jobs to the worker at that moment fails to remove a job it ran
    (JobLookupError, a traceback from the scheduler's thread). So: no more wake-ups, then
    drop the jobs (this waits for a wake-up in progress; they are rebuilt from the timers
    table at the next start), then shut down.
    """
    scheduler.pause()
    scheduler.remove_all_jobs()
    scheduler.shutdown(wait=True)


def _log_firing(firing: Firing) -> None:
    timer = firing.timer
    fields = {
        "timer": timer.id,
        "incident": timer.incident_id,
        "kind": timer.kind,
        "due_at": format_utc(timer.due_at),
        "late_by_seconds": round(firing.late_by_seconds, 3),
    }
    if firing.error is not None:
        error = firing.error
        _log(
            logging.ERROR,
            f"timer failed, it stays due: {type(error).__name__}: {error}",
            event="timer.error",
            **fields,
        )
    elif firing.fired:
        _log(logging.INFO, "timer fired", event="timer.fired", **fields)
    else:
        _log(logging.DEBUG, "timer already handled", event="timer.skipped", **fields)
