"""The engine and the officer's commands, each as a ratio to a baseline measured in this run.

1. Start-up: `crisiscomm list` and `crisiscomm show ID` wall time vs `python -c "import
   click"` (target <= 2.5x), `crisiscomm advance` (target <= 3x).
2. Throughput: open N incidents (default 10,000) and drive each through the standard
   protocol (the flood playbook) to closed, every command a durable commit; events/s vs raw
   `sqlite3` writing the same event rows in the same number of transactions with the same
   pragmas (WAL and the store's SQLITE_PRAGMAS) — the physical limit. Target >= 0.3x.
3. Listing: `crisiscomm list` with 10,000 closed and 200 open incidents vs with 10 (<= 2x).

Run: .venv/bin/python benchmarks/engine.py [--incidents N]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _timing import median_wall_times

from crisiscomm.clock import SimulatedClock
from crisiscomm.documents.library import Library
from crisiscomm.engine import service
from crisiscomm.engine.autopilot import Step, fact_samples, path_to, plan_transition
from crisiscomm.playbook.compile import compile_playbook
from crisiscomm.store import Store, open_store
from crisiscomm.store.dialect import SQLITE_PRAGMAS

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


def run_step(store: Store, clock: SimulatedClock, incident_id: str, step: Step) -> None:
    common = {"store": store, "clock": clock, "incident_id": incident_id, "actor": step.actor}
    if step.command == "check":
        service.check_item(**common, item=step.args[0])
    elif step.command == "draft":
        service.draft_statement(**common, statement=step.args[0])
    elif step.command == "approve":
        service.approve(**common, name=step.args[0])
    elif step.command == "release":
        service.release_statement(**common, statement=step.args[0])
    else:
        service.advance(**common, trigger=step.args[0], note=step.args[1])


def drive(store: Store, count: int, *, open_left: int = 0) -> tuple[int, int]:
    """Open `count` incidents and drive all but `open_left` to closed; (events, commits).

    The autopilot plans the officer's commands for the first incident, reading it before
    each transition; the others, identical, get the same commands, so what is timed is the
    commands, not the planner.
    """
    playbook = compile_playbook(PLAYBOOK, library=Library())
    facts = [f"{k}={v}" for k, v in fact_samples(playbook).items()]
    route = path_to(playbook, "closed")
    clock = SimulatedClock(datetime(2026, 4, 3, 1, 0, tzinfo=UTC))
    opener = duty_officer()
    commits = 0
    commands: list[Step] = []
    for number in range(count):
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
        if number >= count - open_left:
            continue
        if not commands:
            for transition in route:
                _playbook, current = service.load(store=store, incident_id=incident.id)
                for step in plan_transition(playbook, current, transition):
                    clock.advance(timedelta(seconds=1))
                    run_step(store, clock, incident.id, step)
                    commands.append(step)
            commits += len(commands)
            continue
        for step in commands:
            clock.advance(timedelta(seconds=1))
            run_step(store, clock, incident.id, step)
        commits += len(commands)
    events = sum(incident.event_count for incident in store.list_incidents())
    return events, commits


def raw_baseline(path: Path, events: int, commits: int) -> float:
    """Seconds for raw sqlite3 to write `events` rows in `commits` durable transactions."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    for pragma in SQLITE_PRAGMAS:  # the store's own: synchronous=FULL, mmap ...
        connection.execute(f"PRAGMA {pragma}")
    connection.execute(
        "CREATE TABLE events (incident_id TEXT, seq INTEGER, at TEXT, actor TEXT, type TEXT,"
        " data TEXT, prev_hash TEXT, hash TEXT, PRIMARY KEY (incident_id, seq))"
    )
    per_commit, extra = divmod(events, commits)
    row = (
        "2026-04-03T01:00:00.000000Z",
        "duty",
        "transition",
        '{"trigger":"confirm"}' * 4,
        "0" * 64,
        "f" * 64,
    )
    started = time.perf_counter()
    seq = 0
    for commit in range(commits):
        connection.execute("BEGIN IMMEDIATE")
        for _ in range(per_commit + (1 if commit < extra else 0)):
            seq += 1
            connection.execute(
                "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (f"INC-{commit % 997}", seq, *row),
            )
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


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


def throughput(folder: Path, count: int) -> None:
    with open_store(folder / "engine.db") as store:
        started = time.perf_counter()
        events, commits = drive(store, count)
        elapsed = time.perf_counter() - started
        assert len(store.list_incidents(open_only=True)) == 0
    raw = raw_baseline(folder / "raw.db", events, commits)
    ours, limit = events / elapsed, events / raw
    print(f"throughput, {count} incidents opened and driven to closed", end=" ")
    print(f"({commits} commits, {events} events):")
    print(f"  crisiscomm engine: {elapsed:7.1f} s = {ours:7.0f} events/s")
    print(f"  raw sqlite3:       {raw:7.1f} s = {limit:7.0f} events/s")
    print(f"  ratio {ours / limit:.2f}x of raw (target >= 0.3x)")


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
    parser.add_argument("--incidents", type=int, default=10_000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        startup(folder)
        listing(folder)
        throughput(folder, arguments.incidents)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
