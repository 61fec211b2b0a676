"""`crisiscomm serve` under faults, as a real process: a lost PostgreSQL connection, a file
that went away, a locked database, SIGTERM in the middle of a big sync, a read-only
database, short delivery settings.

Every wait polls with a deadline (never a fixed sleep as an assertion); deadlines are
generous for a loaded machine, and each test stays well under 20 s when things work.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from crisiscomm.cli import main
from crisiscomm.store import open_store
from tests.conftest_store import PG_URL_ENV, pg_admin_fixture  # noqa: F401 (fixture)

from .conftest import FIXTURES

FAST = FIXTURES / "serve" / "fast.yaml"
WAIT = 20.0


def wait_for(condition: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


class Serve:
    """A `crisiscomm serve --log-format json` subprocess logging to a file."""

    def __init__(self, db: Path | str, log: Path, *options: str) -> None:
        self.log = log
        with log.open("wb") as sink:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "crisiscomm",
                    "serve",
                    "--db",
                    str(db),
                    "--log-format",
                    "json",
                    *options,
                ],
                stderr=sink,
            )

    def lines(self) -> list[dict[str, Any]]:
        """The log so far; every line must be one JSON object."""
        text = self.log.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def events(self) -> Counter[str]:
        return Counter(str(line.get("event")) for line in self.lines())

    def started(self) -> bool:
        return self.events()["serve.started"] == 1


@pytest.fixture
def serves() -> Iterator[list[Serve]]:
    started: list[Serve] = []
    yield started
    for serve in started:
        if serve.process.poll() is None:
            serve.process.kill()
        serve.process.wait()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "office.db"
    with open_store(path):
        pass
    return path


@pytest.fixture
def pg_url(pg_admin: Any) -> Iterator[str]:
    """A fresh schema on the test server; serve's connections are named by the URL's
    application_name, so the test can find and terminate them."""
    schema = f"test_{uuid.uuid4().hex[:16]}"
    pg_admin.execute(f"CREATE SCHEMA {schema}")
    base = os.environ[PG_URL_ENV]
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}&application_name={schema}"
    finally:
        pg_admin.execute(f"DROP SCHEMA {schema} CASCADE")


def open_fast(db: Path | str, capsys: pytest.CaptureFixture[str], playbook: Path = FAST) -> str:
    arguments = ["open-incident", str(playbook), "--title", "Fast", "--db", str(db)]
    assert main([*arguments, "--as", "aziz", "--json"]) == 0
    return str(json.loads(capsys.readouterr().out)["id"])


def kinds(db: Path | str, incident_id: str) -> Counter[str]:
    with open_store(db) as store:
        return Counter(e.type for e in store.events(incident_id))


ALL_FIRED = Counter({"opened": 1, "escalation": 2, "deadline.missed": 1})


def one_timer_playbook(folder: Path) -> Path:
    """fast.yaml with its deadline only: nothing else wakes serve up for this incident."""
    text = FAST.read_text(encoding="utf-8")
    ladder = text[text.index("    escalation:") : text.index("  closed:")]
    path = folder / "one-timer.yaml"
    path.write_text(text.replace(ladder, ""), encoding="utf-8")
    return path


def assert_one_line_per_failure(serve: Serve) -> None:
    """No traceback inside a JSON line and no line of APScheduler's own."""
    for line in serve.lines():
        assert not str(line["logger"]).startswith("apscheduler"), line
        assert "Traceback" not in json.dumps(line), line


# -- 1. a lost database ------------------------------------------------------------------------


def test_serve_reconnects_after_its_postgresql_backends_are_terminated(
    pg_url: str,
    pg_admin: Any,
    tmp_path: Path,
    serves: list[Serve],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A server restart, a failover, a network blip: the connections are gone; serve opens
    new ones (saying so once), and a timer made afterwards fires."""
    name = pg_url.rsplit("application_name=", 1)[1]

    def backends() -> int:
        query = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
        return int(pg_admin.execute(query, (name,)).fetchone()[0])

    with open_store(pg_url):
        pass
    serves.append(Serve(pg_url, tmp_path / "serve.log", "--sync-interval", "0.2"))
    wait_for(lambda: serves[0].started() and backends() >= 2)  # the main and sync threads
    pg_admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
        (name,),
    )
    wait_for(lambda: serves[0].events()["database.reconnected"] >= 1)
    incident_id = open_fast(pg_url, capsys)
    wait_for(lambda: kinds(pg_url, incident_id) == ALL_FIRED)
    assert serves[0].process.poll() is None
    events = serves[0].events()
    assert (events["database.lost"], events["database.reconnected"]) == (1, 1)
    serves[0].process.send_signal(signal.SIGTERM)
    assert serves[0].process.wait(timeout=WAIT) == 0


def test_a_thread_whose_first_connection_fails_reports_the_loss_and_the_return(
    db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """serve's threads each open their own connection when they first need it. The one a
    thread was opening when PostgreSQL terminated serve's backends failed inside open_store:
    it said `sync.error`, never `database.lost`, and nobody said `database.reconnected` (seen
    in CI). A connection that cannot be opened is a loss too, once the database was reached;
    here the file is away while a thread opens its first one."""
    from crisiscomm.errors import CrisisCommError
    from crisiscomm.serve.database import RECONNECT_FIRST, Database

    caplog.set_level(logging.DEBUG, logger="crisiscomm.serve")
    database = Database(str(db), threading.Lock())
    database.store()  # the main thread's, at start
    outcomes: list[str] = []

    def first_connection() -> None:
        try:
            database.store()
        except CrisisCommError:
            outcomes.append("failed")
        outcomes.append("away" if database.down_for() > 0 else "up")
        db.with_name("moved.db").rename(db)
        time.sleep(RECONNECT_FIRST * 2)  # past the backoff
        database.store()
        outcomes.append("away" if database.down_for() > 0 else "up")
        database.close()

    db.rename(db.with_name("moved.db"))
    thread = threading.Thread(target=first_connection)
    thread.start()
    thread.join(timeout=WAIT)
    database.close()
    assert outcomes == ["failed", "away", "up"]
    events = Counter(getattr(r, "fields", {}).get("event") for r in caplog.records)
    assert (events["database.lost"], events["database.reconnected"]) == (1, 1)


def test_serve_exits_non_zero_once_its_sqlite_file_stays_gone(
    db: Path, serves: list[Serve]
) -> None:
    """The file moved away: serve must not go on writing to a file nobody reads, nor make a
    new empty one; past --give-up-after it exits 1, for its supervisor to restart it."""
    serves.append(
        Serve(db, db.parent / "serve.log", "--sync-interval", "0.2", "--give-up-after", "1")
    )
    wait_for(serves[0].started)
    db.rename(db.parent / "moved.db")
    assert serves[0].process.wait(timeout=WAIT) == 1
    events = serves[0].events()
    assert (events["database.lost"], events["serve.gave_up"], events["serve.stopped"]) == (1, 1, 1)
    assert not db.exists()


# -- 2. a due timer is never abandoned --------------------------------------------------------


def test_a_timer_whose_pass_met_a_locked_database_fires_after_the_lock_goes(
    db: Path, serves: list[Serve], capsys: pytest.CaptureFixture[str]
) -> None:
    """Another process holds SQLite's write lock past the busy timeout (5 s) across the
    first firing pass: the pass fails, and its timers fire once the lock goes, not at the
    next full sync (30 syncs later) nor never. Each failure is one log line."""
    serves.append(Serve(db, db.parent / "serve.log", "--sync-interval", "1"))
    wait_for(serves[0].started)
    incident_id = open_fast(db, capsys, one_timer_playbook(db.parent))
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        # the firing pass waited out the busy timeout and failed (before this was fixed,
        # APScheduler's job.error said so)
        failed = {"timer.pass_error", "job.error"}
        wait_for(lambda: any(line["event"] in failed for line in serves[0].lines()))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    released = time.monotonic()
    fired = Counter({"opened": 1, "deadline.missed": 1})
    wait_for(lambda: kinds(db, incident_id) == fired, timeout=15)
    assert time.monotonic() - released < 15
    assert_one_line_per_failure(serves[0])
    serves[0].process.send_signal(signal.SIGTERM)
    assert serves[0].process.wait(timeout=WAIT) == 0
    assert kinds(db, incident_id) == fired  # once


def test_a_timer_whose_firing_fails_backs_off_and_show_says_when_it_is_tried_again(
    db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from crisiscomm.clock import SimulatedClock, format_utc
    from crisiscomm.engine import service, timers

    incident_id = open_fast(db, capsys)
    with open_store(db) as store:
        [first, *_rest] = store.timers(incident_id)

    fire = timers.fire_timer

    def fire_or_break(playbook, incident, timer, *, now):  # type: ignore[no-untyped-def]
        if timer.id == first.id:
            raise ValueError("a template this firing cannot render")
        return fire(playbook, incident, timer, now=now)

    monkeypatch.setattr(timers, "fire_timer", fire_or_break)
    clock = SimulatedClock(first.due_at)
    tries = []
    with open_store(db) as store:
        for _ in range(3):  # each failure doubles the wait: 1 s, 2 s, 4 s
            [firing] = [
                f for f in service.fire_batch(store=store, clock=clock) if f.timer.id == first.id
            ]
            assert str(firing.error) == "a template this firing cannot render"
            [row] = [t for t in store.timers(incident_id) if t.id == first.id]
            tries.append((row.failures, row.next_try_at - clock.now()))  # type: ignore[operator]
            again = service.fire_batch(store=store, clock=clock)
            assert first.id not in {f.timer.id for f in again}  # not before its next try
            clock.advance(row.next_try_at - clock.now())  # type: ignore[operator]
    assert tries == [(n, timedelta(seconds=2 ** (n - 1))) for n in (1, 2, 3)]
    assert main(["show", incident_id, "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "firing failed; next try" in out
    with open_store(db) as store:
        assert format_utc(store.next_try(clock.now())) == format_utc(clock.now())  # type: ignore[arg-type]


# -- 3. SIGTERM at any moment ------------------------------------------------------------------


def test_sigterm_during_a_sync_of_thousands_of_timers_exits_within_seconds(
    db: Path, serves: list[Serve], capsys: pytest.CaptureFixture[str]
) -> None:
    """APScheduler's shutdown(wait=True) held its job-store lock waiting for the sync, which
    waited for that lock in add_job: SIGTERM during a big sync never ended."""
    incident_id = open_fast(db, capsys)
    with sqlite3.connect(db) as connection:  # 12,000 timers due in 5 minutes: one big sync
        connection.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12000)"
            " INSERT INTO timers (incident_id, kind, key, due_at, generation, data)"
            " SELECT ?, 'deadline', 'bulk:' || i,"
            " strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+5 minutes'), 1, '{}' FROM n",
            (incident_id,),
        )
    for attempt in range(3):  # SIGTERM at different moments of the start and the sync
        serve = Serve(db, db.parent / f"serve-{attempt}.log", "--sync-interval", "5")
        serves.append(serve)
        wait_for(serve.started)
        if attempt:
            time.sleep(0.3 * attempt)  # into the sync (a moment to hit, not an assertion)
        serve.process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        assert serve.process.wait(timeout=15) == 0
        assert time.monotonic() - signalled < 15
        assert serve.events()["serve.stopped"] == 1


# -- 6. settings and the log -------------------------------------------------------------------


def test_serve_on_a_read_only_database_exits_with_a_json_error_line(
    pg_url: str, tmp_path: Path
) -> None:
    read_only = pg_url.replace(
        "options=-csearch_path%3D",
        "options=-cdefault_transaction_read_only%3Don%20-csearch_path%3D",
    )
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.run(
            [
                sys.executable,
                "-m",
                "crisiscomm",
                "serve",
                "--db",
                read_only,
                "--log-format",
                "json",
            ],
            stderr=sink,
            timeout=WAIT,
            check=False,
        )
    assert process.returncode == 1  # a StoreError
    [line] = [json.loads(text) for text in log.read_text(encoding="utf-8").splitlines()]
    assert (line["level"], line["event"]) == ("error", "serve.failed")
    assert "refused access" in line["message"] and "Traceback" not in json.dumps(line)
    assert line["hint"] == "check the user in CRISISCOMM_DB and its rights on the database"


def test_a_failed_notification_is_retried_after_the_first_retry_setting(
    db: Path, serves: list[Serve], capsys: pytest.CaptureFixture[str]
) -> None:
    """--first-retry (and --lease) make delivery settings short where tests need them."""
    blocked = db.parent / "blocked"
    blocked.write_text("a file where the channel wants a folder", encoding="utf-8")
    playbook = db.parent / "fast.yaml"
    text = FAST.read_text(encoding="utf-8")
    playbook.write_text(text.replace("path: notifications.jsonl", "path: blocked/n.jsonl"))
    options = ["--sync-interval", "0.2", "--first-retry", "0.2", "--lease", "5"]
    serves.append(Serve(db, db.parent / "serve.log", *options))
    wait_for(serves[0].started)
    incident_id = open_fast(db, capsys, playbook)

    def attempts() -> list[int]:
        with open_store(db) as store:
            rows = store.list_outbox(statuses=("pending", "dead"), limit=100)
        return [row.attempts for row in rows if row.incident_id == incident_id]

    # with the default (30 s) the first row would still wait for its second attempt
    wait_for(lambda: any(n >= 3 for n in attempts()))
    retries = [line for line in serves[0].lines() if line.get("event") == "outbox.retry"]
    assert retries and all("Traceback" not in json.dumps(line) for line in retries)
