"""`crisiscomm outbox`: notifications waiting to go out, dead letters, and re-queueing them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from crisiscomm.cli.common import db_option, echo_json, json_option, open_db
from crisiscomm.i18n import N_

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from crisiscomm.store import Store
    from crisiscomm.store.rows import OutboxRow

LIMIT = 200


@click.group(invoke_without_command=True)
@click.option("--all", "show_all", is_flag=True, help="Sent notifications too.")
@click.option("--dead", "dead_only", is_flag=True, help="Only dead letters.")
@db_option
@json_option
@click.pass_context
def outbox(
    ctx: click.Context, show_all: bool, dead_only: bool, db: str | None, as_json: bool
) -> int:
    """List notifications waiting to go out and dead letters, newest first.

    A dead letter failed on every attempt (its last error is shown); fix the cause (a
    server, an address, a variable) and re-queue it with `crisiscomm outbox retry ID`.

    \b
    Example:
      crisiscomm outbox --dead
      crisiscomm outbox retry 42
    """
    from crisiscomm.i18n import _

    if ctx.invoked_subcommand is not None:
        return 0
    statuses = ("dead",) if dead_only else ("pending", "sent", "dead") if show_all else None
    with open_db(db) as store:
        rows = store.list_outbox(statuses=statuses or ("pending", "dead"), limit=LIMIT + 1)
        zones = _zones(store, rows[:LIMIT])
    if as_json:
        echo_json([_row_json(row) for row in rows[:LIMIT]])
        return 0
    if not rows:
        click.echo(_("No dead letters.") if dead_only else _("Nothing waiting in the outbox."))
        return 0
    from crisiscomm.engine.timefmt import times_header

    shown = rows[:LIMIT]
    row_zones = [zones.get(row.incident_id, "UTC") for row in shown]
    named = len(set(row_zones)) == 1  # one zone: named once, above the rows
    if named:
        click.echo(times_header(row_zones[0], [_when(row) for row in shown]))
    for row, zone in zip(shown, row_zones, strict=True):
        click.echo(_row_text(row, zone, named=named))
    if len(rows) > LIMIT:
        click.echo(_("(the newest {n} shown; --json for scripts)").format(n=LIMIT))
    return 0


@outbox.command()
@click.argument("outbox_id", metavar="ID", type=click.IntRange(1, 2**63 - 1))
@db_option
@click.pass_context
def retry(ctx: click.Context, outbox_id: int, db: str | None) -> int:
    """Re-queue a dead letter so it is tried again at once.

    Its attempts count from zero again. Exit 1 if the row is not dead, 2 if there is no
    such row.

    \b
    Example:
      crisiscomm outbox retry 42
    """
    from crisiscomm.clock import SystemClock
    from crisiscomm.i18n import _

    parent = ctx.parent.params if ctx.parent is not None else {}
    with open_db(db or parent.get("db")) as store:
        row = store.retry_outbox(outbox_id, now=SystemClock().now())
    click.echo(
        _("outbox row {id} ({channel} to {recipient}) is queued again").format(
            id=row.id, channel=row.channel, recipient=row.recipient
        )
    )
    return 0


@outbox.command()
@click.option(
    "--older-than",
    "older_than",
    metavar="DURATION",
    help="Remove what was sent longer ago than this (default: the office's "
    "outbox_retention, else 30d).",
)
@db_option
@click.pass_context
def prune(ctx: click.Context, older_than: str | None, db: str | None) -> int:
    """Remove notifications sent longer ago than the retention.

    The outbox is a queue: once a notification went out, the event log keeps the record
    of who was told what and when, and the sent row only takes room. Pending and dead
    notifications are never removed. `serve` does this by itself once an hour.

    \b
    Examples:
      crisiscomm outbox prune
      crisiscomm outbox prune --older-than 90d
    """
    from crisiscomm.clock import SystemClock
    from crisiscomm.i18n import _

    retention = older_than or retention_setting()
    before = SystemClock().now() - _duration(retention)
    parent = ctx.parent.params if ctx.parent is not None else {}
    with open_db(db or parent.get("db")) as store:
        pruned = store.prune_outbox(before=before)
    click.echo(
        _("{n} sent notification(s) older than {age} removed from the outbox").format(
            n=pruned, age=retention
        )
    )
    return 0


def retention_setting() -> str:
    """The office's `outbox_retention` (office.yaml), else the default."""
    from crisiscomm.errors import CrisisCommError
    from crisiscomm.office.find import compiled_office, find_office
    from crisiscomm.office.model import OUTBOX_RETENTION

    try:
        return compiled_office(find_office(None)).outbox_retention
    except CrisisCommError:
        return OUTBOX_RETENTION


def _duration(text: str) -> timedelta:
    from crisiscomm.durations import parse_duration
    from crisiscomm.errors import UsageError
    from crisiscomm.i18n import _

    try:
        return parse_duration(text)
    except ValueError as error:
        raise UsageError(_("--older-than: {reason}").format(reason=error)) from None


def _zones(store: Store, rows: list[OutboxRow]) -> dict[str, str]:
    """The time zone of each row's incident (its pinned playbook's)."""
    from crisiscomm.engine.service import pinned_playbook
    from crisiscomm.errors import CrisisCommError

    zones: dict[str, str] = {}
    for incident_id in dict.fromkeys(row.incident_id for row in rows):
        try:
            incident = store.get_incident(incident_id, statements=False)
        except CrisisCommError:
            continue  # a row whose incident is gone: its times stay in UTC, named so
        zones[incident_id] = pinned_playbook(store, incident.playbook_hash).timezone
    return zones


# a row's status as a person reads it (`--json` keeps the stored word)
STATUS_WORDS = {"pending": N_("pending"), "sent": N_("sent"), "dead": N_("dead")}


def _when(row: OutboxRow) -> datetime:
    return row.sent_at if row.status == "sent" and row.sent_at else row.next_attempt_at


def _row_text(row: OutboxRow, zone: str, *, named: bool) -> str:
    """One line per row, and the last error under it; times in `zone`, which a header names
    (`named`) or each time carries."""
    from crisiscomm.engine.timefmt import local_text, zoned_text
    from crisiscomm.i18n import _, ngettext

    at = local_text(_when(row), zone) if named else zoned_text(_when(row), zone)
    if row.status == "sent" and row.sent_at is not None:
        when = _("sent {at}").format(at=at)
    elif row.status == "pending":
        when = _("next {at}").format(at=at)
    else:
        when = ""
    subject = str(row.payload.get("subject") or row.payload.get("kind") or "")
    status = _(STATUS_WORDS[row.status]) if row.status in STATUS_WORDS else row.status
    columns = [
        f"{row.id:>6}",
        f"{status:<7}",
        f"{row.incident_id:<14}",
        f"{row.channel:<12}",
        f"{row.recipient:<24}",
        ngettext("{n} attempt", "{n} attempts", row.attempts).format(n=row.attempts),
        when,
        subject,
    ]
    line = "  ".join(column for column in columns if column)
    if row.last_error and row.status != "sent":
        line += "\n        " + _("last error: {error}").format(error=row.last_error)
    return line


def _row_json(row: OutboxRow) -> dict[str, Any]:
    from crisiscomm.clock import format_utc

    return {
        "id": row.id,
        "incident_id": row.incident_id,
        "channel": row.channel,
        "recipient": row.recipient,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": format_utc(row.next_attempt_at),
        "created_at": format_utc(row.created_at),
        "sent_at": format_utc(row.sent_at) if row.sent_at else None,
        "last_error": row.last_error,
        "idempotency_key": row.idempotency_key,
        "subject": row.payload.get("subject"),
    }
