"""The store on real databases: writes, reads, ids, conflicts, timers, outbox."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from crisiscomm.errors import ConflictError, NotFoundError
from crisiscomm.store import NewEvent, NewTimer, OutboxMessage, Store, open_store
from crisiscomm.store.rows import IncidentRow
from tests.conftest_store import (  # noqa: F401 (fixtures, used by name)
    PLAYBOOK,
    PLAYBOOK_HASH,
    T0,
    new_incident,
    note,
    open_incident,
    pg_admin_fixture,
    sql,
    store_fixture,
    target_fixture,
)

KARAKALPAK = "Nókis qalasında suw tasqını — Нөкис қаласында суў тасқыны"
RUSSIAN = "Наводнение в Нукусе: эвакуация жителей"


def test_create_commit_and_read_back_unicode(store: Store, target: str) -> None:
    created = store.create_incident(
        incident=new_incident(title=KARAKALPAK, data={"facts": {"place": RUSSIAN, "people": 120}}),
        playbook_content=PLAYBOOK,
        events=[
            NewEvent(at=T0, actor="Айгүл", type="opened", data={"note": KARAKALPAK}),
            NewEvent(at=T0, actor="Айгүл", type="fact-set", data={"place": RUSSIAN}),
        ],
        timers=[NewTimer(kind="deadline", key="deadline", due_at=T0 + timedelta(minutes=30))],
        outbox=[OutboxMessage("open:1", "console", "Бас редактор", {"text": RUSSIAN})],
    )
    assert created.id == "INC-2026-0001"
    assert (created.version, created.event_count) == (1, 2)
    assert created.title == KARAKALPAK
    assert created.data == {"facts": {"place": RUSSIAN, "people": 120}}
    assert store.get_incident(created.id) == created
    assert store.playbook_content(PLAYBOOK_HASH) == PLAYBOOK

    later = T0 + timedelta(minutes=5)
    committed = store.commit(
        incident=replace(
            created, state="verifying", generation=2, state_entered_at=later, data={"x": "ў"}
        ),
        expected_version=1,
        events=[NewEvent(at=later, actor="Aziz", type="advanced", data={"trigger": "confirm"})],
        timers=[NewTimer(kind="deadline", key="deadline", due_at=later + timedelta(hours=1))],
        retire_timers=True,
        outbox=[],
    )
    assert (committed.version, committed.event_count, committed.state) == (2, 3, "verifying")
    assert committed.state_entered_at == later
    assert store.get_incident(created.id) == committed
    assert store.list_incidents() == [committed]

    events = store.events(created.id)
    assert [(e.seq, e.actor, e.type) for e in events] == [
        (1, "Айгүл", "opened"),
        (2, "Айгүл", "fact-set"),
        (3, "Aziz", "advanced"),
    ]
    assert events[0].data == {"note": KARAKALPAK}
    assert events[0].prev_hash == ""
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert committed.last_hash == events[-1].hash
    assert sql(target, "SELECT recipient, payload FROM outbox") == [
        ("Бас редактор", '{"text":"Наводнение в Нукусе: эвакуация жителей"}')
    ]
    assert store.verify_chain() == []


def test_ids_count_per_year(store: Store) -> None:
    ids = [
        open_incident(store, opened_at=T0).id,
        open_incident(store, opened_at=T0 + timedelta(days=1)).id,
        open_incident(store, opened_at=T0.replace(year=2027)).id,
        open_incident(store, opened_at=T0 + timedelta(days=2)).id,
    ]
    assert ids == ["INC-2026-0001", "INC-2026-0002", "INC-2027-0001", "INC-2026-0003"]


def test_an_id_taken_before_the_incident_is_built(store: Store) -> None:
    taken = store.allocate_incident_id(2026)
    assert taken == "INC-2026-0001"
    assert open_incident(store, id=taken).id == taken
    assert open_incident(store).id == "INC-2026-0002"
    assert store.allocate_incident_id(2027) == "INC-2027-0001"
    assert store.allocate_incident_id(2026) == "INC-2026-0003"  # taken, never used: a gap


def test_the_playbook_is_pinned_once(store: Store, target: str) -> None:
    open_incident(store)
    open_incident(store)
    assert sql(target, "SELECT count(*) FROM playbooks") == [(1,)]


def test_create_refuses_a_wrong_playbook_hash_or_no_event(store: Store, target: str) -> None:
    with pytest.raises(ValueError, match="not the sha256"):
        store.create_incident(
            incident=new_incident(playbook_hash="0" * 64),
            playbook_content=PLAYBOOK,
            events=[NewEvent(at=T0, actor="aziz", type="opened")],
            timers=[],
            outbox=[],
        )
    with pytest.raises(ValueError, match="at least one event"):
        store.create_incident(
            incident=new_incident(), playbook_content=PLAYBOOK, events=[], timers=[], outbox=[]
        )
    assert store.list_incidents() == []
    assert sql(target, "SELECT count(*) FROM counters") == [(0,)]


def test_a_stale_commit_is_refused_and_writes_nothing(store: Store, target: str) -> None:
    incident = open_incident(store)
    current = note(store, incident, "first")
    with pytest.raises(ConflictError) as caught:
        store.commit(
            incident=replace(incident, state="closed", closed_at=T0),
            expected_version=incident.version,
            events=[NewEvent(at=T0, actor="bekzod", type="closed")],
            timers=[NewTimer(kind="deadline", key="x", due_at=T0)],
            retire_timers=True,
            outbox=[OutboxMessage("stale", "console", "head", {})],
        )
    assert caught.value.message == (
        "incident INC-2026-0001 changed since you read it; run the command again"
    )
    assert store.get_incident(incident.id) == current
    assert [e.type for e in store.events(incident.id)] == ["opened", "note"]
    assert store.timers(incident.id, pending_only=False) == []
    assert sql(target, "SELECT count(*) FROM outbox") == [(0,)]


def test_an_unknown_incident_is_named(store: Store) -> None:
    with pytest.raises(NotFoundError) as caught:
        store.get_incident("INC-2026-0404")
    assert caught.value.message == "no incident INC-2026-0404"
    assert caught.value.hint == "run `crisiscomm list` to see the incidents"
    with pytest.raises(NotFoundError, match="no incident INC-2026-0404"):
        note(store, new_incident(id="INC-2026-0404"), "lost")
    with pytest.raises(NotFoundError, match="no incident INC-2026-0404"):
        store.verify_chain("INC-2026-0404")
    with pytest.raises(NotFoundError, match="no pinned playbook with content hash abc"):
        store.playbook_content("abc")
    assert store.events("INC-2026-0404") == []


def test_a_repeated_idempotency_key_is_ignored(store: Store, target: str) -> None:
    message = OutboxMessage("escalate:INC-2026-0001:1", "email", "head@press.uz", {"n": 1})
    incident = open_incident(store, outbox=[message])
    store.commit(
        incident=incident,
        expected_version=incident.version,
        events=[NewEvent(at=T0, actor="serve", type="escalated")],
        timers=[],
        retire_timers=False,
        outbox=[replace(message, payload={"n": 2}), OutboxMessage("other", "console", "x", {})],
    )
    assert store.outbox(incident.id) == [message, OutboxMessage("other", "console", "x", {})]
    assert store.outbox("INC-2026-0404") == []
    assert sql(
        target, "SELECT idempotency_key, payload, status, attempts FROM outbox ORDER BY id"
    ) == [
        ("escalate:INC-2026-0001:1", '{"n":1}', "pending", 0),
        ("other", "{}", "pending", 0),
    ]


def test_list_newest_first_and_open_only(store: Store) -> None:
    first = open_incident(store, opened_at=T0)
    second = open_incident(store, opened_at=T0 + timedelta(hours=1))
    third = open_incident(store, opened_at=T0 + timedelta(hours=1))  # same minute: by id
    closed = store.commit(
        incident=replace(second, state="closed", closed_at=T0 + timedelta(hours=2)),
        expected_version=second.version,
        events=[NewEvent(at=T0 + timedelta(hours=2), actor="aziz", type="closed")],
        timers=[],
        retire_timers=True,
        outbox=[],
    )
    assert [i.id for i in store.list_incidents()] == [third.id, second.id, first.id]
    assert [i.id for i in store.list_incidents(open_only=True)] == [third.id, first.id]
    assert store.get_incident(second.id).closed_at == closed.closed_at == T0 + timedelta(hours=2)


def test_listing_open_incidents_uses_the_partial_index(tmp_path: Path) -> None:
    path = f"{tmp_path}/plan.db"
    with open_store(path):
        pass
    plan = sql(
        path,
        "EXPLAIN QUERY PLAN SELECT id FROM incidents WHERE closed_at IS NULL "
        "ORDER BY opened_at DESC, id DESC",
    )
    assert "USING INDEX incidents_open" in " ".join(str(row[-1]) for row in plan)


def test_timers_of_an_earlier_state_entry_are_retired(store: Store) -> None:
    incident = open_incident(
        store,
        timers=[
            NewTimer(kind="reminder", key="remind:owner", due_at=T0 + timedelta(minutes=10)),
            NewTimer(kind="escalation", key="escalation:1", due_at=T0 + timedelta(minutes=20)),
            NewTimer(kind="deadline", key="deadline", due_at=T0 + timedelta(minutes=30)),
        ],
    )
    reminder = store.timers(incident.id)[0]
    assert store.claim_timer(reminder.id, reminder.generation, T0 + timedelta(minutes=10), 0.0)

    moved = T0 + timedelta(minutes=15)
    entered = store.commit(
        incident=replace(incident, state="verifying", generation=2, state_entered_at=moved),
        expected_version=incident.version,
        events=[
            NewEvent(at=moved, actor="aziz", type="advanced"),
            NewEvent(at=moved + timedelta(seconds=1), actor="aziz", type="entered"),
        ],
        timers=[NewTimer(kind="deadline", key="deadline", due_at=moved + timedelta(hours=1))],
        retire_timers=True,
        outbox=[],
    )
    # the retired ones are gone (the events record the change); the fired one stays fired
    everything = {(t.generation, t.key): t for t in store.timers(incident.id, pending_only=False)}
    assert set(everything) == {(1, "remind:owner"), (2, "deadline")}
    assert everything[(1, "remind:owner")].fired_at == T0 + timedelta(minutes=10)
    assert everything[(1, "remind:owner")].retired_at is None
    assert [(t.generation, t.key) for t in store.timers(incident.id)] == [(2, "deadline")]

    # a commit within the same state entry keeps its timers
    note(store, entered, "still verifying", at=moved + timedelta(minutes=1))
    assert [(t.generation, t.key) for t in store.timers(incident.id)] == [(2, "deadline")]
    store.commit(
        incident=store.get_incident(incident.id),
        expected_version=entered.version + 1,
        events=[NewEvent(at=moved, actor="aziz", type="ack")],
        timers=[],
        retire_timers=True,  # same generation: nothing to retire
        outbox=[],
    )
    assert [(t.generation, t.key) for t in store.timers(incident.id)] == [(2, "deadline")]


def test_due_timers_most_overdue_first(store: Store) -> None:
    a = open_incident(
        store,
        timers=[
            NewTimer(kind="deadline", key="deadline", due_at=T0 + timedelta(minutes=30)),
            NewTimer(kind="reminder", key="remind", due_at=T0 + timedelta(minutes=5)),
        ],
    )
    b = open_incident(
        store,
        timers=[
            NewTimer(
                kind="escalation", key="e1", due_at=T0 + timedelta(minutes=1), data={"to": "х"}
            ),
            NewTimer(kind="deadline", key="deadline", due_at=T0 + timedelta(hours=5)),
        ],
    )
    due = store.due_timers(T0 + timedelta(minutes=30))
    assert [(t.incident_id, t.key) for t in due] == [
        (b.id, "e1"),
        (a.id, "remind"),
        (a.id, "deadline"),
    ]
    assert due[0].data == {"to": "х"}
    assert due[0].kind == "escalation"
    assert [t.key for t in store.due_timers(T0 + timedelta(minutes=30), limit=1)] == ["e1"]
    assert store.due_timers(T0) == []
    store.claim_timer(due[0].id, due[0].generation, T0 + timedelta(minutes=31), 1800.0)
    assert [t.key for t in store.due_timers(T0 + timedelta(minutes=30))] == ["remind", "deadline"]
    fired = store.timers(b.id, pending_only=False)[0]
    assert (fired.fired_at, fired.late_by_seconds) == (T0 + timedelta(minutes=31), 1800.0)


def test_a_timer_is_claimed_once_across_two_connections(store: Store, target: str) -> None:
    incident = open_incident(
        store, timers=[NewTimer(kind="deadline", key="deadline", due_at=T0 + timedelta(minutes=30))]
    )
    [timer] = store.timers(incident.id)
    fired = T0 + timedelta(minutes=31)
    with open_store(target) as other:
        assert not other.claim_timer(timer.id, timer.generation + 1, fired, 60.0)  # stale token
        assert store.claim_timer(timer.id, timer.generation, fired, 60.0)
        assert not other.claim_timer(timer.id, timer.generation, fired, 60.0)
        assert not store.claim_timer(timer.id, timer.generation, fired, 60.0)
    assert store.timers(incident.id) == []


def test_a_retired_timer_cannot_be_claimed(store: Store) -> None:
    incident = open_incident(
        store, timers=[NewTimer(kind="deadline", key="deadline", due_at=T0 + timedelta(minutes=30))]
    )
    [timer] = store.timers(incident.id)
    store.commit(
        incident=replace(incident, generation=2),
        expected_version=incident.version,
        events=[NewEvent(at=T0, actor="aziz", type="advanced")],
        timers=[],
        retire_timers=True,
        outbox=[],
    )
    assert not store.claim_timer(timer.id, timer.generation, T0 + timedelta(hours=1), 1800.0)
    assert store.timers(incident.id, pending_only=False) == []


def test_a_batch_commits_together_and_a_failed_write_inside_undoes_only_itself(
    store: Store, target: str
) -> None:
    first, second = open_incident(store), open_incident(store)
    with store.batch():
        note(store, first, "in the batch")
        with pytest.raises(ConflictError):  # a stale write: its savepoint is rolled back
            store.commit(
                incident=replace(second, state="closed", closed_at=T0),
                expected_version=second.version - 1,
                events=[NewEvent(at=T0, actor="bekzod", type="closed")],
                timers=[NewTimer(kind="deadline", key="x", due_at=T0)],
                retire_timers=True,
                outbox=[OutboxMessage("stale", "console", "head", {})],
            )
        note(store, second, "after the refusal")
        with open_store(target) as other:  # nothing is visible before the batch ends
            assert [e.type for e in other.events(first.id)] == ["opened"]
    assert [e.type for e in store.events(first.id)] == ["opened", "note"]
    assert [e.type for e in store.events(second.id)] == ["opened", "note"]
    assert store.timers(second.id, pending_only=False) == []
    assert sql(target, "SELECT count(*) FROM outbox") == [(0,)]
    assert store.verify_chain() == []


def test_a_batch_that_fails_writes_nothing(store: Store) -> None:
    incident = open_incident(store)
    with pytest.raises(RuntimeError), store.batch():
        note(store, incident, "lost with the batch")
        raise RuntimeError("the process gives up")
    assert [e.type for e in store.events(incident.id)] == ["opened"]
    note(store, incident, "the store is usable after it")


def test_threads_sharing_a_writer_lock_take_it_for_each_write_transaction(store: Store) -> None:
    taken: list[str] = []

    class Recording:
        def __enter__(self) -> None:
            taken.append("acquire")

        def __exit__(self, *exc: object) -> None:
            taken.append("release")

    store.writer_lock = Recording()
    incident = open_incident(store)
    with store.batch():
        note(store, incident, "one")  # a savepoint inside the batch: no second acquire
    store.get_incident(incident.id)  # reads take no lock
    assert taken == ["acquire", "release"] * 2


def test_pending_wakeups_name_only_unseen_timers(store: Store) -> None:
    soon, later = T0 + timedelta(minutes=1), T0 + timedelta(minutes=20)
    a = open_incident(
        store,
        timers=[
            NewTimer(kind="deadline", key="deadline", due_at=later),
            NewTimer(kind="reminder", key="remind", due_at=soon),
        ],
    )
    everything = store.pending_wakeups(T0 + timedelta(hours=1), 100)
    assert [(incident, due) for _id, incident, due in everything] == [
        (a.id, "2026-04-03T06:01:00.000000Z"),
        (a.id, "2026-04-03T06:20:00.000000Z"),
    ]
    horizon = T0 + timedelta(minutes=10)
    [(remind_id, _i, _d)] = store.pending_wakeups(horizon, 100)
    b = open_incident(store, timers=[NewTimer(kind="deadline", key="deadline", due_at=soon)])
    unseen = store.pending_wakeups(
        T0 + timedelta(minutes=30), 100, after_id=remind_id, after_due=horizon
    )
    # b's new timer (a higher id) and a's deadline (the horizon reached it); not the reminder
    assert sorted((incident, due[11:16]) for _id, incident, due in unseen) == [
        (a.id, "06:20"),
        (b.id, "06:01"),
    ]


def test_a_change_of_data_only_leaves_the_other_columns_alone(store: Store, target: str) -> None:
    incident = open_incident(store)
    checked = replace(incident, data={**incident.data, "checklist": {"detection": {"x": {}}}})

    def check() -> IncidentRow:
        return store.commit(
            incident=checked,
            expected_version=incident.version,
            events=[NewEvent(at=T0, actor="aziz", type="checked")],
            timers=[],
            retire_timers=False,
            outbox=[],
            before=incident,
        )

    stored = check()
    assert store.get_incident(incident.id) == stored
    with pytest.raises(ConflictError):  # the version check holds on this path too
        check()
    closed = replace(stored, state="closed", closed_at=T0 + timedelta(hours=1))
    store.commit(
        incident=closed,
        expected_version=stored.version,
        events=[NewEvent(at=T0, actor="aziz", type="closed")],
        timers=[],
        retire_timers=True,
        outbox=[],
        before=stored,
    )
    reread = store.get_incident(incident.id)
    assert (reread.state, reread.closed_at, reread.data) == (
        "closed",
        closed.closed_at,
        checked.data,
    )
    assert store.list_incidents(open_only=True) == []


def test_sqlite_connections_are_durable_and_read_through_a_memory_map(tmp_path: Path) -> None:
    with open_store(tmp_path / "office.db") as store:
        assert store._execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert store._execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
        assert store._execute("PRAGMA foreign_keys").fetchone() == (1,)
        assert store._execute("PRAGMA mmap_size").fetchone()[0] >= 256 * 2**20


def test_playbook_hashes_of_many_incidents_at_once(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import crisiscomm.store.incidents as module

    monkeypatch.setattr(module, "PLAYBOOK_HASHES_CHUNK", 2)  # several queries for five ids
    ids = [open_incident(store).id for _ in range(5)]
    assert store.playbook_hashes([*ids, ids[0], "INC-1999-0001"]) == {
        incident_id: PLAYBOOK_HASH for incident_id in ids
    }
    assert store.playbook_hashes([]) == {}


def test_a_batch_whose_statement_failed_outside_a_savepoint_says_so(
    store: Store, target: str
) -> None:
    """PostgreSQL turns COMMIT of a failed transaction into a silent ROLLBACK: a batch that
    swallowed a failing statement must not look committed."""
    from crisiscomm.errors import StoreError

    if not target.startswith("postgresql://"):
        pytest.skip("SQLite has no failed-transaction state")
    failed = pytest.raises(StoreError, match="a statement failed inside the transaction")
    with failed, store.batch():
        with store.savepoint():
            open_incident(store)
        with pytest.raises(Exception, match="division by zero"):
            store._execute("SELECT 1/0")
    assert store.list_incidents() == []  # the part before it was not committed either
    after = open_incident(store)  # and the connection is usable again
    assert [i.id for i in store.list_incidents()] == [after.id]
