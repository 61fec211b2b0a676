"""The `crisiscomm` command line: parse, call one library function, render, pick an exit code.

This is the one place that prints and exits (DESIGN.md invariant 8). Command modules import
only click at module level; what a command needs (yaml, jsonschema, rich ...) is imported
inside it, so `crisiscomm --help` stays fast.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Sequence

import click

from crisiscomm import __version__
from crisiscomm.errors import CrisisCommError
from crisiscomm.i18n import _

__all__ = ["cli", "main"]

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

# name -> (module in crisiscomm.cli, attribute, the one-line summary `--help` lists).
# A command's module is imported only when that command runs; a test keeps each summary
# equal to the first sentence of the command's own help.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "ack": (
        "incident",
        "ack",
        'Acknowledge ("I have it"): stops reminders to you in this state, not the deadline.',
    ),
    "advance": (
        "incident",
        "advance",
        "Fire a trigger: move the incident on.",
    ),
    "approve": (
        "statement",
        "approve",
        "Approve the newest version of a statement (next in its clearance chain), or a trigger.",
    ),
    "audit": (
        "listing",
        "audit",
        "Check the integrity of the record.",
    ),
    "check": (
        "incident",
        "check",
        "Tick a checklist item of the incident's current state.",
    ),
    "db": (
        "db",
        "db",
        "Set up the office's PostgreSQL database: each officer acts through their own login.",
    ),
    "drill": (
        "drill",
        "drill",
        "Rehearse playbooks: run drill scenarios on a simulated clock, unattended or played.",
    ),
    "graph": (
        "graph",
        "graph",
        "Print the merged playbook as a Mermaid stateDiagram-v2 (renders on GitHub and GitLab).",
    ),
    "list": (
        "listing",
        "list_incidents",
        "List incidents, newest first (open ones only unless --all).",
    ),
    "note": (
        "incident",
        "note",
        "Put a note on the incident's record.",
    ),
    "oncall": (
        "oncall",
        "oncall",
        "Print who holds each role of the office now: the person on duty, members, deputies.",
    ),
    "open-incident": (
        "incident",
        "open_incident",
        "Open an incident of a playbook and print its id, state, owner, deadline and checklist.",
    ),
    "outbox": (
        "outbox",
        "outbox",
        "List notifications waiting to go out and dead letters, newest first.",
    ),
    "release": (
        "statement",
        "release",
        "Release a fully cleared statement through its channels.",
    ),
    "schema": (
        "schema",
        "schema",
        "Print the JSON Schema of playbooks and protocols (Draft 2020-12).",
    ),
    "serve": (
        "serve",
        "serve",
        "Fire deadlines, escalations, reminders and update checks on time; deliver notifications.",
    ),
    "set": (
        "incident",
        "set_facts",
        "Record facts of the incident (typed by the playbook).",
    ),
    "show": (
        "listing",
        "show",
        "Show one incident: state, owner, checklist, facts, "
        "statements and their clearance, the timers ahead and the "
        "last events.",
    ),
    "statement": (
        "statement",
        "statement",
        "Draft, edit and show public statements of an incident.",
    ),
    "status": (
        "ui",
        "status",
        "Every open incident in one table: state, owner, next deadline, clearance, dead letters.",
    ),
    "tick": (
        "serve",
        "tick",
        "Fire what is due and deliver the outbox once, then exit (for cron or a systemd timer).",
    ),
    "timeline": (
        "listing",
        "timeline",
        "The incident's record: every event in order, with who did it and when.",
    ),
    "validate": (
        "validate",
        "validate",
        "Check playbooks and protocols: YAML safety, the format (JSON Schema) and lint rules.",
    ),
    "watch": (
        "ui",
        "watch",
        "A live dashboard of the open incidents; keys: arrows, Enter, a (acknowledge), ?, q.",
    ),
}


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name not in COMMANDS:
            return None
        module, attribute, _summary = COMMANDS[cmd_name]
        command = getattr(importlib.import_module(f"crisiscomm.cli.{module}"), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx) if name in COMMANDS]
        with formatter.section(_("Commands")):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
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
