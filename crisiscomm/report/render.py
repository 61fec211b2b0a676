"""A period report as text (terminal, with bars), Markdown, JSON and CSV.

The text and Markdown share one list of sections (a title, a header row and rows of
texts); JSON keeps the numbers (seconds, shares 0..1, counts); CSV is one row per incident.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from crisiscomm.formats import date_text, datetime_text, decimal_text, duration_text, integer_text
from crisiscomm.i18n import _, language
from crisiscomm.office.norms import INDICATORS, Norm
from crisiscomm.report.figures import (
    APPROVER,
    IncidentFigures,
    PeriodReport,
    PersonFigures,
    Summary,
)

__all__ = [
    "Section",
    "indicator_name",
    "lead",
    "sections",
    "text_table",
    "title",
    "to_csv",
    "to_json",
    "to_markdown",
    "to_text",
    "value_text",
]

Section = tuple[str, list[str], list[list[str]]]
MISSED = "!"  # after a value outside its norm
PER_INCIDENT = [
    "time_to_verification",
    "time_to_notify_leadership",
    "time_to_first_statement",
    "clearance_time",
    "cadence_adherence",
    "escalations_fired",
]


def _kind(indicator: str) -> str:
    return INDICATORS[indicator.split(".")[0]][0]


def indicator_name(indicator: str) -> str:
    """An indicator as a person reads it; an approver's clearance names the role."""
    if indicator.startswith(APPROVER):
        return _("clearance time: {role}").format(role=indicator[len(APPROVER) :])
    return _(INDICATORS[indicator][1])


def value_text(indicator: str, value: float | None, *, signed: bool = False) -> str:
    """A figure as the reader's language writes it: a duration, a share or a count."""
    if value is None:
        return "–"
    lang = language()
    sign = ("+" if value > 0 else "−" if value < 0 else "±") if signed else ""
    size = abs(value) if signed else value
    kind = _kind(indicator)
    if kind == "duration":
        return sign + duration_text(timedelta(seconds=round(size)), lang)
    if kind == "ratio":
        return sign + decimal_text(round(size * 100, 1), lang) + " %"
    return sign + decimal_text(round(size, 1), lang)


def _share(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "–"
    sign = ("+" if value > 0 else "−" if value < 0 else "±") if signed else ""
    text = decimal_text(round(abs(value) * 100 if signed else value * 100, 1), language())
    return sign + text + (_(" pp") if signed else " %")


def _norm_text(norm: Norm | None) -> str:
    if norm is None:
        return "–"
    return ("≥ " if norm.at_least else "≤ ") + value_text(norm.indicator, norm.target)


def _shown(summaries: Sequence[Summary]) -> list[Summary]:
    return [s for s in summaries if s.count or s.previous_count]


def _summary_rows(summaries: Sequence[Summary]) -> list[list[str]]:
    return [
        [
            indicator_name(s.indicator),
            _norm_text(s.norm),
            integer_text(s.count, language()),
            value_text(s.indicator, s.median),
            value_text(s.indicator, s.p90),
            _share(s.within),
            value_text(s.indicator, s.median_change, signed=True),
            _share(s.within_change, signed=True),
        ]
        for s in _shown(summaries)
    ]


def _register_rows(summaries: Sequence[Summary]) -> list[list[str]]:
    """The summary rows, a figure outside its norm marked: the share answered by the
    deadline (which is that indicator's value), a rumour's median correction latency."""
    median, within_norm = 3, 5  # their columns in _summary_header
    rows = []
    for s, row in zip(_shown(summaries), _summary_rows(summaries), strict=True):
        share = s.indicator == "answered_within_norm"
        value = s.within if share else s.median
        if s.norm is not None and value is not None and not s.norm.holds(value):
            row[within_norm if share else median] += MISSED
        rows.append(row)
    return rows


def _person_rows(people: Sequence[PersonFigures]) -> list[list[str]]:
    lang = language()
    return [
        [
            p.name,
            ", ".join(p.roles) or "–",
            integer_text(p.approvals, lang),
            value_text("clearance_time", p.approve_median),
            integer_text(p.acknowledgements, lang),
        ]
        for p in people
    ]


def _summary_header() -> list[str]:
    return [
        _("indicator"),
        _("norm"),
        _("incidents"),
        _("median"),
        _("90th percentile"),
        _("within norm"),
        _("median vs previous"),
        _("within vs previous"),
    ]


def _incident_rows(report: PeriodReport, figures: Sequence[IncidentFigures]) -> list[list[str]]:
    lang, zone = language(), report.period.zone
    rows = []
    for f in figures:
        cells = [f.id, f.playbook_id, datetime_text(f.opened_at, lang, zone)]
        for name in PER_INCIDENT:
            text = value_text(name, f.kpis.get(name))
            cells.append(text + (MISSED if name in f.misses else ""))
        cells.append(", ".join(indicator_name(m) for m in f.misses) or _("none"))
        rows.append(cells)
    return rows


def _incident_header() -> list[str]:
    return [
        _("incident"),
        _("playbook"),
        _("opened"),
        _("verification"),
        _("leadership"),
        _("first statement"),
        _("clearance"),
        _("cadence"),
        _("escalations"),
        _("outside the norm"),
    ]


def _playbook_rows(report: PeriodReport) -> list[list[str]]:
    rows = []
    for playbook, summaries in report.by_playbook.items():
        for s in summaries:
            if s.count and not s.indicator.startswith(APPROVER):
                rows.append(
                    [
                        playbook,
                        indicator_name(s.indicator),
                        integer_text(s.count, language()),
                        value_text(s.indicator, s.median),
                        _share(s.within),
                    ]
                )
    return rows


def _trend_rows(report: PeriodReport) -> list[list[str]]:
    rows = []
    for month, summaries in report.trend:
        first = next(s for s in summaries if s.indicator == "time_to_first_statement")
        cadence = next(s for s in summaries if s.indicator == "cadence_adherence")
        count = next(s.count for s in summaries if s.indicator == "escalations_fired")
        rows.append(
            [
                month,
                integer_text(count, language()),
                value_text(first.indicator, first.median),
                _share(first.within),
                value_text(cadence.indicator, cadence.median),
            ]
        )
    return rows


def title(report: PeriodReport) -> str:
    """The report's heading."""
    lang = language()
    heading = _("Communication report: {first} – {last}").format(
        first=date_text(report.period.first, lang), last=date_text(report.period.last, lang)
    )
    if report.playbook:
        heading += " · " + _("playbook {id}").format(id=report.playbook)
    return heading


def sections(report: PeriodReport) -> list[Section]:
    """The report's tables, in reading order (empty ones left out)."""
    found: list[Section] = []
    if report.incidents:
        found.append(
            (_("Indicators against the norms"), _summary_header(), _summary_rows(report.summaries))
        )
        found.append(
            (
                _("Incidents ({mark} marks a figure outside its norm)").format(mark=MISSED),
                _incident_header(),
                _incident_rows(report, report.incidents),
            )
        )
        found.append(
            (
                _("Per playbook"),
                [_("playbook"), _("indicator"), _("incidents"), _("median"), _("within norm")],
                _playbook_rows(report),
            )
        )
        found.append(
            (
                _("Monthly trend"),
                [
                    _("month"),
                    _("incidents"),
                    _("first statement (median)"),
                    _("within norm"),
                    _("cadence (median)"),
                ],
                _trend_rows(report),
            )
        )
    if report.people:
        found.append(
            (
                _("Per person"),
                [
                    _("person"),
                    _("approved as"),
                    _("approvals"),
                    _("median time to approve"),
                    _("acknowledgements"),
                ],
                _person_rows(report.people),
            )
        )
    if report.register is not None and _shown(report.register):
        found.append(
            (_register_heading(report), _summary_header(), _register_rows(report.register))
        )
    if report.drills:
        found.append(
            (
                _("Drills (EXERCISE, not counted above)"),
                _incident_header(),
                _incident_rows(report, report.drills),
            )
        )
        found.append(
            (
                _("Drills against the norms"),
                _summary_header(),
                _summary_rows(report.drill_summaries),
            )
        )
    return found


def _register_heading(report: PeriodReport) -> str:
    return _("The register of questions and appeals ({n} item(s) received)").format(
        n=integer_text(report.register_received, language())
    )


def summaries_of(report: PeriodReport) -> dict[str, list[Summary]]:
    """The summaries behind each table of indicators, by the table's heading."""
    found = {
        _("Indicators against the norms"): _shown(report.summaries),
        _("Drills against the norms"): _shown(report.drill_summaries),
    }
    if report.register is not None:
        found[_register_heading(report)] = _shown(report.register)
    return found


def lead(report: PeriodReport) -> list[str]:
    """The lines under the heading: how many incidents, drills apart, or none."""
    lang = language()
    lines = [
        _("{n} incident(s) opened; previous period ({first} – {last}): {m}").format(
            n=integer_text(len(report.incidents), lang),
            first=date_text(report.previous.first, lang),
            last=date_text(report.previous.last, lang),
            m=integer_text(_previous_count(report), lang),
        )
    ]
    if report.drills:
        lines.append(
            _("{n} drill(s) held, reported apart").format(n=integer_text(len(report.drills), lang))
        )
    if not report.incidents and not report.drills:
        lines.append(_("No incidents were opened in this period: there is nothing to measure."))
    return lines


def _previous_count(report: PeriodReport) -> int:
    return max(
        (s.previous_count for s in report.summaries if s.indicator == "escalations_fired"),
        default=0,
    )


def to_markdown(report: PeriodReport) -> str:
    """The report in Markdown."""
    lines = ["# " + title(report), "", *lead(report), ""]
    for heading, header, rows in sections(report):
        lines += [f"## {heading}", "", "| " + " | ".join(header) + " |"]
        lines.append("|" + "---|" * len(header))
        lines += [
            "| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows
        ]
        lines.append("")
    return "\n".join(lines)


def _bar(share: float | None, width: int = 10) -> str:
    if share is None:
        return ""
    filled = round(share * width)
    return "█" * filled + "░" * (width - filled)


def text_table(heading: str, header: list[str], rows: list[list[str]]) -> list[str]:
    """A table for a terminal: the heading underlined, columns aligned."""
    widths = [max(len(c) for c in column) for column in zip(header, *rows, strict=False)]
    lines = [heading, "-" * len(heading)]
    for row in [header, *rows]:
        lines.append(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip()
        )
    return [*lines, ""]


def to_text(report: PeriodReport) -> str:
    """The report for a terminal: aligned columns, a bar of the share within each norm."""
    lines = [title(report), "=" * len(title(report)), *lead(report), ""]
    indicators = summaries_of(report)
    for heading, header, rows in sections(report):
        if heading in indicators:
            header = [*header, ""]
            shares = [s.within for s in indicators[heading]]
            rows = [[*row, _bar(share)] for row, share in zip(rows, shares, strict=True)]
        lines += text_table(heading, header, rows)
    return "\n".join(lines)


def _figures_json(report: PeriodReport, figures: Sequence[IncidentFigures]) -> list[dict[str, Any]]:
    zone = ZoneInfo(report.period.zone)
    return [
        {
            "id": f.id,
            "playbook": f.playbook_id,
            "title": f.title,
            "severity": f.severity,
            "state": f.state,
            "opened_at": f.opened_at.astimezone(zone).isoformat(),
            "closed_at": f.closed_at.astimezone(zone).isoformat() if f.closed_at else None,
            "exercise": f.drill,
            "kpis": dict(f.kpis),
            "outside_norm": list(f.misses),
        }
        for f in figures
    ]


def _summaries_json(summaries: Sequence[Summary]) -> list[dict[str, Any]]:
    return [
        {
            "indicator": s.indicator,
            "norm": None
            if s.norm is None
            else {"target": s.norm.target, "written": s.norm.text, "at_least": s.norm.at_least},
            "incidents": s.count,
            "median": s.median,
            "p90": s.p90,
            "within_norm": s.within,
            "previous": {
                "incidents": s.previous_count,
                "median": s.previous_median,
                "within_norm": s.previous_within,
            },
        }
        for s in summaries
    ]


def to_json(report: PeriodReport) -> str:
    """The report as JSON: seconds, shares (0..1) and counts, times in the office's zone."""
    data = {
        "period": {
            "from": report.period.first.isoformat(),
            "to": report.period.last.isoformat(),
            "timezone": report.period.zone,
        },
        "previous_period": {
            "from": report.previous.first.isoformat(),
            "to": report.previous.last.isoformat(),
        },
        "playbook": report.playbook,
        "norms": {name: norm.text for name, norm in report.norms.items()},
        "indicators": _summaries_json(report.summaries),
        "incidents": _figures_json(report, report.incidents),
        "playbooks": {name: _summaries_json(s) for name, s in report.by_playbook.items()},
        "trend": {month: _summaries_json(s) for month, s in report.trend},
        "people": [
            {
                "id": p.id,
                "name": p.name,
                "roles": list(p.roles),
                "approvals": p.approvals,
                "approve_median": p.approve_median,
                "acknowledgements": p.acknowledgements,
            }
            for p in report.people
        ],
        "register": None
        if report.register is None
        else {
            "received": report.register_received,
            "indicators": _summaries_json(report.register),
        },
        "drills": {
            "incidents": _figures_json(report, report.drills),
            "indicators": _summaries_json(report.drill_summaries),
        },
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def to_csv(report: PeriodReport) -> str:
    """One row per incident (drills too, marked), figures in seconds, shares and counts."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = ["id", "playbook", "opened_at", "exercise", *PER_INCIDENT, "outside_norm"]
    writer.writerow(names)
    zone = ZoneInfo(report.period.zone)
    for f in [*report.incidents, *report.drills]:
        figures = ["" if f.kpis.get(n) is None else f"{f.kpis[n]:g}" for n in PER_INCIDENT]
        writer.writerow(
            [
                f.id,
                f.playbook_id,
                f.opened_at.astimezone(zone).isoformat(),
                "yes" if f.drill else "no",
                *figures,
                " ".join(f.misses),
            ]
        )
    return out.getvalue()
