"""Incident commands: open-incident, advance, check, set, ack, note."""

from __future__ import annotations

import click

from crisiscomm.cli.common import (
    actor_option,
    db_option,
    echo_json,
    incident_json,
    json_option,
    note_stranger,
    open_db,
)


def _show_summary(db_store: object, incident_id: str, as_json: bool = False) -> None:
    from crisiscomm.cli.common import summary
    from crisiscomm.engine.service import view

    details = view(store=db_store, incident_id=incident_id)  # type: ignore[arg-type]
    if as_json:
        echo_json({**incident_json(details.incident), "next": details.possible})
    else:
        click.echo(summary(details))


@click.command("open-incident")
@click.argument("playbook")
@click.option("--title", required=True, help="Short title of the incident.")
@click.option("--severity", help="Severity level from the playbook (default: its default).")
@click.option(
    "--fact", "facts", multiple=True, metavar="KEY=VALUE", help="A fact; repeat for more."
)
@actor_option
@db_option
@json_option
def open_incident(
    playbook: str,
    title: str,
    severity: str | None,
    facts: tuple[str, ...],
    actor: str | None,
    db: str | None,
    as_json: bool,
) -> int:
    """Open an incident of a playbook and print its id, state, owner, deadline and checklist.

    PLAYBOOK is a path or an id found in ./playbooks, CRISISCOMM_PLAYBOOKS or the shipped
    playbooks. The playbook's content is pinned: later edits never change this incident.

    \b
    Example:
      crisiscomm open-incident flood --severity high --title "Dam breach near Nukus" \\
          --fact district=Chimbay --fact hotline=1050
    """
    from crisiscomm.clock import SystemClock
    from crisiscomm.engine import service

    who = service.current_actor(actor)
    with open_db(db, create=True) as store:
        incident = service.open_incident(
            store=store,
            clock=SystemClock(),
            playbook_ref=playbook,
            title=title,
            severity=severity,
            facts=facts,
            actor=who,
        )
        _show_summary(store, incident.id, as_json)
        note_stranger(store, incident, who)
    return 0


@click.command()
@click.argument("incident_id", metavar="ID")
@click.argument("trigger")
@click.option("--note", help="Why (some triggers require it).")
@actor_option
@db_option
def advance(
    incident_id: str, trigger: str, note: str | None, actor: str | None, db: str | None
) -> int:
    """Fire a trigger: move the incident on. When refused, says exactly why.

    \b
    Example:
      crisiscomm advance INC-2026-0042 confirm --note "two sources: hydromet + district"
    """
    from crisiscomm.clock import SystemClock
    from crisiscomm.engine import service

    who = service.current_actor(actor)
    with open_db(db) as store:
        incident = service.advance(
            store=store,
            clock=SystemClock(),
            incident_id=incident_id,
            trigger=trigger,
            note=note,
            actor=who,
        )
        _show_summary(store, incident.id)
        note_stranger(store, incident, who)
    return 0


@click.command()
@click.argument("incident_id", metavar="ID")
@click.argument("item")
@actor_option
@db_option
def check(incident_id: str, item: str, actor: str | None, db: str | None) -> int:
    """Tick a checklist item of the incident's current state.

    \b
    Example:
      crisiscomm check INC-2026-0042 second_source
    """
    from crisiscomm.clock import SystemClock
    from crisiscomm.engine import service

    who = service.current_actor(actor)
    with open_db(db) as store:
        incident = service.check_item(
            store=store,
            clock=SystemClock(),
            incident_id=incident_id,
            item=item,
            actor=who,
        )
        _show_summary(store, incident.id)
        note_stranger(store, incident, who)
    return 0


@click.command("set")
@click.argument("incident_id", metavar="ID")
@click.argument("assignments", nargs=-1, required=True, metavar="KEY=VALUE...")
@actor_option
@db_option
def set_facts(
    incident_id: str, assignments: tuple[str, ...], actor: str | None, db: str | None
) -> int:
    """Record facts of the incident (typed by the playbook).

    \b
    Example:
      crisiscomm set INC-2026-0042 evacuated=1200 shelters=4
    """
    from crisiscomm.clock import SystemClock
    from crisiscomm.engine import service

    who = service.current_actor(actor)
    with open_db(db) as store:
        incident = service.set_facts(
            store=store,
            clock=SystemClock(),
            incident_id=incident_id,
            assignments=assignments,
            actor=who,
        )
        _show_summary(store, incident_id)
        note_stranger(store, incident, who)
    return 0


@click.command()
@click.argument("incident_id", metavar="ID")
@actor_option
@db_option
def ack(incident_id: str, actor: str | None, db: str | None) -> int:
    """Acknowledge ("I have it"): stops reminders to you in this state, not the deadline.

    \b
    Example:
      crisiscomm ack INC-2026-0042 --as "Aziz Karimov"
    """
    from crisiscomm.clock import SystemClock
    from crisiscomm.engine import service
    from crisiscomm.i18n import _

    who = service.current_actor(actor)
    with open_db(db) as store:
        incident = service.acknowledge(
            store=store, clock=SystemClock(), incident_id=incident_id, actor=who
        )
        note_stranger(store, incident, who)
    click.echo(
        _("{id}: acknowledged by {who}; the deadline still stands").format(id=incident.id, who=who)
    )
    return 0


@click.command()
@click.argument("incident_id", metavar="ID")
@click.argument("text")
@actor_option
@db_option
def note(incident_id: str, text: str, actor: str | None, db: str | None) -> int:
    """Put a note on the incident's record.

    \b
    Example:
      crisiscomm note INC-2026-0042 "Hokimiyat confirms 4 shelters open"
    """
    from crisiscomm.clock import SystemClock
    from crisiscomm.engine import service
    from crisiscomm.i18n import _

    who = service.current_actor(actor)
    with open_db(db) as store:
        incident = service.add_note(
            store=store,
            clock=SystemClock(),
            incident_id=incident_id,
            text=text,
            actor=who,
        )
        note_stranger(store, incident, who)
    click.echo(_("{id}: note recorded").format(id=incident.id))
    return 0
