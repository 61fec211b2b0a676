"""A real incident's after-action report, in the drill's format: the verdict against the
office's norms, deadlines missed and promised updates broken, the KPIs against the norms,
the statements released and who cleared them, escalations, what went well, the
improvement plan, the released texts and the timeline (each time as T+offset from the
opening and local clock time), in text, Markdown, JSON and one HTML page with the chart of
the incident against its deadlines.

    report = incident_report(store=store, incident_id="INC-2027-0001", norms=norms_of())
    page = to_html(report)

The KPIs are engine/kpis.py's over every event of the incident (what the period report
reads of it agrees), the record's tables engine/record.py's and engine/after_action.py's,
shared with the drills' report. An open incident gets its report too: the figures so far.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crisiscomm.clock import format_utc
from crisiscomm.engine import after_action
from crisiscomm.engine.after_action import Table
from crisiscomm.engine.kpis import compute_kpis
from crisiscomm.engine.record import MARK, kpi_text, record_json, released_texts
from crisiscomm.engine.timefmt import times_header, zoned_text
from crisiscomm.i18n import _
from crisiscomm.office.norms import Norm, norm_for
from crisiscomm.report.figures import is_exercise, within
from crisiscomm.report.render import text_table

if TYPE_CHECKING:
    from crisiscomm.playbook.model import Playbook
    from crisiscomm.store.rows import EventRow, IncidentRow
    from crisiscomm.store.store import Store

__all__ = [
    "IncidentReport",
    "incident_report",
    "json_text",
    "to_html",
    "to_json",
    "to_markdown",
    "to_text",
]


@dataclass(frozen=True)
class IncidentReport:
    """One incident's record, its KPIs and the norms they are measured against."""

    incident: IncidentRow
    playbook: Playbook
    events: list[EventRow]
    kpis: dict[str, float | None]
    norms: Mapping[str, Norm]

    @property
    def zone(self) -> str:
        """The time zone its times are shown in: the pinned playbook's."""
        return self.playbook.timezone

    @property
    def exercise(self) -> bool:
        """Whether the incident was a drill's."""
        return is_exercise(self.incident.title, self.events)

    @property
    def end(self) -> datetime:
        """When the record ends: its closing, or its last event so far."""
        return self.incident.closed_at or self.events[-1].at


def incident_report(*, store: Store, incident_id: str, norms: Mapping[str, Norm]) -> IncidentReport:
    """The after-action report of one incident (NotFoundError for an unknown id)."""
    from crisiscomm.engine import service

    playbook, incident = service.load(store=store, incident_id=incident_id)
    events = store.events(incident.id)
    return IncidentReport(incident, playbook, events, compute_kpis(events), norms)


def _norm_text(norm: Norm | None) -> str:
    if norm is None:
        return "-"
    return ("≥ " if norm.at_least else "≤ ") + norm.text


def _kpi_rows(report: IncidentReport) -> list[dict[str, Any]]:
    """Each KPI with its norm and whether it held (None: not measured, or no norm)."""
    return [
        {
            "kpi": name,
            "value": value,
            "measured": kpi_text(name, value),
            "norm": _norm_text(norm_for(report.norms, name)),
            "within": within(name, report.kpis, report.norms),
        }
        for name, value in report.kpis.items()
    ]


def _verdicts(rows: list[dict[str, Any]], held: bool) -> list[str]:
    return [
        _("{kpi}: {measured}, within the norm ({norm})").format(**row)
        if held
        else _("{kpi}: {measured}, outside the norm ({norm})").format(**row)
        for row in rows
        if row["within"] is held
    ]


def to_json(report: IncidentReport) -> dict[str, Any]:
    """The report as JSON-ready data (KPIs in seconds, shares 0..1, counts)."""
    incident, playbook = report.incident, report.playbook
    record = record_json(
        report.events,
        playbook,
        start=incident.opened_at,
        zone=report.zone,
        texts=released_texts(incident.data, playbook.languages),
    )
    rows = _kpi_rows(report)
    went_well = _verdicts(rows, True)
    if not any(m["type"] == "deadline.missed" for m in record["missed"]):
        went_well.append(_("no deadline missed"))
    issues = _verdicts(rows, False) + after_action.record_issues(record)
    return {
        "incident": incident.id,
        "title": incident.title,
        "playbook": playbook.id,
        "severity": incident.severity,
        "state": incident.state,
        "exercise": report.exercise,
        "opened_at": format_utc(incident.opened_at),
        "closed_at": format_utc(incident.closed_at) if incident.closed_at else None,
        "timezone": report.zone,
        "within_norms": not issues,
        "kpis": report.kpis,
        "norms": [
            {"kpi": r["kpi"], "measured": r["value"], "norm": r["norm"], "within": r["within"]}
            for r in rows
        ],
        "went_well": went_well,
        "improvement_plan": list(dict.fromkeys(issues)),
        **record,
    }


def verdict(data: dict[str, Any]) -> str:
    """The first line: within the norms or not, and what was missed on the way."""
    outside = sum(row["within"] is False for row in data["norms"])
    text = (
        _("OUTSIDE THE NORMS: {n} indicator(s) outside their norm").format(n=outside)
        if outside
        else _("WITHIN THE NORMS: every indicator measured kept its norm")
    )
    return text + after_action.record_verdict(data)


def lead(report: IncidentReport, data: dict[str, Any]) -> list[str]:
    """The lines under the title: the incident, its span, its times' zone."""
    incident = report.incident
    status = (
        _("closed {closed}").format(closed=zoned_text(incident.closed_at, report.zone))
        if incident.closed_at
        else _("open, in state {state}: the figures so far").format(state=incident.state)
    )
    line = _(
        "playbook `{playbook}` · {incident} · severity {severity} · opened {opened} · {status}"
    )
    first = line.format(
        playbook=data["playbook"],
        incident=data["incident"],
        severity=data["severity"],
        opened=zoned_text(incident.opened_at, report.zone),
        status=status,
    )
    if report.exercise:
        first = "EXERCISE · " + first
    return [first, times_header(report.zone, [e.at for e in report.events])]


def sections(report: IncidentReport, data: dict[str, Any], *, timeline: bool = True) -> list[Table]:
    """(heading, header, rows) of each table, in the order a drill's report has them."""
    found = after_action.deadline_tables(data)
    found.append(
        (
            _("KPIs against the office's norms"),
            [_("KPI"), _("measured"), _("norm"), _("result")],
            [
                [
                    row["kpi"],
                    kpi_text(row["kpi"], row["measured"]),
                    row["norm"],
                    "-"
                    if row["within"] is None
                    else _("within the norm")
                    if row["within"]
                    else _("outside the norm"),
                ]
                for row in data["norms"]
            ],
        )
    )
    found.append(after_action.statements_table(data))
    found.append(after_action.escalations_table(data))
    found.append(
        (_("What went well"), [_("strength")], [[line] for line in data["went_well"]] or [["-"]])
    )
    found.append(after_action.improvement_table(data["improvement_plan"]))
    if timeline:
        found.append(after_action.timeline_table(data, report.zone))
    return found


def _title(data: dict[str, Any]) -> str:
    return _("After-action report: {title}").format(title=data["title"])


def to_markdown(report: IncidentReport) -> str:
    """The report in Markdown."""
    data = to_json(report)
    lines = after_action.markdown_lines(
        _title(data),
        lead(report, data),
        verdict(data),
        sections(report, data, timeline=False),
        data,
        after_action.timeline_table(data, report.zone),
    )
    return "\n".join(lines) + "\n"


def to_text(report: IncidentReport) -> str:
    """The report for a terminal: aligned columns, the released texts indented."""
    data = to_json(report)
    heading = _title(data)
    lines = [heading, "=" * len(heading), *lead(report, data), "", verdict(data), ""]
    tables = sections(report, data)
    for table in tables[:-1]:
        lines += text_table(*table)
    texts = [s for s in data["statements"] if s["text"]]
    if texts:
        lines += [_("Released texts"), "-" * len(_("Released texts"))]
        for release in texts:
            lines.append(
                _("{statement} v{version}, {local} ({offset})").format(
                    statement=release["title"],
                    version=release["version"],
                    local=release["local"],
                    offset=release["offset"],
                )
            )
            lines += [("    " + line).rstrip() for line in release["text"].split("\n")] + [""]
    lines += text_table(*tables[-1])
    return "\n".join(lines)


def to_html(report: IncidentReport) -> str:
    """The report as one self-contained HTML page, with the chart of its timeline."""
    data = to_json(report)
    tables = sections(report, data)
    start = report.incident.opened_at
    chart = after_action.timeline_chart(
        start, report.end - start, after_action.record_lanes(data, report.events)
    )
    return after_action.page(
        title=_title(data),
        exercise=MARK if report.exercise else "",
        lead=lead(report, data),
        verdict=verdict(data),
        passed=data["within_norms"],
        charts=[chart],
        summary=tables[:-1],
        data=data,
        timeline=tables[-1:],
        marked=(_("outside the norm"),),
    )


def json_text(report: IncidentReport) -> str:
    """The report as JSON text."""
    return json.dumps(to_json(report), ensure_ascii=False, indent=2) + "\n"
