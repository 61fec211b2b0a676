"""`serve`'s Server in-process: which timers a sync gives jobs, and delivery that waits
while timers fire. (test_serve.py runs `crisiscomm serve` as a real process.)"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from crisiscomm import serve
from crisiscomm.clock import SimulatedClock
from crisiscomm.engine import service
from crisiscomm.notify import deliver_due
from crisiscomm.serve import Server
from crisiscomm.store import Store

from .conftest import PRESS, open_press


class Jobs:
    """Stands in for the scheduler: records the jobs a sync adds."""

    def __init__(self) -> None:
        self.added: dict[str, tuple[Any, ...]] = {}

    def add_job(self, function: Any, trigger: Any, *, args: list[Any], id: str, **_: Any) -> None:
        self.added[id] = (trigger.run_date, *args)


@pytest.fixture
def server(db: Path, store: Store, clock: SimulatedClock) -> Server:
    running = Server(target=str(db), clock=clock)
    running._scheduler = Jobs()
    return running


def test_a_sync_adds_each_timer_once_and_a_full_sweep_finds_what_it_skipped(
    server: Server, store: Store, clock: SimulatedClock
) -> None:
    jobs: Jobs = server._scheduler  # type: ignore[assignment]
    first = open_press(store, clock)
    server.sync()
    assert [args[2] for args in jobs.added.values()] == [first]  # escalation step 1 (10 min)
    jobs.added.clear()
    server.sync()
    assert jobs.added == {}  # nothing new: nothing added, nothing read twice
    # PostgreSQL may commit a timer with an id below one a sync has seen: the next syncs
    # look back RECHECK_SYNCS syncs' worth of ids and find it ...
    second = open_press(store, clock, title="Second")
    server._seen_ids.append(server._seen_ids[-1] + 100)  # as if a later id was seen first
    server.sync()
    assert {args[2] for args in jobs.added.values()} == {second}
    jobs.added.clear()
    # ... and the full sweep every FULL_SYNC_EVERY-th sync finds what even that missed
    third = open_press(store, clock, title="Third")
    server._seen_ids.extend([server._seen_ids[-1] + 100] * serve.RECHECK_SYNCS)
    while server._syncs % serve.FULL_SYNC_EVERY:  # the incremental ones until the next full
        server.sync()
        assert jobs.added == {}
    server.sync()
    assert {args[2] for args in jobs.added.values()} == {third}


def test_a_timer_gets_its_job_once_the_horizon_reaches_it(
    server: Server, store: Store, clock: SimulatedClock
) -> None:
    jobs: Jobs = server._scheduler  # type: ignore[assignment]
    open_press(store, clock)  # escalations at 10 and 15 min, the deadline at 20 min
    server.sync()
    assert len(jobs.added) == 1
    clock.advance(serve.HORIZON)
    server.sync()
    assert len(jobs.added) == 3


def test_a_job_whose_timer_an_earlier_batch_fired_does_nothing(
    server: Server, store: Store, clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs: Jobs = server._scheduler  # type: ignore[assignment]
    incident_id = open_press(store, clock)
    server.sync()
    clock.advance(serve.HORIZON)
    server.sync()
    clock.advance(timedelta(minutes=10))
    batches: list[int] = []
    fire_batch = service.fire_batch

    def counting(**kwargs: Any) -> Any:
        firings = fire_batch(**kwargs)
        batches.append(len(firings))
        return firings

    monkeypatch.setattr(service, "fire_batch", counting)
    for _job, (_due, timer_id, job_incident) in sorted(jobs.added.items()):
        server.fire(timer_id, job_incident)
    assert batches == [3]  # the first job fired all three; the others found theirs fired
    assert {t.key for t in store.timers(incident_id, pending_only=False) if t.fired_at} == {
        "escalation:0",
        "escalation:1",
        "deadline",
    }
    assert server.scheduled == {}


def test_delivery_waits_while_timers_fire(
    server: Server, store: Store, clock: SimulatedClock
) -> None:
    open_press(store, clock)  # opening notifies: rows due now
    server._idle.clear()  # a firing is running
    done = threading.Event()

    def deliver() -> None:
        deliver_due(store_of_thread(), now=clock.now(), before_each=server._not_firing)
        done.set()

    def store_of_thread() -> Store:
        return server.store()

    worker = threading.Thread(target=deliver)
    worker.start()
    assert not done.wait(0.3)  # held back while the firing runs
    server._idle.set()
    assert done.wait(10)
    worker.join()
    assert store.outbox_counts()["pending"] == 0


def test_delivery_takes_turns_with_a_steady_stream_of_firings(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Waiting for the firings before every row starved the deliveries when timers fired
    without pause (1,000 a second: notifications seconds late). The delivery waits for
    the firing pass in hand once, then sends for a turn of DELIVERY_TURN_SECONDS."""
    waits: list[float | None] = []

    class Firing:
        def wait(self, timeout: float | None = None) -> bool:
            waits.append(timeout)
            return True  # the pass in hand ended; the next one starts at once

    now = [100.0]
    monkeypatch.setattr(server, "_idle", Firing())
    monkeypatch.setattr(serve.server.time, "monotonic", lambda: now[0])
    for _row in range(5):  # rows within one turn: one wait, for the first
        server._not_firing()
        now[0] += serve.server.DELIVERY_TURN_SECONDS / 10
    assert waits == [serve.server.MAX_DELIVERY_WAIT_SECONDS]
    now[0] += serve.server.DELIVERY_TURN_SECONDS  # the turn is over: the firings' turn
    server._not_firing()
    assert len(waits) == 2


def test_a_stop_during_start_up_stops_it(db: Path, store: Store) -> None:
    """A SIGTERM while serve still reads its channels used to be lost: it ran on."""
    running = Server(target=str(db), sync_interval=0.2)
    stopped = threading.Event()

    def run() -> None:
        running.run(install_signals=False, started=running.stop)
        stopped.set()

    threading.Thread(target=run, daemon=True).start()
    assert stopped.wait(10)


def test_a_stop_hands_back_what_was_not_yet_sent(
    db: Path, store: Store, clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopping waits for the message in hand, not for the whole backlog: the rest goes
    back to the outbox, due at once, its attempt not counted."""
    from crisiscomm.notify import channels

    for number in range(40):
        open_press(store, clock, title=f"Incident {number}")  # each notifies on opening
    sending = threading.Event()

    def slow_send(self: Any, row: Any, *, now: Any) -> None:
        sending.set()
        threading.Event().wait(0.05)  # a slow receiver: 50 ms a message

    monkeypatch.setattr(channels.FileChannel, "send", slow_send)
    running = Server(target=str(db), clock=clock, sync_interval=0.2)
    stopped = threading.Event()

    def run() -> None:
        running.run(install_signals=False)
        stopped.set()

    threading.Thread(target=run, daemon=True).start()
    assert sending.wait(10)
    running.stop()
    assert stopped.wait(1.5)  # 40 messages would take 2 s
    counts = store.outbox_counts()
    assert counts["sent"] + counts["pending"] == 40 and counts["pending"] > 0
    waiting = [row for row in store.list_outbox(statuses=["pending"]) if row.channel == "ops"]
    assert waiting and {row.attempts for row in waiting} == {0}
    assert {row.next_attempt_at for row in waiting} <= {clock.now()}


def test_a_stop_while_the_scheduler_hands_out_jobs_leaves_no_traceback(
    db: Path, store: Store, clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """APScheduler's pitfall: `shutdown` during a wake-up made that wake-up fail to remove
    the job it ran (JobLookupError in the scheduler's thread). pytest turns an exception
    in any thread into a failure of this test."""
    from apscheduler.jobstores.memory import MemoryJobStore

    open_press(store, clock)
    clock.advance(timedelta(minutes=30))  # its timers are due: their jobs run at once
    handing_out = threading.Event()
    due_jobs = MemoryJobStore.get_due_jobs

    def slow_get_due_jobs(self: MemoryJobStore, now: Any) -> Any:
        jobs = due_jobs(self, now)
        if any(job.id.startswith("timer-") for job in jobs):
            handing_out.set()
            threading.Event().wait(0.3)  # the stop comes now
        return jobs

    monkeypatch.setattr(MemoryJobStore, "get_due_jobs", slow_get_due_jobs)
    running = Server(target=str(db), clock=clock, sync_interval=0.2)
    thread = threading.Thread(target=running.run, kwargs={"install_signals": False})
    thread.start()
    assert handing_out.wait(10)
    running.stop()
    thread.join(10)
    assert not thread.is_alive()


def test_channel_problems_check_every_playbook_open_incidents_pinned_a_page_at_a_time(
    store: Store, clock: SimulatedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """10,000 open incidents are not read at once (that held 5 MB more for good)."""
    monkeypatch.setattr(serve.server, "OPEN_INCIDENTS_PAGE", 2)
    monkeypatch.delenv("OPS_FOLDER", raising=False)
    press = Path(PRESS).read_text(encoding="utf-8")
    elsewhere = tmp_path / "elsewhere.yaml"
    press = press.replace("\nid: press\n", "\nid: elsewhere\n")
    elsewhere.write_text(
        press.replace("path: ops.jsonl", "path: '${OPS_FOLDER}/ops.jsonl'"), encoding="utf-8"
    )
    open_press(store, clock, playbook_ref=str(elsewhere))  # the oldest: on the last page
    for number in range(4):
        open_press(store, clock, title=f"Press {number}")
    assert serve.channel_problems(store) == [
        "elsewhere: channel `ops`: the environment variable OPS_FOLDER is not set"
    ]
