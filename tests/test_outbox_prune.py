"""The outbox stays small as history grows: counted and listed by its status index, and its
sent rows pruned after the office's retention (`outbox prune`, and `serve` once an hour).
Real databases: SQLite, and PostgreSQL where CRISISCOMM_TEST_PG_URL is set."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from crisiscomm.clock import SimulatedClock
from crisiscomm.store import Store, open_store
from crisiscomm.store.outbox import LIST_OUTBOX, OUTBOX_COUNTS, PRUNE_OUTBOX
from tests.conftest_store import (  # noqa: F401 (fixtures, used by name)
    T0,
    pg_admin_fixture,
    store_fixture,
    target_fixture,
)
from tests.test_outbox_store import LEASE, queue

from .conftest import REPO


def _mixed(store: Store) -> None:
    """Ten rows: four sent on day 0, two sent on day 40, two dead, two pending."""
    queue(store, 10)
    rows = store.take_due_outbox(now=T0, lease_until=T0 + LEASE, limit=10)
    store.mark_outbox_sent(rows[:4], sent_at=T0)
    store.mark_outbox_sent(rows[4:6], sent_at=T0 + timedelta(days=40))
    for row in rows[6:8]:
        store.mark_outbox_dead(row, error="refused")
    for row in rows[8:]:
        store.mark_outbox_retry(row, next_attempt_at=T0 + timedelta(days=50), error="503")


def test_only_rows_sent_before_the_cut_are_pruned(store: Store) -> None:
    _mixed(store)
    assert store.outbox_counts() == {"pending": 2, "sent": 6, "dead": 2, "failing": 2}
    assert store.prune_outbox(before=T0 + timedelta(days=30), batch=3) == 4
    assert store.outbox_counts() == {"pending": 2, "sent": 2, "dead": 2, "failing": 2}
    assert store.prune_outbox(before=T0 + timedelta(days=30)) == 0
    # dead and pending rows stay, however old
    assert store.prune_outbox(before=T0 + timedelta(days=400)) == 2
    assert store.outbox_counts() == {"pending": 2, "sent": 0, "dead": 2, "failing": 2}
    assert len(store.list_outbox(statuses=["dead"])) == 2


def test_counts_and_dead_letters_read_the_status_index_not_the_table(tmp_path: Path) -> None:
    db = tmp_path / "crisiscomm.db"
    with open_store(db):
        pass
    connection = sqlite3.connect(db)
    listing = LIST_OUTBOX.replace(":status_1", "'dead'").replace(":status_2", "'dead'")
    listing = listing.replace(":status_3", "'dead'").replace(":limit", "1000")
    pruning = PRUNE_OUTBOX.replace(":before", "'2027'").replace(":limit", "5000")
    for sql in (OUTBOX_COUNTS, listing, pruning):
        plan = [row[3] for row in connection.execute("EXPLAIN QUERY PLAN " + sql)]
        assert not [step for step in plan if step.startswith("SCAN outbox")], plan
        assert any("outbox_status" in step for step in plan), plan


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "crisiscomm", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_the_prune_command_takes_the_office_retention(tmp_path: Path) -> None:
    db = tmp_path / "crisiscomm.db"
    with open_store(db) as store:
        _mixed(store)  # sent on 2026-04 days 0 and 40: both long past today
    office = tmp_path / "office.yaml"
    office.write_text(
        (REPO / "office.yaml")
        .read_text(encoding="utf-8")
        .replace("  acting_for: allowed\n", "  acting_for: allowed\n  outbox_retention: 7d\n"),
        encoding="utf-8",
    )
    done = _cli("outbox", "prune", "--db", str(db), env={"CRISISCOMM_OFFICE": str(office)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "6 sent notification(s) older than 7d removed from the outbox"
    with open_store(db) as store:
        assert store.outbox_counts()["sent"] == 0


def test_a_bad_age_is_refused_and_nothing_is_removed(tmp_path: Path) -> None:
    db = tmp_path / "crisiscomm.db"
    with open_store(db) as store:
        _mixed(store)
    done = _cli("outbox", "prune", "--db", str(db), "--older-than", "soon")
    assert done.returncode == 2
    assert "--older-than: `soon` is not a duration" in done.stderr
    assert "Traceback" not in done.stderr
    with open_store(db) as store:
        assert store.outbox_counts()["sent"] == 6


def test_an_office_retention_that_is_no_duration_is_a_finding(tmp_path: Path) -> None:
    office = tmp_path / "office.yaml"
    office.write_text(
        (REPO / "office.yaml")
        .read_text(encoding="utf-8")
        .replace("  acting_for: allowed\n", "  acting_for: allowed\n  outbox_retention: 30\n"),
        encoding="utf-8",
    )
    done = _cli("validate", str(office))
    assert done.returncode == 1
    assert "office.yaml:" in done.stdout and "outbox_retention" in done.stdout


def test_serve_prunes_once_an_hour_with_its_retention(tmp_path: Path) -> None:
    from crisiscomm.serve import Server

    db = tmp_path / "crisiscomm.db"
    with open_store(db) as store:
        _mixed(store)
    clock = SimulatedClock(T0 + timedelta(days=45))
    server = Server(target=str(db), clock=clock, retention=timedelta(days=30))
    server.prune()  # day 45: the four sent on day 0 go
    with open_store(db) as store:
        assert store.outbox_counts()["sent"] == 2
    clock.set(T0 + timedelta(days=75, minutes=30))
    server.prune()  # day 75: the two of day 40 are past the retention: removed
    clock.set(T0 + timedelta(days=75, minutes=50))
    with open_store(db) as store:
        assert store.outbox_counts()["sent"] == 0
        queue(store, 1, channel="log")
        [row] = store.take_due_outbox(now=T0, lease_until=T0 + LEASE)
        store.mark_outbox_sent([row], sent_at=T0)
    server.prune()  # within the hour of the last pass: nothing is done
    with open_store(db) as store:
        assert store.outbox_counts()["sent"] == 1
    server.database.close()
