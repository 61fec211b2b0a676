"""The register's KPIs from real items in the store, and `crisiscomm inbox kpis`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crisiscomm.cli import main
from crisiscomm.clock import SimulatedClock
from crisiscomm.inbox.kpis import percentile, register_kpis
from crisiscomm.inbox.register import Register, compiled_register
from crisiscomm.inbox.service import Entry, act, add
from crisiscomm.store import Store, open_store
from tests.conftest import confirm, open_press, release_holding
from tests.conftest_store import (  # noqa: F401 (fixtures, used by name)
    pg_admin_fixture,
    store_fixture,
    target_fixture,
)

REPO = Path(__file__).resolve().parents[1]
T0 = datetime(2027, 3, 1, 5, 0, tzinfo=UTC)  # Monday 10:00 in Tashkent


@pytest.fixture(name="register")
def register_fixture() -> Register:
    return compiled_register(REPO / "inbox.yaml")


def entry(kind: str, **fields: object) -> Entry:
    values: dict[str, object] = {
        "kind": kind,
        "received_at": T0,
        "channel": "hotline",
        "source": "1093",
        "language": "kaa",
        "subject": "Suw",
        "text": "Suw qashan?",
    }
    values.update(fields)
    return Entry(**values)  # type: ignore[arg-type]


def _fill(store: Store, register: Register, clock: SimulatedClock) -> None:
    """Two questions (one answered in 2 h, one in 10 days: late), an appeal extended, an
    open question overdue, and a false post rebutted 90 minutes after it was seen."""
    incident_id = open_press(store, clock)
    items = add(
        store=store,
        register=register,
        clock=clock,
        actor="a",
        entries=[
            entry("question"),
            entry("question"),
            entry("appeal"),
            entry("question"),
            entry("post", source="@news", reach=15000, incidents=(incident_id,)),
        ],
    )
    fast, slow, appeal, _open, post = (item for item, _new in items)

    def fire(item_id: str, trigger: str, **given: str) -> None:
        act(
            store=store,
            register=register,
            clock=clock,
            actor="a",
            item_id=item_id,
            trigger=trigger,
            **given,
        )

    clock.advance(timedelta(minutes=20))
    fire(post.id, "false")  # the verdict: 20 min
    clock.advance(timedelta(minutes=40))
    confirm(store, clock, incident_id)
    clock.advance(timedelta(minutes=30))
    release_holding(store, clock, incident_id)  # 90 min after the post was seen
    clock.advance(timedelta(minutes=30))
    fire(fast.id, "answer", answer="Ertege.")  # 2 h
    fire(appeal.id, "extend", reason="needs a survey")
    clock.advance(timedelta(days=10))
    fire(slow.id, "answer", answer="Keshirek.")


def test_kpis_from_the_register(store: Store, register: Register) -> None:
    clock = SimulatedClock(T0)
    _fill(store, register, clock)
    found = register_kpis(
        store=store,
        register=register,
        now=clock.now(),
        start=T0 - timedelta(days=1),
        end=T0 + timedelta(days=1),
    )
    assert found["received"] == 5
    # the fast question and the post in time, the slow question late
    assert (found["answered_within_norm"], found["answered_with_deadline"]) == (2, 3)
    assert found["within_norm_percent"] == 66.7
    questions = found["response_seconds"]["question"]
    assert questions["answered"] == 2 and questions["median"] == (2 * 3600 + 242 * 3600) / 2
    assert questions["p90"] == 242 * 3600
    assert found["response_seconds"]["post"]["median"] == 20 * 60
    assert found["overdue_now"] == 1  # the open question (the appeal: extended, a month)
    assert found["appeals_extended"] == 1
    [rumour] = found["rumours_rebutted"]
    assert rumour["latency_seconds"] == 90 * 60 and rumour["reach"] == 15000
    assert found["correction_latency_median_seconds"] == 90 * 60
    later = register_kpis(
        store=store,
        register=register,
        now=clock.now(),
        start=T0 + timedelta(days=1),
        end=T0 + timedelta(days=2),
    )
    assert later["received"] == 0 and later["within_norm_percent"] is None
    assert later["overdue_now"] == 1  # whenever received


def test_percentile_nearest_rank() -> None:
    assert percentile([], 0.9) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([float(n) for n in range(1, 11)], 0.9) == 9.0
    assert percentile([float(n) for n in range(1, 11)], 0.5) == 5.0


def test_the_kpis_command(
    tmp_path: Path, register: Register, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "c.db"
    clock = SimulatedClock(T0)
    with open_store(str(db), create=True) as store:
        _fill(store, register, clock)
    args = ["inbox", "kpis", "--db", str(db), "--from", "2027-03-01", "--to", "2027-03-01"]
    assert main([*args, "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["received"] == 5 and found["appeals_extended"] == 1
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "answered within the norm: 66.7% (2 of 3)" in out
    assert "rumours rebutted: 1, correction latency median 1.5 h" in out
    assert (
        main(["inbox", "kpis", "--db", str(db), "--from", "2027-03-02", "--to", "2027-03-01"]) == 2
    )
    assert "--from is after --to" in capsys.readouterr().err
    assert main(["inbox", "kpis", "--db", str(db), "--from", "March"]) == 2


def test_status_shows_overdue_items_and_the_widest_rumours(
    tmp_path: Path, register: Register, capsys: pytest.CaptureFixture[str]
) -> None:
    from crisiscomm.clock import SystemClock
    from crisiscomm.ui.readmodel import board
    from crisiscomm.ui.render import status_plain, status_view

    db = tmp_path / "c.db"
    start = SystemClock().now() - timedelta(days=20)
    clock = SimulatedClock(start)
    with open_store(str(db), create=True) as store:
        open_press(store, clock)
        add(
            store=store,
            register=register,
            clock=clock,
            actor="a",
            entries=[
                entry("question", received_at=start, subject="Suw " * 40),
                entry("post", received_at=start, source="@a", reach=300),
                entry("post", received_at=start, source="@b", reach=90000),
            ],
        )
        now = SystemClock().now()
        read = board(store=store, now=now)
    # the spreading post (1 h to check) before the question (3 working days)
    assert [i.id for i in read.register.overdue] == [
        f"INB-{start.year}-0003",
        f"INB-{start.year}-0001",
    ]
    assert [i.reach for i in read.register.rumours] == [90000, 300]
    plain = status_plain(read, now)
    assert "Register items overdue:" in plain and "90000 views" in plain
    assert plain.index("90000 views") < plain.index("300 views")
    assert all(len(line) <= 80 for line in plain.splitlines() if "INB-" in line)
    from rich.console import Console

    console = Console(width=80, record=True)
    console.print(status_view(read, now, width=80))
    assert "Rumours with the largest reach" in console.export_text()
    capsys.readouterr()
    assert main(["status", "--db", str(db), "--json"]) == 0
    out = capsys.readouterr().out
    found = json.loads(out[out.index("{") :])
    assert found["register"]["rumours"][0]["reach"] == 90000
