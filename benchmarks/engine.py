"""The engine and the officer's commands, each as a ratio to a baseline measured in this run.

1. Start-up: `crisiscomm list` and `crisiscomm show ID` wall time vs `python -c "import
   click"` (target <= 2.5x), `crisiscomm advance` (target <= 3x).
2. Throughput: open N incidents (default 2,000; the issue measured 10,000) and drive each
   through the standard protocol (the flood playbook) to closed, every command a durable
   commit; events/s vs raw `sqlite3` writing the same event rows in the same number of
   transactions with the same pragmas (WAL and the store's SQLITE_PRAGMAS), the physical
   limit. Target >= 0.3x at every size: the ratio is printed per chunk of 500 incidents,
   each against raw sqlite3 writing that chunk's rows into its growing table (in slices of
   50 incidents, each right after the engine's: both meet the disk of the same minute),
   with the CPU time per commit of both beside it (what is left apart from waiting for
   fsync).
   With `--database postgresql`, the same on a new database of the server at 127.0.0.1
   (`--pg-server`), against raw psycopg writing the same rows in as many transactions
   into a table of the same shape there (synchronous_commit on, the server's default, as
   the engine's): what the shared deployment costs an office beside the SQLite file.
3. Listing: `crisiscomm list` with 10,000 closed and 200 open incidents vs with 10 (<= 2x).
4. Storage per closed incident (SQLite): after the run, the outbox delivered (marked sent as
   `serve` marks it) and pruned past the retention, as `serve` does hourly; the bytes of
   each table and index (sqlite `dbstat`) divided by the incidents. Target <= 20 KB.

Run: .venv/bin/python benchmarks/engine.py [--incidents N] [--only throughput]
     [--database postgresql]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _timing import median_wall_times

from crisiscomm.clock import SimulatedClock
from crisiscomm.documents.library import Library
from crisiscomm.engine import service
from crisiscomm.engine.autopilot import Step, fact_samples, path_to, plan_transition
from crisiscomm.playbook.compile import compile_playbook
from crisiscomm.store import Store, open_store
from crisiscomm.store.dialect import SQLITE_PRAGMAS
from crisiscomm.store.rows import IncidentRow

REPO = Path(__file__).resolve().parents[1]
PLAYBOOK = REPO / "playbooks" / "flood.yaml"


def duty_officer() -> str:
    """A person of the office who opens incidents (the flood playbook's team is the office's)."""
    playbook = compile_playbook(PLAYBOOK, library=Library())
    member = playbook.members("duty_officer")[0]
    return str(member.get("id") or member.get("login") or member["name"])


def false_alarm_actor() -> str:
    """A person allowed to fire `false_alarm` in the flood playbook."""
    playbook = compile_playbook(PLAYBOOK, library=Library())
    [transition] = [t for t in playbook.transitions if t["trigger"] == "false_alarm"]
    member = playbook.members(transition["roles"][0])[0]
    return str(member.get("login") or member["name"])


def run_step(store: Store, clock: SimulatedClock, incident_id: str, step: Step) -> IncidentRow:
    common = {"store": store, "clock": clock, "incident_id": incident_id, "actor": step.actor}
    if step.command == "check":
        return service.check_item(**common, item=step.args[0])
    if step.command == "draft":
        return service.draft_statement(**common, statement=step.args[0])
    if step.command == "approve":
        return service.approve(**common, name=step.args[0])
    if step.command == "release":
        return service.release_statement(**common, statement=step.args[0])
    return service.advance(**common, trigger=step.args[0], note=step.args[1])


# (incidents, events, commits, seconds, CPU seconds) of a chunk of incidents driven in a row
Chunk = tuple[int, int, int, float, float]
CHUNK = 500  # incidents per chunk of the throughput's per-size ratio
# incidents between raw baseline runs: each chunk's baseline is written in slices, each right
# after the engine's, so that both meet the same disk (its fsync time drifts by the minute)
SLICE = 50


def drive(
    store: Store,
    count: int,
    *,
    open_left: int = 0,
    on_chunk: Callable[[Chunk], object] | None = None,
    chunk: int = CHUNK,
) -> tuple[int, int]:
    """Open `count` incidents and drive all but `open_left` to closed; (events, commits).

    The autopilot plans the officer's commands for the first incident, reading it before
    each transition; the others, identical, get the same commands, so what is timed is the
    commands, not the planner. With `on_chunk`, it is called after each run of `chunk`
    incidents with its (incidents, events, commits, seconds, CPU seconds), outside the
    timing.
    """
    playbook = compile_playbook(PLAYBOOK, library=Library())
    facts = [f"{k}={v}" for k, v in fact_samples(playbook).items()]
    route = path_to(playbook, "closed")
    clock = SimulatedClock(datetime(2026, 4, 3, 1, 0, tzinfo=UTC))
    opener = duty_officer()
    commits = 0
    commands: list[Step] = []
    chunk_start, chunk_cpu = time.perf_counter(), time.process_time()
    chunk_events, chunk_commits = 0, 0
    for number in range(count):
        if on_chunk is not None and number and number % chunk == 0:
            seconds, cpu = time.perf_counter() - chunk_start, time.process_time() - chunk_cpu
            on_chunk((chunk, chunk_events, chunk_commits, seconds, cpu))
            chunk_start, chunk_cpu = time.perf_counter(), time.process_time()
            chunk_events, chunk_commits = 0, 0
        incident = service.open_incident(
            store=store,
            clock=clock,
            playbook_ref=str(PLAYBOOK),
            title=f"Flood {number}",
            severity=None,
            facts=facts,
            actor=opener,
        )
        commits += 1
        chunk_commits += 1
        if number >= count - open_left:
            chunk_events += incident.event_count
            continue
        if not commands:
            for transition in route:
                _playbook, current = service.load(store=store, incident_id=incident.id)
                for step in plan_transition(playbook, current, transition):
                    clock.advance(timedelta(seconds=1))
                    incident = run_step(store, clock, incident.id, step)
                    commands.append(step)
        else:
            for step in commands:
                clock.advance(timedelta(seconds=1))
                incident = run_step(store, clock, incident.id, step)
        commits += len(commands)
        chunk_commits += len(commands)
        chunk_events += incident.event_count
    if on_chunk is not None and chunk_commits:
        seconds, cpu = time.perf_counter() - chunk_start, time.process_time() - chunk_cpu
        on_chunk((count % chunk or chunk, chunk_events, chunk_commits, seconds, cpu))
    events = sum(incident.event_count for incident in store.list_incidents())
    return events, commits


def raw_commits(
    after_seq: int, events: int, commits: int, hashes: tuple[Any, Any]
) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of the raw baselines, commit by commit: `events` event rows spread over
    `commits` transactions, numbered on from `after_seq`, with the hashes as each database
    writes them (`hashes`: the previous and the event's)."""
    per_commit, extra = divmod(events, commits)
    fixed = ("2026-04-03T01:00:00.000000Z", "duty", "transition", '{"trigger":"confirm"}' * 4)
    seq = after_seq
    for commit in range(commits):
        rows = []
        for _ in range(per_commit + (1 if commit < extra else 0)):
            seq += 1
            rows.append((f"INC-{commit % 997}", seq, *fixed, *hashes))
        yield rows


def raw_baseline(path: Path, events: int, commits: int) -> tuple[float, float]:
    """Seconds (wall, CPU) for raw sqlite3 to write `events` rows in `commits` durable
    transactions (into the table of earlier calls with the same `path`: it grows as the
    engine's do)."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    for pragma in SQLITE_PRAGMAS:  # the store's own: synchronous=FULL, mmap ...
        connection.execute(f"PRAGMA {pragma}")
    connection.execute(
        "CREATE TABLE IF NOT EXISTS events (incident_id TEXT, seq INTEGER, at TEXT, actor TEXT,"
        " type TEXT, data TEXT, prev_hash TEXT, hash TEXT, PRIMARY KEY (incident_id, seq))"
    )
    start = connection.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
    started, started_cpu = time.perf_counter(), time.process_time()
    for rows in raw_commits(int(start), events, commits, ("0" * 64, "f" * 64)):
        connection.execute("BEGIN IMMEDIATE")
        for row in rows:
            connection.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
        connection.execute("COMMIT")
    elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    connection.close()
    return elapsed, cpu


def startup(folder: Path) -> None:
    db = folder / "startup.db"
    with open_store(db) as store:
        drive(store, 40, open_left=40)
        ids = [i.id for i in store.list_incidents()]
    crisiscomm = str(Path(sys.executable).with_name("crisiscomm"))
    actor = false_alarm_actor()
    times = median_wall_times(
        {
            "baseline": [sys.executable, "-c", "import click"],
            "list": [crisiscomm, "list", "--db", str(db)],
            "show": [crisiscomm, "show", ids[0], "--db", str(db)],
        },
        runs=20,
    )
    # advance: a real state change each run, on a fresh incident
    advance_times = median_wall_times(
        {
            f"advance {n}": [
                crisiscomm,
                "advance",
                ids[n],
                "false_alarm",
                "--note",
                "test",
                "--db",
                str(db),
                "--as",
                actor,
            ]
            for n in range(1, 21)
        },
        runs=1,
    )
    advance = sorted(advance_times.values())[len(advance_times) // 2]
    base = times["baseline"]
    print(f'start-up, python -c "import click" = {base * 1000:.0f} ms:')
    for name, value, target in [
        ("list", times["list"], 2.5),
        ("show ID", times["show"], 2.5),
        ("advance ID", advance, 3.0),
    ]:
        ratio = value / base
        print(
            f"  crisiscomm {name:<10} {value * 1000:5.0f} ms = {ratio:.2f}x (target <= {target}x)"
        )


PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
PG_DATABASE = "crisiscomm_bench_throughput"
RAW_TABLE = (
    "CREATE TABLE IF NOT EXISTS raw_events (incident_id TEXT, seq BIGINT, at TEXT, actor TEXT,"
    " type TEXT, data TEXT, prev_hash BYTEA, hash BYTEA, PRIMARY KEY (incident_id, seq))"
)


def fresh_pg_database(server: str, *, drop_only: bool = False) -> str:
    """The URL of a new, empty benchmark database on `server` (dropped first if there);
    with `drop_only`, dropped and not made again (after the run)."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}"')
        if not drop_only:
            admin.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    return f"{server}/{PG_DATABASE}"


def raw_baseline_pg(url: str, events: int, commits: int) -> tuple[float, float]:
    """`raw_baseline` on PostgreSQL: psycopg writing `events` rows of the events table's
    shape in `commits` transactions, one INSERT per row (into the growing `raw_events`)."""
    import psycopg

    with psycopg.connect(url) as connection:
        connection.execute(RAW_TABLE)
        connection.commit()
        start = connection.execute("SELECT coalesce(max(seq), 0) FROM raw_events").fetchone()
        connection.commit()
        seq = int(start[0] if start else 0)
        started, started_cpu = time.perf_counter(), time.process_time()
        for rows in raw_commits(seq, events, commits, (bytes(32), bytes(32))):
            for row in rows:
                connection.execute(
                    "INSERT INTO raw_events VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", row
                )
            connection.commit()
        return time.perf_counter() - started, time.process_time() - started_cpu


def throughput(folder: Path, count: int, database: str, pg_server: str) -> None:
    # each slice's raw baseline runs right after it: the machine's load (other programs'
    # disk writes) and the disk's fsync time shift both alike
    raws: list[float] = []
    spent: list[float] = []  # the engine's seconds per chunk (the slices' baselines left out)
    cpus: list[tuple[float, float]] = []  # (engine, raw) CPU seconds per chunk
    if database == "postgresql":
        target: str | Path = fresh_pg_database(pg_server)
        url = str(target)

        def raw_run(events: int, commits: int) -> tuple[float, float]:
            return raw_baseline_pg(url, events, commits)

        limit_name = "raw psycopg"
    else:
        target = folder / "engine.db"

        def raw_run(events: int, commits: int) -> tuple[float, float]:
            return raw_baseline(folder / "raw.db", events, commits)

        limit_name = "raw sqlite3"
    print(
        f"throughput on {database}, {count} incidents opened and driven to closed,"
        f" per {CHUNK} incidents:"
    )

    pending: list[tuple[Chunk, float, float]] = []  # slices of the chunk in hand, raw times

    def report_chunk() -> None:
        slices = [(*part, raw, raw_cpu) for part, raw, raw_cpu in pending]
        incidents, events, commits, seconds, cpu, raw, raw_cpu = map(sum, zip(*slices, strict=True))
        pending.clear()
        raws.append(raw)
        spent.append(seconds)
        cpus.append((cpu, raw_cpu))
        done = CHUNK * (len(raws) - 1)
        # CPU per commit apart from the wall time: what is left once fsync waits are not
        print(
            f"  incidents {done + 1:>6}-{done + incidents:<6} {events / seconds:6.0f} events/s"
            f" = {raw / seconds:.2f}x of {limit_name} ({events / raw:6.0f}/s);"
            f" CPU per commit {cpu / commits * 1000:.2f} ms vs {raw_cpu / commits * 1000:.2f} ms",
            flush=True,
        )

    def slice_done(part: Chunk) -> None:
        raw, raw_cpu = raw_run(part[1], part[2])
        pending.append((part, raw, raw_cpu))
        if sum(done[0][0] for done in pending) >= CHUNK:
            report_chunk()

    with open_store(target) as store:
        events, commits = drive(store, count, on_chunk=slice_done, chunk=SLICE)
        if pending:
            report_chunk()
        elapsed = sum(spent)
        assert len(store.list_incidents(open_only=True)) == 0
    raw = sum(raws)
    ours, limit = events / elapsed, events / raw
    engine_cpu, raw_cpu = (sum(cpu) / commits * 1000 for cpu in zip(*cpus, strict=True))
    print(f"  all: {commits} commits, {events} events")
    engine = f"{elapsed:7.1f} s = {ours:7.0f} events/s, CPU {engine_cpu:.2f} ms/commit"
    print(f"  crisiscomm engine: {engine}")
    print(
        f"  {limit_name + ':':<18} {raw:7.1f} s = {limit:7.0f} events/s,"
        f" CPU {raw_cpu:.2f} ms/commit"
    )
    print(f"  ratio {ours / limit:.2f}x of raw (target >= 0.3x at every size)")
    if database == "sqlite":
        storage(folder / "engine.db", count)
    else:
        fresh_pg_database(pg_server, drop_only=True)


RETENTION = timedelta(days=30)  # office.yaml's default outbox_retention


def storage(db: Path, incidents: int) -> None:
    """Bytes per closed incident by table: as driven (every outbox row pending), and after
    delivering the outbox and pruning it past the retention, as `serve` does."""
    report(db, incidents, "as driven, every outbox row pending")
    with open_store(db) as store:
        now = datetime(2026, 4, 3, tzinfo=UTC) + timedelta(days=400)
        while rows := store.take_due_outbox(now=now, lease_until=now, limit=1000):
            store.mark_outbox_sent(rows, sent_at=now)
        pruned = store.prune_outbox(before=now + RETENTION + timedelta(seconds=1))
    report(db, incidents, f"outbox delivered, {pruned} sent rows pruned")


def report(db: Path, incidents: int, label: str) -> None:
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    sizes = connection.execute(
        "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
    ).fetchall()
    connection.close()
    total = sum(size for _name, size in sizes)
    print(f"storage per closed incident ({label}):")
    print(f"  {total / incidents / 1024:.1f} KB (target <= 20 KB) =", end="")
    big = [(name, size) for name, size in sizes if size / incidents >= 512]
    rest = total - sum(size for _name, size in big)
    for name, size in big:
        print(f" {name} {size / incidents / 1024:.1f}", end="")
    print(f" + other {rest / incidents / 1024:.1f}")


def listing(folder: Path) -> None:
    small, big = folder / "small.db", folder / "big.db"
    with open_store(small) as store:
        drive(store, 10, open_left=10)
    with open_store(big) as store:
        drive(store, 200, open_left=200)
        closed = store.list_incidents(open_only=True)
        del closed
    # 10,000 closed incidents: the event-heavy part is irrelevant to listing, so close fast
    with open_store(big) as store:
        playbook = compile_playbook(PLAYBOOK, library=Library())
        facts = [f"{k}={v}" for k, v in fact_samples(playbook).items()]
        clock = SimulatedClock(datetime(2026, 4, 3, 1, 0, tzinfo=UTC))
        actor = false_alarm_actor()
        for number in range(10_000):
            incident = service.open_incident(
                store=store,
                clock=clock,
                playbook_ref=str(PLAYBOOK),
                title=f"Old {number}",
                severity=None,
                facts=facts,
                actor=duty_officer(),
            )
            service.advance(
                store=store,
                clock=clock,
                incident_id=incident.id,
                trigger="false_alarm",
                note="old",
                actor=actor,
            )
    crisiscomm = str(Path(sys.executable).with_name("crisiscomm"))
    times = median_wall_times(
        {
            "10": [crisiscomm, "list", "--db", str(small)],
            "10200": [crisiscomm, "list", "--db", str(big)],
        },
        runs=15,
    )
    ratio = times["10200"] / times["10"]
    print("list, 200 open + 10,000 closed vs 10 open:")
    big_ms, small_ms = times["10200"] * 1000, times["10"] * 1000
    print(f"  {big_ms:.0f} ms vs {small_ms:.0f} ms = {ratio:.2f}x (target <= 2x)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--incidents", type=int, default=2_000)
    parser.add_argument("--only", choices=("startup", "listing", "throughput"))
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-server", default=PG_SERVER, help="for --database postgresql")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if arguments.only in (None, "startup"):
            startup(folder)
        if arguments.only in (None, "listing"):
            listing(folder)
        if arguments.only in (None, "throughput"):
            throughput(folder, arguments.incidents, arguments.database, arguments.pg_server)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
