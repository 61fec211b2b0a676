"""`crisiscomm watch` driven headless with Textual's pilot, on a real SQLite file."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from crisiscomm.clock import SimulatedClock
from crisiscomm.engine import service
from crisiscomm.store import open_store
from crisiscomm.ui import dashboard
from crisiscomm.ui.dashboard import Dashboard, DetailScreen, KeysScreen

from .conftest import FIXTURES

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
