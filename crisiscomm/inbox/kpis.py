"""The register's KPIs over a period, read from the store: how fast the office answered.

    kpis = register_kpis(store=store, register=register, now=now, start=start, end=end)

For the items received in [start, end): the share answered within the norm, the median and
90th-percentile response time (received → the norm met: answered, referred, a verdict on a
post) per kind, the appeals extended, and for the posts a rebuttal marked (store/
rebuttals.py) the correction latency (first seen → rebuttal released) and the reach then.
`overdue_now` counts every open item past its deadline at `now`, whenever received.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crisiscomm.clock import format_utc
from crisiscomm.inbox.register import Register
from crisiscomm.store.inbox import InboxItem
from crisiscomm.store.rows import EventRow

if TYPE_CHECKING:
    from crisiscomm.store import Store

__all__ = ["percentile", "register_kpis", "response"]


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (`share` in 0..1) of `values`; None for none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def response(
    register: Register, item: InboxItem, events: Sequence[EventRow]
) -> tuple[datetime, bool | None] | None:
    """When the item's norm was first met, and whether within its deadline then (None: it
    had none); None while it is not met."""
    lifecycle = register.lifecycle(item.kind)
    due = None
    for event in events:
        if event.data.get("due_at"):
            due = event.data["due_at"]
        before, after = event.data.get("from"), event.data.get("to")
        if event.type == "inbox.rebutted":
            after = "rebutted"
        if after is None or not lifecycle.norm_met(str(after)):
            continue
        if before is not None and lifecycle.norm_met(str(before)):
            continue
        within = event.data.get("within_norm")
        if within is None and due is not None:
            within = format_utc(event.at) <= due
        return event.at, within
    return None


def register_kpis(
    *, store: Store, register: Register, now: datetime, start: datetime, end: datetime
) -> dict[str, Any]:
    """The register's KPIs for items received in [start, end), as plain JSON values."""
    where = "received_at >= :start AND received_at < :end"
    items = store.inbox_items(where, start=format_utc(start), end=format_utc(end))
    times: dict[str, list[float]] = {kind: [] for kind in register.lifecycles}
    answered = within = 0
    rumours: list[dict[str, Any]] = []
    for item in items:
        met = response(register, item, store.inbox_events(item.id))
        if met is not None:
            at, on_time = met
            times.setdefault(item.kind, []).append((at - item.received_at).total_seconds())
            if on_time is not None:
                answered += 1
                within += on_time
        rebuttal = item.data.get("rebuttal")
        if rebuttal:
            rumours.append(
                {
                    "id": item.id,
                    "incident": rebuttal.get("incident"),
                    "latency_seconds": rebuttal.get("latency_seconds"),
                    "reach": rebuttal.get("reach"),
                }
            )
    overdue = [
        i
        for i in store.inbox_items(
            "closed_at IS NULL AND due_at IS NOT NULL AND due_at < :now", now=format_utc(now)
        )
        if not register.lifecycle(i.kind).norm_met(i.status)
    ]
    latencies = [float(r["latency_seconds"]) for r in rumours if r["latency_seconds"] is not None]
    return {
        "from": format_utc(start),
        "to": format_utc(end),
        "received": len(items),
        "answered_with_deadline": answered,
        "answered_within_norm": within,
        "within_norm_percent": None if not answered else round(100.0 * within / answered, 1),
        "response_seconds": {
            kind: {
                "answered": len(values),
                "median": statistics.median(values) if values else None,
                "p90": percentile(values, 0.9),
            }
            for kind, values in times.items()
        },
        "overdue_now": len(overdue),
        "appeals_extended": sum(1 for i in items if i.kind == "appeal" and i.extended),
        "rumours_rebutted": rumours,
        "correction_latency_median_seconds": statistics.median(latencies) if latencies else None,
        "reach_at_rebuttal_max": max((r["reach"] or 0 for r in rumours), default=None),
    }
