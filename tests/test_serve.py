"""`crisiscomm serve` and `tick` as real processes, with second-scale timers.

These tests wait for real time to pass (the point is that a real scheduler fires real
timers); each waits by polling the database with a deadline, never a fixed sleep.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from crisiscomm.cli import main
from crisiscomm.store import open_store
from tests.conftest_store import pg_admin_fixture, target_fixture  # noqa: F401 (fixtures)

from .conftest import FIXTURES

FAST = str(FIXTURES / "serve" / "fast.yaml")
WAIT = 20.0


def wait_for(condition: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


class Serve:
    """A `crisiscomm serve` subprocess in the test's folder, logging to a file."""

    count = 0

    def __init__(self, db: Path | str, folder: Path | None = None) -> None:
        Serve.count += 1
        self.log = (folder or Path(db).parent) / f"serve-{Serve.count}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "crisiscomm",
                    "serve",
                    "--db",
                    str(db),
                    "--sync-interval",
                    "0.2",
                    "--log-format",
                    "json",
                ],
                stderr=log,
            )

    def lines(self) -> list[dict[str, object]]:
        text = self.log.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "office.db"
    with open_store(path):
        pass  # created before any serve starts, so processes never race to create it
    return path


@pytest.fixture
def serves() -> Iterator[list[Serve]]:
    started: list[Serve] = []
    yield started
    for serve in started:
        if serve.process.poll() is None:
            serve.process.kill()
        serve.process.wait()


def open_fast(db: Path | str, capsys: pytest.CaptureFixture[str], count: int = 1) -> list[str]:
    ids = []
    for number in range(count):
        assert (
            main(
                [
                    "open-incident",
                    FAST,
                    "--title",
                    f"Fast {number}",
                    "--db",
                    str(db),
                    "--as",
                    "aziz",
                    "--json",
                ]
            )
            == 0
        )
        ids.append(json.loads(capsys.readouterr().out)["id"])
    return ids


def kinds(db: Path | str, incident_id: str) -> Counter[str]:
    with open_store(db) as store:
        return Counter(e.type for e in store.events(incident_id))


def all_fired(db: Path | str, ids: list[str]) -> bool:
    with open_store(db) as store:
        return all(not store.timers(i, pending_only=True) for i in ids)


def test_serve_fires_escalations_and_deadline_in_real_time_and_stops_cleanly(
    db: Path, serves: list[Serve], capsys: pytest.CaptureFixture[str]
) -> None:
    serves.append(Serve(db))
    [incident_id] = open_fast(db, capsys)
    wait_for(lambda: kinds(db, incident_id)["deadline.missed"] == 1)
    assert kinds(db, incident_id) == Counter({"opened": 1, "escalation": 2, "deadline.missed": 1})
    wait_for(
        lambda: (
            Path("notifications.jsonl").exists()
            and len(Path("notifications.jsonl").read_text(encoding="utf-8").splitlines()) >= 3
        )
    )
    texts = [
        json.loads(line)["text"]
        for line in Path("notifications.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert f"Reminder: {incident_id}" in texts and f"Escalated: {incident_id}" in texts
    serves[0].process.send_signal(signal.SIGTERM)
    assert serves[0].process.wait(timeout=WAIT) == 0
    lines = serves[0].lines()
    assert lines[0]["event"] == "serve.started" and lines[-1]["event"] == "serve.stopped"
    fired = [line for line in lines if line.get("event") == "timer.fired"]
    assert len(fired) == 3 and all(float(line["late_by_seconds"]) < 5 for line in fired)  # type: ignore[arg-type]


# `crisiscomm serve` run as the command runs it; once it stops, the modules it had loaded
SERVE_AND_REPORT_MODULES = """
import json, sys
from crisiscomm.cli import main
code = main(sys.argv[1:])
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
sys.exit(code)
"""
# what a serve delivering to a file channel only never needs: the public site's builder and
# its templates and charts, and the channels that send to servers
NOT_FOR_A_FILE_CHANNEL = {
    "crisiscomm.notify.site",
    "crisiscomm.notify.smtp",
    "crisiscomm.notify.telegram",
    "crisiscomm.notify.webhook",
    "crisiscomm.publish",
    "jinja2",
    "pygal",
    "smtplib",
}


def test_serve_imports_no_channel_it_does_not_deliver_through(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "serve.log"
    arguments = ["serve", "--db", str(db), "--sync-interval", "0.2", "--log-format", "json"]
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", SERVE_AND_REPORT_MODULES, *arguments], stderr=stderr
        )
    try:
        [incident_id] = open_fast(db, capsys)
        wait_for(lambda: kinds(db, incident_id)["deadline.missed"] == 1)
        wait_for(lambda: len(Path("notifications.jsonl").read_bytes().splitlines()) >= 3)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=WAIT) == 0
    loaded = set(json.loads(log.read_text(encoding="utf-8").splitlines()[-1]))
    loaded |= {name.split(".")[0] for name in loaded} | {
        ".".join(name.split(".")[:2]) for name in loaded
    }
    assert "crisiscomm.notify.outbox" in loaded  # it did deliver
    assert loaded.isdisjoint(NOT_FOR_A_FILE_CHANNEL), loaded & NOT_FOR_A_FILE_CHANNEL


def test_two_serve_processes_fire_each_timer_once(
    target: str, tmp_path: Path, serves: list[Serve], capsys: pytest.CaptureFixture[str]
) -> None:
    """On SQLite and on PostgreSQL (the shared deployment several replicas serve)."""
    with open_store(target):
        pass
    db = target if "://" in target else Path(target)
    serves.extend([Serve(db, tmp_path), Serve(db, tmp_path)])
    ids = open_fast(db, capsys, count=6)
    wait_for(lambda: all_fired(db, ids))
    for incident_id in ids:
        assert kinds(db, incident_id) == Counter(
            {"opened": 1, "escalation": 2, "deadline.missed": 1}
        )


def test_sigkill_then_restart_loses_nothing_and_doubles_nothing(
    db: Path, serves: list[Serve], capsys: pytest.CaptureFixture[str]
) -> None:
    serves.append(Serve(db))
    ids = open_fast(db, capsys, count=8)
    wait_for(lambda: any(kinds(db, i)["escalation"] for i in ids))
    os.kill(serves[0].process.pid, signal.SIGKILL)  # in the middle of firing and delivering
    serves[0].process.wait()
    serves.append(Serve(db))  # the restart catches up on what came due meanwhile
    wait_for(lambda: all_fired(db, ids))
    for incident_id in ids:
        assert kinds(db, incident_id) == Counter(
            {"opened": 1, "escalation": 2, "deadline.missed": 1}
        )
    with open_store(db) as store:
        keys = {m.idempotency_key for i in ids for m in store.outbox(i)}
    wait_for(
        lambda: (
            {
                json.loads(line)["idempotency_key"]
                for line in Path("notifications.jsonl").read_text(encoding="utf-8").splitlines()
            }
            >= keys
        ),
        # a row the killed process had taken waits out its lease (60 s) before redelivery
        timeout=90,
    )
    delivered = [
        json.loads(line)["idempotency_key"]
        for line in Path("notifications.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert set(delivered) == keys  # every notification delivered at least once, nothing else


def test_tick_fires_each_overdue_timer_once_after_downtime(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    [incident_id] = open_fast(db, capsys)
    with sqlite3.connect(db) as connection:  # as if nothing had run for a day
        connection.execute("UPDATE timers SET due_at = '2026-04-02T01:00:00.000000Z'")
    assert main(["tick", "--db", str(db)]) == 0
    assert capsys.readouterr().out == "fired 3 timers; notifications: 3 sent, 0 to retry, 0 dead\n"
    assert main(["tick", "--db", str(db)]) == 0
    assert capsys.readouterr().out == "fired 0 timers; notifications: 0 sent, 0 to retry, 0 dead\n"
    with open_store(db) as store:
        late = [e.data["late_by_seconds"] for e in store.events(incident_id) if e.type != "opened"]
    assert len(late) == 3 and all(float(x) > 3600 for x in late)
