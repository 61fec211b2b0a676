"""Options and helpers shared by the incident commands."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from crisiscomm.engine.service import IncidentView
    from crisiscomm.store import Store
    from crisiscomm.store.rows import IncidentRow

F = TypeVar("F", bound=Callable[..., Any])


def db_option(function: F) -> F:
    """`--db PATH_OR_URL` (else CRISISCOMM_DB, else the default file)."""
    return click.option(
        "--db",
        envvar="CRISISCOMM_DB",
        metavar="PATH_OR_URL",
        help="Database file or postgresql:// URL (default: CRISISCOMM_DB or the user data folder).",
    )(function)


def actor_option(function: F) -> F:
    """`--as NAME` (else CRISISCOMM_ACTOR, else the login name)."""
    return click.option(
        "--as",
        "actor",
        metavar="NAME",
        help="Who is acting (default: CRISISCOMM_ACTOR or your login name).",
    )(function)


def json_option(function: F) -> F:
    """`--json` for scripts."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(function)


def open_db(db: str | None, *, create: bool = False) -> Store:
    """The store named by --db / CRISISCOMM_DB / the default.

    A database file named with --db or CRISISCOMM_DB must exist unless `create`
    (open-incident; `serve` opens its own, creating it too): a mistyped path is an error,
    never a new, empty database that reads as "no incidents". The default file is created
    when first needed.
    """
    from crisiscomm.store import open_store

    return open_store(db, create=create or not db)


def write_report(path: Path, text: str) -> None:
    """Write a report the user asked for with -o/--report; an unwritable path is a usage error."""
    from crisiscomm.errors import UsageError
    from crisiscomm.i18n import _

    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(
            _("cannot write {path}: {reason}").format(path=path, reason=error.strerror)
        ) from None


def echo_json(value: Any) -> None:
    """Print a value as indented JSON (UTF-8 kept readable)."""
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def incident_json(incident: IncidentRow) -> dict[str, Any]:
    """The fields of an incident a script wants."""
    from crisiscomm.clock import format_utc

    return {
        "id": incident.id,
        "playbook": incident.playbook_id,
        "title": incident.title,
        "severity": incident.severity,
        "state": incident.state,
        "opened_at": format_utc(incident.opened_at),
        "closed_at": format_utc(incident.closed_at) if incident.closed_at else None,
        "facts": incident.data.get("facts", {}),
        "version": incident.version,
    }


def note_stranger(store: Store, incident: IncidentRow, who: str) -> None:
    """After an act: a note on stderr when `who` is none of the people the incident's
    playbook lists (a typo in --as, or the login of a shared machine). The act stands and
    the record names them as given; a playbook that lists nobody says nothing."""
    from crisiscomm.engine.service import pinned_playbook
    from crisiscomm.i18n import _

    playbook = pinned_playbook(store, incident.playbook_hash)  # read once per process
    if any(playbook.members(role) for role in playbook.roles) and not playbook.roles_of(who):
        click.echo(
            _(
                "note: `{who}` is none of the people of playbook {playbook}; the record names "
                "them as given. --as (or CRISISCOMM_ACTOR) takes a member's login or full name"
            ).format(who=who, playbook=playbook.id),
            err=True,
        )


def summary(view: IncidentView) -> str:
    """What an officer needs after every command: state, owner, deadline, checklist, next steps."""
    from crisiscomm.clock import SystemClock
    from crisiscomm.engine.timefmt import humanize, local_text, zoned_text
    from crisiscomm.i18n import _

    playbook, incident = view.playbook, view.incident
    now = SystemClock().now()
    definition = playbook.states.get(incident.state, {})
    owner = definition.get("owner")
    lines = [
        f"{incident.id}  {incident.title}",
        "  "
        + _("state:    {title} ({state}), {phase}").format(
            title=playbook.state_title(incident.state),
            state=incident.state,
            phase=definition.get("phase", "-"),
        ),
        "  " + _("severity: {s}").format(s=incident.severity),
    ]
    if owner:
        title = playbook.role_title(owner)
        names = ", ".join(m["name"] for m in playbook.members(owner)[:3])
        lines.append(
            "  " + _("owner:    {title}").format(title=title) + (f" ({names})" if names else "")
        )
    if incident.closed_at is not None:
        lines.append(
            "  " + _("closed:   {at}").format(at=zoned_text(incident.closed_at, playbook.timezone))
        )
    deadline = next((t for t in view.timers if t.kind == "deadline"), None)
    if deadline is not None:
        lines.append(
            "  "
            + _("deadline: {at} ({left})").format(
                at=local_text(deadline.due_at, playbook.timezone, now=now)
                + " "
                + playbook.timezone,
                left=humanize(deadline.due_at - now),
            )
        )
    done = incident.data.get("checklist", {}).get(incident.state, {})
    items = playbook.checklist(incident.state)
    if items:
        lines.append("  " + _("checklist:"))
        for item_id, text, required in items:
            mark = "[x]" if item_id in done else "[ ]"
            optional = "" if required else " " + _("(optional)")
            lines.append(f"    {mark} {item_id}: {text}{optional}")
    if view.possible:
        lines.append("  " + _("next:     {triggers}").format(triggers=", ".join(view.possible)))
    return "\n".join(lines)
