"""The status and show views: rich renderables at 80 and 160 columns, plain text, the CLI."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from rich.console import Console, RenderableType

from crisiscomm.cli import cli, main
from crisiscomm.cli.ui import status, watch
from crisiscomm.clock import SimulatedClock
from crisiscomm.engine import service
from crisiscomm.store import Store, open_store
from crisiscomm.ui import readmodel
from crisiscomm.ui.render import (
    countdown,
    deadline_text,
    detail_plain,
    detail_view,
    status_plain,
    status_view,
)

from .conftest import confirm, open_press

ESCAPE = "\x1b["


@pytest.fixture(autouse=True)
def _commands(monkeypatch: pytest.MonkeyPatch) -> None:
    """`status` and `watch` on the CLI group, whether or not it lists them yet."""
    monkeypatch.setitem(cli.commands, "status", status)
    monkeypatch.setitem(cli.commands, "watch", watch)


def awaiting_legal(store: Store, clock: SimulatedClock) -> str:
    """An incident whose holding statement head of press approved; legal is next."""
    incident_id = open_press(store, clock, "Dam breach near Nukus")
    confirm(store, clock, incident_id)
    service.draft_statement(
        store=store, clock=clock, incident_id=incident_id, statement="holding", actor="aziz"
    )
    service.approve(
        store=store, clock=clock, incident_id=incident_id, name="holding", actor="dilnoza"
    )
    return incident_id


def text_of(renderable: RenderableType, width: int) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


@pytest.mark.parametrize("width", [80, 160])
def test_status_shows_an_overdue_incident_and_its_owner(
    store: Store, clock: SimulatedClock, width: int
) -> None:
    open_press(store, clock, "Rumour: poisoned water")
    clock.advance(timedelta(minutes=25))
    service.fire_due(store=store, clock=clock)
    text = text_of(status_view(readmodel.board(store=store), clock.now(), width=width), width)
    assert "INC-2026-0001" in text
    assert "OVERDUE 5 min" in text and "⚠" in text  # words and a symbol, not only red
    assert "Aziz" in text and "Karimov" in text  # the owner (may wrap in its cell)
    # the playbook's zone named once, then times without it: the deadline passed at 06:20
    assert text.count("Asia/Tashkent") == 1 and "Times: Asia/Tashkent (UTC+05:00)" in text
    assert "(06:20)" in text and "UTC" not in text.replace("(UTC+05:00)", "")
    assert max(len(line) for line in text.splitlines()) <= width


@pytest.mark.parametrize("width", [80, 160])
def test_status_names_the_approver_a_statement_waits_for(
    store: Store, clock: SimulatedClock, width: int
) -> None:
    awaiting_legal(store, clock)
    text = text_of(status_view(readmodel.board(store=store), clock.now(), width=width), width)
    assert "Legal" in text and "Rustam" in text
    assert "holding" in text


def test_status_uses_the_room_of_a_wide_terminal(store: Store, clock: SimulatedClock) -> None:
    open_press(store, clock, "Dam breach near Nukus")
    board = readmodel.board(store=store)
    narrow = text_of(status_view(board, clock.now(), width=80), 80)
    wide = text_of(status_view(board, clock.now(), width=160), 160)
    assert "playbook" in wide and "escalations" in wide
    assert "escalations" not in narrow
    assert len(wide.splitlines()) < len(narrow.splitlines())


@pytest.mark.parametrize("width", [80, 160])
def test_show_gives_the_clearance_chain_timers_and_events(
    store: Store, clock: SimulatedClock, width: int
) -> None:
    incident_id = awaiting_legal(store, clock)
    detail = readmodel.detail(store=store, incident_id=incident_id)
    text = text_of(detail_view(detail, clock.now()), width)
    assert "✓ Head of press:" in text and "dilnoza, 06:00" in text  # approved by whom, when
    assert "Times: Asia/Tashkent (UTC+05:00)" in text  # in the playbook's zone, named once
    assert text.count("Asia/Tashkent") == 1
    assert "… waiting for" in text and "Legal" in text and "Rustam" in text
    assert "[initial] → maintenance → resolution → evaluation" in text
    assert "in 40 min" in text and "deadline" in text  # the timer ahead
    assert "approved statement holding v1 as Head of press" in text  # last events, in words
    assert "Следующее" in text and "aymaǵında" in text  # the texts, per language
    assert "region" in text and "Nukus" in text  # facts
    assert max(len(line) for line in text.splitlines()) <= width


def test_show_names_who_an_escalation_reaches(store: Store, clock: SimulatedClock) -> None:
    incident_id = open_press(store, clock, "Dam breach near Nukus")
    detail = readmodel.detail(store=store, incident_id=incident_id)
    text = detail_plain(detail, clock.now())
    assert "06:15  escalation step 2  in 15 min  -> Head of press (Dilnoza Yusupova)" in text
    assert "[ ] log_source: Record the source" in text
    assert "[ ] call_back: Call the source back (optional)" in text


def test_plain_texts_have_no_escape_codes(store: Store, clock: SimulatedClock) -> None:
    incident_id = awaiting_legal(store, clock)
    clock.advance(timedelta(hours=1))
    service.fire_due(store=store, clock=clock)
    board_text = status_plain(readmodel.board(store=store), clock.now())
    detail_text = detail_plain(readmodel.detail(store=store, incident_id=incident_id), clock.now())
    for text in (board_text, detail_text):
        assert ESCAPE not in text
    assert "!! OVERDUE 20 min" in board_text
    assert "waits for Legal (Rustam Aliev)" in board_text


def test_countdown_ticks_in_seconds() -> None:
    assert countdown(timedelta(minutes=12, seconds=5)) == "in 12:05"
    assert countdown(timedelta(hours=-1, minutes=-2, seconds=-9)) == "OVERDUE 1:02:09"


def test_status_cli_empty_state_says_what_to_do(
    db: Path, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "No open incidents. Open one with: crisiscomm open-incident" in out


def test_status_cli_plain_when_not_a_terminal_and_json(
    store: Store, clock: SimulatedClock, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    incident_id = awaiting_legal(store, clock)
    open_press(store, clock, "Other", severity="high")
    assert main(["status", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert ESCAPE not in out and incident_id in out and "Legal (Rustam Aliev)" in out
    assert main(["status", "--db", str(db), "--severity", "high", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [i["id"] for i in shown["incidents"]] == ["INC-2026-0002"]
    assert main(["status", "--db", str(db), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    first = next(i for i in shown["incidents"] if i["id"] == incident_id)
    assert first["awaiting_clearance"] == {"holding": ["Legal (Rustam Aliev)"]}
    assert first["phase"] == "initial" and first["next_deadline"]["kind"] == "deadline"
    assert shown["outbox"]["dead"] == 0


def test_status_cli_colour_on_a_terminal_unless_no_color(
    store: Store,
    clock: SimulatedClock,
    db: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    open_press(store, clock, "Dam breach near Nukus", severity="high")
    import sys

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "160")
    assert main(["status", "--db", str(db)]) == 0
    assert ESCAPE in capsys.readouterr().out
    assert main(["status", "--db", str(db), "--no-color"]) == 0
    assert ESCAPE not in capsys.readouterr().out
    monkeypatch.setenv("NO_COLOR", "1")
    assert main(["show", "INC-2026-0001", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert ESCAPE not in out and "Dam breach near Nukus" in out


def test_show_cli_plain_and_json(
    store: Store, clock: SimulatedClock, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    incident_id = awaiting_legal(store, clock)
    assert main(["show", incident_id.lower(), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert ESCAPE not in out
    assert "approved by dilnoza (Head of press) at 03.04.2026 06:00" in out  # not "today"
    assert "  Times: Asia/Tashkent (UTC+05:00)\n" in out and out.count("Asia/Tashkent") == 1
    assert main(["show", incident_id, "--db", str(db), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["id"] == incident_id and shown["state"] == "statement"
    assert shown["next"] == ["publish", "false_alarm"]


def test_watch_without_a_terminal_says_so_and_exits_2(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["watch", "--db", str(db), "--as", "dilnoza"]) == 2
    assert "needs a terminal" in capsys.readouterr().err


def test_board_reader_sees_changes_made_between_reads(
    store: Store, clock: SimulatedClock, db: Path
) -> None:
    incident_id = awaiting_legal(store, clock)
    reader = readmodel.BoardReader()
    [before] = reader.read(store).incidents
    assert before.clearances[0].waiting == ["Legal (Rustam Aliev)"]
    with open_store(db) as other:
        service.approve(
            store=other, clock=clock, incident_id=incident_id, name="holding", actor="rustam"
        )
    clock.advance(timedelta(minutes=45))
    with open_store(db) as other:
        service.fire_due(store=other, clock=clock)
    [after] = reader.read(store).incidents
    assert after.clearances[0].waiting == []
    assert after.next_due is not None and after.next_due.kind == "deadline"
    assert "OVERDUE 5 min" in deadline_text(after, clock.now())


def test_status_cli_all_and_owner_filters(
    store: Store, clock: SimulatedClock, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    closed = open_press(store, clock, "False alarm")
    service.advance(
        store=store, clock=clock, incident_id=closed, trigger="false_alarm", note="no", actor="aziz"
    )
    open_press(store, clock, "Dam breach near Nukus")
    assert main(["status", "--db", str(db), "--json"]) == 0
    assert [i["id"] for i in json.loads(capsys.readouterr().out)["incidents"]] == ["INC-2026-0002"]
    assert main(["status", "--db", str(db), "--all"]) == 0
    out = capsys.readouterr().out
    assert "INC-2026-0001  False alarm  [closed]" in out and "INC-2026-0002" in out
    assert main(["status", "--db", str(db), "--owner", "dilnoza"]) == 0
    assert "No open incidents" in capsys.readouterr().out
    assert main(["status", "--db", str(db), "--owner", "karimov", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["incidents"]) == 1


def test_status_names_failing_deliveries_even_with_no_open_incident(
    store: Store, clock: SimulatedClock, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A statement released to a website that keeps refusing it is not 'all quiet'."""
    incident_id = open_press(store, clock, "Dam breach near Nukus")
    service.advance(
        store=store,
        clock=clock,
        incident_id=incident_id,
        trigger="false_alarm",
        note="a drill",
        actor="aziz",
    )
    rows = store.take_due_outbox(now=clock.now(), lease_until=clock.now(), limit=10)
    for row in rows:
        store.mark_outbox_retry(
            row, next_attempt_at=clock.now() + timedelta(minutes=5), error="503"
        )
    assert main(["status", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("No open incidents.")
    assert (
        f"outbox: {len(rows)} pending, 0 sent, 0 dead; {len(rows)} failing, to be retried "
        "(see: crisiscomm outbox)" in out
    )
