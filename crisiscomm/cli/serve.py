"""`crisiscomm serve` and `crisiscomm tick`: timers and notifications."""

from __future__ import annotations

import click

from crisiscomm.cli.common import db_option


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
    "--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("-v", "--verbose", is_flag=True, help="Also log timers another process handled.")
def serve(db: str | None, sync_interval: float, log_format: str, verbose: bool) -> int:
    """Fire deadlines, escalations, reminders and update checks on time; deliver notifications.

    Runs until SIGTERM or Ctrl-C. Timers that came due while nothing was running fire at
    start, marked late. Several `serve` processes on one database fire each timer once.

    \b
    Example:
      CRISISCOMM_DB=/var/lib/crisiscomm/crisiscomm.db crisiscomm serve --log-format json
    """
    from crisiscomm.serve import Server

    _configure_logging(log_format, verbose)
    server = Server(target=db, sync_interval=sync_interval)
    server.store()  # open (and migrate) the database now: a bad --db fails here, clearly
    server.run()
    return 0


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
