"""`crisiscomm status` and `crisiscomm watch`: where every open incident stands."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from crisiscomm.cli.common import actor_option, db_option, echo_json, json_option, open_db
from crisiscomm.cli.listing import after_id, more_line, page_options

if TYPE_CHECKING:
    from crisiscomm.ui.readmodel import Board, IncidentLine


def _line_json(line: IncidentLine) -> dict[str, Any]:
    from crisiscomm.clock import format_utc

    return {
        "id": line.id,
        "title": line.title,
        "playbook": line.playbook,
        "severity": line.severity,
        "state": line.state,
        "phase": line.phase,
        "state_entered_at": format_utc(line.state_entered_at),
        "closed_at": format_utc(line.closed_at) if line.closed_at else None,
        "owner": line.owner,
        "next_deadline": (
            {
                "kind": line.next_due.kind,
                "key": line.next_due.key,
                "due_at": format_utc(line.next_due.due_at),
                "reaches": line.next_due.reaches,
            }
            if line.next_due
            else None
        ),
        "awaiting_clearance": {
            c.statement: c.waiting for c in line.clearances if c.waiting and not c.released_at
        },
        "escalations_fired": line.escalations,
        "acknowledged_by": line.acknowledged_by,
        "dead_letters": line.dead_letters,
    }


def _filtered(board: Board, playbook: str | None, severity: str | None, owner: str | None) -> Board:
    from dataclasses import replace

    def keep(line: IncidentLine) -> bool:
        return (
            (playbook is None or line.playbook == playbook)
            and (severity is None or line.severity == severity)
            and (owner is None or owner.casefold() in line.owner.casefold())
        )

    return replace(board, incidents=[line for line in board.incidents if keep(line)])


@click.command()
@click.option("--all", "show_all", is_flag=True, help="Closed incidents too.")
@click.option("--playbook", metavar="ID", help="Only incidents of this playbook.")
@click.option("--severity", metavar="LEVEL", help="Only incidents of this severity.")
@click.option("--owner", metavar="TEXT", help="Only incidents whose owner (role or name) has TEXT.")
@click.option("--no-color", is_flag=True, help="Plain text, no colour.")
@page_options
@db_option
@json_option
def status(
    show_all: bool,
    playbook: str | None,
    severity: str | None,
    owner: str | None,
    no_color: bool,
    limit: int,
    after: str | None,
    db: str | None,
    as_json: bool,
) -> int:
    """Every open incident in one table: state, owner, next deadline, clearance, dead letters.

    A page of --limit (default 50) incidents, newest first, then a line saying how many more
    there are and the command for the next page; the filters apply to the page.

    \b
    Examples:
      crisiscomm status
      crisiscomm status --owner dilnoza --json
      crisiscomm status --all --limit 20 --after INC-2026-0042
    """
    from crisiscomm.cli.validate import use_color
    from crisiscomm.clock import SystemClock
    from crisiscomm.ui import readmodel

    now = SystemClock().now()
    with open_db(db) as store:
        start = after_id(store, after)
        board = _filtered(
            readmodel.board(store=store, open_only=not show_all, now=now, limit=limit, after=start),
            playbook,
            severity,
            owner,
        )
    if as_json:
        register = {
            "overdue": [i.id for i in board.register.overdue],
            "rumours": [{"id": i.id, "reach": i.reach} for i in board.register.rumours],
        }
        echo_json(
            {
                "incidents": [_line_json(line) for line in board.incidents],
                "outbox": board.outbox,
                "register": register,
            }
        )
        return 0
    if use_color(no_color, sys.stdout):
        from rich.console import Console

        from crisiscomm.ui.render import status_view

        console = Console()
        console.print(status_view(board, now, width=console.width))
    else:
        from crisiscomm.ui.render import status_plain

        click.echo(status_plain(board, now), nl=False)
    if board.more:
        flags = "status" + (" --all" if show_all else "") + f" --limit {limit}"
        click.echo(more_line(more=board.more, last=board.incidents[-1].id, flags=flags))
    return 0


@click.command()
@actor_option
@db_option
def watch(actor: str | None, db: str | None) -> int:
    """A live dashboard of the open incidents; keys: arrows, Enter, a (acknowledge), ?, q.

    Re-reads the store every second, so what other officers and `crisiscomm serve` do
    appears at once. Needs a terminal.

    \b
    Example:
      crisiscomm watch --as dilnoza
    """
    from crisiscomm.engine.service import current_actor
    from crisiscomm.errors import UsageError
    from crisiscomm.i18n import _

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            _("crisiscomm watch needs a terminal"),
            hint=_("for scripts use: crisiscomm status --json"),
        )
    who = current_actor(actor)
    open_db(db).close()  # a bad --db is a usage error here, not inside the full-screen app
    from crisiscomm.ui.dashboard import Dashboard

    Dashboard(db=db, actor=who, timezone=_office_zone()).run()
    return 0


def _office_zone() -> str | None:
    """The office's time zone (the office in CRISISCOMM_OFFICE or ./office.yaml), for the
    clock of a dashboard with no incident yet; None without a readable office."""
    import os
    from pathlib import Path

    from crisiscomm.errors import CrisisCommError
    from crisiscomm.office.find import compiled_office

    named = os.environ.get("CRISISCOMM_OFFICE")
    path = Path(named) if named else Path("office.yaml")
    if not path.is_file():
        return None
    try:
        return compiled_office(path).timezone
    except CrisisCommError:
        return None  # `validate` explains a broken office; the clock shows UTC, named
