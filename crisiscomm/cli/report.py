"""`crisiscomm report`: the office's indicators over a period against its norms, or one
incident's after-action report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from crisiscomm.cli.common import db_option, open_db, write_report
from crisiscomm.i18n import _

if TYPE_CHECKING:
    from crisiscomm.office.model import Office

FORMATS = ("text", "md", "html", "json", "csv")
INDEX = "index.html"  # the period's page in a folder of pages


@click.command()
@click.argument("incident_id", metavar="[INCIDENT]", required=False)
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
    help="text (terminal, with bars), md, html (one self-contained file with charts), json, "
    "csv (a period's incidents, one row each).",
)
@click.option(
    "-o",
    "--output",
    "target",
    metavar="FILE|DIR/",
    type=click.Path(),
    help="Write to FILE; with --format html a folder (DIR/ or an existing one) gets the "
    "period's index.html and one page per incident, linked from its row.",
)
@click.option("--office", "office_file", metavar="FILE", help="The office.yaml with the norms.")
@db_option
def report(
    incident_id: str | None,
    start: str | None,
    end: str | None,
    month: str | None,
    playbook: str | None,
    output_format: str,
    target: str | None,
    office_file: str | None,
    db: str | None,
) -> int:
    """Report the office's indicators over a period against its norms, with charts in HTML.

    Per indicator (time to verification, to notifying leadership, to the first public
    statement, clearance time per approver, cadence adherence, escalations per incident):
    the incidents measured, median, 90th percentile, share within the norm and the change
    against the previous period of the same length; one row per incident with the figures
    outside the norm marked; per playbook; per person (approvals given, median time to
    approve, acknowledgements); the monthly trend; the register's indicators (answered
    within the norm, rumour correction latency) where the office keeps one; drills apart.
    Without --month, --from or --to: the last full month. Norms come from the office's
    `norms:` (the shipped defaults where it has none). The language follows --lang.

    With an INCIDENT id: that incident's after-action report, as a drill's (timeline, KPIs
    against the norms, what went well, improvement plan), open incidents too (the figures
    so far).

    \b
    Examples:
      crisiscomm report --month 2027-04
      crisiscomm report --from 2027-01-01 --to 2027-03-31 --playbook flood
      crisiscomm --lang kaa report --month 2027-04 --format html -o april.html
      crisiscomm report --month 2027-04 --format html -o april/
      crisiscomm report INC-2027-0012 --format html -o INC-2027-0012.html
    """
    from crisiscomm.errors import UsageError

    office, zone, norms_written = _office(office_file)
    output = Path(target) if target else None
    # `-o april/` keeps its slash only in the typed text: a Path drops it
    folder = output if target and (Path(target).is_dir() or target.endswith(("/", "\\"))) else None
    if folder and output_format != "html":
        raise UsageError(
            _("-o {path} is a folder: only --format html writes a folder of pages").format(
                path=target
            ),
            hint=_("give a file name, or --format html"),
        )
    if incident_id is not None:
        if folder:
            raise UsageError(
                _("an incident's report is one page: give -o a file name"),
                hint=_("e.g. -o {id}.html").format(id=incident_id),
            )
        _emit(
            _incident(incident_id, (start, end, month, playbook), output_format, norms_written, db),
            output,
        )
        return 0
    from zoneinfo import ZoneInfo

    from crisiscomm.clock import SystemClock
    from crisiscomm.office.norms import norms_of
    from crisiscomm.report.figures import period_report
    from crisiscomm.report.period import choose_period

    today = SystemClock().now().astimezone(ZoneInfo(zone)).date()
    period = choose_period(start=start, end=end, month=month, zone=zone, today=today)
    norms = norms_of(norms_written)
    with open_db(db) as store:
        result = period_report(
            store=store,
            period=period,
            norms=norms,
            playbook=playbook,
            names={p.id: p.name for p in office.people.values()} if office else {},
            register=_register(),
        )
        pages = _incident_pages(store, result, norms) if folder else {}
    if folder:
        _write_folder(folder, result, pages)
        return 0
    _emit(_render(result, output_format), output)
    return 0


def _office(office_file: str | None) -> tuple[Office | None, str, dict[str, Any]]:
    """The office (None when there is none), its time zone and its written norms."""
    from crisiscomm.errors import NotFoundError
    from crisiscomm.office.find import compiled_office, find_office

    try:
        office = compiled_office(find_office(office_file))
    except NotFoundError:
        if office_file:
            raise
        return None, "Asia/Tashkent", {}
    return office, office.timezone, dict(office.norms)


def _register() -> Any:
    """The office's register of questions and appeals, or None where it keeps none."""
    from crisiscomm.errors import RefusedError
    from crisiscomm.inbox.register import compiled_register, find_register

    try:
        found = find_register()
    except RefusedError:
        return None
    return compiled_register(Path(found))


def _incident(
    incident_id: str,
    period_options: tuple[str | None, ...],
    output_format: str,
    written: dict[str, Any],
    db: str | None,
) -> str:
    from crisiscomm.errors import UsageError
    from crisiscomm.office.norms import norms_of
    from crisiscomm.report import incident

    if any(option is not None for option in period_options):
        raise UsageError(
            _("--from, --to, --month and --playbook choose a period, not one incident"),
            hint=_("give an incident id or a period, not both"),
        )
    if output_format == "csv":
        raise UsageError(
            _(
                "csv is one row per incident of a period; an incident's report is text, md, "
                "json or html"
            ),
            hint=_("give --format text, md, json or html"),
        )
    with open_db(db) as store:
        found = incident.incident_report(
            store=store, incident_id=incident_id, norms=norms_of(written)
        )
    writer = {
        "text": incident.to_text,
        "md": incident.to_markdown,
        "json": incident.json_text,
        "html": incident.to_html,
    }[output_format]
    return writer(found)


def _incident_pages(store: Any, result: Any, norms: Any) -> dict[str, str]:
    """Each incident's after-action page, by its file name in the folder."""
    from crisiscomm.report import incident

    return {
        f"{f.id}.html": incident.to_html(
            incident.incident_report(store=store, incident_id=f.id, norms=norms)
        )
        for f in [*result.incidents, *result.drills]
    }


def _write_folder(folder: Path, result: Any, pages: dict[str, str]) -> None:
    from crisiscomm.errors import UsageError
    from crisiscomm.report import html

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(
            _("cannot write {path}: {reason}").format(path=folder, reason=error.strerror)
        ) from None
    for name, page in pages.items():
        write_report(folder / name, page)
    links = {name.removesuffix(".html"): name for name in pages}
    write_report(folder / INDEX, html.to_html(result, links))
    click.echo(
        _("report written to {path} with {n} incident page(s)").format(
            path=folder / INDEX, n=len(pages)
        ),
        err=True,
    )


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        write_report(output, text)
        click.echo(_("report written to {path}").format(path=output), err=True)


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
