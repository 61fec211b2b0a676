"""Reading commands: list, show, timeline, audit verify, audit signatures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from crisiscomm.cli.common import db_option, echo_json, incident_json, json_option, open_db

DEFAULT_LIMIT = 50  # incidents a page of `list` and `status` shows


def _positive(_context: click.Context, _param: click.Parameter, value: str | None) -> int:
    from crisiscomm.i18n import _

    if value is None:
        return DEFAULT_LIMIT
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise click.BadParameter(
            _("'{value}' is not a whole number of incidents above 0, e.g. --limit 100").format(
                value=value
            )
        )
    return number


def page_options(command: Any) -> Any:
    """`--limit N` and `--after ID`: one page of a long list."""
    command = click.option(
        "--after",
        metavar="ID",
        help="Start after this incident (the next page, as the line under a list says).",
    )(command)
    return click.option(
        "--limit",
        metavar="N",
        callback=_positive,
        help=f"Show at most N incidents (default {DEFAULT_LIMIT}).",
    )(command)


def more_line(*, more: int, last: str, flags: str) -> str:
    """The line under a page: how many more there are and how to see them."""
    from crisiscomm.i18n import _
    from crisiscomm.store.listing import MORE_COUNTED

    if more > MORE_COUNTED:
        return _(
            "... more than {more} more; the next page: crisiscomm {flags} --after {last}"
        ).format(more=f"{MORE_COUNTED:,}", flags=flags, last=last)
    return _("... {more} more; the next page: crisiscomm {flags} --after {last}").format(
        more=f"{more:,}", flags=flags, last=last
    )


def after_id(store: Any, after: str | None) -> str | None:
    """The incident id `--after` names, checked (a usage error when there is none)."""
    if after is None:
        return None
    return str(store.get_incident(after.strip().upper(), statements=False).id)


@click.command("list")
@click.option("--all", "show_all", is_flag=True, help="Closed incidents too.")
@page_options
@db_option
@json_option
def list_incidents(
    show_all: bool, limit: int, after: str | None, db: str | None, as_json: bool
) -> int:
    """List incidents, newest first (open ones only unless --all).

    A page at a time: the first --limit (default 50) incidents, then a line saying how many
    more there are and the command for the next page (--after the last one shown).

    \b
    Examples:
      crisiscomm list --all --json
      crisiscomm list --all --limit 100 --after INC-2026-0042
    """
    from crisiscomm.i18n import _

    with open_db(db) as store:
        from crisiscomm.store.listing import MORE_COUNTED

        start = after_id(store, after)
        incidents = store.incident_page(limit=limit, open_only=not show_all, after=start)
        more = 0
        if len(incidents) == limit:
            more = store.count_incidents(
                open_only=not show_all, after=incidents[-1].id, up_to=MORE_COUNTED
            )
    if as_json:
        echo_json([incident_json(i) for i in incidents])
        return 0
    if not incidents:
        if start is None:
            click.echo(
                _("No open incidents. Open one with: crisiscomm open-incident PLAYBOOK --title ...")
            )
        return 0
    for incident in incidents:
        status = (
            incident.state if incident.closed_at is None else _("closed") + f" ({incident.state})"
        )
        columns = [
            incident.id,
            f"{incident.severity:<8}",
            f"{status:<24}",
            f"{incident.playbook_id:<16}",
        ]
        click.echo("  ".join([*columns, incident.title]))
    if more:
        flags = "list" + (" --all" if show_all else "") + f" --limit {limit}"
        click.echo(more_line(more=more, last=incidents[-1].id, flags=flags))
    return 0


@click.command()
@click.argument("incident_id", metavar="ID")
@click.option("--no-color", is_flag=True, help="Plain text, no colour.")
@db_option
@json_option
def show(incident_id: str, no_color: bool, db: str | None, as_json: bool) -> int:
    """Show one incident: state, owner, checklist, facts, statements and their clearance,
    the timers ahead and the last events.

    Plain text when the output is not a terminal, with NO_COLOR or --no-color.

    \b
    Example:
      crisiscomm show INC-2026-0042
    """
    import sys

    from crisiscomm.cli.validate import use_color
    from crisiscomm.clock import SystemClock, format_utc
    from crisiscomm.ui import readmodel

    with open_db(db) as store:
        details = readmodel.detail(store=store, incident_id=incident_id)
    incident = details.line
    if as_json:
        with open_db(db) as store:
            row = store.get_incident(incident.id, statements=False)
        echo_json(
            {
                **incident_json(row),
                "next": details.possible,
                "timers": [
                    {"kind": t.kind, "key": t.key, "due_at": format_utc(t.due_at)}
                    for t in details.timers
                ],
            }
        )
        return 0
    now = SystemClock().now()
    if use_color(no_color, sys.stdout):
        from rich.console import Console

        from crisiscomm.ui.render import detail_view

        Console().print(detail_view(details, now))
    else:
        from crisiscomm.ui.render import detail_plain

        click.echo(detail_plain(details, now), nl=False)
    return 0


@click.command()
@click.argument("incident_id", metavar="ID")
@db_option
@json_option
def timeline(incident_id: str, db: str | None, as_json: bool) -> int:
    """The incident's record: every event in order, with who did it and when.

    Times are in the playbook's time zone, named once at the top; --json prints the record
    as kept (UTC times, ids, full hashes).

    \b
    Example:
      crisiscomm timeline INC-2026-0042
    """
    import shutil
    import sys

    from crisiscomm.clock import format_utc
    from crisiscomm.engine import service
    from crisiscomm.ui.timeline import timeline_text

    with open_db(db) as store:
        playbook, incident = service.load(store=store, incident_id=incident_id)
        events = service.timeline(store=store, incident_id=incident_id)
    if as_json:
        echo_json(
            [
                {
                    "seq": e.seq,
                    "at": format_utc(e.at),
                    "actor": e.actor,
                    "type": e.type,
                    "data": e.data,
                }
                for e in events
            ]
        )
        return 0
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
    click.echo(timeline_text(playbook, incident, events, width=width), nl=False)
    return 0


@click.group()
def audit() -> None:
    """Check the integrity of the record.

    \b
    Example:
      crisiscomm audit verify
    """


@audit.command()
@click.argument("incident_id", metavar="[ID]", required=False)
@db_option
def verify(incident_id: str | None, db: str | None) -> int:
    """Recompute the hash chain of the events; name the first event edited, removed or reordered.

    The database's own integrity check runs first (SQLite): a damaged file is named with
    the pages SQLite reports, and its chains are not checked. Where the office requires
    signatures, every approval and release must carry its person's valid signature: the
    first one missing, wrong, by another person's key or by a revoked key is named.
    Exit 0 when every chain holds, 1 when one does not or the file is damaged.

    \b
    Example:
      crisiscomm audit verify INC-2026-0042
    """
    from crisiscomm.engine import signatures
    from crisiscomm.i18n import _

    with open_db(db) as store:
        damage = store.integrity_problems()
        if damage:
            _print_damage(store.where, damage)
            return 1
        if incident_id:
            incident_id = store.get_incident(incident_id.strip().upper()).id
        problems = signatures.audit_record(store, incident_id)
    for problem in problems:
        click.echo(
            _("{id}: event {seq}: {problem}").format(
                id=problem.incident_id, seq=problem.seq, problem=problem.problem
            )
        )
    if problems:
        return 1
    click.echo(_("audit: every event chain holds"))
    return 0


@audit.command("signatures")
@click.argument("incident_id", metavar="ID")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for allowed_signers and the signed texts with their .sig files.",
)
@db_option
def audit_signatures(incident_id: str, out: Path, db: str | None) -> int:
    """Export an incident's signed approvals and releases for checking with OpenSSH alone.

    Writes allowed_signers (the office's keys) and, per signed act, the exact text signed
    and its .sig file, then prints the `ssh-keygen -Y verify` command for each.

    \b
    Example:
      crisiscomm audit signatures INC-2026-0042 --out audit/
    """
    from crisiscomm.engine import signatures
    from crisiscomm.i18n import _

    with open_db(db) as store:
        commands = signatures.export(store, incident_id.strip().upper(), out)
    if not commands:
        click.echo(_("audit: {id} has no signed act").format(id=incident_id.strip().upper()))
        return 0
    for command in commands:
        click.echo(command)
    return 0


def _print_damage(where: str, damage: list[str], shown: int = 20) -> None:
    from crisiscomm.i18n import _

    click.echo(
        _("audit: the database {where} is damaged; SQLite's integrity check says:").format(
            where=where
        )
    )
    for line in damage[:shown]:
        click.echo(f"  {line}")
    if len(damage) > shown:
        click.echo("  " + _("... and {count} more").format(count=len(damage) - shown))
    click.echo(
        _(
            "audit: the event chains were not checked; keep the file for the record and "
            "restore the last backup"
        )
    )
