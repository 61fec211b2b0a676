"""What a period report reads: the incidents opened in a period and, of each, only the
events its KPIs are computed from (engine/kpis.py).

Both queries walk the `incidents_opened` index over the period and the events' primary key
per incident, so their cost grows with the incidents in the period, not with the database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crisiscomm.clock import format_utc, parse_utc
from crisiscomm.store.connection import StoreConnection
from crisiscomm.store.rows import EventRow

__all__ = ["KPI_EVENT_TYPES", "PeriodIncident", "period_incidents", "playbook_known"]

# every event type engine/kpis.py reads
KPI_EVENT_TYPES = (
    "acknowledged",
    "checked",
    "clearance.overdue",
    "closed",
    "deadline.missed",
    "escalation",
    "opened",
    "statement.approved",
    "statement.drafted",
    "statement.edited",
    "statement.released",
    "transition",
    "update.missed",
)

_PERIOD = "i.opened_at >= :start AND i.opened_at < :end{playbook}"
INCIDENTS = """
    SELECT i.id, i.playbook_id, i.title, i.severity, i.state, i.opened_at, i.closed_at,
           (SELECT l.at FROM events l WHERE l.incident_id = i.id AND l.seq = i.event_count)
    FROM incidents i
    WHERE {period}
    ORDER BY i.opened_at, i.id
"""
EVENTS = """
    SELECT e.incident_id, e.seq, e.at, e.actor, e.type, e.data
    FROM incidents i JOIN events e ON e.incident_id = i.id
    WHERE {period} AND (e.type IN ({types}) OR e.actor = :control)
    ORDER BY e.incident_id, e.seq
"""
PLAYBOOK_KNOWN = "SELECT 1 FROM incidents WHERE playbook_id = :playbook LIMIT 1"


@dataclass(frozen=True)
class PeriodIncident:
    """An incident opened in the period, with the events its KPIs read."""

    id: str
    playbook_id: str
    title: str
    severity: str
    state: str
    opened_at: datetime
    closed_at: datetime | None
    last_event_at: datetime
    events: list[EventRow] = field(default_factory=list)


def period_incidents(
    store: StoreConnection,
    *,
    start: datetime,
    end: datetime,
    playbook: str | None = None,
    control_actor: str = "exercise-control",
) -> list[PeriodIncident]:
    """Incidents opened in [start, end), oldest first (of one playbook if given), each with
    its KPI events and the events `control_actor` (a drill's controller) recorded."""
    period = _PERIOD.format(playbook=" AND i.playbook_id = :playbook" if playbook else "")
    params: dict[str, Any] = {"start": format_utc(start), "end": format_utc(end)}
    if playbook:
        params["playbook"] = playbook
    types = {f"type{n}": kind for n, kind in enumerate(KPI_EVENT_TYPES)}
    events_sql = EVENTS.format(period=period, types=", ".join(f":{name}" for name in types))
    with store._driver_errors(), store._transaction(write=False):
        incidents = store._execute(INCIDENTS.format(period=period), **params).fetchall()
        rows = store._execute(events_sql, **params, **types, control=control_actor).fetchall()
    by_incident: dict[str, list[EventRow]] = {}
    for incident_id, seq, at, actor, type_, data in rows:
        by_incident.setdefault(incident_id, []).append(
            EventRow(incident_id, int(seq), parse_utc(at), actor, type_, json.loads(data), "", "")
        )
    return [
        PeriodIncident(
            id=str(record[0]),
            playbook_id=str(record[1]),
            title=str(record[2]),
            severity=str(record[3]),
            state=str(record[4]),
            opened_at=parse_utc(record[5]),
            closed_at=parse_utc(record[6]) if record[6] else None,
            last_event_at=parse_utc(record[7] or record[5]),
            events=by_incident.get(str(record[0]), []),
        )
        for record in incidents
    ]


def playbook_known(store: StoreConnection, playbook: str) -> bool:
    """Whether any incident of the database ran this playbook."""
    with store._driver_errors():
        return store._fetchone_or_none(PLAYBOOK_KNOWN, playbook=playbook) is not None
