"""Timers fired by `crisiscomm serve`, against the same work done with no engine at all.

Cases, each with N timers (default 10,000), on SQLite:
- spread: due within a 10-second window; `serve` fires them (file-channel deliveries);
- burst: all due in the same second: how long until the last one fired (the drain);
- kill: spread, `serve` SIGKILLed half way and restarted;
- memory: RSS of `serve` holding N pending timers vs bare APScheduler holding N jobs;
and, with --pg URL (or $CRISISCOMM_TEST_PG_URL), on PostgreSQL:
- pg: spread (--pg-timers, default 3,000) with one `serve`, then with two replicas.

The yardstick is the same-work reference, run in the same process on a copy of the same
database: bare APScheduler jobs that write, in raw SQL, what a firing must write in one
durable transaction (read the incident, append its event, queue its notification, update
the incident, claim the timer), with a thread delivering the queued rows to a JSON-lines
file as serve does (take them, append, fsync, mark them sent), both taking turns on one
lock, with no engine deciding or rendering anything. Targets: spread p99 lateness <= 2x the
same-work reference's, 0 lost, 0 doubled; the burst drained with 0 dropped in <= 2x the
reference's drain time; two PostgreSQL replicas' p99 no worse than one replica's.

As context, the bare baseline: APScheduler date jobs (same executor: one worker) that each
do one raw sqlite3 UPDATE and commit, with misfire_grace_time=None; and, for the burst, with
APScheduler's default 1 s grace, to show how many it silently drops.

Run: .venv/bin/python benchmarks/timers.py [--timers N] [--cases spread,burst,kill,pg]
     [--pg postgresql://postgres@127.0.0.1:5432/test] [--pg-timers N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _timing import fmt_ms, p99, percentiles, ratio

from crisiscomm.clock import SimulatedClock, format_utc
from crisiscomm.engine import service
from crisiscomm.store import open_store

REPO = Path(__file__).resolve().parents[1]
PLAYBOOK = REPO / "benchmarks" / "timers-playbook.yaml"
LEAD = 8.0  # seconds between the end of set-up and the first due timer


def setup(folder: Path, count: int) -> Path:
    """A database with `count` incidents, each with one pending deadline timer."""
    db = folder / "timers.db"
    open_incidents(str(db), count)
    return db


def open_incidents(target: str, count: int) -> None:
    """`count` incidents, each with one pending deadline timer, in the database `target`."""
    clock = SimulatedClock(datetime(2026, 4, 3, tzinfo=UTC))
    with open_store(target) as store:
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


def serve(db: Path | str, folder: Path | None = None) -> subprocess.Popen[bytes]:
    command = [str(Path(sys.executable).with_name("crisiscomm")), "serve", "--db", str(db)]
    cwd = folder or Path(db).parent
    return subprocess.Popen(command, stderr=subprocess.DEVNULL, cwd=cwd)


def pending(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        return int(
            connection.execute("SELECT count(*) FROM timers WHERE fired_at IS NULL").fetchone()[0]
        )


class Commits:
    """Watches the timers table from outside (every POLL_SECONDS): when each timer's firing
    was first seen committed, for the firing-commit lateness (accurate to the poll)."""

    POLL_SECONDS = 0.01

    def __init__(self, db: Path) -> None:
        self.db = db
        self.seen: dict[int, float] = {}  # timer id -> time.time() first seen fired
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.poll, daemon=True)
        self.thread.start()

    def poll(self) -> None:
        connection = sqlite3.connect(self.db)
        below = 0  # every timer up to this id was seen fired (they fire about in id order)
        while not self.stop.wait(self.POLL_SECONDS):
            rows = connection.execute(
                "SELECT id FROM timers WHERE fired_at IS NOT NULL AND id > ?", (below,)
            ).fetchall()
            now = time.time()
            for (timer_id,) in rows:
                self.seen.setdefault(timer_id, now)
            while below + 1 in self.seen:
                below += 1
        connection.close()

    def finish(self) -> dict[int, float]:
        self.stop.set()
        self.thread.join()
        return self.seen


# the lateness of the three moments of each timer, in seconds: serve decided to fire it (its
# late_by_seconds), its firing's commit was seen, its notification was marked sent
Lateness = dict[str, list[float]]


def lateness_of(db: Path, commits: dict[int, float]) -> Lateness:
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT timers.id, timers.due_at, timers.late_by_seconds, min(outbox.sent_at)"
            " FROM timers LEFT JOIN outbox ON outbox.incident_id = timers.incident_id"
            " GROUP BY timers.id"
        ).fetchall()
    found: Lateness = {"decision": [], "commit": [], "delivery": []}
    for timer_id, due_at, late, sent_at in rows:
        due = datetime.fromisoformat(due_at.replace("Z", "+00:00")).timestamp()
        found["decision"].append(float(late or 0.0))
        if timer_id in commits:
            found["commit"].append(max(0.0, commits[timer_id] - due))
        if sent_at:
            sent = datetime.fromisoformat(sent_at.replace("Z", "+00:00")).timestamp()
            found["delivery"].append(max(0.0, sent - due))
    return found


def undelivered(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        return int(
            connection.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0]
        )


def run_ours(
    db: Path, *, kill_half_way: bool, count: int, lateness: Lateness | None = None
) -> tuple[list[float], int, int]:
    """Serve fires the timers; (decision lateness, lost, doubled); `lateness` gets the
    decision, firing-commit and delivery lateness of each timer."""
    commits = Commits(db)
    process = serve(db)
    if kill_half_way:
        while pending(db) > count // 2:
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        process = serve(db)
    while pending(db) or undelivered(db):
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    process.wait()
    if lateness is not None:
        lateness.update(lateness_of(db, commits.finish()))
    else:
        commits.finish()
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


def pg_case(url: str, folder: Path, count: int, replicas: int) -> tuple[list[float], int, int]:
    """The spread case on PostgreSQL (a schema of its own) with `replicas` serve processes."""
    import uuid

    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    separator = "&" if "?" in url else "?"
    target = f"{url}{separator}options=-csearch_path%3D{schema}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        try:
            open_incidents(target, count)
            dues = dues_for("spread", count, datetime.now(UTC) + timedelta(seconds=LEAD))
            with psycopg.connect(target, autocommit=True) as connection:
                ids = [row[0] for row in connection.execute("SELECT id FROM timers ORDER BY id")]
                with connection.cursor() as cursor:
                    cursor.executemany(
                        "UPDATE timers SET due_at = %s WHERE id = %s",
                        [(format_utc(due), i) for due, i in zip(dues, ids, strict=True)],
                    )
                processes = [serve(target, folder) for _ in range(replicas)]
                query = "SELECT count(*) FROM timers WHERE fired_at IS NULL"
                while connection.execute(query).fetchone()[0]:  # type: ignore[index]
                    time.sleep(0.1)
                for process in processes:
                    process.send_signal(signal.SIGTERM)
                for process in processes:
                    process.wait()
                late = [row[0] for row in connection.execute("SELECT late_by_seconds FROM timers")]
                per_incident = Counter(
                    row[0]
                    for row in connection.execute(
                        "SELECT incident_id FROM events WHERE type = 'deadline.missed'"
                    )
                )
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
    lost = count - len(per_incident)
    doubled = sum(n - 1 for n in per_incident.values() if n > 1)
    return [float(x) for x in late], lost, doubled


BARE_JOBS = """
import sys, time
from datetime import UTC, datetime, timedelta
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

def fire(timer_id, incident_id):
    pass

scheduler = BackgroundScheduler(timezone=UTC, executors={"default": ThreadPoolExecutor(1)})
due = datetime.now(UTC) + timedelta(minutes=5)
for n in range(int(sys.argv[1])):
    scheduler.add_job(fire, DateTrigger(run_date=due, timezone=UTC),
                      args=[n, f"INC-2026-{n:04d}"], id=f"timer-{n}",
                      misfire_grace_time=None, coalesce=False)
scheduler.start()
time.sleep(60)
"""


def rss_kb(pid: int, field: str = "RssAnon") -> int:
    """Resident memory of the process, KB: RssAnon (its own heap, without the database
    pages SQLite's mmap reads, which the system can drop) by default."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def settled_rss(process: subprocess.Popen[bytes], *, at_least: float = 4.0) -> tuple[int, int]:
    """(RssAnon, VmRSS) once it has not grown for a second (after `at_least` seconds)."""
    started, last, steady = time.monotonic(), -1, 0
    while True:
        time.sleep(0.25)
        now = rss_kb(process.pid)
        steady = steady + 1 if now == last else 0
        last = now
        if steady >= 4 and time.monotonic() - started >= at_least:
            return now, rss_kb(process.pid, "VmRSS")


def memory_case(folder: Path, source: Path, count: int) -> None:
    """RSS of `serve` holding `count` pending timers (due in 5 minutes, inside the sync's
    horizon: each has its APScheduler job) vs a bare APScheduler holding `count` jobs with
    the same arguments; and each with no timers, for what the jobs themselves cost."""
    results: dict[tuple[str, int], tuple[int, int]] = {}
    for timers in (0, count):
        db = folder / f"memory-{timers}.db"
        # closed, not only committed (sqlite3's `with`): a connection of ours left open keeps
        # the update in the WAL, and serve would hold those pages in its page caches
        with closing(sqlite3.connect(source)) as original, closing(sqlite3.connect(db)) as copy:
            original.backup(copy)
        with closing(sqlite3.connect(db)) as connection, connection:
            due = format_utc(datetime.now(UTC) + timedelta(minutes=5))
            connection.execute("UPDATE timers SET due_at = ?", (due,))
            if not timers:
                connection.execute("UPDATE timers SET retired_at = ?", (due,))
        process = serve(db)
        results["serve", timers] = settled_rss(process)
        process.send_signal(signal.SIGTERM)
        process.wait()
        bare = subprocess.Popen([sys.executable, "-c", BARE_JOBS, str(timers)])
        results["bare", timers] = settled_rss(bare)
        bare.kill()
        bare.wait()
    (ours, ours_all), (bare_rss, bare_all) = results["serve", count], results["bare", count]
    jobs_ours = results["serve", count][0] - results["serve", 0][0]
    jobs_bare = results["bare", count][0] - results["bare", 0][0]
    print(f"memory: {count} pending timers, resident (RssAnon: without mapped database pages)")
    print(
        f"  crisiscomm serve {ours / 1024:6.1f} MB vs bare APScheduler {bare_rss / 1024:6.1f} MB"
        f" = {ours / bare_rss:.2f}x (target <= 1.5x); VmRSS {ours_all / 1024:.1f} MB vs"
        f" {bare_all / 1024:.1f} MB = {ours_all / bare_all:.2f}x"
    )
    print(
        f"  the jobs alone (minus each with none): serve {jobs_ours / 1024:.1f} MB vs bare"
        f" {jobs_bare / 1024:.1f} MB = {jobs_ours / max(jobs_bare, 1):.2f}x"
    )


def run_case(case: str, folder: Path, source: Path, count: int) -> None:
    """One SQLite case: serve, then the same-work reference and the bare baseline."""
    case_folder = folder / case
    case_folder.mkdir()
    db = case_folder / "timers.db"
    copy = case_folder / "rows-only.db"
    for path in (db, copy):
        with sqlite3.connect(source) as original, sqlite3.connect(path) as duplicate:
            original.backup(duplicate)
    shape = "burst" if case == "burst" else "spread"
    schedule(db, dues_for(shape, count, datetime.now(UTC) + timedelta(seconds=LEAD)))
    moments: Lateness = {}
    late, lost, doubled = run_ours(db, kill_half_way=case == "kill", count=count, lateness=moments)
    if case == "kill":
        print(f"kill: {count} timers, serve SIGKILLed half way and restarted")
        print(f"  crisiscomm serve: {percentiles(late)}  lost {lost}  doubled {doubled}")
        print(f"  lost {lost}, doubled {doubled} (target 0, 0)")
        return
    rows = run_rows_only(copy, dues_for(shape, count, datetime.now(UTC) + timedelta(seconds=LEAD)))
    bare_dues = dues_for(shape, count, datetime.now(UTC) + timedelta(seconds=LEAD))
    bare, _never = run_baseline(case_folder, bare_dues, grace=None)
    window = "in the same second" if case == "burst" else "within 10 s"
    print(f"{case}: {count} timers due {window}")
    print(f"  crisiscomm serve:        {percentiles(late)}  lost {lost}  doubled {doubled}")
    for moment in ("commit", "delivery"):
        if moments.get(moment):
            print(f"    {moment + ' lateness:':<21} {percentiles(moments[moment])}")
    print(f"  same-work reference:     {percentiles(rows)}")
    print(f"  bare baseline (context): {percentiles(bare)}")
    if case == "spread":
        print(
            f"  p99 lateness: serve {fmt_ms(p99(late))} vs same-work reference"
            f" {fmt_ms(p99(rows))} = {ratio(late, rows)} (target <= 2x); lost {lost},"
            f" doubled {doubled}; bare baseline p99 {fmt_ms(p99(bare))}"
        )
        return
    drain, reference = max(late), max(rows)
    print(
        f"  drained in {drain:.2f} s vs same-work reference {reference:.2f} s ="
        f" {drain / max(reference, 1e-6):.2g}x (target <= 2x); lost {lost}, doubled {doubled};"
        f" bare baseline {max(bare):.2f} s"
    )
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # a warning per skipped job
    burst = dues_for("burst", count, datetime.now(UTC) + timedelta(seconds=LEAD))
    _late, dropped = run_baseline(case_folder, burst, grace=1)
    print(f"  (bare APScheduler with its default 1 s misfire grace drops {dropped} of {count})")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--timers", type=int, default=10_000)
    parser.add_argument(
        "--cases",
        default="spread,burst,kill,memory,pg",
        help="comma-separated, of spread,burst,kill,memory,pg",
    )
    parser.add_argument("--pg", default=os.environ.get("CRISISCOMM_TEST_PG_URL", ""))
    parser.add_argument("--pg-timers", type=int, default=3_000)
    arguments = parser.parse_args()
    count = arguments.timers
    cases = arguments.cases.split(",")
    # as `pip install .` leaves it: a module compiled on first use costs `serve` memory too
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(REPO / "crisiscomm")],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sqlite_cases = [case for case in cases if case not in ("pg", "memory")]
        if sqlite_cases:
            source = setup(folder, count)  # set up once, copied for each case
            for case in sqlite_cases:
                run_case(case, folder, source, count)
        if "memory" in cases:
            source = folder / "timers.db"
            if not source.is_file():
                source = setup(folder, count)
            memory_case(folder, source, count)
        if "pg" in cases:
            if not arguments.pg:
                print("pg: skipped (give --pg URL or set CRISISCOMM_TEST_PG_URL)")
                return 0
            n = arguments.pg_timers
            one = pg_case(arguments.pg, folder, n, replicas=1)
            two = pg_case(arguments.pg, folder, n, replicas=2)
            print(f"pg: {n} timers due within 10 s on PostgreSQL")
            for name, (late, lost, doubled) in (("one replica", one), ("two replicas", two)):
                print(f"  {name:<13} {percentiles(late)}  lost {lost}  doubled {doubled}")
            print(
                f"  p99 lateness: two replicas {fmt_ms(p99(two[0]))} vs one replica"
                f" {fmt_ms(p99(one[0]))} = {ratio(two[0], one[0])} (target <= 1x)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
