"""`crisiscomm publish`: the public record of released statements as a static site."""

from __future__ import annotations

from pathlib import Path

import click

from crisiscomm.cli.common import db_option, open_db


@click.command()
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    metavar="DIR",
    help="The site's folder: a link to the newest build, swapped in atomically.",
)
@click.option(
    "--title", default="", metavar="TEXT", help="The site's name (default: Public statements)."
)
@click.option(
    "--sender",
    default="crisiscomm",
    metavar="ID",
    help="The office's identifier in CAP messages (a domain, never a person).",
)
@click.option(
    "--base-url",
    default="",
    metavar="URL",
    help="The site's public address, for absolute links in feeds and CAP messages.",
)
@click.option(
    "--exercise",
    is_flag=True,
    help="Build the exercise site of the drills' incidents instead: every page marked "
    "EXERCISE, never indexed, CAP status Exercise.",
)
@db_option
def publish(
    out: Path, title: str, sender: str, base_url: str, exercise: bool, db: str | None
) -> int:
    """Build the public site of released statements: pages, Atom feeds and CAP messages.

    Only released statements are published, newest first in each language; never drafts,
    notes, facts, people, approvals or contacts. The same database gives the same bytes.
    Run it after a release, or from cron. Drills never reach this site: `--exercise` builds
    their own, from a drill's database (`crisiscomm drill SCENARIO --db FILE`).

    \b
    Example:
      crisiscomm publish --out /var/www/press --base-url https://press.example.uz/
      crisiscomm publish --out /var/www/exercise --exercise --db drill.db
    """
    from crisiscomm.i18n import _
    from crisiscomm.publish.pages import SiteOptions
    from crisiscomm.publish.site import publish as build

    with open_db(db) as store:
        done = build(
            store=store,
            out=out,
            options=SiteOptions(title=title, sender=sender, base_url=base_url),
            exercise=exercise,
        )
    if not done.changed:
        click.echo(_("{path}: already up to date").format(path=done.path))
        return 0
    click.echo(
        (
            _(
                "{path}: exercise site, {statements} released statements of {incidents} drill "
                "incidents, {files} files"
            )
            if exercise
            else _(
                "{path}: {statements} released statements of {incidents} incidents, {files} files"
            )
        ).format(
            path=done.path,
            statements=done.statements,
            incidents=done.incidents,
            files=done.files,
        )
    )
    return 0
