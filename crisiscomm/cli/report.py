"""`crisiscomm report`: the office's indicators over a period, against its norms."""

from __future__ import annotations

from pathlib import Path

import click

from crisiscomm.cli.common import db_option, open_db, write_report
from crisiscomm.i18n import _

FORMATS = ("text", "md", "html", "json", "csv")


@click.command()
@click.option("--from", "start", metavar="DATE", help="First day of the period (2027-04-01).")
@click.option("--to", "end", metavar="DATE", help="Last day of the period (default: today).")
@click.option("--month", metavar="YYYY-MM", help="A calendar month instead of --from/--to.")
@click.option("--playbook", metavar="ID", help="Only incidents of this playbook.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text (terminal, with bars), md, html (one self-contained file with charts), json, csv.",
)
@click.option(
    "-o", "--output", metavar="FILE", type=click.Path(path_type=Path), help="Write to FILE."
)
@click.option("--office", "office_file", metavar="FILE", help="The office.yaml with the norms.")
@db_option
def report(
    start: str | None,
    end: str | None,
    month: str | None,
    playbook: str | None,
    output_format: str,
    output: Path | None,
    office_file: str | None,
    db: str | None,
) -> int:
    """Report the office's indicators over a period against its norms, with charts in HTML.

    Per indicator (time to verification, to notifying leadership, to the first public
    statement, clearance time per approver, cadence adherence, escalations per incident):
    the incidents measured, median, 90th percentile, share within the norm and the change
    against the previous period of the same length; one row per incident with the figures
    outside the norm marked; per playbook; the monthly trend; drills apart. Without
    --month, --from or --to: the last full month. Norms come from the office's `norms:`
    (the shipped defaults where it has none). The language follows --lang.

    \b
    Examples:
      crisiscomm report --month 2027-04
      crisiscomm report --from 2027-01-01 --to 2027-03-31 --playbook flood
      crisiscomm --lang kaa report --month 2027-04 --format html -o april.html
    """
    from crisiscomm.clock import SystemClock
    from crisiscomm.errors import NotFoundError
    from crisiscomm.office.find import compiled_office, find_office
    from crisiscomm.office.norms import norms_of
    from crisiscomm.report.figures import period_report
    from crisiscomm.report.period import choose_period

    zone, written = "Asia/Tashkent", {}
    try:
        office = compiled_office(find_office(office_file))
        zone, written = office.timezone, dict(office.norms)
    except NotFoundError:
        if office_file:
            raise
    from zoneinfo import ZoneInfo

    today = SystemClock().now().astimezone(ZoneInfo(zone)).date()
    period = choose_period(start=start, end=end, month=month, zone=zone, today=today)
    with open_db(db) as store:
        result = period_report(
            store=store, period=period, norms=norms_of(written), playbook=playbook
        )
    text = _render(result, output_format)
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        write_report(output, text)
        click.echo(_("report written to {path}").format(path=output), err=True)
    return 0


def _render(result: object, output_format: str) -> str:
    from crisiscomm.report import html, render

    if output_format == "html":
        return html.to_html(result)  # type: ignore[arg-type]
    writer = {
        "text": render.to_text,
        "md": render.to_markdown,
        "json": render.to_json,
        "csv": render.to_csv,
    }[output_format]
    return writer(result)  # type: ignore[arg-type]
