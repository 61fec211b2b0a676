"""`crisiscomm status`, `show` and `list` at scale, on SQLite and PostgreSQL side by side.

- `status` and `show` (the newest open incident) as whole processes on installed bytecode
  (`python -m compileall` first), with 10,000 closed incidents (driven through the full
  route by the engine: statements cleared and released, updates, resolution; the outbox
  delivered and pruned; see _build.py) + 200 open, against 10 open incidents; all commands
  interleaved, medians. Targets: status <= 1.3x, show <= 1.2x.
- A million incidents (the 10,200 + 989,800 seeded with direct SQL, SQLite): `list --all`,
  its page deep in the history (`--after`) and `status --all` against the 10,200 database.
  Target: <= 1.5x (a page reads its own rows).
- One `watch` refresh at 200 open incidents, CPU time (process_time), headless. <= 50 ms.
- `--plans`: the query plan of every query `status` and `show` run (EXPLAIN QUERY PLAN;
  EXPLAIN on PostgreSQL).

The databases are built once and cached (_build.py); PostgreSQL on 127.0.0.1:5432 (trust
auth) unless --no-pg.

Run: .venv/bin/python benchmarks/ui.py [--closed N] [--runs N] [--no-pg] [--no-million]
     [--plans]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _build import cache_key, cache_root, pg_url, sqlite_copy
from _timing import median_wall_times

REPO = Path(__file__).resolve().parents[1]
MILLION = 1_000_000


def compiled() -> None:
    """Bytecode for the package, as an installed one has it."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "crisiscomm")], check=True)


def newest_open(target: str) -> str:
    from crisiscomm.store import open_store

    with open_store(target) as store:
        return store.incident_page(limit=1, open_only=True)[0].id


def million_db(source: Path, folder: Path) -> tuple[Path, str]:
    """A copy of `source` with older incidents seeded by direct SQL up to a million (cached
    beside the source); and the id of an incident half way down the list."""
    cached = cache_root() / cache_key(-1, MILLION) / "million.db"
    if not cached.is_file():
        cached.parent.mkdir(parents=True, exist_ok=True)
        building = cached.with_name("building.db")
        building.unlink(missing_ok=True)
        with sqlite3.connect(source) as original, sqlite3.connect(building) as copy:
            original.backup(copy)
        connection = sqlite3.connect(building)
        have = connection.execute("SELECT count(*) FROM incidents").fetchone()[0]
        started = time.perf_counter()
        connection.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
            " INSERT INTO incidents SELECT printf('INC-2020-%07d', n.i), playbook_id,"
            " playbook_hash, 'Old ' || n.i, severity, state, generation,"
            " strftime('%Y-%m-%dT%H:%M:%fZ', '2025-12-31', printf('-%d minutes', n.i)),"
            " strftime('%Y-%m-%dT%H:%M:%fZ', '2025-12-31', printf('-%d minutes', n.i)),"
            " strftime('%Y-%m-%dT%H:%M:%fZ', '2025-12-31', printf('-%d minutes', n.i - 30)),"
            " opened_by, '{}', version, event_count, last_hash"
            " FROM n, (SELECT * FROM incidents WHERE closed_at IS NOT NULL LIMIT 1)",
            (MILLION - have,),
        )
        connection.commit()
        connection.close()
        building.rename(cached)
        print(f"seeded {cached} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    del folder  # read only: the commands list, they write nothing
    return cached, "INC-2020-0500000"


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


def plans(target: str, argv: list[str]) -> list[tuple[str, list[str]]]:
    """(query, its plan) for each distinct query the command `argv` runs on `target`."""
    from click.testing import CliRunner

    from crisiscomm.cli import cli
    from crisiscomm.store import open_store
    from crisiscomm.store.connection import StoreConnection

    seen: dict[str, dict[str, object]] = {}
    original = StoreConnection._execute

    def recording(self: StoreConnection, sql: str, **params: object) -> object:
        seen.setdefault(sql, params)
        return original(self, sql, **params)

    StoreConnection._execute = recording  # type: ignore[method-assign]
    try:
        CliRunner().invoke(cli, [*argv, "--db", target], catch_exceptions=False)
    finally:
        StoreConnection._execute = original  # type: ignore[method-assign]
    found = []
    with open_store(target) as store:
        explain = "EXPLAIN QUERY PLAN " if store.backend == "sqlite" else "EXPLAIN "
        for sql, params in seen.items():
            if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            rows = store._execute(explain + sql, **params).fetchall()
            found.append((" ".join(sql.split()), [str(row[-1]) for row in rows]))
    return found


def ms(seconds: float) -> str:
    return f"{seconds * 1000:6.0f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--closed", type=int, default=10_000)
    parser.add_argument("--open", type=int, default=200)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-million", action="store_true")
    parser.add_argument("--plans", action="store_true", help="print each query's plan")
    args = parser.parse_args()
    compiled()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        targets = {
            "sqlite": (
                str(sqlite_copy(0, 10, folder / "small.db")),
                str(sqlite_copy(args.closed, args.open, folder / "large.db")),
            )
        }
        if not args.no_pg:
            targets["postgresql"] = (pg_url(0, 10), pg_url(args.closed, args.open))
        if args.plans:
            for backend, (_small, large) in targets.items():
                for argv in (["status"], ["show", newest_open(large)]):
                    print(f"{backend} {' '.join(argv[:1])}:")
                    for sql, plan in plans(large, argv):
                        print(f"  {sql[:110]}")
                        for line in plan:
                            print(f"      {line}")
            return 0
        python = [sys.executable, "-m", "crisiscomm"]
        commands = {}
        for backend, (small, large) in targets.items():
            for size, target in (("small", small), ("large", large)):
                commands[backend, "status", size] = [*python, "status", "--db", target]
                shown = newest_open(target)
                commands[backend, "show", size] = [*python, "show", shown, "--db", target]
        times = median_wall_times(
            {"|".join(key): argv for key, argv in commands.items()}, runs=args.runs
        )
        history = f"{args.open} open + {args.closed:,} closed"
        print(f"status and show: 10 open vs {history}, medians of {args.runs} interleaved runs")
        for backend in targets:
            for command, target in (("status", 1.3), ("show", 1.2)):
                small = times[f"{backend}|{command}|small"]
                large = times[f"{backend}|{command}|large"]
                print(
                    f"  {backend:<10} {command:<6} {ms(small)} vs {ms(large)} ="
                    f" {large / small:.2f}x (target <= {target}x)"
                )
        if not args.no_million:
            large = Path(targets["sqlite"][1])
            million, deep = million_db(large, folder)
            listing = {
                f"{name}|{size}": [*python, *argv, "--db", str(db)]
                for size, db in (("10,200", large), ("1,000,000", million))
                for name, argv in (
                    ("list --all", ["list", "--all"]),
                    ("list --all --after", ["list", "--all", "--after", deep]),
                    ("status --all", ["status", "--all"]),
                )
                if not (size == "10,200" and "--after" in argv)
            }
            listing["list --all --after|10,200"] = [
                *python,
                "list",
                "--all",
                "--after",
                newest_open(str(large)),
                "--db",
                str(large),
            ]
            lists = median_wall_times(listing, runs=args.runs)
            print("a million incidents (SQLite) vs 10,200, first page of 50:")
            for name in ("list --all", "list --all --after", "status --all"):
                small, big = lists[f"{name}|10,200"], lists[f"{name}|1,000,000"]
                print(f"  {name:<20} {ms(small)} vs {ms(big)} = {big / small:.2f}x (<= 1.5x)")
        samples = refresh_cpu(Path(targets["sqlite"][1]), 20)
        print(
            f"watch refresh at {args.open} open, CPU: median"
            f" {statistics.median(samples) * 1000:.1f} ms, max {max(samples) * 1000:.1f} ms"
            " (target <= 50 ms)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
