"""The after-action report: the verdict, what was missed (deadlines, promises broken),
injects met/late/missed, KPIs against targets, escalations, objectives rated on the HSEEP
scale, the statements released and who cleared them, an improvement plan to fill in, and
the timeline, each time as T+offset and local clock time.

`after_action(run)` returns plain data (`to_json()` for scripts); `to_markdown(report)`
renders it for people (report_html.py: the HTML page). The incident's record (timeline,
statements, promises, escalations, deadlines missed) and its tables are engine/record.py's
and engine/after_action.py's, which a real incident's report (report/incident.py) reads
alike. Nothing here prints.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from crisiscomm.clock import format_utc, parse_utc
from crisiscomm.drill.ratings import AfterAction, Check, rate_run, word
from crisiscomm.durations import format_duration
from crisiscomm.engine.after_action import (
    Table,
    deadline_tables,
    escalations_table,
    improvement_table,
    markdown_lines,
    record_issues,
    record_verdict,
    statements_table,
    timeline_table,
)
from crisiscomm.engine.kpis import compute_kpis
from crisiscomm.engine.record import kpi_text, record_json
from crisiscomm.engine.timefmt import statement_time, times_header, zoned_text
from crisiscomm.i18n import _

if TYPE_CHECKING:
    from crisiscomm.drill.runner import DrillRun

__all__ = [
    "AfterAction",
    "Check",
    "after_action",
    "improvement_plan",
    "to_json",
    "to_markdown",
    "verdict",
]


def after_action(run: DrillRun) -> AfterAction:
    """Rate a run against its scenario: the main incident's report, with one for each
    other incident of the exercise in `tracks`."""
    tracks = run.scenario.tracks
    reports = []
    for track in tracks:
        part = run.for_track(track.id) if len(tracks) > 1 else run
        report = AfterAction(part, compute_kpis(part.events))
        rate_run(report)
        reports.append(report)
    reports[0].tracks = reports[1:]
    return reports[0]


def _local(run: DrillRun, moment: datetime) -> str:
    return statement_time(moment, run.scenario.timezone)


def _with_notifications(timeline: list[dict[str, Any]], run: DrillRun) -> list[dict[str, Any]]:
    """The timeline with a line for each notification a state sends on entering it (for
    information, not an escalation: the minister's office told once at confirmation),
    which the event log does not hold; one line per moment and roles, whatever the
    channels and people."""
    from crisiscomm.engine.record import offset_text

    seen: dict[tuple[datetime, tuple[str, ...]], dict[str, Any]] = {}
    for delivery in run.deliveries:
        if delivery.kind != "on_enter" or (delivery.at, delivery.roles) in seen:
            continue
        seen[(delivery.at, delivery.roles)] = {
            "at": format_utc(delivery.at),
            "offset": offset_text(run.scenario.start, delivery.at),
            "local": _local(run, delivery.at),
            "actor": "crisiscomm",
            "type": "notification",
            "text": _("for information: {roles}").format(roles=", ".join(delivery.roles)),
            "repeats": 1,
        }
    merged = [*timeline, *seen.values()]  # sorted stably: events before, at the same time
    return sorted(merged, key=lambda row: row["at"])


def to_json(report: AfterAction) -> dict[str, Any]:
    """The report as JSON-ready data."""
    run = report.run
    scenario = run.scenario
    record = record_json(
        run.events,
        scenario.playbook,
        start=scenario.start,
        zone=scenario.timezone,
        deliveries=run.deliveries,
    )
    data: dict[str, Any] = {
        "scenario": scenario.name,
        "title": scenario.title,
        "playbook": scenario.playbook.id,
        "incident": run.incident_id,
        "start": format_utc(scenario.start),
        "start_local": zoned_text(scenario.start, scenario.timezone),
        "timezone": scenario.timezone,
        "duration": format_duration(scenario.duration),
        "passed": report.passed,
        "wall_seconds": round(run.wall_seconds, 4),
        "timeline": _with_notifications(record["timeline"], run),
        "injects": [{**i, "local": _local(run, parse_utc(i["at"]))} for i in report.injects],
        "kpis": report.kpis,
        "objectives": report.objectives,
        "escalations": record["escalations"],
        "missed": record["missed"],
        "promises": record["promises"],
        "statements": record["statements"],
        "deliveries": len(run.deliveries),
        "checks": [
            {
                "kind": c.kind,
                "subject": c.subject,
                "passed": c.passed,
                "detail": c.detail,
                "where": c.where,
            }
            for c in report.checks
        ],
    }
    data["improvement_plan"] = improvement_plan(report, data)
    track = scenario.tracks[0]
    data["track"] = track.id
    data["overrides"] = list(track.overrides)
    if report.tracks:
        data["tracks"] = [to_json(other) for other in report.tracks]
    return data


def improvement_plan(report: AfterAction, data: dict[str, Any]) -> list[str]:
    """The issues to improve on, each once: failed expectations, missed deadlines, broken
    promises (one line per promise, however often its overdue notice repeated)."""
    issues = [f"{c.subject}: {c.detail}" for c in report.checks if not c.passed]
    return list(dict.fromkeys([*issues, *record_issues(data)]))


def verdict(report: AfterAction, data: dict[str, Any]) -> str:
    """The first line: passed or failed, and what the team missed on the way."""
    text = (
        _("PASSED: every expectation met")
        if report.passed
        else _("FAILED: {n} expectation(s) not met").format(
            n=sum(not c.passed for c in report.all_checks)
        )
    )
    return text + record_verdict(data)


def sections(
    report: AfterAction, *, timeline: bool = True, data: dict[str, Any] | None = None
) -> list[Table]:
    """(heading, header, rows) of each table, in the order a head of press reads them."""
    data = data or to_json(report)
    run = report.run
    found: list[Table] = []
    if data["overrides"]:
        found.append(
            (
                _("Timings this exercise changed"),
                [_("change")],
                [[change] for change in data["overrides"]],
            )
        )
    found += deadline_tables(data)
    found.append(
        (
            _("Injects"),
            [
                _("inject"),
                _("local time"),
                _("offset"),
                _("source / channel"),
                _("expected"),
                _("outcome"),
            ],
            [
                [
                    i["id"],
                    i["local"],
                    i["offset"],
                    f"{i['source']} / {i['channel']}",
                    i["expected"] or "-",
                    f"{word(i['outcome'])}: {i['detail']}" if i["outcome"] else "-",
                ]
                for i in data["injects"]
            ],
        )
    )
    targets = {t.kpi: t.text for t in run.scenario.kpi_targets}
    targets.update({o.target.kpi: o.target.text for o in run.scenario.objectives})
    found.append(
        (
            _("KPIs"),
            [_("KPI"), _("measured"), _("target")],
            [[k, kpi_text(k, v), targets.get(k, "-")] for k, v in data["kpis"].items()],
        )
    )
    found.append(statements_table(data))
    found.append(escalations_table(data))
    found.append(
        (
            _("Objectives (HSEEP rating)"),
            [_("objective"), _("target"), _("measured"), _("rating")],
            [
                [
                    f"{o['id']}: {o['text']}",
                    o["target"],
                    o["measured"],
                    f"{o['rating']}: {o['rating_text']}",
                ]
                for o in data["objectives"]
            ],
        )
    )
    found.append(
        (
            _("Expectations"),
            [_("result"), _("kind"), _("expectation"), _("details"), _("where")],
            [
                [_("met") if c.passed else _("NOT MET"), word(c.kind), c.subject, c.detail, c.where]
                for c in report.checks
            ],
        )
    )
    found.append(improvement_table(data["improvement_plan"]))
    if timeline:  # last: the summary comes first, the minute-by-minute record after it
        found.append(timeline_table(data, run.scenario.timezone))
    return found


def lead(report: AfterAction, data: dict[str, Any]) -> list[str]:
    """The lines under the title: the exercise, its times' zone."""
    run = report.run
    return [
        _(
            "EXERCISE · scenario `{scenario}` · playbook `{playbook}` · {incident}"
            " · start {start} · {duration}"
        ).format(
            scenario=data["scenario"],
            playbook=data["playbook"],
            incident=data["incident"],
            start=data["start_local"],
            duration=data["duration"],
        ),
        times_header(run.scenario.timezone, [e.at for e in run.events]),
    ]


def to_markdown(report: AfterAction, *, timeline: bool = True) -> str:
    """The after-action report in Markdown (also what the terminal shows)."""
    data = to_json(report)
    lines = markdown_lines(
        _("After-action report: {title}").format(title=data["title"]),
        lead(report, data),
        verdict(report, data),
        sections(report, timeline=False, data=data),
        data,
        timeline_table(data, report.run.scenario.timezone) if timeline else None,
    )
    for other in report.tracks:
        track = other.run.scenario.tracks[0]
        lines += [
            "",
            "---",
            "",
            "# "
            + _("Incident {incident} of the exercise (track {track}): {title}").format(
                incident=other.run.incident_id, track=track.id, title=track.title
            ),
            "",
        ]
        part = to_markdown(other, timeline=timeline).split("\n", 2)[2]  # its own title off
        lines.append(part.rstrip("\n"))
    return "\n".join(lines) + "\n"
