"""Per-incident figures and their summaries over a period, against the office's norms.

Each incident's KPIs come from engine/kpis.py, the implementation drills' after-action
reports use, fed only the incident's KPI events (store/reports.py). A summary per
indicator: incidents measured, median, 90th percentile, share within the norm, and the
same for the previous period of the same length.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from crisiscomm.engine.context import EXERCISE_CONTROL
from crisiscomm.engine.kpis import compute_kpis
from crisiscomm.errors import UsageError
from crisiscomm.i18n import _
from crisiscomm.office.norms import INDICATORS, Norm, norm_for
from crisiscomm.report.period import Period, months_of
from crisiscomm.store.reports import PeriodIncident, period_incidents, playbook_known
from crisiscomm.store.store import Store

__all__ = [
    "IncidentFigures",
    "PeriodReport",
    "Summary",
    "incident_figures",
    "period_report",
    "summarise",
    "within",
]

APPROVER = "clearance_time."


@dataclass(frozen=True)
class IncidentFigures:
    """One incident's KPIs and the indicators it missed."""

    id: str
    playbook_id: str
    title: str
    severity: str
    state: str
    opened_at: datetime
    closed_at: datetime | None
    drill: bool
    kpis: Mapping[str, float | None]
    misses: tuple[str, ...]


@dataclass(frozen=True)
class Summary:
    """An indicator over a set of incidents, and over the previous period's."""

    indicator: str
    norm: Norm | None
    count: int
    median: float | None
    p90: float | None
    within: float | None  # share of the measured incidents within the norm
    previous_count: int = 0
    previous_median: float | None = None
    previous_within: float | None = None

    @property
    def median_change(self) -> float | None:
        """The median minus the previous period's."""
        if self.median is None or self.previous_median is None:
            return None
        return self.median - self.previous_median

    @property
    def within_change(self) -> float | None:
        """The share within the norm minus the previous period's (a share, -1..1)."""
        if self.within is None or self.previous_within is None:
            return None
        return self.within - self.previous_within


@dataclass(frozen=True)
class PeriodReport:
    """Everything a period report shows, as plain data."""

    period: Period
    previous: Period
    playbook: str | None
    norms: Mapping[str, Norm]
    incidents: list[IncidentFigures]  # real incidents opened in the period, oldest first
    summaries: list[Summary]
    by_playbook: dict[str, list[Summary]]
    drills: list[IncidentFigures]  # exercises opened in the period, kept apart
    drill_summaries: list[Summary]
    trend: list[tuple[str, list[Summary]]]  # (month, summaries of its real incidents)


def _drill(incident: PeriodIncident) -> bool:
    return incident.title.startswith("EXERCISE") or any(
        e.actor == EXERCISE_CONTROL for e in incident.events
    )


def within(
    indicator: str, kpis: Mapping[str, float | None], norms: Mapping[str, Norm]
) -> bool | None:
    """Whether an incident's value of an indicator is within its norm (None: not measured
    or no norm). `clearance_time` holds when every approver kept their own norm."""
    if indicator == "clearance_time":
        verdicts = [within(name, kpis, norms) for name in kpis if name.startswith(APPROVER)]
        measured = [v for v in verdicts if v is not None]
        return all(measured) if measured else None
    value = kpis.get(indicator)
    norm = norm_for(norms, indicator)
    if value is None or norm is None:
        return None
    return norm.holds(value)


def incident_figures(incident: PeriodIncident, norms: Mapping[str, Norm]) -> IncidentFigures:
    """An incident's KPIs (engine/kpis.py) and what it missed."""
    kpis = compute_kpis(incident.events, until=incident.last_event_at) if incident.events else {}
    misses = tuple(name for name in _indicators([kpis]) if within(name, kpis, norms) is False)
    return IncidentFigures(
        id=incident.id,
        playbook_id=incident.playbook_id,
        title=incident.title,
        severity=incident.severity,
        state=incident.state,
        opened_at=incident.opened_at,
        closed_at=incident.closed_at,
        drill=_drill(incident),
        kpis=kpis,
        misses=misses,
    )


def _indicators(kpis: Iterable[Mapping[str, float | None]]) -> list[str]:
    """The indicators with a norm, then one per approver found, in a fixed order."""
    approvers = sorted({n for k in kpis for n in k if n.startswith(APPROVER)})
    return [*INDICATORS, *approvers]


def _p90(values: Sequence[float]) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[8]


def _measure(
    indicator: str, incidents: Sequence[IncidentFigures], norms: Mapping[str, Norm]
) -> tuple[int, float | None, float | None, float | None]:
    values = [v for f in incidents if (v := f.kpis.get(indicator)) is not None]
    verdicts = [v for f in incidents if (v := within(indicator, f.kpis, norms)) is not None]
    if not values:
        return 0, None, None, None
    share = sum(verdicts) / len(verdicts) if verdicts else None
    return len(values), statistics.median(values), _p90(values), share


def summarise(
    incidents: Sequence[IncidentFigures],
    norms: Mapping[str, Norm],
    previous: Sequence[IncidentFigures] = (),
) -> list[Summary]:
    """A summary per indicator (and per approver) of the incidents, with the previous ones'."""
    summaries = []
    for name in _indicators([f.kpis for f in [*incidents, *previous]]):
        count, median, p90, share = _measure(name, incidents, norms)
        before, before_median, _p, before_share = _measure(name, previous, norms)
        summaries.append(
            Summary(
                name,
                norm_for(norms, name),
                count,
                median,
                p90,
                share,
                before,
                before_median,
                before_share,
            )
        )
    return summaries


def _month(figures: IncidentFigures, zone: str) -> str:
    return figures.opened_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m")


def period_report(
    *, store: Store, period: Period, norms: Mapping[str, Norm], playbook: str | None = None
) -> PeriodReport:
    """The report of a period: its incidents' figures, summaries per indicator, per
    playbook, drills apart, and the monthly trend over this period and the one before."""
    if playbook and not playbook_known(store, playbook):
        from crisiscomm.documents.library import Library
        from crisiscomm.errors import NotFoundError

        try:
            Library().find_playbook(playbook)
        except NotFoundError:
            raise UsageError(
                _("no playbook `{id}`: no incident ran it and no playbook file has that id").format(
                    id=playbook
                ),
                hint=_("give the id of a playbook, e.g. flood"),
            ) from None
    previous = period.previous()
    loaded = period_incidents(store, start=previous.start, end=period.end, playbook=playbook)
    figures = [incident_figures(incident, norms) for incident in loaded]
    start = period.start
    real = [f for f in figures if not f.drill and f.opened_at >= start]
    real_before = [f for f in figures if not f.drill and f.opened_at < start]
    drills = [f for f in figures if f.drill and f.opened_at >= start]
    drills_before = [f for f in figures if f.drill and f.opened_at < start]
    by_playbook = {
        name: summarise(
            [f for f in real if f.playbook_id == name],
            norms,
            [f for f in real_before if f.playbook_id == name],
        )
        for name in sorted({f.playbook_id for f in real})
    }
    months = sorted({*months_of(previous), *months_of(period)})
    trend = [
        (
            month,
            summarise([f for f in [*real_before, *real] if _month(f, period.zone) == month], norms),
        )
        for month in months
    ]
    return PeriodReport(
        period=period,
        previous=previous,
        playbook=playbook,
        norms=norms,
        incidents=real,
        summaries=summarise(real, norms, real_before),
        by_playbook=by_playbook,
        drills=drills,
        drill_summaries=summarise(drills, norms, drills_before),
        trend=trend,
    )
