"""`crisiscomm inbox`: the register of media queries, questions, appeals and posts."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from crisiscomm.cli.common import actor_option, db_option, echo_json, json_option, open_db
from crisiscomm.cli.inbox_answer import approve, draft, draft_rows
from crisiscomm.cli.inbox_common import acting
from crisiscomm.cli.inbox_common import setup as _setup
from crisiscomm.cli.inbox_kpis import kpis

if TYPE_CHECKING:
    from crisiscomm.store.inbox import InboxItem


@click.group()
def inbox() -> None:
    """The register: questions, media queries, appeals and posts, answered on time.

    \b
    Examples:
      crisiscomm inbox add question --received "2027-03-02 14:30" --channel hotline \\
          --source "hotline 1050" --language kaa --subject Water --text "When ...?"
      crisiscomm inbox add < portal-export.csv
      crisiscomm inbox list --overdue
      crisiscomm inbox draft INB-2027-0001
      crisiscomm inbox answer INB-2027-0001
    """


inbox.add_command(kpis)  # in modules of their own (cli/inbox_kpis.py, cli/inbox_answer.py)
inbox.add_command(draft)
inbox.add_command(approve)


def _local(moment: Any, zone: str) -> str:
    from zoneinfo import ZoneInfo

    return "-" if moment is None else moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def _json(item: InboxItem, links: list[str] | None = None) -> dict[str, Any]:
    from crisiscomm.clock import format_utc

    return {
        "id": item.id,
        "kind": item.kind,
        "status": item.status,
        "received_at": format_utc(item.received_at),
        "channel": item.channel,
        "source": item.source,
        "language": item.language,
        "subject": item.subject,
        "assignee": item.assignee,
        "due_at": None if item.due_at is None else format_utc(item.due_at),
        "extended": item.extended,
        "reach": item.reach,
        "external_id": item.external_id,
        **(
            {}
            if links is None
            else {
                "incidents": links,
                "text": item.text,
                "answer": item.answer,
                "draft": item.data.get("draft"),
            }
        ),
    }


@inbox.command()
@click.argument("kind", required=False)
@click.option("--received", metavar="TIME", help="Local time received, e.g. '2027-03-02 14:30'.")
@click.option("--channel", help="hotline, e-mail, website, telegram, walk-in, phone ...")
@click.option("--source", help="Outlet, account or how the person reached us.")
@click.option("--language", help="The asker's language: kaa, uz, ru, en.")
@click.option("--subject", help="A short subject.")
@click.option("--text", help="The question, appeal or post as received.")
@click.option("--incident", "incidents", multiple=True, help="Link to this incident.")
@click.option("--name", help="The citizen's name (personal data, kept apart).")
@click.option("--contact", help="The citizen's contact (personal data, kept apart).")
@click.option("--reach", type=int, help="A post's views so far.")
@click.option("--external-id", help="The id in the system it came from (no duplicates).")
@actor_option
@db_option
def add(
    kind: str | None, received: str | None, actor: str | None, db: str | None, **given: Any
) -> int:
    """Register an item, or (no KIND) every row of a CSV or JSON file on stdin.

    The file's columns: kind, received_at, channel, source, language, subject, text, and
    optionally external_id, incident, name, contact, reach. Nothing is imported unless
    every row is right; rows whose external_id is registered already are skipped.

    \b
    Examples:
      crisiscomm inbox add media_query --received "2027-03-02 14:30" --channel phone \\
          --source "Kun.uz" --language uz --subject Dam --text "Is the dam safe?"
      crisiscomm inbox add < export.csv
    """
    from crisiscomm.clock import SystemClock
    from crisiscomm.errors import UsageError
    from crisiscomm.i18n import _
    from crisiscomm.inbox.importing import COLUMNS, entries_from, local_time
    from crisiscomm.inbox.service import Entry
    from crisiscomm.inbox.service import add as add_items

    register, office = _setup()
    if kind is None:
        entries = entries_from(
            sys.stdin.buffer.read(), zone=office.timezone, kinds=tuple(register.lifecycles)
        )
    else:
        missing = [n for n in COLUMNS[2:] if not given.get(n)] + ([] if received else ["received"])
        if missing:
            raise UsageError(_("missing --{option}").format(option=missing[0].replace("_", "-")))
        try:
            moment = local_time(str(received), office.timezone)
        except ValueError:
            raise UsageError(
                _("`{value}` is not a date and time like 2027-03-02 14:30").format(value=received)
            ) from None
        entries = [
            Entry(
                kind=kind,
                received_at=moment,
                channel=given["channel"],
                source=given["source"],
                language=given["language"],
                subject=given["subject"],
                text=given["text"],
                external_id=given.get("external_id"),
                incidents=tuple(given.get("incidents") or ()),
                name=given.get("name"),
                contact=given.get("contact"),
                reach=given.get("reach"),
            )
        ]
    with open_db(db, create=True) as store:
        who, entered_by = acting(store, office, actor)
        added = add_items(
            store=store,
            register=register,
            clock=SystemClock(),
            actor=who,
            entries=entries,
            entered_by=entered_by,
        )
    for item, new in added:
        due = _local(item.due_at, office.timezone)
        line = _("{id} registered, due {due}") if new else _("{id} was registered already")
        click.echo(line.format(id=item.id, due=due))
    return 0


@inbox.command("list")
@click.option("--kind", help="Only this kind.")
@click.option("--status", help="Only items in this state.")
@click.option("--assignee", help="Only items assigned to this person.")
@click.option("--incident", help="Only items linked to this incident.")
@click.option(
    "--text", "contains", help="Only items whose subject, text or answer hold these words."
)
@click.option("--overdue", is_flag=True, help="Only open items past their deadline.")
@db_option
@json_option
def list_(as_json: bool, db: str | None, **filters: Any) -> int:
    """List the register's items, newest first.

    \b
    Example:
      crisiscomm inbox list --overdue --kind appeal
    """
    from crisiscomm.clock import SystemClock
    from crisiscomm.i18n import _
    from crisiscomm.inbox.service import find

    register, office = _setup()
    with open_db(db) as store:
        items = find(store=store, register=register, now=SystemClock().now(), **filters)
    if as_json:
        echo_json([_json(item) for item in items])
        return 0
    if not items:
        click.echo(_("No items."))
        return 0
    for item in items:
        due = _local(item.due_at, office.timezone)
        assignee = item.assignee or "-"
        click.echo(
            f"{item.id}  {item.kind:<11} {item.status:<10} {due}  {assignee:<14} {item.subject}"
        )
    return 0


@inbox.command()
@click.argument("item_id")
@actor_option
@db_option
@json_option
def show(item_id: str, actor: str | None, db: str | None, as_json: bool) -> int:
    """Show an item: what was asked, where it stands, its deadline and its record.

    The citizen's name and contact are shown to the item's assignee only.

    \b
    Example:
      crisiscomm inbox show INB-2027-0001
    """
    from crisiscomm.engine.identity import current_actor
    from crisiscomm.i18n import _
    from crisiscomm.inbox.privacy import person_view

    register, office = _setup()
    with open_db(db) as store:
        item = store.get_inbox_item(item_id)
        links = store.inbox_links(item_id)
        events = store.inbox_events(item_id)
        person = person_view(store=store, office=office, actor=current_actor(actor), item=item)
    if as_json:
        echo_json({**_json(item, links), "person": person})
        return 0
    zone = office.timezone
    click.echo(f"{item.id}  {item.kind}  {item.status}")
    rows = [
        (_("received"), _local(item.received_at, zone) + f" ({zone})"),
        (_("channel"), item.channel),
        (_("source"), item.source),
        (_("language"), item.language),
        (_("subject"), item.subject),
        (_("assignee"), item.assignee or "-"),
        (_("due"), _local(item.due_at, zone) + (" " + _("(extended)") if item.extended else "")),
        (_("incidents"), ", ".join(links) or "-"),
        (_("text"), item.text),
        (_("answer"), item.answer or "-"),
        *draft_rows(register, item),
        (_("name and contact"), _person_line(person)),
    ]
    for label, value in rows:
        click.echo(f"  {label}: {value}")
    for event in events:
        click.echo(f"  {_local(event.at, zone)}  {event.actor}  {event.type}")
    return 0


def _person_line(person: dict[str, str | None] | str | None) -> str:
    from crisiscomm.i18n import _

    if isinstance(person, dict):
        return ", ".join(value for value in (person["name"], person["contact"]) if value)
    if person == "withheld":
        return _("held; shown to the assignee only")
    return _("erased") if person == "erased" else "-"


def _act(item_id: str, trigger: str, actor: str | None, db: str | None, **given: Any) -> int:
    from crisiscomm.clock import SystemClock
    from crisiscomm.i18n import _
    from crisiscomm.inbox.service import act

    register, office = _setup()
    with open_db(db) as store:
        who, entered_by = acting(store, office, actor)
        item = act(
            store=store,
            register=register,
            clock=SystemClock(),
            actor=who,
            item_id=item_id,
            trigger=trigger,
            entered_by=entered_by,
            **given,
        )
    click.echo(_("{id} is now {status}").format(id=item.id, status=item.status))
    return 0


@inbox.command()
@click.argument("item_id")
@click.argument("person")
@actor_option
@db_option
def assign(item_id: str, person: str, actor: str | None, db: str | None) -> int:
    """Give an item to a person of the office, who is reminded before its deadline.

    \b
    Example:
      crisiscomm inbox assign INB-2027-0001 qjumaniyazov
    """
    from crisiscomm.i18n import _
    from crisiscomm.inbox.service import person_id

    _register, office = _setup()
    who = person_id(office, person, what=_("the assignee"))
    return _act(item_id, "assign", actor, db, assignee=who)


@inbox.command()
@click.argument("item_id")
@click.option("--answer", "answer", help="The answer given (default: the item's draft).")
@click.option("--refer", "body", metavar="BODY", help="Refer it to this body instead.")
@click.option(
    "--verdict",
    type=click.Choice(["false", "misleading", "true", "not_ours"]),
    help="A post: what checking it found.",
)
@actor_option
@db_option
def answer(
    item_id: str,
    answer: str | None,
    body: str | None,
    verdict: str | None,
    actor: str | None,
    db: str | None,
) -> int:
    """Answer an item, refer it to another body, or give a post its verdict.

    Without --answer, the item's draft (`inbox draft`) is sent. Where inbox.yaml names a
    clearance for the kind, only the draft its approvers cleared goes out. A false or
    misleading post is rebutted with an answer.

    \b
    Examples:
      crisiscomm inbox answer INB-2027-0001
      crisiscomm inbox answer INB-2027-0001 --answer "The water is safe to drink."
      crisiscomm inbox answer INB-2027-0002 --refer "Ministry of Water Resources"
      crisiscomm inbox answer INB-2027-0003 --verdict false
    """
    if verdict is not None:
        return _act(item_id, verdict, actor, db)
    if body is not None:
        return _act(item_id, "refer", actor, db, body=body)
    return _act(item_id, "answer", actor, db, answer=answer)


@inbox.command()
@click.argument("item_id")
@actor_option
@db_option
def close(item_id: str, actor: str | None, db: str | None) -> int:
    """Close an answered, referred or settled item.

    \b
    Example:
      crisiscomm inbox close INB-2027-0001
    """
    return _act(item_id, "close", actor, db)


@inbox.command()
@click.argument("item_id")
@click.option("--reason", required=True, help="Why more time is needed (recorded).")
@actor_option
@db_option
def extend(item_id: str, reason: str, actor: str | None, db: str | None) -> int:
    """Extend an appeal's deadline, once, with the reason recorded.

    \b
    Example:
      crisiscomm inbox extend INB-2027-0004 --reason "needs the district's survey"
    """
    return _act(item_id, "extend", actor, db, reason=reason)


@inbox.command()
@click.argument("item_id")
@click.argument("incident_id")
@actor_option
@db_option
def link(item_id: str, incident_id: str, actor: str | None, db: str | None) -> int:
    """Link an item to an incident.

    \b
    Example:
      crisiscomm inbox link INB-2027-0001 INC-2027-0003
    """
    from crisiscomm.clock import SystemClock
    from crisiscomm.i18n import _
    from crisiscomm.inbox.service import link as link_item

    _register, office = _setup()
    with open_db(db) as store:
        who, entered_by = acting(store, office, actor)
        link_item(
            store=store,
            clock=SystemClock(),
            actor=who,
            entered_by=entered_by,
            item_id=item_id,
            incident_id=incident_id,
        )
    click.echo(_("{id} is linked to {incident}").format(id=item_id, incident=incident_id))
    return 0


@inbox.command()
@click.argument("item_id")
@click.argument("views", type=int)
@actor_option
@db_option
def reach(item_id: str, views: int, actor: str | None, db: str | None) -> int:
    """Record a post's reach (views) now; past the threshold it must be checked soon.

    \b
    Example:
      crisiscomm inbox reach INB-2027-0003 25000
    """
    from crisiscomm.clock import SystemClock
    from crisiscomm.i18n import _
    from crisiscomm.inbox.notices import proposal_line
    from crisiscomm.inbox.service import record_reach, rumour_proposal

    register, office = _setup()
    with open_db(db) as store:
        who, entered_by = acting(store, office, actor)
        item = record_reach(
            store=store,
            register=register,
            clock=SystemClock(),
            actor=who,
            entered_by=entered_by,
            item_id=item_id,
            views=views,
            office=office,
        )
        spreading = "threshold_crossed_at" in item.data
        proposal = rumour_proposal(store, item.id) if spreading else None
    click.echo(
        _("{id}: {views} views, due {due}").format(
            id=item.id, views=views, due=_local(item.due_at, office.timezone)
        )
    )
    if proposal is not None:
        click.echo(proposal_line(item.id, proposal))
    return 0


@inbox.command()
@click.argument("text")
@click.option("--limit", type=int, default=50, show_default=True, help="At most this many.")
@db_option
@json_option
def search(text: str, limit: int, db: str | None, as_json: bool) -> int:
    """Find items by the words of their subject, text or answer, best match first.

    Any of the four languages; case, diacritics and the apostrophe of oʻ gʻ do not matter
    (`Qonirat` finds `Qońırat`), and a word finds the words it begins (`suw`: `suwı`).

    \b
    Examples:
      crisiscomm inbox search "ishimlik suw"
      crisiscomm inbox search наводнение --json
    """
    from crisiscomm.i18n import _
    from crisiscomm.inbox.search import search as search_items

    _register, office = _setup()
    with open_db(db) as store:
        found = search_items(store=store, text=text, limit=limit)
    if as_json:
        echo_json([{**_json(item), "score": round(score, 6)} for item, score in found])
        return 0
    if not found:
        click.echo(_("No items."))
    for item, _score in found:
        due = _local(item.due_at, office.timezone)
        click.echo(f"{item.id}  {item.kind:<11} {item.status:<10} {due}  {item.subject}")
    return 0


@inbox.command()
@click.argument("item_id", required=False)
@click.option("--reason", help="Why: the citizen's request (name it), or another ground.")
@click.option("--expired", is_flag=True, help="Every item past the retention period.")
@actor_option
@db_option
def erase(
    item_id: str | None, reason: str | None, expired: bool, actor: str | None, db: str | None
) -> int:
    """Erase a citizen's name and contact from an item, on request or (--expired) at the
    end of the retention period in inbox.yaml; the item's log records who, when and why.

    \b
    Examples:
      crisiscomm inbox erase INB-2027-0001 --reason "the citizen asked, letter 12/3"
      crisiscomm inbox erase --expired
    """
    from crisiscomm.clock import SystemClock
    from crisiscomm.errors import UsageError
    from crisiscomm.i18n import _
    from crisiscomm.inbox.privacy import erase as erase_person
    from crisiscomm.inbox.privacy import erase_expired

    if (item_id is None) == (not expired):
        raise UsageError(_("give an item id, or --expired (not both)"))
    register, office = _setup()
    with open_db(db) as store:
        who, entered_by = acting(store, office, actor)
        if item_id is None:
            erased = erase_expired(
                store=store,
                register=register,
                clock=SystemClock(),
                actor=who,
                entered_by=entered_by,
            )
        else:
            erase_person(
                store=store,
                clock=SystemClock(),
                actor=who,
                item_id=item_id,
                reason=reason or "",
                entered_by=entered_by,
            )
            erased = [item_id]
    for erased_id in erased:
        click.echo(_("{id}: the name and contact are erased").format(id=erased_id))
    if not erased:
        click.echo(_("No personal data is past the retention period."))
    return 0


@inbox.command("export-person")
@click.argument("name_or_contact")
@actor_option
@db_option
def export_person(name_or_contact: str, actor: str | None, db: str | None) -> int:
    """Print, as JSON, what the register holds on a person named by name or contact.

    For a person's request to see their data. Each item found records the export.
    Exit 1 when the register holds nothing on them.

    \b
    Examples:
      crisiscomm inbox export-person "Ali Valiev"
      crisiscomm inbox export-person "+998 90 111 22 33" > valiev.json
    """
    from crisiscomm.clock import SystemClock
    from crisiscomm.i18n import _
    from crisiscomm.inbox.privacy import export_person as export

    _register, office = _setup()
    with open_db(db) as store:
        who, entered_by = acting(store, office, actor)
        found = export(
            store=store,
            clock=SystemClock(),
            actor=who,
            typed=name_or_contact,
            entered_by=entered_by,
        )
    echo_json(found)
    if not found:
        click.echo(_("The register holds no name or contact like that."), err=True)
        return 1
    return 0
