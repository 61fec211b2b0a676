"""The store's outbox delivery primitives on real databases (SQLite, and PostgreSQL when
CRISISCOMM_TEST_PG_URL is set): taking due rows under a lease, fenced marks, dead letters,
re-queueing, and concurrent deliverers that never take the same row."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from crisiscomm.errors import NotFoundError, RefusedError
from crisiscomm.notify import ChannelFactory, deliver_due
from crisiscomm.playbook.model import canonical_json
from crisiscomm.store import NewEvent, OutboxMessage, Store, open_store
from tests.conftest_store import (  # noqa: F401 (fixtures, used by name)
    T0,
    new_incident,
    pg_admin_fixture,
    sql,
    store_fixture,
    target_fixture,
)

LEASE = timedelta(minutes=1)
PLAYBOOK = canonical_json(
    {
        "id": "flood",
        "title": "Suw tasqını",
        "states": {},
        "channels": {"log": {"type": "file", "path": "delivered.jsonl"}},
    }
)


def queue(store: Store, count: int, *, channel: str = "log") -> str:
    """An incident (pinning a playbook with a file channel) with `count` outbox rows."""
    incident = store.create_incident(
        incident=new_incident(playbook_hash=hashlib.sha256(PLAYBOOK.encode("utf-8")).hexdigest()),
        playbook_content=PLAYBOOK,
        events=[NewEvent(at=T0, actor="aziz", type="opened")],
        timers=[],
        outbox=[
            OutboxMessage(f"key-{i}", channel, "duty_officer", {"text": f"Xabar {i} — сообщение"})
            for i in range(count)
        ],
    )
    return incident.id


def test_taking_counts_an_attempt_and_leases_in_id_order(store: Store) -> None:
    queue(store, 5)
    taken = store.take_due_outbox(now=T0, lease_until=T0 + LEASE, limit=3)
    assert [r.idempotency_key for r in taken] == ["key-0", "key-1", "key-2"]
    assert {(r.status, r.attempts, r.next_attempt_at) for r in taken} == {
        ("pending", 1, T0 + LEASE)
    }
    assert taken[0].payload == {"text": "Xabar 0 — сообщение"}
    rest = store.take_due_outbox(now=T0, lease_until=T0 + LEASE)
    assert [r.idempotency_key for r in rest] == ["key-3", "key-4"]
    assert store.take_due_outbox(now=T0, lease_until=T0 + LEASE) == []  # all leased
    again = store.take_due_outbox(now=T0 + LEASE, lease_until=T0 + 2 * LEASE)
    assert [r.attempts for r in again] == [2] * 5


def test_not_due_sent_and_dead_rows_are_not_taken(store: Store) -> None:
    queue(store, 3)
    first, second, third = store.take_due_outbox(now=T0, lease_until=T0 + LEASE)
    assert store.mark_outbox_sent([first], sent_at=T0) == 1
    assert store.mark_outbox_dead(second, error="gave up")
    assert store.mark_outbox_retry(third, next_attempt_at=T0 + timedelta(hours=1), error="503")
    assert store.take_due_outbox(now=T0 + timedelta(minutes=59), lease_until=T0 + LEASE) == []
    [retried] = store.take_due_outbox(now=T0 + timedelta(hours=1), lease_until=T0 + 2 * LEASE)
    assert (retried.id, retried.attempts, retried.last_error) == (third.id, 2, "503")


def test_marks_are_fenced_by_the_row_as_taken(store: Store, target: str) -> None:
    queue(store, 1)
    [stale] = store.take_due_outbox(now=T0, lease_until=T0 + LEASE)
    # the first taker stalls past its lease; another takes the row
    [fresh] = store.take_due_outbox(now=T0 + LEASE, lease_until=T0 + 2 * LEASE)
    assert not store.mark_outbox_retry(stale, next_attempt_at=T0, error="late")
    assert not store.mark_outbox_dead(stale, error="late")
    assert not store.defer_outbox(stale, next_attempt_at=T0)
    assert store.renew_outbox_lease([stale], lease_until=T0 + LEASE) == []
    [renewed] = store.renew_outbox_lease([fresh], lease_until=T0 + 3 * LEASE)
    assert renewed.next_attempt_at == T0 + 3 * LEASE
    assert store.defer_outbox(renewed, next_attempt_at=T0 + timedelta(minutes=5))
    assert sql(target, "SELECT status, attempts, last_error FROM outbox") == [("pending", 1, None)]
    # a successful send is recorded whoever sent it, once
    assert store.mark_outbox_sent([stale], sent_at=T0) == 1
    assert store.mark_outbox_sent([fresh], sent_at=T0) == 0


def test_listing_is_newest_first_by_status(store: Store) -> None:
    queue(store, 2)
    [old_row] = store.take_due_outbox(now=T0, lease_until=T0 + LEASE, limit=1)
    store.mark_outbox_dead(old_row, error="refused")
    assert [r.idempotency_key for r in store.list_outbox()] == ["key-1", "key-0"]
    assert [r.status for r in store.list_outbox(statuses=["dead"])] == ["dead"]
    assert [r.idempotency_key for r in store.list_outbox(statuses=["pending"])] == ["key-1"]
    assert store.list_outbox(statuses=["sent"]) == []
    assert len(store.list_outbox(statuses=["pending", "sent", "dead"], limit=1)) == 1
    assert store.outbox_counts() == {"pending": 1, "sent": 0, "dead": 1, "failing": 0}
    with pytest.raises(ValueError, match="statuses must be some of"):
        store.list_outbox(statuses=["lost"])
    [row] = store.take_due_outbox(now=T0, lease_until=T0 + LEASE, limit=1)
    assert store.mark_outbox_retry(row, next_attempt_at=T0 + LEASE, error="HTTP 503")
    assert store.outbox_counts() == {"pending": 1, "sent": 0, "dead": 1, "failing": 1}


def test_a_dead_letter_is_requeued_and_nothing_else(store: Store) -> None:
    queue(store, 2)
    dead, pending = store.take_due_outbox(now=T0, lease_until=T0 + LEASE)
    store.mark_outbox_dead(dead, error="refused")
    later = T0 + timedelta(days=1)
    requeued = store.retry_outbox(dead.id, now=later)
    assert (requeued.status, requeued.attempts, requeued.next_attempt_at) == ("pending", 0, later)
    assert requeued.last_error == "refused"  # kept: why it died the last time
    assert store.get_outbox_row(dead.id) == requeued
    with pytest.raises(RefusedError) as refused:
        store.retry_outbox(pending.id, now=later)
    assert refused.value.message == (
        f"outbox row {pending.id} is pending, not dead: only a dead letter is re-queued"
    )
    with pytest.raises(NotFoundError) as missing:
        store.retry_outbox(4040, now=later)
    assert missing.value.message == "no outbox row 4040"
    with pytest.raises(NotFoundError):
        store.get_outbox_row(4040)


def test_takers_on_postgresql_skip_rows_another_is_taking(store: Store, target: str) -> None:
    if store.backend != "postgresql":
        pytest.skip("SQLite lets one taker in at a time (its write lock)")
    import psycopg

    queue(store, 4)
    with psycopg.connect(target) as holder:  # a transaction of another deliverer, mid-take
        holder.execute(
            "SELECT id FROM outbox WHERE idempotency_key IN ('key-0', 'key-1') FOR UPDATE"
        )
        started = time.monotonic()
        taken = store.take_due_outbox(now=T0, lease_until=T0 + LEASE)
        assert time.monotonic() - started < 2  # no waiting for the other's locks
        holder.rollback()
    assert [r.idempotency_key for r in taken] == ["key-2", "key-3"]


def test_concurrent_deliverers_send_every_row_exactly_once(
    store: Store, target: str, tmp_path: Path
) -> None:
    queue(store, 150)
    go = threading.Barrier(3)
    failures: list[BaseException] = []
    reports: list[Any] = []

    def deliverer() -> None:
        try:
            with open_store(target) as own:
                go.wait()
                while True:
                    report = deliver_due(own, now=T0, limit=7, channels=ChannelFactory(environ={}))
                    reports.append(report)
                    if report.sent == 0:
                        return
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=deliverer) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    lines = (tmp_path / "delivered.jsonl").read_text(encoding="utf-8").splitlines()
    keys = sorted(json.loads(line)["idempotency_key"] for line in lines)
    assert keys == sorted(f"key-{i}" for i in range(150))  # each once: none lost, none doubled
    assert sum(r.sent for r in reports) == 150
    assert store.outbox_counts() == {"pending": 0, "sent": 150, "dead": 0, "failing": 0}
