"""`crisiscomm status` and a `watch` refresh at scale.

- `status` wall time with 200 open + 10,000 closed incidents, against its time with 10 open
  incidents (same run, interleaved). Target: <= 2x.
- One `watch` refresh (re-read the store, redraw the table, feed and outbox) at 200 open
  incidents, CPU time (process_time), headless. Target: <= 50 ms.

Run: .venv/bin/python benchmarks/ui.py [--closed N] [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _timing import median_wall_times

from crisiscomm.clock import SimulatedClock
from crisiscomm.engine import service
from crisiscomm.store import open_store

REPO = Path(__file__).resolve().parents[1]
PLAYBOOK = REPO / "tests" / "fixtures" / "engine" / "press.yaml"
# `status` as the CLI runs it (registered here in case the group does not list it yet)
LAUNCH = (
    "import sys; from crisiscomm.cli import cli, main; from crisiscomm.cli.ui import status; "
    "cli.commands.setdefault('status', status); sys.exit(main(sys.argv[1:]))"
)


def fill(db: Path, *, open_count: int, closed_count: int) -> None:
    """Incidents of the test press playbook: some closed as false alarms, some open with a
    holding statement waiting for legal."""
    clock = SimulatedClock(datetime.now(UTC) - timedelta(days=1))
    with open_store(db) as store:

        def opened(title: str) -> str:
            return service.open_incident(
                store=store,
                clock=clock,
                playbook_ref=str(PLAYBOOK),
                title=title,
                severity=None,
                facts=["region=Nukus"],
                actor="aziz",
            ).id

        for number in range(closed_count):
            incident_id = opened(f"Closed {number}")
            service.advance(
                store=store,
                clock=clock,
                incident_id=incident_id,
                trigger="false_alarm",
                note="not real",
                actor="aziz",
            )
        for number in range(open_count):
            incident_id = opened(f"Open {number}")
            if number % 2:
                service.check_item(
                    store=store,
                    clock=clock,
                    incident_id=incident_id,
                    item="log_source",
                    actor="aziz",
                )
                service.advance(
                    store=store,
                    clock=clock,
                    incident_id=incident_id,
                    trigger="confirm",
                    note=None,
                    actor="aziz",
                )
                service.draft_statement(
                    store=store,
                    clock=clock,
                    incident_id=incident_id,
                    statement="holding",
                    actor="aziz",
                )
        clock.advance(timedelta(minutes=12))
        service.fire_due(store=store, clock=clock)


def refresh_cpu(db: Path, rounds: int) -> list[float]:
    """CPU seconds of `rounds` dashboard refreshes, headless."""
    from crisiscomm.ui.dashboard import Dashboard

    app = Dashboard(db=str(db), actor="bench")
    samples: list[float] = []

    async def run() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            for _ in range(rounds):
                started = time.process_time()
                app.reload()
                samples.append(time.process_time() - started)
                await pilot.pause()

    asyncio.run(run())
    return samples


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--closed", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        small, large = Path(folder) / "small.db", Path(folder) / "large.db"
        started = time.perf_counter()
        fill(small, open_count=10, closed_count=0)
        fill(large, open_count=200, closed_count=args.closed)
        print(f"set-up: {time.perf_counter() - started:.1f} s", file=sys.stderr)
        command = [sys.executable, "-c", LAUNCH, "status", "--db"]
        times = median_wall_times(
            {"10 open": [*command, str(small)], "200 open": [*command, str(large)]},
            runs=args.runs,
        )
        ratio = times["200 open"] / times["10 open"]
        print(
            f"crisiscomm status, 10 open:                        {times['10 open'] * 1000:7.1f} ms"
        )
        print(
            f"crisiscomm status, 200 open + {args.closed:,} closed:      "
            f"{times['200 open'] * 1000:7.1f} ms  ratio {ratio:.2f}x (target <= 2x)"
        )
        samples = refresh_cpu(large, 20)
        print(
            f"watch refresh at 200 open, CPU: median {statistics.median(samples) * 1000:.1f} ms, "
            f"max {max(samples) * 1000:.1f} ms (target <= 50 ms)"
        )
        return 0 if ratio <= 2 and statistics.median(samples) <= 0.05 else 1


if __name__ == "__main__":
    raise SystemExit(main())
