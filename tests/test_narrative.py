"""Times and the record as a person reads them: the zone named once, local times, each
event in words (`district = Beruniy`, `statement holding v2`), never a repr or a full hash."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crisiscomm.clock import SimulatedClock
from crisiscomm.engine import service
from crisiscomm.engine.facts import fact_display
from crisiscomm.engine.narrative import event_text, short_hash
from crisiscomm.engine.timefmt import local_text, times_header, zone_label, zoned_text
from crisiscomm.store import Store
from crisiscomm.store.rows import EventRow
from crisiscomm.ui.timeline import timeline_text

from .conftest import PRESS, confirm, open_press

NOON_UTC = datetime(2026, 12, 4, 12, 40, tzinfo=UTC)


# -- times --------------------------------------------------------------------------------


def test_times_are_local_with_the_zone_named_once() -> None:
    assert zone_label("Asia/Tashkent", [NOON_UTC]) == "Asia/Tashkent (UTC+05:00)"
    assert times_header("Asia/Tashkent", [NOON_UTC]) == "Times: Asia/Tashkent (UTC+05:00)"
    assert local_text(NOON_UTC, "Asia/Tashkent") == "04.12.2026 17:40"
    # on the day the screen is about, the time alone
    assert local_text(NOON_UTC, "Asia/Tashkent", now=NOON_UTC + timedelta(hours=5)) == "17:40"
    # the local day, not UTC's: 21:00 UTC is the next morning in Tashkent
    late = datetime(2026, 12, 4, 21, 0, tzinfo=UTC)
    assert local_text(late, "Asia/Tashkent", now=NOON_UTC) == "05.12.2026 02:00"
    assert zoned_text(NOON_UTC, "Asia/Tashkent") == "04.12.2026 17:40 (Asia/Tashkent, UTC+05:00)"
    assert zoned_text(NOON_UTC, "UTC") == "04.12.2026 12:40 (UTC)"


def test_a_zone_that_changes_offset_names_both() -> None:
    winter, summer = datetime(2026, 1, 10, tzinfo=UTC), datetime(2026, 7, 10, tzinfo=UTC)
    assert zone_label("Europe/Berlin", [winter, summer]) == "Europe/Berlin (UTC+01:00, UTC+02:00)"
    assert zone_label("America/St_Johns", [winter]) == "America/St_Johns (UTC-03:30)"


# -- events in words ----------------------------------------------------------------------


def event(kind: str, data: dict[str, object], actor: str = "crisiscomm") -> EventRow:
    return EventRow("INC-2026-0001", 1, NOON_UTC, actor, kind, data, "", "")


@pytest.fixture
def record(store: Store, clock: SimulatedClock) -> tuple[str, list[EventRow]]:
    """An incident with most kinds of event: facts, checks, a transition with a note,
    statements drafted, edited, approved and released, notices fired, an acknowledgement."""
    incident_id = open_press(store, clock, "Dam breach near Nukus")
    act: dict[str, Any] = {"store": store, "clock": clock, "incident_id": incident_id}
    service.set_facts(**act, assignments=["evacuated=120"], actor="aziz")
    service.set_facts(**act, assignments=["evacuated=1 250"], actor="aziz")
    clock.advance(timedelta(minutes=11))
    service.fire_due(store=store, clock=clock)  # escalation step 1
    service.acknowledge(**act, actor="aziz")
    confirm(store, clock, incident_id)
    service.draft_statement(**act, statement="holding", actor="aziz")
    text = Path(store.where).parent / "holding-ru.txt"
    text.write_text("Происшествие: Nukus. Следующее сообщение: в 08:00.", encoding="utf-8")
    service.edit_statement(**act, statement="holding", language="ru", file=text, actor="aziz")
    service.approve(**act, name="holding", actor="dilnoza")
    clock.advance(timedelta(minutes=45))
    service.fire_due(store=store, clock=clock)  # the deadline, and legal's clearance chase
    service.approve(**act, name="holding", actor="rustam")
    service.release_statement(**act, statement="holding", actor="aziz")
    service.add_note(**act, text="Hokimiyat confirms shelters", actor="aziz")
    return incident_id, service.timeline(store=store, incident_id=incident_id)


def test_each_event_reads_as_words(store: Store, record: tuple[str, list[EventRow]]) -> None:
    incident_id, events = record
    playbook, _incident = service.load(store=store, incident_id=incident_id)
    said = [event_text(playbook, e, now=e.at) for e in events]
    hash_prefix = short_hash(playbook.content_hash)
    assert said[0] == (
        f"opened “Dam breach near Nukus”: playbook press ({hash_prefix}), severity medium, "
        "in detection; region = Nukus"
    )
    assert "evacuated = 120" in said
    assert f"evacuated = {fact_display(playbook, 'evacuated', 1250, 'en')} (was 120)" in said
    assert (  # fired a minute after it was due: the clock jumped 11 minutes at once
        "escalation step 1 in detection: told Duty press officer (Aziz Karimov); fired 1 min late"
        in said
    )
    assert "acknowledged in detection" in said
    assert "checked log_source: Record the source" in said
    assert "confirm: detection → statement" in said
    assert "drafted statement holding v1" in said
    assert "edited statement holding v2 (ru)" in said
    assert "approved statement holding v2 as Head of press" in said
    assert "approved statement holding v2 as Legal" in said
    assert any(
        s.startswith("deadline of statement missed (due 06:51): told Duty press officer")
        for s in said
    ), said
    assert any(s.startswith("released statement holding v2 via console; next update") for s in said)
    assert "note: Hokimiyat confirms shelters" in said
    for text in said:  # no reprs, no full hashes, no UTC
        assert not re.search(r"\{'|\[['{]|[0-9a-f]{64}|\d{4}-\d\d-\d\dT|Z\b", text), text


def test_an_event_of_a_kind_not_described_is_listed_plainly(
    store: Store, clock: SimulatedClock
) -> None:
    open_press(store, clock)
    playbook, _incident = service.load(store=store, incident_id="INC-2026-0001")
    text = event_text(
        playbook,
        event("archive.exported", {"to": "aar.md", "hash": "ab" * 32, "files": ["a", "b"]}),
    )
    assert text == f"archive.exported: to = aar.md, hash = {'ab' * 4}, files = a, b"
    late = event("deadline.missed", {"state": "detection", "late_by_seconds": 185.0})
    assert event_text(playbook, late).endswith("; fired 3 min late")


def test_the_timeline_names_the_zone_once_and_groups_by_local_day(
    store: Store, record: tuple[str, list[EventRow]]
) -> None:
    incident_id, events = record
    playbook, incident = service.load(store=store, incident_id=incident_id)
    text = timeline_text(playbook, incident, events)
    lines = text.splitlines()
    assert lines[:4] == [
        "INC-2026-0001  Dam breach near Nukus",
        "Times: Asia/Tashkent (UTC+05:00)",
        "",
        "03.04.2026",
    ]
    assert re.match(r"  06:00  aziz {8}opened “Dam breach near Nukus”", lines[4]), lines[4]
    assert text.count("Asia/Tashkent") == 1
    # at 80 columns long lines wrap under their text, between words
    narrow = timeline_text(playbook, incident, events, width=80).splitlines()
    assert max(len(line) for line in narrow) <= 80
    assert any(line.startswith(" " * 16) and line.strip() for line in narrow)
    assert " ".join(" ".join(narrow).split()) == " ".join(" ".join(lines).split())


def test_timeline_json_keeps_the_record_as_kept(
    store: Store, clock: SimulatedClock, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from crisiscomm.cli import main

    incident_id = open_press(store, clock)
    assert main(["timeline", incident_id, "--db", str(db), "--json"]) == 0
    [opened] = json.loads(capsys.readouterr().out)
    assert opened["at"] == "2026-04-03T01:00:00.000000Z"  # UTC, as stored
    assert re.fullmatch(r"[0-9a-f]{64}", opened["data"]["playbook_hash"])
    assert opened["data"]["facts"] == {"region": "Nukus"} and opened["actor"] == "aziz"
    assert PRESS  # the fixture playbook the incident pinned


# -- withdrawals and corrections ----------------------------------------------------------


@pytest.fixture
def taken_back(
    store: Store, clock: SimulatedClock, record: tuple[str, list[EventRow]]
) -> tuple[str, list[EventRow]]:
    """The record's released holding statement corrected (v3 corrects v2), then the
    correction withdrawn: proposed by the head of press, confirmed by legal."""
    incident_id, _events = record
    act: dict[str, Any] = {"store": store, "clock": clock, "incident_id": incident_id}
    text = Path(store.where).parent / "holding-kaa.txt"
    text.write_text("Beruniy aymaǵında hádiyse. Keyingi xabar: 08:00.", encoding="utf-8")
    service.edit_statement(**act, statement="holding", language="kaa", file=text, actor="aziz")
    note = "Beruniy district, not Nukus"
    service.mark_correction(**act, statement="holding", note=note, actor="aziz")
    for approver in ["dilnoza", "rustam"]:
        service.approve(**act, name="holding", actor=approver)
    service.release_statement(**act, statement="holding", actor="aziz")
    clock.advance(timedelta(minutes=20))
    reason = "The evacuation figures were wrong"
    service.withdraw_statement(**act, statement="holding", reason=reason, actor="dilnoza")
    clock.advance(timedelta(minutes=5))
    service.withdraw_statement(**act, statement="holding", reason=None, actor="rustam")
    return incident_id, service.timeline(store=store, incident_id=incident_id)


def test_withdrawals_and_corrections_read_as_words(
    store: Store, taken_back: tuple[str, list[EventRow]]
) -> None:
    incident_id, events = taken_back
    playbook, _incident = service.load(store=store, incident_id=incident_id)
    said = {e.type: event_text(playbook, e, now=e.at) for e in events}
    assert said["statement.correction_marked"] == (
        "marked statement holding v3 as the correction of released v2, which it replaces once "
        "released; public note: “Beruniy district, not Nukus”"
    )
    assert said["statement.withdrawal_proposed"] == (
        "proposed withdrawing released statement holding v3 as Head of press, reason: "
        "“The evacuation figures were wrong”; it stays public until a second person confirms"
    )
    proposed = next(e for e in events if e.type == "statement.withdrawal_proposed")
    withdrawn = next(e for e in events if e.type == "statement.withdrawn")
    # the proposal's time on the confirmation's day: the clock time alone
    at = local_text(proposed.at, playbook.timezone, now=withdrawn.at)
    assert re.fullmatch(r"\d\d:\d\d", at)
    # a playbook without an office names people by their login (display_name)
    assert said["statement.withdrawn"] == (
        "withdrew released statement holding v3 as Legal, proposed by dilnoza at "
        f"{at}, reason: “The evacuation figures were wrong”; channels told: console"
    )
    # a record from before the proposal's time and role were kept still reads
    old = event(
        "statement.withdrawn",
        {"statement": "holding", "version": 1, "reason": "Wrong", "proposed_by": "dilnoza"},
    )
    assert event_text(playbook, old) == (
        "withdrew released statement holding v1, proposed by dilnoza, reason: "
        "“Wrong”; channels told: -"
    )


def test_show_and_the_after_action_report_word_withdrawals_and_corrections(
    db: Path, taken_back: tuple[str, list[EventRow]], capsys: pytest.CaptureFixture[str]
) -> None:
    from crisiscomm.cli import main

    incident_id, _events = taken_back
    assert main(["show", incident_id, "--db", str(db)]) == 0
    shown = " ".join(capsys.readouterr().out.split())  # rich wraps long lines
    for words in [
        "marked statement holding v3 as the correction of released v2",
        "public note: “Beruniy district, not Nukus”",
        "proposed withdrawing released statement holding v3 as Head of press",
        "withdrew released statement holding v3 as Legal, proposed by dilnoza at",
        "reason: “The evacuation figures were wrong”; channels told: console",
    ]:
        assert words in shown, words

    assert main(["report", incident_id, "--format", "md", "--db", str(db)]) == 0
    report = capsys.readouterr().out
    timeline = report[report.index("## Timeline") :]
    cells = [line[2:-2].split(" | ") for line in timeline.splitlines()[4:] if line]
    rows = {cell[3]: cell[4] for cell in cells}  # event type: details
    assert rows["statement.correction_marked"] == (
        "marked statement holding v3 as the correction of released v2, which it replaces once "
        "released; public note: “Beruniy district, not Nukus”"
    )
    assert rows["statement.withdrawal_proposed"].startswith(
        "proposed withdrawing released statement holding v3 as Head of press, reason: "
    )
    assert re.fullmatch(
        r"withdrew released statement holding v3 as Legal, proposed by dilnoza at "
        r"\d\d\.\d\d\.\d{4} \d\d:\d\d, reason: “The evacuation figures were wrong”; "
        r"channels told: console",
        rows["statement.withdrawn"],
    ), rows["statement.withdrawn"]
