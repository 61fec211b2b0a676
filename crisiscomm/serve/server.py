"""The Server: APScheduler's wake-ups, the firing passes, the sync, the delivery thread.

See the package docstring for the scheduler's pitfalls and their guards.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from crisiscomm.clock import Clock, SystemClock
from crisiscomm.serve.database import Database
from crisiscomm.serve.log import log, log_failure, log_firing

if TYPE_CHECKING:
    from pathlib import Path

    from apscheduler.events import JobExecutionEvent, JobSubmissionEvent
    from apscheduler.schedulers.base import BaseScheduler

    from crisiscomm.store import Store

__all__ = ["Server", "channel_problems", "tick"]

# how far ahead timers are turned into scheduler jobs at each sync
HORIZON = timedelta(minutes=10)
SYNC_BATCH = 20_000
DELIVERY_BATCH = 100
FULL_SYNC_EVERY = 30
RECHECK_SYNCS = 5  # an incremental sync also reads ids the last ones saw (see `sync`)
MAX_DELIVERY_WAIT_SECONDS = 1.0
# after waiting for a firing pass to end, the delivery sends for this long before it waits
# again: a turn each, so a steady stream of firings does not starve the deliveries
DELIVERY_TURN_SECONDS = 0.05
STOP_CHECK_SECONDS = 0.2  # how often the main thread looks up from waiting for a stop
DELIVERY_GATHER_SECONDS = 0.05
# after a firing pass: the next one, for due timers it left (another `serve` held them,
# or they wait for their next try); after a failed pass, sooner, then backing off
RETRY_FIRST = 0.25
RETRY_CAP = 10.0
GIVE_UP_AFTER = 300.0  # seconds the database may stay unreachable before `serve` exits
STOP_WAIT_SECONDS = 10.0  # at a stop, how long the running pass and sync may take to end
# jobs of the firing executor never skip for "maximum number of running instances": its one
# worker runs them one after the other anyway
MAX_INSTANCES = 1_000_000
# every timer job shares its name and (empty) keyword arguments: APScheduler otherwise makes
# a name string and a dict per job, a tenth of what 10,000 pending timers' jobs hold
JOB_NAME = "fire"
NO_KWARGS: Mapping[str, Any] = MappingProxyType({})
PRUNE_EVERY = timedelta(hours=1)  # how often sent outbox rows past the retention go
OUTBOX_RETENTION = timedelta(days=30)  # the default of office.yaml's outbox_retention
OPEN_INCIDENTS_PAGE = 200  # open incidents read at a time at start, for their channels


def _deliver(
    store: Store,
    clock: Clock,
    before_each: Callable[[], object] | None = None,
    stopping: Callable[[], bool] = lambda: False,
    **options: Any,
) -> dict[str, int]:
    """Deliver everything the outbox holds due, batch after batch, until `stopping()`;
    counts by outcome. `options` go to `deliver_due` (lease, first_retry)."""
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
            **options,
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
    for content_hash in sorted(_open_playbook_hashes(store)):
        playbook = pinned_playbook(store, content_hash)
        problems += [f"{playbook.id}: {p}" for p in check_channels(playbook.channels)]
    return list(dict.fromkeys(problems))


def _open_playbook_hashes(store: Store) -> set[str]:
    """The playbooks open incidents pinned, read a page of incidents at a time: 10,000 open
    incidents read at once left `serve` holding 5 MB more for the rest of its life."""
    hashes: set[str] = set()
    after: str | None = None
    while True:
        page = store.incident_page(limit=OPEN_INCIDENTS_PAGE, open_only=True, after=after)
        hashes.update(incident.playbook_hash for incident in page)
        if len(page) < OPEN_INCIDENTS_PAGE:
            return hashes
        after = page[-1].id


def tick(*, store: Store, clock: Clock) -> dict[str, int]:
    """One pass for cron or a systemd timer: fire what is due, deliver the outbox."""
    from crisiscomm.engine import service
    from crisiscomm.inbox.timers import fire_register_due

    fired = service.fire_due(store=store, clock=clock)
    fired += fire_register_due(store=store, clock=clock)  # the register's deadlines
    return {"fired": fired, **_deliver(store, clock)}


@dataclass
class Server:
    """The scheduler, the database target and which timers have a job.

    Three threads share the work, so a slow channel or a big re-sync never delays a firing
    (the main thread only waits for the stop): the scheduler's worker fires timers (all due
    ones at each wake-up, in batches of one transaction), a second worker re-syncs the
    jobs, and a delivery thread drains the outbox whenever a firing queued something (and
    every `sync_interval` for retries).

    `give_up_after`: seconds the database may stay unreachable before `run` stops with
    `exit_code` 1. `lease` and `first_retry` (timedeltas, None for the defaults) go to
    the outbox delivery.
    """

    target: str | None
    clock: Clock = field(default_factory=SystemClock)
    sync_interval: float = 1.0
    give_up_after: float = GIVE_UP_AFTER
    lease: timedelta | None = None
    first_retry: timedelta | None = None
    retention: timedelta = OUTBOX_RETENTION  # sent notifications older than this are pruned
    # builds the public site for `site` channels, from a store, when a site first needs it
    # (cli/serve.py hands in a maker of publish.incremental.SiteRepublisher; serve itself
    # sits below publish)
    site_republisher: Callable[[Store], Any] | None = None
    _republishers: dict[int, Any] = field(default_factory=dict)
    # timer id -> wake-up time, for each timer whose job has not yet run
    scheduled: dict[int, datetime] = field(default_factory=dict)
    exit_code: int = 0
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
    _sync_idle: threading.Event = field(default_factory=threading.Event)  # set: no sync
    _failed_passes: int = 0  # firing passes failed in a row
    _inbox_next: datetime | None = None  # the register's soonest timer a pass is set for
    _pruned_at: datetime | None = None  # when the outbox was last pruned
    _turn_started: float = 0.0  # time.monotonic() when the delivery's turn began

    def __post_init__(self) -> None:
        self._idle.set()
        self._sync_idle.set()
        self.database = Database(self.target, self._writer_lock)

    def store(self) -> Store:
        """This thread's connection (SQLite connections belong to the thread that opened
        them; the scheduler runs jobs in its worker threads), reopened after a loss."""
        return self.database.store()

    def _failed(self, what: str, event: str, error: Exception) -> None:
        """One log line for a failed sync, firing pass or delivery pass; a debug line only
        while the database is known lost (that was said once, and its return will be)."""
        lost = self.database.failed()
        log_failure(logging.DEBUG if lost else logging.ERROR, what, error, event=event)

    def sync(self) -> None:
        """Give every pending timer due within the horizon a job (once); see `_sync`."""
        if self._stopping.is_set():
            return
        self._sync_idle.clear()
        try:
            self._sync()
            self.database.check()
        except Exception as error:
            self._failed("sync failed", "sync.error", error)
        finally:
            self._sync_idle.set()

    def _sync(self) -> None:
        """Each sync reads only the timers it has not seen (ids above what the sync
        RECHECK_SYNCS syncs ago had seen, and those the horizon has reached since): PostgreSQL
        hands out ids before commit, so a transaction can commit an id below one already
        seen; looking back a few syncs finds those of any transaction shorter than that.
        Every FULL_SYNC_EVERY-th sync reads them all, for slower ones, and so a timer whose
        firing failed gets its next try. A stop ends it between two jobs: a job added while
        the scheduler shuts down would wait for its lock (APScheduler's pitfall).
        """
        from apscheduler.triggers.date import DateTrigger

        from crisiscomm.clock import parse_utc

        assert self._scheduler is not None
        until = self.clock.now() + HORIZON
        full = self._syncs % FULL_SYNC_EVERY == 0
        wakeups = self.store().pending_wakeups(
            until,
            SYNC_BATCH,
            after_id=0 if full else self._seen_ids[0],
            after_due=None if full else self._seen_until,
        )
        fire = self.fire  # one bound method for all the jobs, not one each
        moment: tuple[str, datetime] | None = None  # the due time read last, parsed
        for timer_id, incident_id, due in wakeups:
            if self._stopping.is_set():
                return  # this sync did not finish: the next one (at the next start) reads again
            if moment is None or moment[0] != due:  # soonest first: equal ones come together
                moment = (due, parse_utc(due))
            wake_at = moment[1]  # timers due at the same moment share one datetime
            if self.scheduled.get(timer_id) == wake_at:
                continue
            self.scheduled[timer_id] = wake_at  # the trigger's own datetime, not another copy
            self._scheduler.add_job(
                fire,
                DateTrigger(run_date=wake_at, timezone=UTC),
                args=(timer_id, incident_id),
                kwargs=NO_KWARGS,
                id=f"timer-{timer_id}",
                name=JOB_NAME,
                replace_existing=True,
                misfire_grace_time=None,
                coalesce=False,
                max_instances=MAX_INSTANCES,
            )
        if self._stopping.is_set():
            return  # a job added while the scheduler shuts down waits for its lock
        soonest = self.store().next_inbox_timer()  # the register's next deadline or reminder
        if soonest is not None and soonest <= until and soonest != self._inbox_next:
            self._inbox_next = soonest
            self._retry(soonest, job="inbox")
        self._syncs += 1
        if len(wakeups) < SYNC_BATCH:  # saw everything up to `until`
            self._seen_until = until
            self._seen_ids.append(max([self._seen_ids[-1], *(wakeup[0] for wakeup in wakeups)]))

    def fire(self, timer_id: int, incident_id: str) -> None:
        """Job: fire every timer due now, this one among them, unless a batch of this
        process fired it already (or it was retired: then the batch finds nothing).

        The timer counts as scheduled until its job has run: a sync meanwhile gives it no
        second job; after it, if it is still pending, the next sync (or the pass's retry)
        gives it one.
        """
        if timer_id not in self.scheduled:
            return
        try:
            self.fire_due()
        finally:
            self.scheduled.pop(timer_id, None)

    def fire_due(self) -> None:
        """Fire what is due, batch after batch; log each firing; wake the delivery.

        Never raises (a job that raised would get APScheduler's own traceback line): a pass
        that fails is logged once and tried again (`_retry`), sooner at first, then less and
        less often while it keeps failing. A timer whose firing failed waits for its next
        try (the store puts it off, see `record_timer_failure`); a pass never tries a timer
        twice, so it cannot hold back the timers behind it.
        """
        from crisiscomm.engine import service

        if self._stopping.is_set():
            return
        self._idle.clear()
        failed: set[int] = set()  # tried again at a later pass, not again in this one
        try:
            while not self._stopping.is_set():
                firings = service.fire_batch(
                    store=self.store(), clock=self.clock, limit=service.FIRE_BATCH, skip=failed
                )
                for firing in firings:
                    log_firing(firing)
                    if firing.error is None:
                        self.scheduled.pop(firing.timer.id, None)
                    else:
                        failed.add(firing.timer.id)
                if any(firing.fired for firing in firings):
                    self._wake_delivery.set()
                if len(firings) < service.FIRE_BATCH:
                    break
            from crisiscomm.inbox.timers import fire_register_due

            if not self._stopping.is_set():  # the register's deadlines, after the incidents'
                fire_register_due(store=self.store(), clock=self.clock)
        except Exception as error:
            self._failed_passes += 1
            self._failed("firing timers failed; they stay due", "timer.pass_error", error)
            delay = min(RETRY_CAP, RETRY_FIRST * 2 ** min(self._failed_passes - 1, 10))
            self._retry(self.clock.now() + timedelta(seconds=delay))
        else:
            self._failed_passes = 0
            self._retry_left()
        finally:
            self._idle.set()

    def _retry_left(self) -> None:
        """After a pass: a next one when the earliest due timer it left may be tried (held
        by another `serve` at the time, or put off after its firing failed)."""
        try:
            at = self.store().next_try(self.clock.now())
        except Exception as error:
            self._failed("looking for timers left due failed", "timer.pass_error", error)
            at = self.clock.now() + timedelta(seconds=RETRY_FIRST)
        if at is not None:
            self._retry(max(at, self.clock.now() + timedelta(seconds=RETRY_FIRST)))

    def _retry(self, at: datetime, *, job: str = "retry") -> None:
        """A firing pass at `at` (the scheduler keeps real time: a simulated clock's `at`
        is moved to the same distance from now)."""
        from apscheduler.triggers.date import DateTrigger

        if self._scheduler is None or self._stopping.is_set():
            return
        run_date = SystemClock().now() + max(timedelta(0), at - self.clock.now())
        self._scheduler.add_job(
            self.fire_due,
            DateTrigger(run_date=run_date, timezone=UTC),
            id=job,
            replace_existing=True,
            misfire_grace_time=None,
            max_instances=MAX_INSTANCES,
        )

    def _not_firing(self) -> None:
        """Before each delivery: take turns with the firings. Python runs one thread at a
        time; a delivery running beside a firing makes it late, so the delivery waits for
        the firing pass in hand to end (never longer than MAX_DELIVERY_WAIT_SECONDS), then
        sends for DELIVERY_TURN_SECONDS without waiting. Waiting before every row instead
        let a steady stream of passes (1,000 timers/s) starve the deliveries: one row per
        pass, notifications seconds late."""
        if time.monotonic() - self._turn_started < DELIVERY_TURN_SECONDS:
            return
        self._idle.wait(MAX_DELIVERY_WAIT_SECONDS)
        self._turn_started = time.monotonic()

    def deliver_forever(self) -> None:
        """The delivery thread: drain the outbox when woken, and every `sync_interval`."""
        while not self._stopping.is_set():
            if self._wake_delivery.wait(self.sync_interval):
                # let the firings of the next moments join this pass: fewer, fuller passes
                self._stopping.wait(DELIVERY_GATHER_SECONDS)
            self._wake_delivery.clear()
            if not self._stopping.is_set():
                self.deliver()
        self.database.close()

    def deliver(self) -> None:
        """Deliver due outbox rows; delivery problems are logged (one line), never fatal."""
        options: dict[str, Any] = {}
        if self.lease is not None:
            options["lease"] = self.lease
        if self.first_retry is not None:
            options["first_retry"] = self.first_retry
        try:
            if self.site_republisher is not None:  # the store may be lost: inside the try
                from crisiscomm.notify.channels import ChannelFactory

                republish = partial(self._republish, self.store())
                options["channels"] = ChannelFactory(republish=republish)
            counts = _deliver(
                self.store(), self.clock, self._not_firing, self._stopping.is_set, **options
            )
        except Exception as error:  # a broken channel must not stop timers from firing
            self._failed("outbox delivery failed", "outbox.error", error)
            return
        if any(counts.values()):
            log(logging.INFO, "outbox delivered", event="outbox.delivered", **counts)
        self.prune()

    def _republish(self, store: Store, out: Path, base_url: str) -> object:
        """What a `site` channel calls at its sync: the republisher of this connection (it
        keeps its state between deliveries), made when a site first needs it, so a serve
        that delivers to no site never loads the publisher."""
        if id(store) not in self._republishers:
            assert self.site_republisher is not None
            self._republishers = {id(store): self.site_republisher(store)}
        return self._republishers[id(store)](out, base_url)

    def prune(self) -> None:
        """Once every PRUNE_EVERY: remove the outbox rows sent longer ago than the
        retention (the event log keeps the record), so the queue stays small."""
        now = self.clock.now()
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        try:
            pruned = self.store().prune_outbox(before=now - self.retention)
        except Exception as error:  # pruning can wait for the next hour
            self._failed("outbox pruning failed", "outbox.error", error)
            return
        if pruned:
            log(logging.INFO, "outbox pruned", event="outbox.pruned", rows=pruned)

    def _on_job_event(self, event: JobExecutionEvent | JobSubmissionEvent) -> None:
        from apscheduler.events import EVENT_JOB_MISSED

        job: str = event.job_id
        if job.startswith("timer-"):  # it did not run: the next sync gives it a job again
            self.scheduled.pop(int(job.removeprefix("timer-")), None)
        if event.code == EVENT_JOB_MISSED:
            log(logging.WARNING, "job missed", event="job.missed", job=job)
        else:
            log(logging.WARNING, "job skipped", event="job.skipped", job=job)

    def run(
        self, *, install_signals: bool = True, started: Callable[[], None] | None = None
    ) -> None:
        """Run until SIGTERM/SIGINT (or `stop`): catch up on overdue timers, then keep time.

        The scheduler runs in the background; this thread waits for the stop, which can come
        at any moment, start-up included, and then lets the running firing pass and the
        delivery of the row in hand finish (rows not yet tried go back to the outbox). It
        also stops, with `exit_code` 1, once the database has been unreachable for
        `give_up_after` seconds.
        """
        from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
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
        scheduler.add_listener(self._on_job_event, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
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
            log(logging.WARNING, f"channel problem: {problem}", event="channel.problem")
        where = self.store().where  # a mistyped path shows here: serve starts it empty
        log(
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
                self._give_up_if_away()
        finally:
            self.stop()
            if scheduler.running:
                self._shut_down(scheduler)
            delivery.join()
        log(logging.INFO, "serve stopped", event="serve.stopped", exit_code=self.exit_code)

    def _give_up_if_away(self) -> None:
        away = self.database.down_for()
        if away > self.give_up_after:
            self.exit_code = 1
            log(
                logging.ERROR,
                f"the database {self.database.where} has been unreachable for {away:.0f} s: "
                "stopping (a supervisor such as systemd restarts serve)",
                event="serve.gave_up",
                database=self.database.where,
                down_seconds=round(away, 3),
            )
            self.stop()

    def stop(self) -> None:
        """Ask `run` to stop (safe from a signal handler and from any thread)."""
        self._stopping.set()
        self._wake_delivery.set()

    def _shut_down(self, scheduler: BaseScheduler) -> None:
        """Stop the scheduler; the firing pass and the sync in hand end first.

        APScheduler's pitfalls: `shutdown(wait=True)` holds the job-store lock while it
        waits for the workers, so a sync blocked in `add_job` on that lock never ends; and
        `shutdown` marks the scheduler stopped at once, so a wake-up handing jobs to the
        worker at that moment fails to remove a job it ran (JobLookupError). So: the sync
        stops adding jobs (it sees the stop), no more wake-ups, the pass and the sync end
        (waited for here, under no lock), the jobs are dropped (rebuilt from the timers
        table at the next start), and only then the scheduler shuts down, without waiting.
        """
        scheduler.pause()
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        for done in (self._sync_idle, self._idle):
            done.wait(max(0.0, deadline - time.monotonic()))
        scheduler.remove_all_jobs()
        scheduler.shutdown(wait=False)
