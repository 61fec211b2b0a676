"""The register (`crisiscomm inbox`) at size, against baselines measured in the same run.

- `inbox list --overdue` (the command, wall time) on 100,000 items vs on 100 items; in both
  the same 20 items are overdue, the rest closed or not yet due. Target <= 2x.
- full-text search (`Store.search_inbox`, in process, median of 21) on 100,000 items in four
  languages: a common word, two words, a rare word. Target <= 100 ms; the command's wall
  time is printed for context (most of it is Python starting).
- the register's part of a `status` / `watch` refresh (`register_summary`: overdue items and
  the rumours with the largest reach, in process, median of 21) on 100,000 items vs on 100;
  both registers hold the same 20 overdue items and 10 open posts. Target <= 2x.
- importing 10,000 CSV rows (`entries_from` + `add`, in process: one durable commit) vs raw
  sqlite3 writing the same rows (item, event, its timers, its search-index row, the counter)
  in one durable transaction with the same pragmas on the same schema. Target >= 0.3x.

The 100,000 items are seeded with direct SQL in one transaction (their events chained as
the store chains them); the 100 with the same code.

Run: .venv/bin/python benchmarks/inbox.py [--items 100000] [--rows 10000]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _timing import median_wall_times

from crisiscomm.clock import SimulatedClock, format_utc
from crisiscomm.inbox.importing import entries_from
from crisiscomm.inbox.register import compiled_register
from crisiscomm.inbox.service import add
from crisiscomm.store import open_store
from crisiscomm.store.dialect import SQLITE_PRAGMAS
from crisiscomm.store.events import chain_events
from crisiscomm.store.rows import NewEvent
from crisiscomm.store.search import fold_words
from crisiscomm.ui.register import SHOWN, register_summary

REPO = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).with_name("crisiscomm"))
NOW = datetime.now(UTC)
WORDS = {
    "kaa": "suw ishimlik awıl Qońırat Nókis mektep jol jaqtılıq gaz tasqın dárya bala kesel",
    "uz": "suv ichimlik qishloq maktab yoʻl elektr gaz toshqin daryo bola kasal oʻgʻil",
    "ru": "вода питьевая село школа дорога свет газ наводнение река дети больница",
    "en": "water drinking village school road power gas flood river children hospital",
}
RARE = "Taxiatosh"  # one item in 10,000 holds it


def text(rng: random.Random, language: str, length: int) -> str:
    return " ".join(rng.choices(WORDS[language].split(), k=length))


def seed(db: Path, count: int, overdue: int = 20) -> None:
    """`count` items: `overdue` of them overdue, 80 open and due later (10 of them posts with
    a reach), the rest closed (one in 100 a post with a reach)."""
    rng = random.Random(count)
    with open_store(db) as store:
        conn = store._conn  # seeding: direct SQL, one transaction
        conn.execute("BEGIN IMMEDIATE")
        items, events, index = [], [], []
        for n in range(count):
            language = rng.choice(list(WORDS))
            received = NOW - timedelta(days=400 * (count - n) / count + 30)
            item_id = f"INB-2026-{n + 1:06d}"
            subject = text(rng, language, 3)
            body = text(rng, language, 25) + (f" {RARE}" if n % 10_000 == 7 else "")
            closed = n >= overdue + 80
            due = received + timedelta(days=3) if n < overdue else NOW + timedelta(days=5)
            post = overdue <= n < overdue + 10 or (closed and n % 100 == 0)
            kind = "post" if post else "question"
            data = {"kind": kind, "subject": subject}
            chained, last_hash = chain_events(
                item_id, 0, "", [NewEvent(received, "seed", "inbox.received", data)]
            )
            items.append(
                (item_id, kind, "closed" if closed else "new", format_utc(received),
                 "telegram", "@asker", language, subject, body, format_utc(due),
                 format_utc(received + timedelta(days=1)) if closed else None,
                 rng.randrange(100, 90_000) if post else None, last_hash)
            )  # fmt: skip
            events.extend(chained)
            index.append((" ".join(fold_words(subject)), " ".join(fold_words(body)), item_id))
        conn.executemany(
            "INSERT INTO inbox_items (id, kind, status, received_at, channel, source, language,"
            " subject, text, due_at, closed_at, reach, last_hash, extended, data, generation,"
            " version, event_count) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,0,'{}',1,1,1)",
            items,
        )
        conn.executemany(
            "INSERT INTO inbox_events (item_id, seq, at, actor, type, data, prev_hash, hash)"
            " VALUES (:incident_id, :seq, :at, :actor, :type, :data, :prev_hash, :hash)",
            events,
        )
        conn.executemany(
            "INSERT INTO inbox_search (rowid, subject, text, answer)"
            " SELECT rowid, ?, ?, '' FROM inbox_items WHERE id = ?",
            index,
        )
        conn.execute("COMMIT")


def overdue_ratio(folder: Path, count: int, runs: int) -> None:
    small, large = folder / "small.db", folder / "large.db"
    seed(small, 100)
    started = time.perf_counter()
    seed(large, count)
    print(f"seeded {count:,} items in {time.perf_counter() - started:.1f} s")
    times = median_wall_times(
        {
            "small": [CLI, "inbox", "list", "--overdue", "--db", str(small)],
            "large": [CLI, "inbox", "list", "--overdue", "--db", str(large)],
        },
        runs=runs,
    )
    print(
        f"inbox list --overdue: {count:,} items {times['large'] * 1000:.0f} ms vs 100 items "
        f"{times['small'] * 1000:.0f} ms = {times['large'] / times['small']:.2f}x (target <= 2x)"
    )
    with open_store(large) as store:
        for query in ("suw", "вода школа", RARE):
            found = store.search_inbox(query)
            samples = []
            for _ in range(21):
                started = time.perf_counter()
                store.search_inbox(query)
                samples.append(time.perf_counter() - started)
            print(
                f"search {query!r} on {count:,} items: {statistics.median(samples) * 1000:.1f} ms"
                f" ({len(found)} shown, best first; target <= 100 ms)"
            )
    times = median_wall_times(
        {"search": [CLI, "inbox", "search", "вода школа", "--db", str(large)]}, runs=runs
    )
    print(f"  the command `inbox search` (start-up included): {times['search'] * 1000:.0f} ms")
    refresh = {}
    for name, db in (("small", small), ("large", large)):
        with open_store(db) as store:
            summary = register_summary(store=store, now=NOW)
            assert len(summary.overdue) == SHOWN and len(summary.rumours) == SHOWN, summary
            samples = []
            for _ in range(21):
                started = time.perf_counter()
                register_summary(store=store, now=NOW)
                samples.append(time.perf_counter() - started)
            refresh[name] = statistics.median(samples)
    print(
        f"register part of a status/watch refresh: {count:,} items "
        f"{refresh['large'] * 1000:.2f} ms vs 100 items {refresh['small'] * 1000:.2f} ms = "
        f"{refresh['large'] / refresh['small']:.2f}x (target <= 2x)"
    )


def import_ratio(folder: Path, rows: int) -> None:
    rng = random.Random(rows)
    lines = ["kind,received_at,channel,source,language,subject,text,external_id"]
    for n in range(rows):
        language = rng.choice(list(WORDS))
        at = (NOW - timedelta(minutes=rows - n)).strftime("%Y-%m-%d %H:%M")
        lines.append(
            f"question,{at},portal,my.gov.uz,{language},{text(rng, language, 3)},"
            f"{text(rng, language, 25)},P-{n}"
        )
    raw = ("\n".join(lines) + "\n").encode()
    register = compiled_register(REPO / "inbox.yaml")
    empty = folder / "empty.db"
    open_store(empty).close()
    ours, theirs = folder / "import.db", folder / "raw.db"
    shutil.copy(empty, ours)
    shutil.copy(empty, theirs)
    with open_store(ours) as store:
        started = time.perf_counter()
        entries = entries_from(raw, zone="Asia/Tashkent", kinds=tuple(register.lifecycles))
        added = add(store=store, register=register, clock=SimulatedClock(NOW), actor="seed",
                    entries=entries)  # fmt: skip
        ours_s = time.perf_counter() - started
    assert len(added) == rows
    # the same rows, precomputed, in raw SQL: what the import writes, without deciding it
    with sqlite3.connect(ours) as source:
        item_rows = source.execute("SELECT * FROM inbox_items").fetchall()
        event_rows = source.execute("SELECT * FROM inbox_events").fetchall()
        timer_rows = source.execute(
            "SELECT item_id, kind, key, due_at, generation, data FROM inbox_timers"
        ).fetchall()
        index_rows = source.execute("SELECT subject, text, answer FROM inbox_search").fetchall()
    conn = sqlite3.connect(theirs, isolation_level=None)
    for pragma in SQLITE_PRAGMAS:
        conn.execute(f"PRAGMA {pragma}")
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    event_of = {row[0]: row for row in event_rows}
    for n, item in enumerate(item_rows):
        event = event_of[item[0]]
        conn.execute(
            "INSERT INTO counters (name, value) VALUES ('inbox:2026', 1) ON CONFLICT (name) "
            "DO UPDATE SET value = counters.value + 1"
        )
        conn.execute(f"INSERT INTO inbox_items VALUES ({','.join('?' * len(item))})", item)
        conn.execute("INSERT INTO inbox_events VALUES (?,?,?,?,?,?,?,?)", event)
        conn.execute(
            "INSERT INTO inbox_search (rowid, subject, text, answer) VALUES (?,?,?,?)",
            (n + 1, *index_rows[n]),
        )
    conn.executemany(
        "INSERT INTO inbox_timers (item_id, kind, key, due_at, generation, data)"
        " VALUES (?,?,?,?,?,?)",
        timer_rows,
    )
    conn.execute("COMMIT")
    raw_s = time.perf_counter() - started
    conn.close()
    print(
        f"import {rows:,} CSV rows: {ours_s * 1000:.0f} ms vs raw durable inserts of the same "
        f"rows {raw_s * 1000:.0f} ms = {raw_s / ours_s:.2f}x of raw (target >= 0.3x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    os.environ.setdefault("CRISISCOMM_ACTOR", "asultanova")
    os.environ["CRISISCOMM_INBOX"] = str(REPO / "inbox.yaml")
    folder = Path(tempfile.mkdtemp(prefix="crisiscomm-inbox-bench-"))
    try:
        overdue_ratio(folder, args.items, args.runs)
        import_ratio(folder, args.rows)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
