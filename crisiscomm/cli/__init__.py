"""The `crisiscomm` command line: parse, call one library function, render, pick an exit code.

This is the one place that prints and exits (DESIGN.md invariant 8). Command modules import
only click at module level; what a command needs (yaml, jsonschema, rich ...) is imported
inside it, so `crisiscomm --help` stays fast.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

import click

from crisiscomm import __version__
from crisiscomm.errors import CrisisCommError
from crisiscomm.i18n import N_, _

__all__ = ["cli", "main"]

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

# name -> (module in crisiscomm.cli, attribute, the one-line summary `--help` lists).
# A command's module is imported only when that command runs; a test keeps each summary
# equal to the first sentence of the command's own help.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "ack": (
        "incident",
        "ack",
        N_('Acknowledge ("I have it"): stops reminders to you in this state, not the deadline.'),
    ),
    "advance": (
        "incident",
        "advance",
        N_("Fire a trigger: move the incident on."),
    ),
    "approve": (
        "statement",
        "approve",
        N_(
            "Approve the newest version of a statement (next in its clearance chain), or a trigger."
        ),
    ),
    "audit": (
        "listing",
        "audit",
        N_("Check the integrity of the record."),
    ),
    "check": (
        "incident",
        "check",
        N_("Tick a checklist item of the incident's current state."),
    ),
    "db": (
        "db",
        "db",
        N_("Set up the office's PostgreSQL database: each officer acts through their own login."),
    ),
    "drill": (
        "drill",
        "drill",
        N_("Rehearse playbooks: run drill scenarios on a simulated clock, unattended or played."),
    ),
    "graph": (
        "graph",
        "graph",
        N_(
            "Print the merged playbook as a Mermaid stateDiagram-v2 (renders on GitHub and GitLab)."
        ),
    ),
    "inbox": (
        "inbox",
        "inbox",
        N_("The register: questions, media queries, appeals and posts, answered on time."),
    ),
    "list": (
        "listing",
        "list_incidents",
        N_("List incidents, newest first (open ones only unless --all)."),
    ),
    "note": (
        "incident",
        "note",
        N_("Put a note on the incident's record."),
    ),
    "oncall": (
        "oncall",
        "oncall",
        N_("Print who holds each role of the office now: the person on duty, members, deputies."),
    ),
    "open-incident": (
        "incident",
        "open_incident",
        N_(
            "Open an incident of a playbook and print its id, state, owner, deadline and checklist."
        ),
    ),
    "outbox": (
        "outbox",
        "outbox",
        N_("List notifications waiting to go out and dead letters, newest first."),
    ),
    "publish": (
        "publish",
        "publish",
        N_("Build the public site of released statements: pages, Atom feeds and CAP messages."),
    ),
    "release": (
        "statement",
        "release",
        N_("Release a fully cleared statement through its channels."),
    ),
    "report": (
        "report",
        "report",
        N_("Report the office's indicators over a period against its norms, with charts in HTML."),
    ),
    "schema": (
        "schema",
        "schema",
        N_("Print the JSON Schema of playbooks and protocols (Draft 2020-12)."),
    ),
    "serve": (
        "serve",
        "serve",
        N_(
            "Fire deadlines, escalations, reminders and update checks on time; "
            "deliver notifications."
        ),
    ),
    "set": (
        "incident",
        "set_facts",
        N_("Record facts of the incident (typed by the playbook)."),
    ),
    "show": (
        "listing",
        "show",
        N_(
            "Show one incident: state, owner, checklist, facts, "
            "statements and their clearance, the timers ahead and the "
            "last events."
        ),
    ),
    "statement": (
        "statement",
        "statement",
        N_("Draft, edit and show public statements of an incident."),
    ),
    "status": (
        "ui",
        "status",
        N_(
            "Every open incident in one table: state, owner, next deadline, clearance, "
            "dead letters."
        ),
    ),
    "tick": (
        "serve",
        "tick",
        N_(
            "Fire what is due and deliver the outbox once, then exit (for cron or a systemd timer)."
        ),
    ),
    "timeline": (
        "listing",
        "timeline",
        N_("The incident's record: every event in order, with who did it and when."),
    ),
    "validate": (
        "validate",
        "validate",
        N_("Check playbooks and protocols: YAML safety, the format (JSON Schema) and lint rules."),
    ),
    "watch": (
        "ui",
        "watch",
        N_("A live dashboard of the open incidents; keys: arrows, Enter, a (acknowledge), ?, q."),
    ),
}


# the English help texts as written, by (object id, attribute): a process may speak more
# than one language (tests, a drill played in another language), so each time a command
# is shown its texts are translated anew from these
_ENGLISH: dict[tuple[int, str], str] = {}


def _translate(owner: object, attribute: str) -> None:
    key = (id(owner), attribute)
    if key not in _ENGLISH:
        text = getattr(owner, attribute, None)
        if not text:
            return
        _ENGLISH[key] = text
    setattr(owner, attribute, _(_ENGLISH[key]))


def localise(command: click.Command) -> click.Command:
    """Translate a command's help texts (its docstring, `help=` of its options) in place
    into the language in use; the subcommands of a group too. Help texts are written in
    English where the command is defined, before the language is chosen."""
    for attribute in ("help", "short_help", "epilog"):
        _translate(command, attribute)
    for param in command.params:
        if isinstance(param, click.Option):
            _translate(param, "help")
    # click makes a command's --help option once, in the language of that moment (its
    # `_help_option`); made anew, it speaks the language in use
    command._help_option = None
    if isinstance(command, click.Group) and not isinstance(command, LazyGroup):
        for subcommand in command.commands.values():
            localise(subcommand)
    return command


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
        return localise(command)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [
            (name, _(COMMANDS[name][2])) for name in self.list_commands(ctx) if name in COMMANDS
        ]
        with formatter.section(_("Commands")):
            formatter.write_dl(rows)


def _no_lang(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """`--lang` is taken off the command line before click sees it (see main)."""


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="crisiscomm")
@click.option(
    "--lang",
    metavar="LANG",
    expose_value=False,
    callback=_no_lang,
    help="Language of messages: kaa, uz, ru or en (default: CRISISCOMM_LANG, the office's "
    "setting, then your locale). Works with every command.",
)
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
    click.echo(_("crisiscomm: error: {message}").format(message=message), err=True)
    if hint:
        click.echo("  " + _("hint: {hint}").format(hint=hint), err=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code: 0 ok, 1 findings/refused, 2 usage, 3 internal."""
    from crisiscomm.cli.language import choose, speak, split_lang_option

    lang_option, args = split_lang_option(sys.argv[1:] if argv is None else argv)
    try:
        speak(choose(lang_option))
    except CrisisCommError as error:
        _print_error(error.message, error.hint)
        return error.exit_code
    localise(cli)
    try:
        result = cli.main(
            args=args,
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
            import traceback  # only here: a bug's traceback; every command would import it

            traceback.print_exc()
        return 3
    return result if isinstance(result, int) else 0
