"""The register: its store on both databases, lifecycles, norms, calendar and timers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from crisiscomm.clock import SimulatedClock
from crisiscomm.errors import RefusedError, UsageError
from crisiscomm.inbox.calendar import deadline
from crisiscomm.inbox.importing import entries_from
from crisiscomm.inbox.register import Register, compiled_register
from crisiscomm.inbox.service import Entry, act, add, find, record_reach
from crisiscomm.inbox.timers import fire_due
from crisiscomm.store import Store
from crisiscomm.store.inbox import InboxItem
from crisiscomm.store.rows import NewEvent, NewTimer
from tests.conftest_store import (  # noqa: F401 (fixtures, used by name)
    pg_admin_fixture,
    sql,
    store_fixture,
    target_fixture,
)

REPO = Path(__file__).resolve().parents[1]
T0 = datetime(2027, 3, 5, 5, 0, tzinfo=UTC)  # Friday 10:00 in Tashkent


@pytest.fixture(name="register")
def register_fixture() -> Register:
    return compiled_register(REPO / "inbox.yaml")


def entry(kind: str = "appeal", **fields: object) -> Entry:
    values: dict[str, object] = {
        "kind": kind,
        "received_at": T0,
        "channel": "portal",
        "source": "my.gov.uz",
        "language": "kaa",
        "subject": "Ishimlik suw",
        "text": "Awılımızda suw qashan boladı?",
    }
    values.update(fields)
    return Entry(**values)  # type: ignore[arg-type]


def test_working_days_and_holidays(register: Register) -> None:
    work = register.calendar
    assert not work.is_working_day(date(2027, 3, 8))  # International Women's Day
    assert not work.is_working_day(date(2027, 3, 20))  # Saturday
    assert any(h.estimated for h in work.holidays)  # the Hayits: announced yearly
    # 15 days from Friday 5 March is Saturday 20 March (Navruz on Sunday 21): Monday 22
    due = deadline(T0, {"days": 15}, work)
    assert due.astimezone(UTC).date() == date(2027, 3, 22)
    # 3 working days from Friday 5 March: Mon 8 and Tue 9 (Ramadan Hayit, estimated) are
    # holidays: Wed 10, Thu 11, Fri 12
    due = deadline(T0, {"working_days": 3}, work)
    assert (due + timedelta(hours=5)).date() == date(2027, 3, 12)
    assert deadline(T0, {"hours": 2}, work) == T0 + timedelta(hours=2)


def test_an_appeal_through_its_lifecycle_on_the_record(store: Store, register: Register) -> None:
    clock = SimulatedClock(T0)
    [(item, new)] = add(
        store=store,
        register=register,
        clock=clock,
        actor="asultanova",
        entries=[entry(name="Ali Valiev", contact="+998901112233", external_id="P-1")],
    )
    assert new and item.id == "INB-2027-0001" and item.status == "new"
    assert [t.kind for t in store.inbox_timers(item.id)] == ["reminder", "deadline"]
    item = act(
        store=store,
        register=register,
        clock=clock,
        actor="asultanova",
        item_id=item.id,
        trigger="assign",
        assignee="qjumaniyazov",
    )
    first_due = item.due_at
    item = act(
        store=store,
        register=register,
        clock=clock,
        actor="qjumaniyazov",
        item_id=item.id,
        trigger="extend",
        reason="needs the district's survey",
    )
    assert item.extended and item.due_at is not None and first_due is not None
    assert item.due_at > first_due
    with pytest.raises(RefusedError, match="only once"):
        act(
            store=store,
            register=register,
            clock=clock,
            actor="qjumaniyazov",
            item_id=item.id,
            trigger="extend",
            reason="again",
        )
    with pytest.raises(RefusedError, match="cannot be given `close`"):
        act(
            store=store,
            register=register,
            clock=clock,
            actor="qjumaniyazov",
            item_id=item.id,
            trigger="close",
        )
    item = act(
        store=store,
        register=register,
        clock=clock,
        actor="qjumaniyazov",
        item_id=item.id,
        trigger="answer",
        answer="Aprel ayında.",
    )
    assert store.inbox_timers(item.id) == []  # answered: its timers are retired
    act(
        store=store,
        register=register,
        clock=clock,
        actor="qjumaniyazov",
        item_id=item.id,
        trigger="close",
    )
    with pytest.raises(RefusedError, match="cannot be given `answer`"):
        act(
            store=store,
            register=register,
            clock=clock,
            actor="qjumaniyazov",
            item_id=item.id,
            trigger="answer",
            answer="again",
        )
    events = store.inbox_events(item.id)
    assert [e.type for e in events] == [
        "inbox.received",
        "inbox.assign",
        "inbox.extend",
        "inbox.answer",
        "inbox.close",
    ]
    # the log holds a reference and a keyed hash, never the name or the contact
    log = "".join(str(e.data) for e in events)
    assert "Valiev" not in log and "998901112233" not in log
    person = events[0].data["person"]
    assert set(person) == {"ref", "hash"}
    record = store.inbox_person(person["ref"])
    assert record is not None and record.name == "Ali Valiev"
    assert store.verify_chain() == []


def test_importing_twice_adds_nothing(store: Store, register: Register) -> None:
    clock = SimulatedClock(T0)
    entries = [entry(external_id="P-1"), entry(kind="question", external_id="P-2")]
    first = add(store=store, register=register, clock=clock, actor="a", entries=entries)
    again = add(store=store, register=register, clock=clock, actor="a", entries=entries)
    assert [new for _item, new in first] == [True, True]
    assert [new for _item, new in again] == [False, False]
    assert [i.id for i, _new in again] == [i.id for i, _new in first]
    assert len(store.inbox_items()) == 2


def test_an_edited_item_event_is_caught(store: Store, register: Register, target: str) -> None:
    clock = SimulatedClock(T0)
    [(item, _new)] = add(store=store, register=register, clock=clock, actor="a", entries=[entry()])
    if target.startswith("postgresql://"):
        sql(target, "ALTER TABLE inbox_events DISABLE TRIGGER USER")
    else:
        sql(target, "DROP TRIGGER inbox_events_append_only_update")
    sql(target, "UPDATE inbox_events SET actor = 'someone'")
    [problem] = store.verify_chain()
    assert (problem.incident_id, problem.seq) == (item.id, 1)
    assert "edited" in problem.problem


def test_the_log_refuses_updates(store: Store, register: Register, target: str) -> None:
    add(store=store, register=register, clock=SimulatedClock(T0), actor="a", entries=[entry()])
    with pytest.raises(Exception, match="append-only"):
        sql(target, "DELETE FROM inbox_events")


def test_timers_fire_once_and_overdue_lists(store: Store, register: Register) -> None:
    clock = SimulatedClock(T0)
    [(item, _new)] = add(
        store=store, register=register, clock=clock, actor="a", entries=[entry(kind="question")]
    )
    assert find(store=store, register=register, now=clock.now(), overdue=True) == []
    clock.advance(timedelta(days=10))
    assert fire_due(store=store, register=register, clock=clock) == 2  # reminder, deadline
    assert fire_due(store=store, register=register, clock=clock) == 0
    types = [e.type for e in store.inbox_events(item.id)]
    assert types == ["inbox.received", "inbox.reminder", "inbox.overdue"]
    overdue = find(store=store, register=register, now=clock.now(), overdue=True)
    assert [i.id for i in overdue] == [item.id]


def test_a_post_past_its_reach_threshold_must_be_checked_within_the_hour(
    store: Store, register: Register
) -> None:
    clock = SimulatedClock(T0)
    [(post, _new)] = add(
        store=store,
        register=register,
        clock=clock,
        actor="a",
        entries=[entry(kind="post", channel="telegram", source="@news", reach=500)],
    )
    assert post.due_at is None
    clock.advance(timedelta(minutes=30))
    post = record_reach(
        store=store, register=register, clock=clock, actor="a", item_id=post.id, views=25000
    )
    assert post.due_at == clock.now() + timedelta(hours=1)
    post = act(
        store=store, register=register, clock=clock, actor="a", item_id=post.id, trigger="false"
    )
    post = act(
        store=store,
        register=register,
        clock=clock,
        actor="a",
        item_id=post.id,
        trigger="answer",
        answer="Bul jalǵan xabar.",
    )
    assert post.status == "rebutted"


def test_unknown_items_and_kinds_are_refused(store: Store, register: Register) -> None:
    clock = SimulatedClock(T0)
    with pytest.raises(RefusedError, match="no register item INB-2027-0042"):
        act(
            store=store,
            register=register,
            clock=clock,
            actor="a",
            item_id="INB-2027-0042",
            trigger="close",
        )
    with pytest.raises(RefusedError, match="unknown kind `rumour`"):
        add(store=store, register=register, clock=clock, actor="a", entries=[entry("rumour")])
    assert store.inbox_items() == []


# -- importing a file: one transaction, one statement per table ------------------------------

CSV_HEADER = "kind,received_at,channel,source,language,subject,text,external_id\n"


def csv_entries(register: Register, *rows: str) -> list[Entry]:
    raw = (CSV_HEADER + "".join(f"{row}\n" for row in rows)).encode()
    return entries_from(raw, zone="Asia/Tashkent", kinds=tuple(register.lifecycles))


def test_an_external_id_twice_in_one_file_is_added_once(store: Store, register: Register) -> None:
    entries = csv_entries(
        register,
        "question,2027-03-05 10:00,portal,my.gov.uz,uz,Suv,Suv qachon?,P-1",
        "question,2027-03-05 10:05,portal,my.gov.uz,uz,Gaz,Gaz qachon?,P-2",
        "question,2027-03-05 10:10,portal,my.gov.uz,uz,Suv again,Yana suv?,P-1",
    )
    clock = SimulatedClock(T0)
    first = add(store=store, register=register, clock=clock, actor="a", entries=entries)
    assert [(item.id, new) for item, new in first] == [
        ("INB-2027-0001", True),
        ("INB-2027-0002", True),
        ("INB-2027-0001", False),  # the first row's item, not the repeated row's text
    ]
    assert first[2][0].subject == "Suv"
    again = add(store=store, register=register, clock=clock, actor="a", entries=entries)
    assert [(item.id, new) for item, new in again] == [
        ("INB-2027-0001", False),
        ("INB-2027-0002", False),
        ("INB-2027-0001", False),
    ]
    assert again[0][0] == first[0][0]  # the stored item, as it was stored
    assert [i.external_id for i in store.inbox_items()] == ["P-2", "P-1"]
    assert len(store.inbox_events("INB-2027-0001")) == 1
    assert store.verify_chain() == []
    # the numbers continue after the file's: nothing was counted for the repeated row
    [(later, _new)] = add(
        store=store, register=register, clock=clock, actor="a", entries=[entry(external_id="P-3")]
    )
    assert later.id == "INB-2027-0003"


def test_a_file_spanning_two_years_numbers_each_year_in_file_order(
    store: Store, register: Register
) -> None:
    clock = SimulatedClock(T0)
    add(store=store, register=register, clock=clock, actor="a", entries=[entry(external_id="E-0")])
    entries = csv_entries(
        register,
        "question,2026-12-31 23:50,hotline,1050,ru,Вода,Когда будет вода?,E-1",
        "question,2027-01-01 00:10,hotline,1050,ru,Газ,Когда будет газ?,E-2",
        "appeal,2026-12-30 09:00,portal,my.gov.uz,kaa,Jol,Jol qashan?,E-3",
        "question,2027-01-02 08:00,hotline,1050,en,Power,When is power back?,E-4",
    )
    added = add(store=store, register=register, clock=clock, actor="a", entries=entries)
    assert [item.id for item, _new in added] == [
        "INB-2026-0001",
        "INB-2027-0002",  # 2027 had one item already
        "INB-2026-0002",
        "INB-2027-0003",
    ]
    assert all(new for _item, new in added)
    for item, _new in added:
        stored = store.get_inbox_item(item.id)
        assert stored == item
        [event] = store.inbox_events(item.id)
        assert event.data["external_id"] == item.external_id
        assert [t.generation for t in store.inbox_timers(item.id)] == [1] * len(
            store.inbox_timers(item.id)
        )
        assert store.inbox_timers(item.id)[-1].kind == "deadline"
    assert [i.id for i, _s in store.search_inbox("газ")] == ["INB-2027-0002"]
    assert store.verify_chain() == []


def test_a_file_that_fails_in_the_store_leaves_nothing(store: Store, register: Register) -> None:
    clock = SimulatedClock(T0)
    entries = [entry(external_id=f"F-{n}") for n in range(3)]
    added = add(store=store, register=register, clock=clock, actor="a", entries=entries[:1])
    items = [item for item, _new in added]
    assert [i.id for i in items] == ["INB-2027-0001"]
    received = [NewEvent(T0, "a", "inbox.received", {})]
    rows: list[tuple[InboxItem, list[NewEvent], list[NewTimer]]] = [
        (replace(items[0], id="", external_id=f"G-{n}"), received, []) for n in range(3)
    ]
    with pytest.raises(Exception, match=r"(?i)foreign key"):  # a link to no incident
        store.add_inbox_items(rows, links=[[], [], ["INC-2027-9999"]])
    assert [i.id for i in store.inbox_items()] == ["INB-2027-0001"]
    [(item, new)] = add(
        store=store, register=register, clock=clock, actor="a", entries=[entries[1]]
    )
    assert new and item.id == "INB-2027-0002"  # the failed file took no numbers


def test_csv_rows_blank_short_and_long(register: Register) -> None:
    entries = csv_entries(
        register,
        "question,2027-03-05 10:00,portal,my.gov.uz,uz,Suv,Suv qachon?",  # no external_id
        "",
        "question,2027-03-05 10:05,portal,my.gov.uz,uz,Gaz,Gaz qachon?,P-2",
    )
    assert [(e.external_id, e.fields["row"]) for e in entries] == [(None, 2), ("P-2", 4)]
    whole = "question,2027-03-05 10:00,portal,my.gov.uz,uz,Suv,Suv qachon?,P-1"
    with pytest.raises(UsageError, match="row 3, column text: empty"):
        csv_entries(register, whole, "question,2027-03-05 10:00,portal,my.gov.uz,uz,Suv")
    with pytest.raises(UsageError, match="row 2, column -: more values than columns"):
        csv_entries(register, whole + ",extra")
