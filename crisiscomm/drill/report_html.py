"""The after-action report as one self-contained HTML file: the same sections as the
Markdown, the released texts, and an SVG chart of the timeline against the deadlines; a
print stylesheet for A4, no JavaScript and nothing fetched. The page and the chart are
engine/after_action.py's, shared with a real incident's report; here the exercise's
marking, its injects' lane and its other incidents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crisiscomm.clock import parse_utc
from crisiscomm.drill.report import lead, sections, to_json, verdict
from crisiscomm.engine import after_action
from crisiscomm.engine.record import MARK
from crisiscomm.i18n import _

if TYPE_CHECKING:
    from crisiscomm.drill.report import AfterAction

__all__ = ["timeline_chart", "to_html"]


def timeline_chart(report: AfterAction, data: dict[str, Any]) -> str:
    """The run on one time axis (hours from the start), a lane per kind: injects, state
    changes, releases beside the updates promised, deadlines missed, escalations."""
    scenario = report.run.scenario
    lanes = [
        (_("injects"), [parse_utc(i["at"]) for i in data["injects"]]),
        *after_action.record_lanes(data, report.run.events),
    ]
    return after_action.timeline_chart(scenario.start, scenario.duration, lanes)


def to_html(report: AfterAction) -> str:
    """The after-action report as an HTML page."""
    data = to_json(report)
    tables = sections(report, data=data)
    summary, timeline = tables[:-1], tables[-1:]
    charts = [timeline_chart(report, data)]
    for other in report.tracks:  # the exercise's other incidents, each under its name
        track = other.run.scenario.tracks[0]
        name = _("Incident {incident} (track {track})").format(
            incident=other.run.incident_id, track=track.id
        )
        theirs = to_json(other)
        charts.append(timeline_chart(other, theirs))
        for heading, header, rows in sections(other, data=theirs):
            (timeline if heading == tables[-1][0] else summary).append(
                (f"{name}: {heading}", header, rows)
            )
    return after_action.page(
        title=_("After-action report: {title}").format(title=data["title"]),
        exercise=MARK,
        lead=lead(report, data),
        verdict=verdict(report, data),
        passed=report.passed,
        charts=charts,
        summary=summary,
        data=data,
        timeline=timeline,
    )
