"""The after-action report: the verdict, what was missed (deadlines, promises broken),
injects met/late/missed, KPIs against targets, escalations, objectives rated on the HSEEP
scale, the statements released and who cleared them, an improvement plan to fill in, and
the timeline, each time as T+offset and local clock time.

`after_action(run)` returns plain data (`to_json()` for scripts); `to_markdown(report)`
renders it for people (report_html.py: the HTML page). Nothing here prints.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from crisiscomm.clock import format_utc, parse_utc
from crisiscomm.drill.ratings import AfterAction, Check, offset, rate_run, show, word
from crisiscomm.drill.record import (
    fold_timeline,
    late_text,
    local_times,
    promise_rows,
    released_statements,
    repeat_text,
    utc,
)
from crisiscomm.durations import format_duration
from crisiscomm.engine.kpis import compute_kpis, escalations
from crisiscomm.engine.timefmt import statement_time, times_header, zoned_text
from crisiscomm.i18n import _

if TYPE_CHECKING:
    from crisiscomm.drill.runner import DrillRun
    from crisiscomm.store.rows import EventRow

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


def _step_text(event: EventRow) -> str:
    """Which rung fired: a state's step number, or a stuck clearance step's stage."""
    data = event.data
    if event.type == "clearance.overdue":
        return _("{statement} waits for {role}: {stage}").format(
            statement=data.get("statement"), role=data.get("role"), stage=data.get("stage")
        )
    return str(data.get("step"))


def _event_text(event: EventRow) -> str:
    data = event.data
    if event.type == "clearance.overdue":
        return f"{_step_text(event)} -> " + ", ".join(data.get("notified") or [])
    if event.type == "transition":
        return f"{data.get('trigger')}: {data.get('from')} -> {data.get('to')}"
    if event.type in ("escalation", "deadline.missed", "update.missed", "reminder"):
        people = ", ".join(data.get("people") or [])
        return (
            f"{data.get('state')}: "
            + ", ".join(data.get("notified") or [])
            + (f" ({people})" if people else "")
        )
    if event.type.startswith("statement.") and "version" in data:
        return f"{data.get('statement')} v{data.get('version')}"
    for key in ("statement", "item", "trigger", "text", "name"):
        if key in data:
            value = data[key]
            return f"{value}={data.get('value')}" if key == "name" else str(value)
    return ""


def _local(run: DrillRun, moment: datetime) -> str:
    return statement_time(moment, run.scenario.timezone)


def _timeline(run: DrillRun) -> list[dict[str, Any]]:
    rows = []
    for event, repeats in fold_timeline(run.events):
        rows.append(
            {
                "at": format_utc(event.at),
                "offset": offset(run, event.at),
                "local": _local(run, event.at),
                "actor": event.actor,
                "type": event.type,
                "text": _event_text(event) + repeat_text(repeats, lambda m: offset(run, m)),
                "repeats": len(repeats) + 1,
            }
        )
    return rows


def _statements(run: DrillRun) -> list[dict[str, Any]]:
    found = released_statements(run.events, run.scenario.playbook, run.deliveries)
    return [
        {
            **release,
            "at": format_utc(release["at"]),
            "offset": offset(run, release["at"]),
            "local": _local(run, release["at"]),
            "approvals": [
                {
                    **approval,
                    "at": format_utc(approval["at"]),
                    "offset": offset(run, approval["at"]),
                    "local": _local(run, approval["at"]),
                }
                for approval in release["approvals"]
            ],
            "next_update_at": utc(release["next_update_at"]),
            "next_update_local": _local(run, release["next_update_at"])
            if release["next_update_at"]
            else None,
        }
        for release in found
    ]


def _promises(run: DrillRun) -> list[dict[str, Any]]:
    until = run.events[-1].at
    rows = []
    for promise in promise_rows(run.events, until):
        following = promise["next_release_at"]
        rows.append(
            {
                **promise,
                "title": run.scenario.playbook.statement_title(promise["statement"]),
                "made_at": format_utc(promise["made_at"]),
                "made_offset": offset(run, promise["made_at"]),
                "due_at": format_utc(promise["due_at"]),
                "due_offset": offset(run, promise["due_at"]),
                "due_local": _local(run, promise["due_at"]),
                "next_release_at": utc(following),
                "next_release_offset": offset(run, following) if following else None,
                "detail": late_text(promise["due_at"], following)
                if promise["outcome"] in ("late", "never")
                else "",
            }
        )
    return rows


def to_json(report: AfterAction) -> dict[str, Any]:
    """The report as JSON-ready data."""
    run = report.run
    scenario = run.scenario
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
        "timeline": _timeline(run),
        "injects": [{**i, "local": _local(run, parse_utc(i["at"]))} for i in report.injects],
        "kpis": report.kpis,
        "objectives": report.objectives,
        "escalations": [
            {
                "at": format_utc(e.at),
                "offset": offset(run, e.at),
                "local": _local(run, e.at),
                "state": e.data.get("state"),
                "step": _step_text(e),
                "roles": e.data.get("notified") or [],
                "people": e.data.get("people") or [],
            }
            for e in escalations(run.events)
        ],
        "missed": [
            {
                "at": format_utc(e.at),
                "offset": offset(run, e.at),
                "local": _local(run, e.at),
                "type": e.type,
                "state": e.data.get("state"),
                "due_offset": offset(run, parse_utc(str(e.data["due_at"])))
                if e.data.get("due_at")
                else None,
                "roles": e.data.get("notified") or [],
            }
            for e in run.events
            if e.type in ("deadline.missed", "update.missed")
        ],
        "promises": _promises(run),
        "statements": _statements(run),
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


def _broken(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in data["promises"] if p["outcome"] in ("late", "never")]


def _promise_text(promise: dict[str, Any]) -> str:
    return _("next update promised by {statement} v{version} (released {made})").format(
        statement=promise["title"], version=promise["version"], made=promise["made_offset"]
    )


def improvement_plan(report: AfterAction, data: dict[str, Any]) -> list[str]:
    """The issues to improve on, each once: failed expectations, missed deadlines, broken
    promises (one line per promise, however often its overdue notice repeated)."""
    issues = [f"{c.subject}: {c.detail}" for c in report.checks if not c.passed]
    issues += [
        _("{what} at {offset} (due {due})").format(
            what=_missed_text(m), offset=m["offset"], due=m["due_offset"] or "-"
        )
        for m in data["missed"]
        if m["type"] == "deadline.missed"
    ]
    issues += [
        _("{what}: due {due}, {detail}").format(
            what=_promise_text(p), due=p["due_offset"], detail=p["detail"]
        )
        for p in _broken(data)
    ]
    return list(dict.fromkeys(issues))


def verdict(report: AfterAction, data: dict[str, Any]) -> str:
    """The first line: passed or failed, and what the team missed on the way."""
    text = (
        _("PASSED: every expectation met")
        if report.passed
        else _("FAILED: {n} expectation(s) not met").format(
            n=sum(not c.passed for c in report.all_checks)
        )
    )
    deadlines = sum(m["type"] == "deadline.missed" for m in data["missed"])
    broken = len(_broken(data))
    due = [p for p in data["promises"] if p["outcome"] != "lapsed"]
    if broken:  # the same promises as cadence_adherence: the two always agree
        text += " — " + _(
            "{d} deadline(s) missed, {b} of {n} promised update(s) broken (see below)"
        ).format(d=deadlines, b=broken, n=len(due))
    elif deadlines:
        text += " — " + _("{d} deadline(s) missed (see below)").format(d=deadlines)
    return text


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    def clean(cell: str) -> str:
        return cell.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(clean(c) for c in row) + " |" for row in rows]
    return lines


Table = tuple[str, list[str], list[list[str]]]


def sections(
    report: AfterAction, *, timeline: bool = True, data: dict[str, Any] | None = None
) -> list[Table]:
    """(heading, header, rows) of each table, in the order a head of press reads them."""
    data = data or to_json(report)
    run = report.run
    zone = run.scenario.timezone
    found: list[Table] = []
    if data["overrides"]:
        found.append(
            (
                _("Timings this exercise changed"),
                [_("change")],
                [[change] for change in data["overrides"]],
            )
        )
    deadlines = [m for m in data["missed"] if m["type"] == "deadline.missed"]
    if deadlines:
        found.append(
            (
                _("Deadlines missed"),
                [_("local time"), _("offset"), _("missed"), _("due"), _("told")],
                [
                    [
                        m["local"],
                        m["offset"],
                        _missed_text(m),
                        m["due_offset"] or "-",
                        ", ".join(m["roles"]),
                    ]
                    for m in deadlines
                ],
            )
        )
    broken = _broken(data)
    if broken:
        found.append(
            (
                _("Promised updates broken"),
                [_("promise"), _("due (local)"), _("due"), _("kept"), _("overdue notices")],
                [
                    [
                        _promise_text(p),
                        p["due_local"],
                        p["due_offset"],
                        p["detail"],
                        str(p["notices"]),
                    ]
                    for p in broken
                ],
            )
        )
    injects = data["injects"]
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
                for i in injects
            ],
        )
    )
    targets = {t.kpi: t.text for t in run.scenario.kpi_targets}
    targets.update({o.target.kpi: o.target.text for o in run.scenario.objectives})
    found.append(
        (
            _("KPIs"),
            [_("KPI"), _("measured"), _("target")],
            [[k, show(k, v), targets.get(k, "-")] for k, v in data["kpis"].items()],
        )
    )
    found.append(
        (
            _("Statements released"),
            [
                _("local time"),
                _("offset"),
                _("statement"),
                _("released by"),
                _("approved by"),
                _("next update promised"),
            ],
            [
                [
                    s["local"],
                    s["offset"],
                    f"{s['title']} v{s['version']}",
                    s["by"],
                    "; ".join(f"{a['who']}, {a['local']}" for a in s["approvals"]) or "-",
                    s["next_update_local"] or "-",
                ]
                for s in data["statements"]
            ],
        )
    )
    found.append(
        (
            _("Escalations fired"),
            [_("local time"), _("offset"), _("state"), _("step"), _("to roles"), _("people")],
            [
                [
                    e["local"],
                    e["offset"],
                    str(e["state"]),
                    str(e["step"]),
                    ", ".join(e["roles"]),
                    ", ".join(e["people"]),
                ]
                for e in data["escalations"]
            ],
        )
    )
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
    found.append(
        (
            _("Improvement plan"),
            [_("issue / area for improvement"), _("corrective action"), _("owner"), _("due")],
            [[issue, "", "", ""] for issue in data["improvement_plan"]] or [["", "", "", ""]],
        )
    )
    if timeline:  # last: the summary comes first, the minute-by-minute record after it
        rows = data["timeline"]
        shown = local_times([parse_utc(t["at"]) for t in rows], zone)
        found.append(
            (
                _("Timeline"),
                [_("local time"), _("offset"), _("actor"), _("event"), _("details")],
                [
                    [at, t["offset"], t["actor"], t["type"], t["text"]]
                    for at, t in zip(shown, rows, strict=True)
                ],
            )
        )
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
    lines = ["# " + _("After-action report: {title}").format(title=data["title"]), ""]
    for line in lead(report, data):
        lines += [line, ""]
    lines.append(f"**{verdict(report, data)}**")
    tables = sections(report, timeline=False, data=data)
    for heading, header, rows in tables:
        lines += ["", "## " + heading, ""]
        lines += _table(header, rows)
    texts = [s for s in data["statements"] if s["text"]]
    if texts:
        lines += ["", "## " + _("Released texts")]
        for release in texts:
            lines += [
                "",
                "### "
                + _("{statement} v{version}, {local} ({offset})").format(
                    statement=release["title"],
                    version=release["version"],
                    local=release["local"],
                    offset=release["offset"],
                ),
                "",
                *("> " + line if line else ">" for line in release["text"].split("\n")),
                "",
            ]
    if timeline:
        heading, header, rows = sections(report, data=data)[-1]
        lines += ["", "## " + heading, ""]
        lines += _table(header, rows)
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


def _missed_text(missed: dict[str, Any]) -> str:
    if missed["type"] == "update.missed":
        return _("promised update in {state}").format(state=missed["state"])
    return _("deadline of {state}").format(state=missed["state"])
