"""The after-action report as one self-contained HTML file: the same sections as the
Markdown, the released texts, and an SVG chart of the timeline against the deadlines; a
print stylesheet for A4, no JavaScript and nothing fetched. Jinja2 escapes every value;
only the chart's SVG, which pygal writes with its own escaping, is put in as markup.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crisiscomm import pages
from crisiscomm.clock import parse_utc
from crisiscomm.drill.report import lead, sections, to_json, verdict
from crisiscomm.i18n import _, language

if TYPE_CHECKING:
    from crisiscomm.drill.report import AfterAction

__all__ = ["timeline_chart", "to_html"]

TEMPLATE = "after_action.html.j2"
# cells that say something went wrong, marked in red (the words as the report writes them)
MISS_WORDS = ("NOT MET", "late by", "never", "missed", "broken")


def _hours(start: datetime, moment: datetime) -> float:
    return round((moment - start).total_seconds() / 3600, 2)


def timeline_chart(report: AfterAction, data: dict[str, Any]) -> str:
    """The run on one time axis (hours from the start), a lane per kind: injects, state
    changes, releases beside the updates promised, deadlines missed, escalations."""
    options = pages.chart_options()
    pygal = options.pop("_pygal")
    start = report.run.scenario.start
    events = report.run.events
    lanes = [
        (_("injects"), [parse_utc(i["at"]) for i in data["injects"]]),
        (_("state changes"), [e.at for e in events if e.type == "transition"]),
        (_("statements released"), [parse_utc(s["at"]) for s in data["statements"]]),
        (_("updates promised for"), [parse_utc(p["due_at"]) for p in data["promises"]]),
        (
            _("deadlines missed"),
            [parse_utc(m["at"]) for m in data["missed"] if m["type"] == "deadline.missed"],
        ),
        (
            _("promised updates broken"),
            [parse_utc(p["due_at"]) for p in data["promises"] if p["outcome"] in ("late", "never")],
        ),
        (_("escalations"), [parse_utc(e["at"]) for e in data["escalations"]]),
    ]
    chart = pygal.XY(
        **options,
        title=_("Timeline against the deadlines (hours from the start)"),
        stroke=False,
        dots_size=4,
        range=(0, len(lanes) + 1),
        xrange=(0, max(_hours(start, start + report.run.scenario.duration), 1)),
        show_y_guides=True,
    )
    chart.y_labels = [{"label": name, "value": n + 1} for n, (name, _m) in enumerate(lanes)]
    for lane, (name, moments) in enumerate(lanes, start=1):
        points: list[tuple[float, int] | None] = [(_hours(start, m), lane) for m in moments]
        chart.add(name, points or [None])  # an empty lane keeps its place in the legend
    return pages.svg(chart)


def _is_miss(cell: str) -> bool:
    return any(cell.startswith(w) or f": {w}" in cell for w in MISS_WORDS)


def to_html(report: AfterAction) -> str:
    """The after-action report as an HTML page."""
    from markupsafe import Markup

    data = to_json(report)
    title = _("After-action report: {title}").format(title=data["title"])
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
    return (
        pages.environment(Path(__file__).parent)
        .get_template(TEMPLATE)
        .render(
            lang=language(),
            title=title,
            exercise="EXERCISE EXERCISE EXERCISE",
            lead=lead(report, data),
            verdict=verdict(report, data),
            passed=report.passed,
            chart=Markup("\n".join(charts)),
            sections=[
                {"heading": h, "header": header, "rows": _marked(rows)}
                for h, header, rows in summary
            ],
            texts_heading=_("Released texts"),
            texts=[
                {
                    "heading": _("{statement} v{version}, {local} ({offset})").format(
                        statement=s["title"],
                        version=s["version"],
                        local=s["local"],
                        offset=s["offset"],
                    ),
                    "text": s["text"],
                }
                for s in data["statements"]
                if s["text"]
            ],
            timeline=[
                {"heading": h, "header": header, "rows": _marked(rows)}
                for h, header, rows in timeline
            ],
        )
    )


def _marked(rows: list[list[str]]) -> list[list[tuple[str, bool]]]:
    return [[(cell, _is_miss(cell)) for cell in row] for row in rows]
