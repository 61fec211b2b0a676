"""`crisiscomm serve`: wake up when a timer is due, fire it, deliver the outbox.

APScheduler 3 only wakes the engine (DESIGN.md invariant 5). Our timers table is the
truth; the scheduler's jobs are disposable, rebuilt from it at start and re-synced every
`sync_interval` seconds so timers created by other processes (an officer's
`open-incident`) are picked up. Its known pitfalls, and the guards here:

- `misfire_grace_time` defaults to 1 s, after which a late job is silently skipped:
  every job has `misfire_grace_time=None` (fire late, never skip), and missed or skipped
  jobs are logged from the scheduler's events (and their timers get a job again);
- a job still running when it is added again is skipped ("maximum number of running
  instances"): firing jobs allow any number (their executor has one worker anyway), and a
  timer counts as scheduled until its job has run, not from when it starts;
- `shutdown(wait=True)` holds the job-store lock while it waits, and a sync blocked in
  `add_job` on that lock never ends: the sync stops adding jobs at a stop, and the
  shutdown waits for it under no lock;
- job stores must not be shared between processes and jobs whose function cannot be
  imported are dropped: the default in-memory store, rebuilt from the database;
- naive datetimes and local time zones: aware UTC `DateTrigger`s only;
- jobs carry primitive arguments (timer id, incident id), never objects.

Firing claims the timer in the same transaction as its outcome, so several `serve`
processes on one database fire each timer exactly once; on PostgreSQL each firing batch
passes over the incidents another holds, so they share the work.

    log.py       the log lines (JSON with --log-format json), one line per failure
    database.py  each thread's connection, reopened after the database was lost
    server.py    the Server: scheduler, sync, firing passes, delivery thread, stop
"""

from __future__ import annotations

from crisiscomm.serve.log import JsonLogFormatter
from crisiscomm.serve.server import (
    FULL_SYNC_EVERY,
    GIVE_UP_AFTER,
    HORIZON,
    RECHECK_SYNCS,
    Server,
    channel_problems,
    tick,
)

__all__ = [
    "FULL_SYNC_EVERY",
    "GIVE_UP_AFTER",
    "HORIZON",
    "RECHECK_SYNCS",
    "JsonLogFormatter",
    "Server",
    "channel_problems",
    "tick",
]
