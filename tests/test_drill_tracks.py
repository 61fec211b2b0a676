"""Drills of several incidents on one clock: tracks, the timings an exercise overrides, the
facts it adds, and injects that land in the register. Real SQLite files throughout."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from crisiscomm.drill.runner import run_drill
from crisiscomm.drill.scenario import ScenarioError, load_scenario
from crisiscomm.engine import service
from crisiscomm.store import open_store

from .conftest import REPO

TWO_TRACKS = REPO / "tests" / "fixtures" / "drills" / "two-tracks.yaml"
Write = Callable[[str, str], Path]


def test_two_incidents_play_on_one_clock_linked_on_their_records(tmp_path: Path) -> None:
    scenario = load_scenario(TWO_TRACKS)
    assert [t.id for t in scenario.tracks] == ["flood", "rumour"]
    assert scenario.tracks[1].opens_at == timedelta(minutes=20)
    run = run_drill(scenario, db=tmp_path / "drill.db")
    assert run.refusals == []
    flood, rumour = run.incidents["flood"], run.incidents["rumour"]
    assert flood != rumour and run.incident_id == flood
    assert run.track_events["rumour"][0].at - scenario.start == timedelta(minutes=20)
    notes = {
        track: [e.data.get("text", "") for e in events if e.type == "note"]
        for track, events in run.track_events.items()
    }
    assert any(rumour in text for text in notes["flood"])
    assert any(flood in text for text in notes["rumour"])
    # the rumour track's responses reached the rumour incident only
    assert any(e.type == "transition" or "trigger" in e.data for e in run.track_events["rumour"])
    released = [e for e in run.track_events["rumour"] if e.type == "statement.released"]
    assert [e.data.get("statement") for e in released] == ["rebuttal"]
    assert not [e for e in run.track_events["flood"] if e.data.get("statement") == "rebuttal"]


def test_each_track_reads_as_its_own_scenario(tmp_path: Path) -> None:
    scenario = load_scenario(TWO_TRACKS)
    run = run_drill(scenario, db=tmp_path / "drill.db")
    rumour = run.for_track("rumour")
    assert rumour.scenario.playbook.id == "false-rumour"
    assert rumour.incident_id == run.incidents["rumour"]
    assert {i.id for i in rumour.scenario.injects} == {"fake-appears", "viral-post"}
    assert [o.id for o in rumour.scenario.objectives] == ["rebut"]
    assert [s[0] for s in rumour.scenario.states_by] == ["assess"]
    flood = run.for_track("flood")
    assert [o.id for o in flood.scenario.objectives] == ["verify"]
    assert {i.id for i in flood.scenario.injects} == {"ops-room-call", "journalist", "children"}
    assert {d.incident for d in rumour.deliveries} <= {rumour.incident_id, ""}


def test_the_exercise_overrides_timings_and_adds_facts_on_the_pinned_playbook(
    tmp_path: Path,
) -> None:
    scenario = load_scenario(TWO_TRACKS)
    flood = scenario.tracks[0]
    assert len(flood.overrides) == 4
    assert any("holding" in change and "30" in change for change in flood.overrides)
    run = run_drill(scenario, db=tmp_path / "drill.db")
    with open_store(tmp_path / "drill.db") as store:
        playbook, incident = service.load(store=store, incident_id=run.incidents["flood"])
    assert playbook.states["holding"]["cadence"]["every"] == "30m"
    assert playbook.states["verification"]["deadline"] == "20m"
    assert playbook.statements["full"]["clearance"] == ["head_of_press", "mes_liaison", "legal"]
    assert incident.data["facts"]["children_evacuated"] == 340
    # the shipped playbook itself is unchanged
    assert (
        load_scenario(REPO / "drills" / "flood-amu-darya.yaml").playbook.states["holding"][
            "cadence"
        ]["every"]
        == "1h"
    )


def test_register_injects_are_filed_answered_and_rebutted(tmp_path: Path) -> None:
    run = run_drill(load_scenario(TWO_TRACKS), db=tmp_path / "drill.db")
    answered = {a.inject_id: a for a in run.answered}
    journalist, post = answered["journalist"], answered["viral-post"]
    assert journalist.kind == "media_query" and journalist.status == "answered"
    assert journalist.settled_by == "naytbaev" and journalist.in_time
    # a media query during an open incident: 2 hours (inbox.yaml)
    assert journalist.due_at is not None
    assert journalist.due_at - journalist.received_at == timedelta(hours=2)
    assert post.status == "rebutted" and post.rebutted_at is not None
    assert post.rebutted_at - run.scenario.start == timedelta(hours=1, minutes=20)
    with open_store(tmp_path / "drill.db") as store:
        assert store.inbox_links(journalist.item_id) == [run.incidents["flood"]]
        assert store.inbox_links(post.item_id) == [run.incidents["rumour"]]
        assert store.get_inbox_item(post.item_id).subject.startswith("EXERCISE")


def _findings(path: Path) -> str:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return "\n".join(f"{f.location}: {f.message} ({f.hint})" for f in caught.value.findings)


BASE = """\
crisiscomm-drill: 1
title: t
start: "2026-04-03 03:00"
duration: 6h
tracks:
  - id: flood
    playbook: flood
  - id: rumour
    playbook: false-rumour
    opens_at: 20m
injects:
  - id: call
    at: 0m
    source: s
    channel: c
    text: t
    facts: {district: beruniy, gauge_station: samanbay, hotline: "1050"}
  - id: fake
    track: rumour
    at: 20m
    source: s
    channel: c
    text: t
    facts: {platform: Telegram, first_seen_at: "2026-04-03 03:20"}
"""


def test_an_unknown_track_is_a_finding_at_its_line(write: Write) -> None:
    path = write(
        "drills/x.yaml",
        BASE
        + """\
  - {id: post, track: rumours, at: 25m, source: s, channel: c, text: t}
""",
    )
    message = _findings(path)
    assert "x.yaml:25:" in message
    assert "unknown track `rumours`" in message
    assert "tracks: flood, rumour" in message


def test_an_inject_before_its_track_opens_is_a_finding(write: Write) -> None:
    path = write(
        "drills/x.yaml",
        BASE
        + """\
  - {id: post, track: rumour, at: 10m, source: s, channel: c, text: t}
""",
    )
    message = _findings(path)
    assert "x.yaml:25:" in message
    assert "inject `post` comes at 10m, before its track `rumour` opens (20m)" in message


def test_a_response_before_its_track_opens_is_a_finding(write: Write) -> None:
    path = write(
        "drills/x.yaml",
        BASE
        + """\
responses:
  - {at: 5m, as: inurjanov, track: rumour, command: check capture}
""",
    )
    message = _findings(path)
    assert "x.yaml:26:" in message
    assert "before its track `rumour` opens (20m)" in message


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("cadence: {detection: 30m}", "state `detection` of playbook flood promises no cadence"),
        ("deadlines: {closed: 1h}", "state `closed` of playbook flood has no deadline"),
        ("deadlines: {verification: soon}", "soon"),
        ("clearance: {nonesuch: [legal]}", "statement `nonesuch` of playbook flood has no"),
        ("clearance: {full: [lawyer]}", "unknown role `lawyer` in playbook flood"),
    ],
)
def test_overriding_a_timing_the_playbook_does_not_have_is_a_finding(
    write: Write, override: str, expected: str
) -> None:
    text = BASE.replace(
        "    playbook: flood\n", f"    playbook: flood\n    overrides: {{{override}}}\n"
    )
    message = _findings(write("drills/x.yaml", text))
    assert "x.yaml:8:" in message
    assert expected in message


def test_an_added_fact_the_playbook_has_already_is_a_finding(write: Write) -> None:
    text = BASE.replace(
        "    playbook: flood\n",
        "    playbook: flood\n    exercise_facts:\n      hotline: {type: string}\n",
    )
    message = _findings(write("drills/x.yaml", text))
    assert "x.yaml:9:" in message
    assert "playbook flood has the fact `hotline` already" in message


def test_playbook_and_tracks_together_are_refused(write: Write) -> None:
    message = _findings(write("drills/x.yaml", BASE.replace("tracks:", "playbook: flood\ntracks:")))
    assert "under `playbook` or under `tracks`" in message


def test_register_commands_name_register_injects(write: Write) -> None:
    path = write(
        "drills/x.yaml",
        BASE
        + """\
  - {id: q, at: 30m, source: s, channel: c, text: {ru: "?"}, register: {kind: media_query}}
responses:
  - {at: 40m, as: asultanova, command: inbox answer call, text: "a"}
  - {at: 20m, as: asultanova, command: inbox answer q, text: "a"}
  - {at: 45m, as: asultanova, command: inbox rebut q, text: "a"}
""",
    )
    message = _findings(path)
    assert "`call` is no inject that reaches the register" in message
    assert "register injects: q" in message
    assert "the response comes before inject `q` reaches the register" in message
    assert "a media_query of the register has no step `rebut`" in message
    assert "its steps: answer, approve, assign, close, draft, refer" in message


def test_only_register_injects_expect_an_answer(write: Write) -> None:
    path = write(
        "drills/x.yaml",
        BASE
        + """\
  - {id: q, at: 30m, source: s, channel: c, text: t, expect: {action: answer, within: 1h}}
""",
    )
    assert "only an inject that reaches the register can expect an answer" in _findings(path)


def test_the_validate_command_reports_track_findings(write: Write) -> None:
    import subprocess
    import sys

    path = write(
        "drills/x.yaml",
        BASE
        + """\
  - {id: post, track: rumours, at: 25m, source: s, channel: c, text: t}
""",
    )
    done = subprocess.run(
        [sys.executable, "-m", "crisiscomm", "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "x.yaml:25:" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_an_exercise_of_several_incidents_is_not_played_interactively() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "crisiscomm", "drill", str(TWO_TRACKS), "--interactive"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2, done.stdout
    assert "several incidents (2) is played unattended" in done.stderr
    assert "run it without --interactive" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_report_covers_each_incident_the_overrides_and_the_register(tmp_path: Path) -> None:
    from crisiscomm.drill.report import after_action, to_json, to_markdown

    report = after_action(run_drill(load_scenario(TWO_TRACKS), db=tmp_path / "drill.db"))
    assert [t.run.scenario.tracks[0].id for t in report.tracks] == ["rumour"]
    rumour = report.tracks[0]
    assert len(report.all_checks) == len(report.checks) + len(rumour.checks)
    data = to_json(report)
    assert data["track"] == "flood" and data["tracks"][0]["track"] == "rumour"
    assert data["tracks"][0]["incident"] == report.run.incidents["rumour"]
    assert "cadence in holding: every 1h → every 30m" in data["overrides"]
    assert data["tracks"][0]["overrides"] == []
    journalist = next(i for i in data["injects"] if i["id"] == "journalist")
    assert journalist["outcome"] == "met" and journalist["item"].startswith("INB-")
    post = next(i for i in data["tracks"][0]["injects"] if i["id"] == "viral-post")
    assert post["outcome"] == "met"
    assert "rebutted at T+1h20m, 55m after it was seen" in post["detail"]
    text = to_markdown(report)
    assert "## Timings this exercise changed" in text
    assert "clearance of full: head_of_press, legal → head_of_press, mes_liaison, legal" in text
    second = text.index("(track rumour)")
    assert text.index("## Injects") < second < text.rindex("## Injects")
    assert text.count("# After-action report") == 1


def test_a_register_inject_left_unanswered_fails_the_drill(tmp_path: Path, write: Write) -> None:
    from crisiscomm.drill.report import after_action

    text = TWO_TRACKS.read_text(encoding="utf-8")
    text = text.replace("  - {at: 50m, as: naytbaev, command: inbox answer journalist}\n", "")
    path = write("drills/unanswered.yaml", text)
    report = after_action(run_drill(load_scenario(path), db=tmp_path / "drill.db"))
    assert not report.passed
    failed = [c for c in report.all_checks if not c.passed and c.kind == "inject"]
    assert [c.subject.split(":")[0] for c in failed] == ["journalist"]
    assert "never settled (status new)" in failed[0].detail  # drafted and approved, not sent


def test_the_html_report_charts_each_incident(tmp_path: Path) -> None:
    from crisiscomm.drill.report import after_action
    from crisiscomm.drill.report_html import to_html

    report = after_action(run_drill(load_scenario(TWO_TRACKS), db=tmp_path / "drill.db"))
    page = to_html(report)
    assert page.count("<svg") == 2
    assert "(track rumour): " in page
    assert "<script" not in page


def test_a_media_answer_in_a_drill_goes_out_only_as_cleared(tmp_path: Path, write: Write) -> None:
    text = TWO_TRACKS.read_text(encoding="utf-8")
    text = text.replace("  - {at: 48m, as: ballamuratov, command: inbox approve journalist}\n", "")
    run = run_drill(load_scenario(write("drills/uncleared.yaml", text)), db=tmp_path / "d.db")
    [refused] = run.refusals
    assert refused.command == "inbox answer journalist"
    assert "is not cleared: waiting for head_of_press" in refused.message
    assert {a.inject_id: a.status for a in run.answered}["journalist"] == "new"


@pytest.mark.parametrize("key", ["severity: high", "overrides: {cadence: {follow_up: 1h}}"])
def test_track_settings_at_the_top_of_a_drill_of_tracks_are_findings(
    write: Write, key: str
) -> None:
    message = _findings(write("drills/x.yaml", BASE.replace("tracks:", f"{key}\ntracks:")))
    assert "x.yaml:5:" in message
    assert "belongs to a track when the drill lists `tracks`" in message
