"""`crisiscomm inbox kpis`: how fast the register's items were answered over a period."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from crisiscomm.cli.common import db_option, echo_json, json_option, open_db

__all__ = ["kpis"]


@click.command()
@click.option(
    "--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First day (local), e.g. 2027-03-01."
)
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last day (local), included.")
@db_option
@json_option
def kpis(start: datetime | None, end: datetime | None, db: str | None, as_json: bool) -> int:
    """Show the register's KPIs: answered within the norm, response times, overdue, rumours.

    The items received from --from to --to (local days, both included; default: the last
    30 days): the share answered within the norm, the median and 90th-percentile response
    time per kind, appeals extended, and for rebutted posts the correction latency (first
    seen to rebuttal released) and the reach then. Overdue counts every open item now.

    \b
    Example:
      crisiscomm inbox kpis --from 2027-03-01 --to 2027-03-31 --json
    """
    from datetime import timedelta
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from crisiscomm.clock import SystemClock
    from crisiscomm.errors import UsageError
    from crisiscomm.i18n import _
    from crisiscomm.inbox.kpis import register_kpis
    from crisiscomm.inbox.register import compiled_register, find_register
    from crisiscomm.office.find import compiled_office, find_office

    register = compiled_register(Path(find_register()))
    office = compiled_office(find_office(None))
    zone = ZoneInfo(office.timezone)
    now = SystemClock().now()
    last = (end or now.astimezone(zone)).date()
    first = start.date() if start else last - timedelta(days=29)
    if first > last:
        raise UsageError(_("--from is after --to"))
    begin = datetime.combine(first, datetime.min.time(), zone)
    stop = datetime.combine(last + timedelta(days=1), datetime.min.time(), zone)
    with open_db(db) as store:
        found = register_kpis(store=store, register=register, now=now, start=begin, end=stop)
    if as_json:
        echo_json(found)
        return 0
    for line in _lines(found, first.isoformat(), last.isoformat()):
        click.echo(line)
    return 0


def _hours(seconds: float | None) -> str:
    from crisiscomm.i18n import _

    if seconds is None:
        return "-"
    return _("{hours} h").format(hours=f"{seconds / 3600:.1f}")


def _lines(found: dict[str, Any], first: str, last: str) -> list[str]:
    from crisiscomm.i18n import _

    percent = found["within_norm_percent"]
    lines = [
        _("Register KPIs, {first} to {last}: {n} items received").format(
            first=first, last=last, n=found["received"]
        ),
        _("answered within the norm: {percent} ({within} of {answered})").format(
            percent="-" if percent is None else f"{percent}%",
            within=found["answered_within_norm"],
            answered=found["answered_with_deadline"],
        ),
    ]
    for kind, times in found["response_seconds"].items():
        lines.append(
            _("  {kind}: {n} answered, median {median}, 90th percentile {p90}").format(
                kind=kind,
                n=times["answered"],
                median=_hours(times["median"]),
                p90=_hours(times["p90"]),
            )
        )
    lines.append(_("overdue now: {n}").format(n=found["overdue_now"]))
    lines.append(_("appeals extended: {n}").format(n=found["appeals_extended"]))
    lines.append(
        _("rumours rebutted: {n}, correction latency median {median}").format(
            n=len(found["rumours_rebutted"]),
            median=_hours(found["correction_latency_median_seconds"]),
        )
    )
    for rumour in found["rumours_rebutted"]:
        lines.append(
            _("  {id} ({incident}): {latency} after first seen, {reach} views").format(
                id=rumour["id"],
                incident=rumour["incident"],
                latency=_hours(rumour["latency_seconds"]),
                reach="-" if rumour["reach"] is None else rumour["reach"],
            )
        )
    return lines
