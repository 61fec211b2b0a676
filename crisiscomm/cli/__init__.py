"""The `crisiscomm` command line: parse, call one library function, render, pick an exit code.

This is the one place that prints and exits (DESIGN.md invariant 8). Command modules import
only click at module level; what a command needs (yaml, jsonschema, rich ...) is imported
inside it, so `crisiscomm --help` stays fast.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

import click

from crisiscomm import __version__
from crisiscomm.cli import (
    drill,
    graph,
    incident,
    listing,
    outbox,
    schema,
    serve,
    statement,
    ui,
    validate,
)
from crisiscomm.errors import CrisisCommError
from crisiscomm.i18n import _

__all__ = ["cli", "main"]

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="crisiscomm")
def cli() -> None:
    """crisiscomm: crisis communication protocols as code.

    Playbooks (YAML) describe each crisis scenario as a state machine; crisiscomm checks
    them, runs incidents through them and rehearses them in drills.

    \b
    Start with:
      crisiscomm validate playbooks protocols
      crisiscomm COMMAND --help
    """


for command in (
    validate.validate,
    schema.schema,
    graph.graph,
    incident.open_incident,
    incident.advance,
    incident.check,
    incident.set_facts,
    incident.ack,
    incident.note,
    statement.statement,
    statement.approve,
    statement.release,
    listing.list_incidents,
    listing.show,
    listing.timeline,
    listing.audit,
    serve.serve,
    serve.tick,
    outbox.outbox,
    drill.drill,
    ui.status,
    ui.watch,
):
    cli.add_command(command)


def _print_error(message: str, hint: str | None = None) -> None:
    click.echo(f"crisiscomm: {_('error')}: {message}", err=True)
    if hint:
        click.echo(f"  {_('hint')}: {hint}", err=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code: 0 ok, 1 findings/refused, 2 usage, 3 internal."""
    try:
        result = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="crisiscomm",
            standalone_mode=False,
        )
    except click.exceptions.Exit as exit_:
        return exit_.exit_code
    except click.Abort:
        _print_error(_("aborted"))
        return 130
    except click.ClickException as error:
        error.show()
        return 2 if error.exit_code in (1, 2) else error.exit_code
    except CrisisCommError as error:
        _print_error(error.message, error.hint)
        return error.exit_code
    except KeyboardInterrupt:
        _print_error(_("interrupted"))
        return 130
    except BrokenPipeError:
        # `crisiscomm ... | head`: the reader left; that is not an error of ours.
        sys.stderr.close()
        return 0
    except Exception as error:  # the one place that turns a bug into exit code 3
        _print_error(
            _("internal error: {kind}: {error}").format(kind=type(error).__name__, error=error),
            _("this is a bug in crisiscomm; rerun with CRISISCOMM_DEBUG=1 for the traceback"),
        )
        if os.environ.get("CRISISCOMM_DEBUG"):
            traceback.print_exc()
        return 3
    return result if isinstance(result, int) else 0
