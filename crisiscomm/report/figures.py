"""Per-incident figures and their summaries over a period, against the office's norms.

Each incident's KPIs come from engine/kpis.py, the implementation drills' after-action
reports use, fed only the incident's KPI events (store/reports.py). A summary per
indicator: incidents measured, median, 90th percentile, share within the norm, and the
same for the previous period of the same length. Besides: per person (approvals given,
median time to approve, acknowledgements; names only, never contacts) and, where the
office keeps a register, its indicators (inbox/kpis.py, the `inbox kpis` figures).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from crisiscomm.engine.context import EXERCISE_CONTROL, SYSTEM_ACTOR
from crisiscomm.engine.kpis import approval_waits, compute_kpis
from crisiscomm.errors import UsageError
from crisiscomm.i18n import _
from crisiscomm.office.norms import INCIDENT_INDICATORS, Norm, norm_for
from crisiscomm.report.period import Period, months_of
from crisiscomm.store.reports import PeriodIncident, period_incidents, playbook_known
from crisiscomm.store.rows import EventRow
from crisiscomm.store.store import Store

if TYPE_CHECKING:
    from crisiscomm.inbox.register import Register

__all__ = [
    "IncidentFigures",
    "PeriodReport",
    "PersonFigures",
    "Summary",
    "incident_figures",
    "is_exercise",
    "period_report",
    "person_figures",
    "register_summaries",
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
class PersonFigures:
    """What one person did in the period's incidents: by id and name, never contacts."""

    id: str
    name: str
    roles: tuple[str, ...]  # the roles they approved in
    approvals: int  # statement versions approved
    approve_median: float | None  # seconds from the text written to their approval
    acknowledgements: int


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
    people: list[PersonFigures] = field(default_factory=list)  # in the real incidents
    register: list[Summary] | None = None  # None: the office keeps no register
    register_received: int = 0  # register items received in the period


def is_exercise(title: str, events: Sequence[EventRow]) -> bool:
    """Whether an incident was a drill's: titled EXERCISE, or driven by exercise control."""
    return title.startswith("EXERCISE") or any(e.actor == EXERCISE_CONTROL for e in events)


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
        drill=is_exercise(incident.title, incident.events),
        kpis=kpis,
        misses=misses,
    )


def _indicators(kpis: Iterable[Mapping[str, float | None]]) -> list[str]:
    """The indicators with a norm, then one per approver found, in a fixed order."""
    approvers = sorted({n for k in kpis for n in k if n.startswith(APPROVER)})
    return [*INCIDENT_INDICATORS, *approvers]


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
    *,
    store: Store,
    period: Period,
    norms: Mapping[str, Norm],
    playbook: str | None = None,
    names: Mapping[str, str] | None = None,
    register: Register | None = None,
) -> PeriodReport:
    """The report of a period: its incidents' figures, summaries per indicator, per
    playbook, per person (`names`: person id -> name), drills apart, the monthly trend over
    this period and the one before, and the register's indicators if it has one."""
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
    real_events = [
        incident.events
        for incident, f in zip(loaded, figures, strict=True)
        if not f.drill and f.opened_at >= start
    ]
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
        people=person_figures(real_events, names or {}),
        **_register(store, register, period, norms),
    )


def person_figures(
    records: Iterable[Sequence[EventRow]], names: Mapping[str, str]
) -> list[PersonFigures]:
    """Per person acting in the incidents: statement approvals given, the median time to
    approve (engine/kpis.py's clearance waits) and acknowledgements, by name."""
    waits: dict[str, list[float]] = {}
    roles: dict[str, set[str]] = {}
    acks: dict[str, int] = {}
    for events in records:
        for event, waited in approval_waits(events):
            waits.setdefault(event.actor, []).append(waited)
            roles.setdefault(event.actor, set()).add(str(event.data.get("role") or ""))
        for event in events:
            if event.type == "acknowledged" and event.actor not in (SYSTEM_ACTOR, EXERCISE_CONTROL):
                acks[event.actor] = acks.get(event.actor, 0) + 1
    return [
        PersonFigures(
            id=actor,
            name=names.get(actor, actor),
            roles=tuple(sorted(r for r in roles.get(actor, set()) if r)),
            approvals=len(waits.get(actor, [])),
            approve_median=statistics.median(waits[actor]) if actor in waits else None,
            acknowledgements=acks.get(actor, 0),
        )
        for actor in sorted({*waits, *acks}, key=lambda a: (names.get(a, a).casefold(), a))
    ]


def register_summaries(
    found: Mapping[str, Any], before: Mapping[str, Any], norms: Mapping[str, Norm]
) -> list[Summary]:
    """The register's indicators from two periods' `inbox kpis` figures (inbox/kpis.py):
    answered within the norm (the share itself; no median), rumour correction latency."""

    def answered(kpis: Mapping[str, Any]) -> tuple[int, float | None]:
        count = int(kpis["answered_with_deadline"])
        return count, (kpis["answered_within_norm"] / count if count else None)

    def latencies(kpis: Mapping[str, Any]) -> list[float]:
        rumours = kpis["rumours_rebutted"]
        return [float(r["latency_seconds"]) for r in rumours if r["latency_seconds"] is not None]

    count, share = answered(found)
    before_count, before_share = answered(before)
    latency = norm_for(norms, "rumour_correction_latency")
    values, before_values = latencies(found), latencies(before)

    def held(measured: Sequence[float]) -> float | None:
        if not measured or latency is None:
            return None
        return sum(latency.holds(v) for v in measured) / len(measured)

    return [
        Summary(
            "answered_within_norm",
            norm_for(norms, "answered_within_norm"),
            count,
            None,
            None,
            share,
            before_count,
            None,
            before_share,
        ),
        Summary(
            "rumour_correction_latency",
            latency,
            len(values),
            statistics.median(values) if values else None,
            _p90(values) if values else None,
            held(values),
            len(before_values),
            statistics.median(before_values) if before_values else None,
            held(before_values),
        ),
    ]


def _register(
    store: Store, register: Register | None, period: Period, norms: Mapping[str, Norm]
) -> dict[str, Any]:
    if register is None:
        return {}
    from crisiscomm.inbox.kpis import register_kpis

    previous = period.previous()
    found = register_kpis(
        store=store, register=register, now=period.end, start=period.start, end=period.end
    )
    before = register_kpis(
        store=store, register=register, now=period.end, start=previous.start, end=previous.end
    )
    return {
        "register": register_summaries(found, before, norms),
        "register_received": int(found["received"]),
    }
