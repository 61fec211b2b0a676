"""`crisiscomm serve` and `crisiscomm tick`: timers and notifications."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from crisiscomm.cli.common import db_option

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from crisiscomm.store import Store


def _configure_logging(log_format: str, verbose: bool) -> None:
    import logging
    import sys

    from crisiscomm.serve import JsonLogFormatter

    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonLogFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger("crisiscomm")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # APScheduler logs every job run at INFO; keep its warnings and errors only
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").handlers[:] = [handler]


@click.command()
@db_option
@click.option(
    "--sync-interval",
    type=click.FloatRange(0.05, 60),
    default=1.0,
    show_default=True,
    help="Seconds between looks at the database for timers created by others.",
)
@click.option(
    "--give-up-after",
    type=click.FloatRange(1, 86_400),
    default=300.0,
    show_default=True,
    help="Seconds the database may stay unreachable before serve exits with status 1 "
    "(for its supervisor to restart it); it reconnects meanwhile.",
)
@click.option(
    "--lease",
    type=click.FloatRange(1, 3600),
    default=60.0,
    show_default=True,
    help="Seconds a notification being sent is held; a serve that dies mid-send leaves "
    "it to be sent again after that.",
)
@click.option(
    "--first-retry",
    type=click.FloatRange(0.1, 3600),
    default=30.0,
    show_default=True,
    help="Seconds before a failed notification is tried again; doubled after each failure.",
)
@click.option(
    "--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("-v", "--verbose", is_flag=True, help="Also log timers another process handled.")
def serve(
    db: str | None,
    sync_interval: float,
    give_up_after: float,
    lease: float,
    first_retry: float,
    log_format: str,
    verbose: bool,
) -> int:
    """Fire deadlines, escalations, reminders and update checks on time; deliver notifications.

    Runs until SIGTERM or Ctrl-C. Timers that came due while nothing was running fire at
    start, marked late. Several `serve` processes on one database fire each timer once.
    A lost database connection is reopened; past --give-up-after, serve exits with 1.

    \b
    Example:
      CRISISCOMM_DB=/var/lib/crisiscomm/crisiscomm.db crisiscomm serve --log-format json
    """
    from datetime import timedelta

    from crisiscomm.cli.outbox import retention_setting
    from crisiscomm.durations import parse_duration
    from crisiscomm.errors import CrisisCommError
    from crisiscomm.serve import Server

    _configure_logging(log_format, verbose)
    server = Server(
        target=db,
        sync_interval=sync_interval,
        give_up_after=give_up_after,
        lease=timedelta(seconds=lease),
        first_retry=timedelta(seconds=first_retry),
        retention=parse_duration(retention_setting()),  # office.yaml checked it
        site_republisher=_site_republisher,  # `site` channels: the public site, kept current
    )
    try:
        server.store()  # open (and migrate) the database now: a bad --db fails here, clearly
        server.run()
    except CrisisCommError as error:
        if log_format != "json":
            raise  # the CLI's own error message
        _log_json_error(error)  # a log reader expects every line of serve as JSON
        return error.exit_code
    return server.exit_code


def _site_republisher(store: Store) -> Callable[[Path, str], object]:
    # imported when a `site` channel first delivers: a serve with no site never loads publish/
    from crisiscomm.publish.incremental import SiteRepublisher

    return SiteRepublisher(store)


def _log_json_error(error: Exception) -> None:
    import logging

    from crisiscomm.serve.log import log_failure

    log_failure(logging.ERROR, "serve cannot run", error, event="serve.failed")


@click.command()
@db_option
def tick(db: str | None) -> int:
    """Fire what is due and deliver the outbox once, then exit (for cron or a systemd timer).

    \b
    Example:
      crisiscomm tick --db /var/lib/crisiscomm/crisiscomm.db
    """
    from crisiscomm.cli.common import open_db
    from crisiscomm.clock import SystemClock
    from crisiscomm.i18n import _
    from crisiscomm.serve import tick as run_tick

    with open_db(db) as store:  # a mistyped path in a cron line is an error
        counts = run_tick(store=store, clock=SystemClock())
    click.echo(
        _(
            "fired {fired} timers; notifications: {sent} sent, {retried} to retry, {dead} dead"
        ).format(**counts)
    )
    return 0
