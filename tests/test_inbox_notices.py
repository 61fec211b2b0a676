"""The register's notices through the outbox, a spreading post, and rebuttals (#17)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crisiscomm.clock import SimulatedClock
from crisiscomm.inbox.register import Register, compiled_register
from crisiscomm.inbox.service import Entry, act, add, record_reach
from crisiscomm.inbox.timers import fire_due
from crisiscomm.notify.outbox import deliver_due
from crisiscomm.office.find import compiled_office
from crisiscomm.office.model import Office
from crisiscomm.store import Store
from tests.conftest import confirm, open_press, release_holding
from tests.conftest_store import (  # noqa: F401 (fixtures, used by name)
    pg_admin_fixture,
    store_fixture,
    target_fixture,
)

REPO = Path(__file__).resolve().parents[1]
T0 = datetime(2027, 3, 5, 5, 0, tzinfo=UTC)
CONTACT = "+998901112233"


@pytest.fixture(name="register")
def register_fixture() -> Register:
    return compiled_register(REPO / "inbox.yaml")


@pytest.fixture(name="office")
def office_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Office:
    """The example office with a file channel, as CRISISCOMM_OFFICE (delivery reads it)."""
    text = (REPO / "office.yaml").read_text(encoding="utf-8")
    path = tmp_path / "office.yaml"
    log = tmp_path / "notices.jsonl"
    path.write_text(text + f"\nchannels:\n  log:\n    type: file\n    path: {log}\n", "utf-8")
    monkeypatch.setenv("CRISISCOMM_OFFICE", str(path))
    return compiled_office(path)


def entry(kind: str = "question", **fields: object) -> Entry:
    values: dict[str, object] = {
        "kind": kind,
        "received_at": T0,
        "channel": "hotline",
        "source": "1093",
        "language": "kaa",
        "subject": "Ishimlik suw",
        "text": "Awılımızda suw qashan boladı?",
    }
    values.update(fields)
    return Entry(**values)  # type: ignore[arg-type]


def test_reminders_and_deadlines_reach_people_once_in_their_language(
    store: Store, register: Register, office: Office, tmp_path: Path
) -> None:
    clock = SimulatedClock(T0)
    [(item, _new)] = add(
        store=store,
        register=register,
        clock=clock,
        actor="asultanova",
        entries=[entry(name="Ali Valiev", contact=CONTACT)],
    )
    act(
        store=store,
        register=register,
        clock=clock,
        actor="asultanova",
        item_id=item.id,
        trigger="assign",
        assignee="qjumaniyazov",
    )
    clock.advance(timedelta(days=10))
    assert fire_due(store=store, register=register, clock=clock, office=office) == 2
    assert fire_due(store=store, register=register, clock=clock, office=office) == 0
    rows = store.item_outbox(item.id)
    kinds = [(r.payload["kind"], r.recipient) for r in rows]
    assert ("inbox.reminder", "qjumaniyazov") in kinds
    assert ("inbox.overdue", "qjumaniyazov") in kinds
    heads = {p.id for p in office.members("head_of_press")}
    assert heads & {r for k, r in kinds if k == "inbox.overdue"}
    assert all(r.channel == "log" for r in rows)
    mine = next(r for r in rows if r.recipient == "qjumaniyazov")
    assert mine.payload["language"] == office.people["qjumaniyazov"].language == "uz"
    assert len({r.idempotency_key for r in rows}) == len(rows)
    for row in rows:
        assert CONTACT not in json.dumps(row.payload, ensure_ascii=False)
        assert "Ali Valiev" not in json.dumps(row.payload, ensure_ascii=False)
    report = deliver_due(store, now=clock.now())
    assert (report.sent, report.dead) == (len(rows), 0)
    lines = (tmp_path / "notices.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(rows)
    assert json.loads(lines[0])["incident_id"] == item.id
    assert deliver_due(store, now=clock.now()).sent == 0  # exactly once
    assert store.outbox_counts()["sent"] == len(rows)


def test_without_office_channels_notices_go_to_the_console(
    store: Store, register: Register, office: Office, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = replace(office, channels={})
    clock = SimulatedClock(T0)
    [(item, _new)] = add(store=store, register=register, clock=clock, actor="a", entries=[entry()])
    clock.advance(timedelta(days=10))
    fire_due(store=store, register=register, clock=clock, office=bare)
    rows = store.item_outbox(item.id)
    assert rows and {r.channel for r in rows} == {"console"}
    duty = office.on_duty("duty_officer", clock.now())
    assert duty is not None and duty.id in {r.recipient for r in rows}  # nobody assigned


def test_a_spreading_post_escalates_to_the_head_of_press_with_a_proposal(
    store: Store, register: Register, office: Office
) -> None:
    clock = SimulatedClock(T0)
    [(post, _new)] = add(
        store=store,
        register=register,
        clock=clock,
        actor="a",
        entries=[entry(kind="post", channel="telegram", source="@news", reach=500)],
    )
    record_reach(
        store=store,
        register=register,
        clock=clock,
        actor="a",
        item_id=post.id,
        views=900,
        office=office,
    )
    assert store.item_outbox(post.id) == []  # below the threshold
    record_reach(
        store=store,
        register=register,
        clock=clock,
        actor="a",
        item_id=post.id,
        views=25000,
        office=office,
    )
    rows = store.item_outbox(post.id)
    heads = {p.id for p in office.members("head_of_press")}
    assert rows and {r.recipient for r in rows} <= heads
    assert {r.payload["kind"] for r in rows} == {"inbox.escalation"}
    assert "open-incident false-rumour" in rows[0].payload["text"]
    assert "25000" in rows[0].payload["subject"]
    record_reach(
        store=store,
        register=register,
        clock=clock,
        actor="a",
        item_id=post.id,
        views=90000,
        office=office,
    )
    assert len(store.item_outbox(post.id)) == len(rows)  # once, at the crossing


def test_a_post_linked_to_an_open_incident_is_named_in_its_escalation(
    store: Store, register: Register, office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = SimulatedClock(T0)
    monkeypatch.delenv("CRISISCOMM_OFFICE")  # the press playbook has people of its own
    incident_id = open_press(store, clock)
    [(post, _new)] = add(
        store=store,
        register=register,
        clock=clock,
        actor="a",
        entries=[entry(kind="post", source="@news", reach=10, incidents=(incident_id,))],
    )
    record_reach(
        store=store,
        register=register,
        clock=clock,
        actor="a",
        item_id=post.id,
        views=20000,
        office=office,
    )
    [first, *_rest] = store.item_outbox(post.id)
    assert incident_id in first.payload["text"]


def test_releasing_the_statement_marks_linked_posts_rebutted(
    store: Store, register: Register
) -> None:
    clock = SimulatedClock(T0)
    incident_id = open_press(store, clock)
    [(post, _new), (other, _new2)] = add(
        store=store,
        register=register,
        clock=clock,
        actor="a",
        entries=[
            entry(kind="post", source="@news", reach=12000, incidents=(incident_id,)),
            entry(kind="post", source="@other", reach=50),
        ],
    )
    act(store=store, register=register, clock=clock, actor="a", item_id=post.id, trigger="false")
    clock.advance(timedelta(minutes=90))
    confirm(store, clock, incident_id)
    release_holding(store, clock, incident_id)
    post = store.get_inbox_item(post.id)
    assert post.status == "rebutted"
    rebuttal = post.data["rebuttal"]
    assert rebuttal["incident"] == incident_id and rebuttal["statement"] == "holding"
    assert rebuttal["latency_seconds"] == 90 * 60
    assert rebuttal["reach"] == 12000
    assert store.inbox_events(post.id)[-1].type == "inbox.rebutted"
    assert store.inbox_timers(post.id) == []
    assert store.get_inbox_item(other.id).status == "new"  # not linked
    assert store.verify_chain() == []
