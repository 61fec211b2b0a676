"""`crisiscomm watch` driven headless with Textual's pilot, on a real SQLite file."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from crisiscomm.clock import SimulatedClock
from crisiscomm.engine import service
from crisiscomm.inbox.register import compiled_register
from crisiscomm.inbox.service import Entry, act, add
from crisiscomm.store import open_store
from crisiscomm.ui import dashboard
from crisiscomm.ui.dashboard import Dashboard, DetailScreen, KeysScreen

from .conftest import FIXTURES, REPO

PLAYBOOK = str(FIXTURES / "engine" / "press.yaml")
START = datetime(2026, 4, 3, 1, 0, tzinfo=UTC)


def open_two(db: Path, clock: SimulatedClock) -> list[str]:
    ids = []
    with open_store(db) as store:
        for title in ("Dam breach near Nukus", "Rumour: poisoned water"):
            ids.append(
                service.open_incident(
                    store=store,
                    clock=clock,
                    playbook_ref=PLAYBOOK,
                    title=title,
                    severity=None,
                    facts=["region=Nukus"],
                    actor="aziz",
                ).id
            )
    return ids


def drive(app: Dashboard, script: Callable[[Pilot[int]], Awaitable[None]]) -> None:
    async def run() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await script(pilot)

    asyncio.run(run())


def shown(widget: Static) -> str:
    console = Console(width=100, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


def test_lists_open_incidents_with_ticking_countdowns(tmp_path: Path) -> None:
    clock = SimulatedClock(START)
    first, second = open_two(tmp_path / "office.db", clock)
    app = Dashboard(db=str(tmp_path / "office.db"), actor="dilnoza", clock=clock)

    async def script(pilot: Pilot[int]) -> None:
        table = app.query_one("#incidents", DataTable)
        assert app.ids == [second, first]  # newest first
        # the state's deadline (not a ladder step), and under it when it falls, local time
        assert str(table.get_row(first)[1]) == "in 20:00\n06:20"
        clock.advance(timedelta(seconds=61))
        app.reload()
        assert str(table.get_row(first)[1]) == "in 18:59\n06:20"
        clock.advance(timedelta(minutes=30))
        app.reload()
        assert str(table.get_row(first)[1]) == "⚠ OVERDUE 11:01\n06:20"
        clock_line = shown(app.query_one("#clock", Static))
        assert "Times: Asia/Tashkent (UTC+05:00) · now 06:31:01" in clock_line
        assert "outbox: 2 pending" in " ".join(shown(app.query_one("#outbox", Static)).split())

    drive(app, script)


def test_arrows_select_enter_opens_detail_escape_returns(tmp_path: Path) -> None:
    clock = SimulatedClock(START)
    first, _second = open_two(tmp_path / "office.db", clock)
    app = Dashboard(db=str(tmp_path / "office.db"), actor="dilnoza", clock=clock)

    async def script(pilot: Pilot[int]) -> None:
        await pilot.press("down")
        assert app.selected() == first
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen) and app.screen.incident_id == first
        text = shown(app.screen.query_one("#detail", Static))
        assert "Dam breach near Nukus" in text and "Record the source" in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, DetailScreen)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, KeysScreen)
        await pilot.press("escape")
        await pilot.press("q")

    drive(app, script)
    assert app.return_code in (None, 0)


def test_a_acknowledges_as_the_current_actor(tmp_path: Path) -> None:
    clock = SimulatedClock(START)
    _first, second = open_two(tmp_path / "office.db", clock)
    app = Dashboard(db=str(tmp_path / "office.db"), actor="dilnoza", clock=clock)

    async def script(pilot: Pilot[int]) -> None:
        assert app.selected() == second
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("a")  # twice: refused, shown, not a crash
        await pilot.pause()

    drive(app, script)
    with open_store(tmp_path / "office.db") as store:
        events = store.events(second)
    acks = [e for e in events if e.type == "acknowledged"]
    assert [(e.actor, e.at) for e in acks] == [("dilnoza", START)]


def test_refreshes_when_another_connection_changes_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dashboard, "REFRESH_SECONDS", 0.05)
    clock = SimulatedClock(START)
    first, _second = open_two(tmp_path / "office.db", clock)
    app = Dashboard(db=str(tmp_path / "office.db"), actor="dilnoza", clock=clock)

    async def script(pilot: Pilot[int]) -> None:
        table = app.query_one("#incidents", DataTable)
        with open_store(tmp_path / "office.db") as other:
            service.advance(
                store=other,
                clock=clock,
                incident_id=first,
                trigger="false_alarm",
                note="checked: a drill",
                actor="aziz",
            )
        for _ in range(400):  # the app's own interval picks it up (up to 20 s on a loaded machine)
            await pilot.pause(0.05)
            if first not in app.ids:
                break
        assert first not in app.ids and table.row_count == 1, (app.ids, table.row_count)

    drive(app, script)


def test_empty_store_says_what_to_do(tmp_path: Path) -> None:
    open_store(tmp_path / "office.db").close()  # an office that has no incident yet
    app = Dashboard(db=str(tmp_path / "office.db"), actor="dilnoza")

    async def script(pilot: Pilot[int]) -> None:
        empty = app.query_one("#empty", Static)
        assert empty.display and "crisiscomm open-incident" in shown(empty)
        await pilot.press("a")  # nothing selected: a warning, not a crash
        await pilot.press("ctrl+c")

    drive(app, script)


def test_fits_an_80_by_24_terminal(tmp_path: Path) -> None:
    clock = SimulatedClock(START)
    first, _second = open_two(tmp_path / "office.db", clock)
    app = Dashboard(db=str(tmp_path / "office.db"), actor="dilnoza", clock=clock)

    async def run() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            table = app.query_one("#incidents", DataTable)
            assert table.row_count == 2
            region = table.region
            assert region.width <= 80 and region.height >= 3  # the incidents stay visible
            await pilot.press("down", "enter")
            await pilot.pause()
            assert isinstance(app.screen, DetailScreen) and app.screen.incident_id == first

    asyncio.run(run())


def test_shows_overdue_items_and_the_widest_rumours_beside_the_incidents(tmp_path: Path) -> None:
    clock = SimulatedClock(START)
    open_two(tmp_path / "office.db", clock)
    register = compiled_register(REPO / "inbox.yaml")
    asked = Entry(
        kind="question",
        received_at=START,
        channel="hotline",
        source="hotline 1050",
        language="ru",
        subject="Вода в Нукусе",
        text="Когда будет вода?",
    )
    posts = [
        replace(asked, kind="post", channel="telegram", source=f"@news{n}", subject=subject,
                reach=reach)
        for n, (subject, reach) in enumerate([("Poisoned water", 48000), ("Dam cracked", 900)])
    ]  # fmt: skip
    with open_store(tmp_path / "office.db") as store:
        added = add(
            store=store, register=register, clock=clock, actor="aziz", entries=[asked, *posts]
        )
    question, wide, narrow = [item for item, _new in added]
    app = Dashboard(db=str(tmp_path / "office.db"), actor="dilnoza", clock=clock)

    async def script(pilot: Pilot[int]) -> None:
        panel = app.query_one("#register", Static)
        assert panel.display  # the rumours: nothing is overdue yet
        text = shown(panel)
        assert question.id not in text
        assert text.index(wide.id) < text.index(narrow.id)  # the widest first
        assert "48000 views" in text and "@news0: Poisoned water" in text
        clock.advance(timedelta(days=10))  # the question's three working days are past
        app.reload()
        text = shown(panel)
        assert "Register items overdue:" in text and question.id in text
        assert "Вода в Нукусе" in text and "unassigned" in text
        with open_store(tmp_path / "office.db") as store:
            for item, triggers in (
                (question, ["answer", "close"]),
                (wide, ["not_ours", "close"]),
                (narrow, ["not_ours", "close"]),
            ):
                for trigger in triggers:
                    act(store=store, register=register, clock=clock, actor="aziz",
                        item_id=item.id, trigger=trigger, answer="В апреле.")  # fmt: skip
        app.reload()
        assert not panel.display  # all closed: the panel leaves the room to the incidents

    drive(app, script)


def test_the_register_panel_reads_through_indexes(tmp_path: Path) -> None:
    """Each refresh runs the register's two queries: neither may read the whole register."""
    import sqlite3

    from crisiscomm.store.inbox import ITEM_COLUMNS
    from crisiscomm.ui.register import OVERDUE, RUMOURS

    open_store(tmp_path / "office.db").close()
    with sqlite3.connect(tmp_path / "office.db") as conn:
        for where in (OVERDUE, RUMOURS):
            query = f"SELECT {ITEM_COLUMNS} FROM inbox_items WHERE {where}"
            plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {query}", {"now": "x"})]
            reads = [step for step in plan if "inbox_items" in step]
            assert reads and all("INDEX" in step for step in reads), plan
