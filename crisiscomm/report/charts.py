"""The report's charts as SVG, made with pygal: time to the first statement per incident
against the norm, the monthly share within each norm, clearance time per approver.

The style and the scrubbing of pygal's scripts are crisiscomm/pages.py's, shared with the
drills' after-action page.
"""

from __future__ import annotations

from collections.abc import Sequence

from crisiscomm.i18n import _
from crisiscomm.pages import chart_options
from crisiscomm.pages import svg as _svg
from crisiscomm.report.figures import APPROVER, PeriodReport, Summary
from crisiscomm.report.render import PER_INCIDENT, indicator_name

__all__ = ["charts"]


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def _first_statement(report: PeriodReport) -> str | None:
    measured = [f for f in report.incidents if f.kpis.get("time_to_first_statement") is not None]
    if not measured:
        return None
    options = chart_options()
    pygal = options.pop("_pygal")
    chart = pygal.Line(
        **options,
        title=_("Time to the first public statement per incident (minutes)"),
        x_label_rotation=30,
        show_minor_x_labels=len(measured) <= 24,
    )
    chart.x_labels = [f.id for f in measured]
    chart.add(
        _("first statement"),
        [
            {
                "value": _minutes(f.kpis["time_to_first_statement"]),
                "color": "#c0392b" if "time_to_first_statement" in f.misses else "#1f5f8b",
            }
            for f in measured
        ],
        stroke=False,
        dots_size=4,
    )
    norm = report.norms.get("time_to_first_statement")
    if norm is not None:
        chart.add(_("norm"), [_minutes(norm.target)] * len(measured), show_dots=False)
    return _svg(chart)


def _trend(report: PeriodReport) -> str | None:
    if not any(s.count for _month, summaries in report.trend for s in summaries):
        return None
    options = chart_options()
    pygal = options.pop("_pygal")
    chart = pygal.Line(
        **options,
        title=_("Share of incidents within the norm, by month (%)"),
        range=(0, 100),
    )
    chart.x_labels = [month for month, _summaries in report.trend]
    for indicator in PER_INCIDENT:
        values = []
        for _month, summaries in report.trend:
            found = next((s for s in summaries if s.indicator == indicator), None)
            share = None if found is None or found.within is None else round(found.within * 100, 1)
            values.append(share)
        if any(v is not None for v in values):
            chart.add(indicator_name(indicator), values)
    return _svg(chart)


def _approvers(summaries: Sequence[Summary]) -> str | None:
    approvers = [s for s in summaries if s.indicator.startswith(APPROVER) and s.count]
    if not approvers:
        return None
    options = chart_options()
    pygal = options.pop("_pygal")
    chart = pygal.HorizontalBar(**options, title=_("Clearance time per approver (minutes)"))
    chart.x_labels = [s.indicator[len(APPROVER) :] for s in approvers]
    chart.add(_("median"), [_minutes(s.median) for s in approvers])
    chart.add(_("90th percentile"), [_minutes(s.p90) for s in approvers])
    chart.add(_("norm"), [_minutes(s.norm.target if s.norm else None) for s in approvers])
    return _svg(chart)


def charts(report: PeriodReport) -> list[tuple[str, str]]:
    """(name, SVG) of each chart the report's data supports."""
    made = [
        ("first-statement", _first_statement(report)),
        ("trend", _trend(report)),
        ("approvers", _approvers(report.summaries)),
    ]
    return [(name, svg) for name, svg in made if svg is not None]
