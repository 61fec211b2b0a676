"""`crisiscomm validate`: check playbooks, protocols and drills, for people and for CI."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from crisiscomm.i18n import _

FORMAT_NAMES = ["text", "json", "github", "sarif", "junit"]
DEFAULT_DIRS = ("playbooks", "protocols", "drills")
PROGRESS_MIN_FILES = 20


def use_color(no_color: bool, stream: object) -> bool:
    """Colour only on a terminal, and never with NO_COLOR or --no-color."""
    isatty = getattr(stream, "isatty", None)
    return not no_color and "NO_COLOR" not in os.environ and bool(isatty and isatty())


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMAT_NAMES),
    default="text",
    show_default=True,
    help="Output format: text for people, github/sarif/junit/json for CI.",
)
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too.")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the report to a file.")
@click.option("--no-color", is_flag=True, help="No colour in text output.")
def validate(
    paths: tuple[Path, ...], output_format: str, strict: bool, output: Path | None, no_color: bool
) -> int:
    """Check playbooks and protocols: YAML safety, the format (JSON Schema) and lint rules.

    PATHS are files or folders (searched recursively for *.yaml and *.yml): playbooks,
    protocols, drill scenarios and the office (office.yaml), each told apart by its first
    key. With no PATHS, ./office.yaml, ./playbooks, ./protocols and ./drills are checked.
    Exit code: 0 clean, 1 findings (warnings only with --strict), 2 usage error.

    \b
    Examples:
      crisiscomm validate playbooks protocols
      crisiscomm validate --format github playbooks/flood.yaml
      crisiscomm validate --format sarif -o crisiscomm.sarif .
    """
    from crisiscomm.cli.common import write_report
    from crisiscomm.documents.kinds import collect_files
    from crisiscomm.documents.output import render
    from crisiscomm.errors import UsageError
    from crisiscomm.validation import check_paths, every_kind

    if not paths:
        paths = tuple(Path(d) for d in DEFAULT_DIRS if Path(d).is_dir())
        if Path("office.yaml").is_file():  # the office the playbooks take their team from
            paths = (Path("office.yaml"), *paths)
        if not paths:
            raise UsageError(
                _("no PATHS given and no ./playbooks or ./protocols folder here"),
                hint=_("name the files or folders to check: crisiscomm validate PATH ..."),
            )
    files = collect_files(paths)
    if not files:
        raise UsageError(
            _("no *.yaml or *.yml files found in {paths}").format(
                paths=", ".join(str(p) for p in paths)
            )
        )
    if sys.stderr.isatty() and len(files) >= PROGRESS_MIN_FILES:
        from rich.console import Console
        from rich.progress import Progress

        with Progress(console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task(_("Validating"), total=len(files))
            report = check_paths(files, on_file=lambda _path: progress.advance(task))
    else:
        report = check_paths(files)
    stream = sys.stdout
    color = output is None and use_color(no_color, stream)
    if output_format == "sarif":  # its rule table lists every kind's rules
        every_kind()
    text = render(report, output_format, color=color, strict=strict)
    if output is not None:
        write_report(output, text)
    else:
        click.echo(text, nl=False)
    return 1 if report.failed(strict=strict) else 0
