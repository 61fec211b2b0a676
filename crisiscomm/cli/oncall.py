"""`crisiscomm oncall`: who holds each role of the office now (or at a given time)."""

from __future__ import annotations

from typing import Any

import click

from crisiscomm.cli.common import echo_json
from crisiscomm.i18n import _


@click.command()
@click.argument("role", required=False)
@click.option("--at", "at", metavar="TIME", help="Local date and time, e.g. '2026-12-10 09:00'.")
@click.option("--office", "office_file", metavar="FILE", help="The office.yaml to read.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def oncall(role: str | None, at: str | None, office_file: str | None, as_json: bool) -> int:
    """Print who holds each role of the office now: the person on duty, members, deputies.

    A role with a rotation names the person on duty at that moment (overrides for leave
    and swaps included); every role lists its members and deputies. The office is
    --office, else CRISISCOMM_OFFICE, else ./office.yaml, else the example shipped with
    crisiscomm.

    \b
    Examples:
      crisiscomm oncall
      crisiscomm oncall duty_officer --at "2026-12-31 23:00"
    """
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from crisiscomm.clock import SystemClock
    from crisiscomm.errors import UsageError
    from crisiscomm.office.find import compiled_office, find_office
    from crisiscomm.playbook.model import localized

    office = compiled_office(find_office(office_file))
    zone = ZoneInfo(office.timezone)
    if at is None:
        moment = SystemClock().now()
    else:
        try:
            moment = datetime.fromisoformat(at.strip().replace("T", " ")).replace(tzinfo=zone)
        except ValueError:
            raise UsageError(
                _("`{at}` is not a date and time").format(at=at),
                hint=_("write it as 2026-12-10 09:00 (the office's local time)"),
            ) from None
    roles = list(office.roles)
    if role is not None:
        if role not in office.roles:
            raise UsageError(
                _("the office has no role `{role}`").format(role=role),
                hint=_("its roles: {roles}").format(roles=", ".join(roles)),
            )
        roles = [role]
    rows: list[dict[str, Any]] = []
    for name in roles:
        duty = office.on_duty(name, moment)
        rows.append(
            {
                "role": name,
                "title": localized((office.roles[name] or {}).get("title"), default=name),
                "on_duty": duty.id if duty else None,
                "on_duty_name": duty.name if duty else None,
                "members": [p.id for p in office.members(name)],
                "deputies": [p.id for p in office.deputies(name)],
            }
        )
    local = moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    if as_json:
        echo_json({"office": office.id, "at": local, "timezone": office.timezone, "roles": rows})
        return 0
    from crisiscomm.engine.timefmt import local_text
    from crisiscomm.i18n import language

    click.echo(
        _("{office}, {at} ({zone})").format(
            office=office.title(language()),
            at=local_text(moment, office.timezone),
            zone=office.timezone,
        )
    )
    people = office.people
    for row in rows:
        click.echo(f"\n{row['title']} ({row['role']})")
        if office.rotations.get(row["role"]) is not None:
            on_duty = f"{row['on_duty_name']} ({row['on_duty']})" if row["on_duty"] else _("nobody")
            click.echo("  " + _("on duty:  {who}").format(who=on_duty))
        for label, ids in ((_("members: "), row["members"]), (_("deputies:"), row["deputies"])):
            if ids:
                names = ", ".join(f"{people[i].name} ({i})" for i in ids)
                click.echo(f"  {label} {names}")
    return 0
