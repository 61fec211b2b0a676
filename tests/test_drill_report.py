"""The after-action report as a head of press reads it: leadership reached (not merely
notified), each broken promise named and agreeing with cadence, statements released with
who approved them, local times, folded reminders, an improvement plan without repeats,
not-applicable ratings, and the same KPIs as the period reports."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crisiscomm.cli import main
from crisiscomm.clock import format_utc
from crisiscomm.drill.report import after_action, to_json, to_markdown
from crisiscomm.drill.runner import DrillRun, run_drill
from crisiscomm.drill.scenario import load_scenario
from crisiscomm.engine.kpis import compute_kpis, leadership_reached, promises
from crisiscomm.store.reports import KPI_EVENT_TYPES
from crisiscomm.store.rows import EventRow

from .conftest import REPO

FLOOD = REPO / "drills" / "flood-amu-darya.yaml"
RUMOUR = REPO / "drills" / "false-rumour-fake-decree.yaml"
FLOOD_PLAYBOOK = REPO / "playbooks" / "flood.yaml"


def variant(tmp_path: Path, name: str, *changes: tuple[str, str]) -> Path:
    """The flood drill with some lines changed (each must exist), runnable from tmp_path."""
    text = FLOOD.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / f"{name}.yaml"
    path.write_text(text.replace("playbook: flood", f"playbook: {FLOOD_PLAYBOOK}"), "utf-8")
    return path


def drill(path: Path, tmp_path: Path) -> DrillRun:
    return run_drill(load_scenario(path), db=tmp_path / f"{path.stem}.db")


@pytest.fixture(scope="module")
def flood(tmp_path_factory: pytest.TempPathFactory) -> DrillRun:
    return run_drill(load_scenario(FLOOD), db=tmp_path_factory.mktemp("flood") / "drill.db")


def test_leadership_counts_when_reached_not_when_the_opening_notice_goes_out(
    flood: DrillRun,
) -> None:
    # the opening notice reaches the head of press at T+0 ...
    opening = [d for d in flood.deliveries if d.at == flood.scenario.start]
    assert any("head_of_press" in d.roles for d in opening)
    # ... but the KPI is when the duty officer recorded reaching them (check at T+5m)
    reached = next(e for e in flood.events if e.data.get("item") == "reach_head_of_press")
    kpis = after_action(flood).kpis
    assert kpis["time_to_notify_leadership"] == (reached.at - flood.scenario.start).seconds
    assert kpis["time_to_notify_leadership"] > 0


def test_without_a_reach_the_head_of_press_counts_at_their_own_first_act(
    tmp_path: Path,
) -> None:
    path = variant(
        tmp_path,
        "unreached",
        ("  - {at: 5m, as: asultanova, command: check reach_head_of_press}\n", ""),
    )
    run = drill(path, tmp_path)
    first = next(e for e in run.events if e.actor == "ballamuratov")  # approves the holding
    report = after_action(run)
    assert report.kpis["time_to_notify_leadership"] == (first.at - run.scenario.start).seconds
    objective = next(o for o in report.objectives if o["id"] == "leadership")
    assert objective["rating"] == "M" and not report.passed


def test_an_acknowledgement_by_a_leader_counts() -> None:
    start = datetime(2026, 4, 3, tzinfo=UTC)

    def event(seq: int, minutes: int, actor: str, kind: str, **data: object) -> EventRow:
        return EventRow("INC-1", seq, start + timedelta(minutes=minutes), actor, kind, data, "", "")

    events = [
        event(1, 0, "asultanova", "opened"),
        event(2, 4, "crisiscomm", "escalation", notified=["head_of_press"]),  # automatic
        event(3, 7, "ballamuratov", "acknowledged", state="detection"),
        event(4, 40, "ballamuratov", "statement.approved", role="head_of_press", version=1),
    ]
    assert leadership_reached(events) == start + timedelta(minutes=7)
    assert leadership_reached(events[:2]) is None


def test_drills_and_period_reports_measure_alike(flood: DrillRun) -> None:
    """A period report reads only KPI_EVENT_TYPES, up to the last event: same KPIs."""
    kept = [e for e in flood.events if e.type in KPI_EVENT_TYPES or e.actor == "exercise-control"]
    assert compute_kpis(kept, until=flood.events[-1].at) == compute_kpis(flood.events)


def test_each_broken_promise_is_named_and_agrees_with_cadence(tmp_path: Path) -> None:
    path = variant(
        tmp_path,
        "late",
        (
            "{at: 5h18m, as: asultanova, command: release update}",
            "{at: 5h50m, as: asultanova, command: release update}",
        ),
    )
    run = drill(path, tmp_path)
    report = after_action(run)
    data = to_json(report)
    broken = [p for p in data["promises"] if p["outcome"] in ("late", "never")]
    due = [p for p in data["promises"] if p["outcome"] != "lapsed"]
    assert report.kpis["cadence_adherence"] == pytest.approx(1 - len(broken) / len(due))
    late = next(p for p in broken if p["next_release_offset"] == "T+5h50m")
    assert late["title"] == "Update" and late["made_offset"] == "T+3h33m"
    assert late["detail"] == "late by 25m" and late["due_offset"] == "T+5h25m"
    assert late["notices"] >= 1
    text = to_markdown(report)
    assert f"{len(broken)} of {len(due)} promised update(s) broken" in text
    assert "| next update promised by Update v2 (released T+3h33m) |" in text
    assert "late by 25m" in text.split("## Injects")[0]  # among the misses, up front


def test_a_promise_due_after_the_incident_closed_lapses() -> None:
    start = datetime(2026, 4, 3, tzinfo=UTC)
    due = start + timedelta(hours=3)
    released: dict[str, Any] = {
        "statement": "update",
        "version": 1,
        "next_update_at": format_utc(due),
    }
    events = [
        EventRow("INC-1", n, start + timedelta(hours=h), "a", kind, data, "", "")
        for n, (h, kind, data) in enumerate(
            [
                (0, "opened", dict[str, Any]()),
                (1, "statement.released", released),
                (2, "closed", {}),
                (5, "note", {"text": "a note after closing"}),
            ],
            start=1,
        )
    ]
    (promise,) = promises(events, events[-1].at)
    assert promise.lapsed and not promise.broken
    assert compute_kpis(events)["cadence_adherence"] is None


def test_statements_released_name_version_releaser_and_approvers(flood: DrillRun) -> None:
    data = to_json(after_action(flood))
    full = next(s for s in data["statements"] if s["statement"] == "full")
    assert full["version"] == 1 and full["by"] == "Aygul Sultanova (Duty press officer)"
    assert [a["who"] for a in full["approvals"]] == [
        "Baxtiyar Allamuratov (Head of the press service)",
        "Sardor Ismoilov (Legal adviser)",
    ]
    assert full["local"] == "03.04.2026 05:10" and full["offset"] == "T+2h10m"
    assert full["text"] and "EXERCISE" not in full["text"]
    assert len(data["statements"]) == sum(e.type == "statement.released" for e in flood.events)
    text = to_markdown(after_action(flood))
    assert "## Statements released" in text and "## Released texts" in text
    assert "### Full statement v1, 03.04.2026 05:10 (T+2h10m)" in text


def test_reminders_fold_into_one_line_with_a_count(flood: DrillRun) -> None:
    data = to_json(after_action(flood))
    reminders = [t for t in data["timeline"] if t["type"] == "reminder"]
    assert sum(t["repeats"] for t in reminders) == sum(e.type == "reminder" for e in flood.events)
    assert len(reminders) < sum(t["repeats"] for t in reminders)
    assert "(×3, last at T+8m15s)" in reminders[0]["text"]


def test_the_improvement_plan_lists_each_issue_once(tmp_path: Path) -> None:
    # nothing released after v2: the overdue notice repeats every cadence until the end
    path = variant(
        tmp_path,
        "silent",
        ("  - {at: 5h18m, as: asultanova, command: release update}\n", ""),
        ("  - {at: 7h3m, as: asultanova, command: release update}\n", ""),
    )
    report = after_action(drill(path, tmp_path))
    data = to_json(report)
    assert sum(m["type"] == "update.missed" for m in data["missed"]) > 1
    plan = data["improvement_plan"]
    assert len(plan) == len(set(plan))
    rows = to_markdown(report).split("## Improvement plan")[1]
    rows = rows.split("\n## ")[0]
    assert rows.count("next update promised by") == len(
        [p for p in data["promises"] if p["outcome"] in ("late", "never")]
    )


def test_cadence_with_nothing_due_is_not_applicable(tmp_path: Path, write) -> None:  # type: ignore[no-untyped-def]
    path = write(
        "drills/short.yaml",
        f"""
        crisiscomm-drill: 1
        playbook: {FLOOD_PLAYBOOK}
        title: First half hour
        start: "2026-04-03 03:00"
        duration: 30m
        objectives:
          - id: rhythm
            text: Keep the promised rhythm
            kpi: cadence_adherence >= 90%
        injects:
          - id: call
            at: 0m
            source: ops room
            channel: phone call
            text: levee breached
            facts: {{district: Beruniy, hotline: "1050"}}
        expectations:
          kpis: [cadence_adherence >= 90%]
        """,
    )
    report = after_action(run_drill(load_scenario(path), db=tmp_path / "d.db"))
    assert report.kpis["cadence_adherence"] is None
    (objective,) = report.objectives
    assert objective["rating"] == "N/A" and objective["measured"] == "not applicable"
    assert "Unable" not in objective["rating_text"]
    assert report.passed
    assert "| rhythm: Keep the promised rhythm | cadence_adherence >= 90% | not applicable |" in (
        to_markdown(report)
    )


@pytest.mark.parametrize("code", ["kaa", "uz", "ru"])
def test_every_language_keeps_the_tables_whole(
    code: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--lang", code, "drill", str(RUMOUR)]) == 0
    out, err = capsys.readouterr()
    assert err == "" and "{" not in out.split("## ")[0]  # no placeholder left unfilled
    table: list[str] = []
    for line in [*out.splitlines(), ""]:
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            widths = {len(re.findall(r"(?<!\\)\|", row)) for row in table}
            assert len(widths) == 1, table[:3]
            table = []


def test_the_notification_at_confirmation_is_on_the_timeline_and_no_escalation(
    tmp_path: Path,
) -> None:
    """docs/doctrine-timings.md: the minister's office is told once, for information, when
    verification confirms the event; the report shows it as such, not as an escalation."""
    from crisiscomm.drill.report import after_action, to_json
    from crisiscomm.drill.scenario import load_scenario

    scenario = load_scenario(REPO / "drills" / "flood-amu-darya.yaml")
    data = to_json(after_action(run_drill(scenario, db=tmp_path / "drill.db")))
    told = [t for t in data["timeline"] if t["type"] == "notification"]
    assert [(t["offset"], t["text"]) for t in told] == [
        ("T+0s", "for information: head_of_press, mes_liaison"),
        ("T+31m", "for information: minister_office"),
    ]
    first_hour = format_utc(scenario.start + timedelta(hours=1))
    assert [
        e["offset"]
        for e in data["escalations"]
        if "minister_office" in e["roles"] and e["at"] <= first_hour
    ] == []
