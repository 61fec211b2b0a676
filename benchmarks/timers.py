"""Timers fired by `crisiscomm serve`, against bare APScheduler writing to raw sqlite3.

Cases, each with N timers (default 10,000):
- spread: due within a 10-second window; `serve` fires them (file-channel deliveries);
- burst: all due in the same second;
- kill: spread, `serve` SIGKILLed half way and restarted.
For each: p50/p99/max lateness, lost and doubled timers. Baseline in the same run: bare
APScheduler date jobs (same executor: one worker) that each do one raw sqlite3 UPDATE and
commit, with misfire_grace_time=None; and, for the burst, with APScheduler's default 1 s
grace, to show how many it silently drops. Target: p99 lateness <= 3x the baseline's, zero
lost, zero doubled.

For the spread case, a second reference shows what the work alone costs: bare APScheduler
jobs that write, in raw SQL on a copy of the same database, what a firing must write in one
transaction (read the incident, append its event, queue its notification, update the
incident, claim the timer), with a thread delivering the queued rows to a JSON-lines file
as serve does (take them, append, fsync, mark them sent), both in raw SQL and taking turns
on one lock, with no engine deciding or rendering anything. An implementation that keeps
those invariants does at least this work.

Run: .venv/bin/python benchmarks/timers.py [--timers N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crisiscomm.clock import SimulatedClock, format_utc
from crisiscomm.engine import service
from crisiscomm.store import open_store

REPO = Path(__file__).resolve().parents[1]
PLAYBOOK = REPO / "benchmarks" / "timers-playbook.yaml"
LEAD = 8.0  # seconds between the end of set-up and the first due timer


def p99(values: list[float]) -> float:
    return sorted(values)[min(len(values) - 1, int(len(values) * 0.99))]


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p50, p99 = statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {p50 * 1000:7.1f} ms  p99 {p99 * 1000:7.1f} ms  max {ordered[-1] * 1000:7.1f} ms"


def setup(folder: Path, count: int) -> Path:
    """A database with `count` incidents, each with one pending deadline timer."""
    db = folder / "timers.db"
    clock = SimulatedClock(datetime(2026, 4, 3, tzinfo=UTC))
    with open_store(db) as store:
        for number in range(count):
            service.open_incident(
                store=store,
                clock=clock,
                playbook_ref=str(PLAYBOOK),
                title=f"T{number}",
                severity=None,
                facts=[],
                actor="bench",
            )
    return db


def schedule(db: Path, dues: list[datetime]) -> None:
    with sqlite3.connect(db) as connection:
        ids = [row[0] for row in connection.execute("SELECT id FROM timers ORDER BY id")]
        connection.executemany(
            "UPDATE timers SET due_at = ? WHERE id = ?",
            [(format_utc(due), timer_id) for due, timer_id in zip(dues, ids, strict=True)],
        )


def dues_for(case: str, count: int, start: datetime) -> list[datetime]:
    if case == "burst":
        return [start] * count
    return [start + timedelta(seconds=10 * n / count) for n in range(count)]


def serve(db: Path) -> subprocess.Popen[bytes]:
    command = [str(Path(sys.executable).with_name("crisiscomm")), "serve", "--db", str(db)]
    return subprocess.Popen(command, stderr=subprocess.DEVNULL, cwd=db.parent)


def pending(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        return int(
            connection.execute("SELECT count(*) FROM timers WHERE fired_at IS NULL").fetchone()[0]
        )


def run_ours(db: Path, *, kill_half_way: bool, count: int) -> tuple[list[float], int, int]:
    process = serve(db)
    if kill_half_way:
        while pending(db) > count // 2:
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        process = serve(db)
    while pending(db):
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    process.wait()
    with sqlite3.connect(db) as connection:
        late = [row[0] for row in connection.execute("SELECT late_by_seconds FROM timers")]
        per_incident = Counter(
            row[0]
            for row in connection.execute(
                "SELECT incident_id FROM events WHERE type = 'deadline.missed'"
            )
        )
        incidents = int(connection.execute("SELECT count(*) FROM incidents").fetchone()[0])
    lost = incidents - len(per_incident)
    doubled = sum(n - 1 for n in per_incident.values() if n > 1)
    return [float(x) for x in late], lost, doubled


def run_baseline(
    folder: Path, dues: list[datetime], *, grace: int | None
) -> tuple[list[float], int]:
    """Bare APScheduler: one raw UPDATE + commit per job; (lateness, jobs that never ran).

    grace=None fires late jobs late; grace=1 is APScheduler's default (late ones skipped).
    """
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.date import DateTrigger

    path = folder / f"baseline-{grace}.db"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE timers (id INTEGER PRIMARY KEY, fired_at TEXT)")
        connection.executemany(
            "INSERT INTO timers (id) VALUES (?)", [(n,) for n in range(len(dues))]
        )
    local = threading.local()
    late: list[float] = []

    def fire(timer_id: int, due_iso: str) -> None:
        if getattr(local, "connection", None) is None:
            local.connection = sqlite3.connect(path, isolation_level=None)
            local.connection.execute("PRAGMA synchronous=FULL")
        now = datetime.now(UTC)
        local.connection.execute("BEGIN IMMEDIATE")
        local.connection.execute(
            "UPDATE timers SET fired_at = ? WHERE id = ? AND fired_at IS NULL",
            (format_utc(now), timer_id),
        )
        local.connection.execute("COMMIT")
        late.append(max(0.0, (now - datetime.fromisoformat(due_iso)).total_seconds()))

    scheduler = BackgroundScheduler(
        timezone=UTC, executors={"default": ThreadPoolExecutor(max_workers=1)}
    )
    for number, due in enumerate(dues):
        scheduler.add_job(
            fire,
            DateTrigger(run_date=due, timezone=UTC),
            args=[number, due.isoformat()],
            id=str(number),
            misfire_grace_time=grace,
        )
    scheduler.start()
    while scheduler.get_jobs():  # fired and skipped jobs both leave the job store
        time.sleep(0.1)
    scheduler.shutdown(wait=True)
    return late, len(dues) - len(late)


def run_rows_only(db: Path, dues: list[datetime]) -> list[float]:
    """Bare APScheduler jobs writing a firing's rows in raw SQL (see the module docstring)."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.date import DateTrigger

    from crisiscomm.store.dialect import SQLITE_PRAGMAS

    with sqlite3.connect(db) as connection:
        targets = list(connection.execute("SELECT id, incident_id FROM timers ORDER BY id"))
    local = threading.local()
    late: list[float] = []
    writer = threading.Lock()
    stop = threading.Event()
    payload = json.dumps(
        {"kind": "deadline", "subject": "OVERDUE", "text": "x" * 120, "roles": ["duty_officer"]}
    )

    def fire(timer_id: int, incident_id: str, due_iso: str) -> None:
        if getattr(local, "connection", None) is None:
            local.connection = sqlite3.connect(db, isolation_level=None)
            for pragma in SQLITE_PRAGMAS:
                local.connection.execute(f"PRAGMA {pragma}")
        connection = local.connection
        now = datetime.now(UTC)
        at = format_utc(now)
        writer.acquire()
        connection.execute("BEGIN IMMEDIATE")
        data, version, count, last = connection.execute(
            "SELECT data, version, event_count, last_hash FROM incidents WHERE id = ?",
            (incident_id,),
        ).fetchone()
        digest = hashlib.sha256(f"{last}{incident_id}{count + 1}{at}".encode()).hexdigest()
        connection.execute(
            "INSERT INTO events VALUES (?, ?, ?, 'crisiscomm', 'deadline.missed', ?, ?, ?)",
            (incident_id, count + 1, at, json.dumps({"timer": timer_id}), last, digest),
        )
        connection.execute(
            "INSERT INTO outbox (incident_id, idempotency_key, channel, recipient, payload,"
            " status, attempts, next_attempt_at, created_at)"
            " VALUES (?, ?, 'log', 'duty_officer', ?, 'pending', 0, ?, ?)",
            (incident_id, f"{incident_id}:timer:{timer_id}", payload, at, at),
        )
        connection.execute(
            "UPDATE incidents SET data = ?, version = version + 1, event_count = ?,"
            " last_hash = ? WHERE id = ? AND version = ?",
            (json.dumps(json.loads(data)), count + 1, digest, incident_id, version),
        )
        connection.execute(
            "UPDATE timers SET fired_at = ?, late_by_seconds = 0 WHERE id = ? AND fired_at IS NULL",
            (at, timer_id),
        )
        connection.execute("COMMIT")
        writer.release()
        late.append(max(0.0, (now - datetime.fromisoformat(due_iso)).total_seconds()))

    def deliver() -> None:
        connection = sqlite3.connect(db, isolation_level=None)
        for pragma in SQLITE_PRAGMAS:
            connection.execute(f"PRAGMA {pragma}")
        with (db.parent / "rows-only.jsonl").open("a", encoding="utf-8") as sink:
            while True:
                stopping = stop.wait(0.05)  # once stopping, drain what is left
                with writer:
                    connection.execute("BEGIN IMMEDIATE")
                    taken = connection.execute(
                        "UPDATE outbox SET attempts = attempts + 1 WHERE id IN (SELECT id"
                        " FROM outbox WHERE status = 'pending' ORDER BY id LIMIT 100)"
                        " RETURNING id, idempotency_key, payload"
                    ).fetchall()
                    connection.execute("COMMIT")
                if not taken:
                    if stopping:
                        break
                    continue
                for row_id, key, text in taken:
                    sink.write(json.dumps({"id": row_id, "key": key, **json.loads(text)}) + "\n")
                sink.flush()
                os.fsync(sink.fileno())
                with writer:
                    connection.execute("BEGIN IMMEDIATE")
                    connection.executemany(
                        "UPDATE outbox SET status = 'sent', sent_at = ? WHERE id = ?",
                        [(format_utc(datetime.now(UTC)), row[0]) for row in taken],
                    )
                    connection.execute("COMMIT")
        connection.close()

    scheduler = BackgroundScheduler(
        timezone=UTC, executors={"default": ThreadPoolExecutor(max_workers=1)}
    )
    for (timer_id, incident_id), due in zip(targets, dues, strict=True):
        scheduler.add_job(
            fire,
            DateTrigger(run_date=due, timezone=UTC),
            args=[timer_id, incident_id, due.isoformat()],
            id=str(timer_id),
            misfire_grace_time=None,
        )
    delivery = threading.Thread(target=deliver, daemon=True)
    delivery.start()
    scheduler.start()
    while scheduler.get_jobs():
        time.sleep(0.1)
    scheduler.shutdown(wait=True)
    stop.set()
    delivery.join()
    with sqlite3.connect(db) as connection:
        undelivered = connection.execute(
            "SELECT count(*) FROM outbox WHERE status != 'sent'"
        ).fetchone()[0]
    assert not undelivered, f"the raw delivery left {undelivered} rows"
    return late


def ratio(ours: list[float], reference: list[float]) -> str:
    """`4.7x`: two significant digits, however small or large."""
    return f"{p99(ours) / max(p99(reference), 1e-6):.2g}x"


def report(case: str, ours: tuple[list[float], int, int], baseline: list[float]) -> None:
    late, lost, doubled = ours
    print(f"{case}: {len(late)} timers")
    print(f"  crisiscomm serve: {percentiles(late)}  lost {lost}  doubled {doubled}")
    print(f"  bare APScheduler: {percentiles(baseline)}")
    restart = " (includes the restart)" if case == "kill" else ""
    print(
        f"  p99 lateness {ratio(late, baseline)} the baseline's{restart} (target <= 3x);"
        f" lost {lost}, doubled {doubled}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--timers", type=int, default=10_000)
    parser.add_argument(
        "--cases", default="spread,burst,kill", help="comma-separated, of spread,burst,kill"
    )
    arguments = parser.parse_args()
    count = arguments.timers
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for case in arguments.cases.split(","):
            case_folder = folder / case
            case_folder.mkdir()
            db = setup(case_folder, count)
            copy = case_folder / "rows-only.db"
            if case == "spread":
                with sqlite3.connect(db) as source, sqlite3.connect(copy) as target:
                    source.backup(target)
            shape = "burst" if case == "burst" else "spread"
            schedule(db, dues_for(shape, count, datetime.now(UTC) + timedelta(seconds=LEAD)))
            ours = run_ours(db, kill_half_way=case == "kill", count=count)
            baseline_dues = dues_for(shape, count, datetime.now(UTC) + timedelta(seconds=LEAD))
            baseline, _never = run_baseline(case_folder, baseline_dues, grace=None)
            report(case, ours, baseline)
            if case == "spread":
                rows_dues = dues_for(shape, count, datetime.now(UTC) + timedelta(seconds=LEAD))
                rows = run_rows_only(copy, rows_dues)
                print(f"  the same work in raw SQL: {percentiles(rows)}")
                print(
                    f"  (its p99 is {ratio(rows, baseline)} the baseline's;"
                    f" crisiscomm serve's is {ratio(ours[0], rows)} its)"
                )
        if "burst" not in arguments.cases:
            return 0
        burst = dues_for("burst", count, datetime.now(UTC) + timedelta(seconds=LEAD))
        # APScheduler warns once per job it skips: thousands of lines; the count says it
        logging.getLogger("apscheduler").setLevel(logging.ERROR)
        _late, dropped = run_baseline(folder, burst, grace=1)
        print(f"burst, default 1 s misfire grace: {dropped} of {count} jobs silently dropped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
