"""Cached benchmark databases: incidents driven through the full route by the engine.

`closed` incidents of the flood playbook go the whole way (assessed, confirmed, holding and
full statements drafted, cleared and released, follow-up, resolved, stood down, closed) with
the officers' commands the autopilot plans (benchmarks/engine.py's `drive`), then `open`
ones are opened and left at the start with their timers; the outbox is delivered (marked
sent as `serve` marks it) and pruned past the retention, as `serve` does hourly.

The result is kept under ~/.cache/crisiscomm-bench/<key>/ (or $CRISISCOMM_BENCH_CACHE),
the key a hash of the parameters, BUILD and the playbooks, so a rerun copies it in a
second (`--rebuild` builds again, e.g. after changes to what the engine writes; newer
migrations are applied when a benchmark opens its copy). On PostgreSQL the database
`crisiscomm_bench_<key>` gets the same rows, copied from the SQLite file (what the engine
wrote, without driving 10,000 incidents a second time), is made once and reused by name;
`--drop-pg` removes them.

Run: .venv/bin/python benchmarks/_build.py [--closed N] [--open N] [--pg URL]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
RETENTION = timedelta(days=30)  # office.yaml's default outbox_retention
SOURCES = ("playbooks", "protocols")  # hashed into the cache key
# raise it when the engine writes incidents differently enough to matter to a benchmark
BUILD = "v1"


def cache_root() -> Path:
    named = os.environ.get("CRISISCOMM_BENCH_CACHE")
    return Path(named) if named else Path.home() / ".cache" / "crisiscomm-bench"


def cache_key(closed: int, open_count: int) -> str:
    """A hash of the parameters, BUILD and the playbooks."""
    digest = hashlib.sha256(f"{BUILD} closed={closed} open={open_count}".encode())
    for folder in SOURCES:
        for path in sorted((REPO / folder).rglob("*")):
            if path.is_file() and path.suffix in {".py", ".sql", ".yaml", ".json", ".j2"}:
                digest.update(str(path.relative_to(REPO)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def fill(target: str, closed: int, open_count: int) -> None:
    """Drive `closed` incidents to closed, open `open_count` more; deliver and prune."""
    sys.path.insert(0, str(Path(__file__).parent))
    from engine import drive  # the benchmark of the engine: the autopilot's route

    from crisiscomm.store import open_store

    with open_store(target) as store:
        drive(store, closed + open_count, open_left=open_count)
        now = datetime(2026, 4, 3, tzinfo=UTC) + timedelta(days=400)
        while rows := store.take_due_outbox(now=now, lease_until=now, limit=1000):
            store.mark_outbox_sent(rows, sent_at=now)
        store.prune_outbox(before=now + RETENTION + timedelta(seconds=1))


def sqlite_db(closed: int, open_count: int, *, quiet: bool = False) -> Path:
    """The cached SQLite file with `closed` + `open_count` incidents (built if missing)."""
    folder = cache_root() / cache_key(closed, open_count)
    db = folder / "bench.db"
    if db.is_file():
        return db
    folder.mkdir(parents=True, exist_ok=True)
    building = folder / "building.db"
    for stale in folder.glob("building.db*"):
        stale.unlink()
    started = time.perf_counter()
    fill(str(building), closed, open_count)
    with sqlite3.connect(building) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    building.rename(db)
    for left in folder.glob("building.db-*"):  # the emptied WAL and its index
        left.unlink()
    if not quiet:
        print(
            f"built {db} ({closed} closed + {open_count} open) in "
            f"{time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
    return db


def sqlite_copy(closed: int, open_count: int, into: Path) -> Path:
    """A private copy of the cached SQLite file (a benchmark may write to it)."""
    into.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(sqlite_db(closed, open_count), into)
    return into


def pg_url(closed: int, open_count: int, server: str = PG_SERVER) -> str:
    """A PostgreSQL database with `closed` + `open_count` incidents, made once by name."""
    import psycopg

    name = f"crisiscomm_bench_{cache_key(closed, open_count)}"
    ready = cache_root() / cache_key(closed, open_count) / "pg-ready"
    url = f"{server}/{name}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and ready.is_file() and ready.read_text() == url:
            return url
        if exists:  # a build that did not finish
            admin.execute(f'DROP DATABASE "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    source = sqlite_db(closed, open_count)
    started = time.perf_counter()
    copy_to_pg(source, url)
    ready.write_text(url)
    print(f"copied into {url} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return url


def copy_to_pg(source: Path, url: str) -> None:
    """The rows of the SQLite file `source` into the empty database `url` (its schema made
    by the store's own migrations), sequences moved past the copied ids."""
    import psycopg

    from crisiscomm.store import open_store

    with open_store(url):
        pass  # the schema, by the migrations
    reader = sqlite3.connect(source)
    tables = [
        str(row[0])
        for row in reader.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name NOT LIKE '%search%' ORDER BY rowid"
        )
    ]
    with psycopg.connect(url) as connection:
        present = {
            str(row[0])
            for row in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        }
        for table in tables:
            if table not in present or table == "schema_version":
                continue
            cursor = reader.execute(f"SELECT * FROM {table}")
            columns = ", ".join(d[0] for d in cursor.description)
            with connection.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in cursor:
                    copy.write_row(row)
        for table in tables:
            if table not in present or "id" not in _columns(reader, table):
                continue
            sequence = connection.execute(
                "SELECT pg_get_serial_sequence(%s, 'id')", (table,)
            ).fetchone()
            if sequence and sequence[0]:
                connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                )
    reader.close()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


def _columns(reader: sqlite3.Connection, table: str) -> list[str]:
    return [str(row[1]) for row in reader.execute(f"PRAGMA table_info({table})")]


def drop_pg(server: str = PG_SERVER) -> list[str]:
    """Drop every benchmark database on the server; their names."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        names = [
            str(row[0])
            for row in admin.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE 'crisiscomm_bench_%'"
            )
        ]
        for name in names:
            admin.execute(f'DROP DATABASE "{name}"')
    for ready in cache_root().glob("*/pg-ready"):
        ready.unlink()
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--closed", type=int, default=10_000)
    parser.add_argument("--open", type=int, default=200)
    parser.add_argument("--pg", nargs="?", const=PG_SERVER, default=None, metavar="SERVER")
    parser.add_argument("--drop-pg", action="store_true", help="drop the PostgreSQL ones")
    parser.add_argument("--rebuild", action="store_true", help="build again, cache or not")
    arguments = parser.parse_args()
    if arguments.rebuild:
        shutil.rmtree(cache_root() / cache_key(arguments.closed, arguments.open), True)
    if arguments.drop_pg:
        print("dropped:", ", ".join(drop_pg(arguments.pg or PG_SERVER)) or "none")
        return 0
    print(sqlite_db(arguments.closed, arguments.open))
    if arguments.pg:
        print(pg_url(arguments.closed, arguments.open, arguments.pg))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
