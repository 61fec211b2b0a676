"""`crisiscomm inbox draft` and `inbox approve`: an answer drafted in the asker's language,
cleared where the office says so; `inbox answer ID` then sends it (cli/inbox.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from crisiscomm.cli.common import actor_option, db_option, echo_json, json_option, open_db
from crisiscomm.cli.inbox_common import acting, setup

if TYPE_CHECKING:
    from crisiscomm.inbox.register import Register
    from crisiscomm.store.inbox import InboxItem

__all__ = ["approve", "draft", "draft_rows"]


@click.command()
@click.argument("item_id")
@click.option("--template", metavar="NAME", help="Draft from this template of inbox.yaml.")
@click.option(
    "--from-statement",
    is_flag=True,
    help="Draft from the linked incident's latest released statement.",
)
@click.option("--text", help="Your own wording of the answer (a new version of the draft).")
@click.option(
    "--file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Your own wording, from a UTF-8 text file; - for stdin.",
)
@click.option("--incident", metavar="INCIDENT_ID", help="Of several linked incidents, this one.")
@actor_option
@db_option
@json_option
def draft(
    item_id: str,
    template: str | None,
    from_statement: bool,
    text: str | None,
    file: Path | None,
    incident: str | None,
    actor: str | None,
    db: str | None,
    as_json: bool,
) -> int:
    """Draft an answer in the asker's language and record it on the item.

    The draft is in the item's language. Without an option it is the linked incident's
    latest released statement in that language, else the kind's first template in
    inbox.yaml, filled from the item and the incident. A statement without text in the
    item's language is passed over, and the output says so. Each draft is a new version;
    a new version needs its clearance again.

    \b
    Examples:
      crisiscomm inbox draft INB-2027-0001
      crisiscomm inbox draft INB-2027-0001 --template incident
      crisiscomm inbox draft INB-2027-0001 --file answer-ru.txt
    """
    from crisiscomm.clock import SystemClock
    from crisiscomm.engine.service import _read_text
    from crisiscomm.errors import UsageError
    from crisiscomm.i18n import _
    from crisiscomm.inbox.answers import draft as draft_answer
    from crisiscomm.inbox.answers import source_line
    from crisiscomm.inbox.clearance import pending_roles

    if text is not None and file is not None:
        raise UsageError(_("give --text or --file, not both"))
    if file is not None:
        text = _read_text(file)
    register, office = setup()
    with open_db(db) as store:
        who, entered_by = acting(store, office, actor)
        drafted = draft_answer(
            store=store,
            register=register,
            office=office,
            clock=SystemClock(),
            actor=who,
            entered_by=entered_by,
            item_id=item_id,
            template=template,
            from_statement=from_statement,
            text=text,
            incident=incident,
        )
    item, record = drafted.item, drafted.draft
    waiting = pending_roles(register, item)
    if as_json:
        echo_json({"id": item.id, "draft": record, "note": drafted.note, "waiting": waiting})
        return 0
    click.echo(
        _("{id}: draft answer, version {v}, in {lang}, from {source}").format(
            id=item.id, v=record["version"], lang=record["language"], source=source_line(record)
        )
    )
    if drafted.note is not None:
        click.echo(_("note: {note}").format(note=drafted.note))
    click.echo(f"\n{record['text']}\n")
    click.echo(_next_step(item.id, waiting))
    return 0


@click.command()
@click.argument("item_id")
@click.option(
    "--version",
    type=int,
    help="The version of the draft you read; refused if it has changed since.",
)
@actor_option
@db_option
def approve(item_id: str, version: int | None, actor: str | None, db: str | None) -> int:
    """Approve an item's draft answer for your role in its clearance.

    The roles that clear a kind's answers, in order, are in inbox.yaml; nobody approves a
    draft they wrote. Read the draft first with `crisiscomm inbox show`.

    \b
    Example:
      crisiscomm inbox approve INB-2027-0001 --version 2 --as ballamuratov
    """
    from crisiscomm.clock import SystemClock
    from crisiscomm.i18n import _
    from crisiscomm.inbox.clearance import approve as approve_answer

    register, office = setup()
    with open_db(db) as store:
        who, entered_by = acting(store, office, actor)
        item, role, waiting = approve_answer(
            store=store,
            register=register,
            office=office,
            clock=SystemClock(),
            actor=who,
            entered_by=entered_by,
            item_id=item_id,
            version=version,
        )
    click.echo(
        _("{id}: version {v} of the answer approved for {role}").format(
            id=item.id, v=item.data["draft"]["version"], role=role
        )
    )
    click.echo(_next_step(item.id, waiting))
    return 0


def _next_step(item_id: str, waiting: list[str]) -> str:
    from crisiscomm.i18n import _

    if waiting:
        return _("clearance: waiting for {roles} (`crisiscomm inbox approve {id}`)").format(
            roles=", ".join(waiting), id=item_id
        )
    return _("ready: send it with `crisiscomm inbox answer {id}`").format(id=item_id)


def draft_rows(register: Register, item: InboxItem) -> list[tuple[str, str]]:
    """The lines `inbox show` gives an item's draft answer and its clearance."""
    from crisiscomm.i18n import _
    from crisiscomm.inbox.answers import source_line
    from crisiscomm.inbox.clearance import pending_roles

    record = item.data.get("draft")
    if record is None:
        return []
    about = _("version {v}, {lang}, by {author}, from {source}").format(
        v=record["version"], lang=record["language"], author=record["author"],
        source=source_line(record),
    )  # fmt: skip
    if item.answer == record["text"]:
        about += " " + _("(sent)")
    rows = [(_("draft"), about), (_("draft text"), record["text"])]
    if register.answer_rules(item.kind).clearance:
        given = ", ".join(f"{a['role']} ({a['actor']})" for a in record["approvals"]) or "-"
        waiting = ", ".join(pending_roles(register, item)) or "-"
        rows.append(
            (
                _("clearance"),
                _("approved by {given}; waiting for {waiting}").format(
                    given=given, waiting=waiting
                ),
            )
        )
    return rows
