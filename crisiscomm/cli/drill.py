"""`crisiscomm drill`: run scenarios (unattended or played), stop one, coverage, skeletons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from crisiscomm.i18n import _

REPORT_FORMATS = ("md", "html", "json")


class _DrillGroup(click.Group):
    """`drill SCENARIO...` runs scenarios; `drill generate ...` is a subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_DrillGroup)
def drill() -> None:
    """Rehearse playbooks: run drill scenarios on a simulated clock, unattended or played.

    `crisiscomm drill SCENARIO...` is short for `crisiscomm drill run SCENARIO...`. Every
    drill runs in its own database (never the officers' one) and everything it emits
    begins and ends with EXERCISE EXERCISE EXERCISE.

    \b
    Examples:
      crisiscomm drill drills/flood-amu-darya.yaml
      crisiscomm drill drills/*.yaml --report after-action.md
      crisiscomm drill --coverage drills/
      crisiscomm drill drills/flood-amu-darya.yaml --interactive --speed 60
      crisiscomm drill stop
      crisiscomm drill generate flood -o drills/generated
    """


@drill.command("run")
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--db",
    type=click.Path(path_type=Path),
    help="Database file for the run (default: a temporary one, deleted afterwards).",
)
@click.option(
    "--report",
    "-o",
    "--output",
    "report",
    metavar="FILE",
    type=click.Path(path_type=Path),
    help="Write the after-action report to FILE (in --format).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(REPORT_FORMATS),
    default="md",
    show_default=True,
    help="md, html (one self-contained file with a chart of the timeline) or json.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON for scripts.")
@click.option(
    "--coverage", is_flag=True, help="Report the states and transitions the drills exercised."
)
@click.option(
    "--interactive",
    is_flag=True,
    help="Play the drill yourself: an accelerated clock, injects as they come, a prompt.",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    help="With --interactive: simulated seconds per real second.",
)
@click.option(
    "--live-channels",
    is_flag=True,
    help="Deliver through the playbook's real channels (still marked EXERCISE).",
)
def run(
    scenarios: tuple[Path, ...],
    db: Path | None,
    report: Path | None,
    output_format: str,
    as_json: bool,
    coverage: bool,
    interactive: bool,
    speed: float,
    live_channels: bool,
) -> int:
    """Run drill scenarios and print the timeline and after-action report.

    SCENARIOS are files or folders (searched for *.yaml). Unattended, the scenario's
    scripted responses play; with --interactive (one scenario) the clock runs --speed
    times real time, injects and EXERCISE notifications appear as they come due, and you
    type the commands (`help` lists them; `pause`, `resume`, `skip`, `status`, `quit`).
    Exit code: 0 every expectation met, 1 an expectation failed (so CI can run the
    drills as tests of the playbooks), 2 a scenario that cannot be run as written.

    \b
    Examples:
      crisiscomm drill run drills/flood-amu-darya.yaml --report aar.md
      crisiscomm drill run drills/ --json
      crisiscomm drill drills/flood-amu-darya.yaml --format html -o aar.html
      crisiscomm drill run --coverage drills/
      crisiscomm drill drills/flood-amu-darya.yaml --interactive --speed 60
    """
    import tempfile

    from crisiscomm.cli.common import echo_json
    from crisiscomm.documents.kinds import collect_files
    from crisiscomm.drill.channels import LiveChannels
    from crisiscomm.drill.coverage import coverage as measure
    from crisiscomm.drill.report import after_action, to_json, to_markdown
    from crisiscomm.drill.runner import run_drill
    from crisiscomm.drill.scenario import load_scenario
    from crisiscomm.errors import UsageError

    files = collect_files(scenarios)
    if not files:
        raise UsageError(
            _("no *.yaml scenario files found in {paths}").format(
                paths=", ".join(map(str, scenarios))
            )
        )
    loaded = [load_scenario(file) for file in files]  # every file checked before any runs
    _check_output(report, output_format, count=len(loaded))
    channels = LiveChannels() if live_channels else None
    if interactive:
        if len(loaded) != 1 or as_json or coverage:
            raise UsageError(
                _("--interactive plays one scenario, without --json or --coverage"),
                hint=_("e.g. crisiscomm drill drills/flood-amu-darya.yaml --interactive"),
            )
        if len(loaded[0].tracks) > 1:
            raise UsageError(
                _("an exercise of several incidents ({count}) is played unattended").format(
                    count=len(loaded[0].tracks)
                ),
                hint=_("run it without --interactive; the report covers each incident"),
            )
        played = _interactive(loaded[0], db=db, speed=speed, channels=channels)
        if played is None:
            return 0  # stopped: a real-world emergency comes first
        reports = [played]
    else:
        reports = []
        with tempfile.TemporaryDirectory(prefix="crisiscomm-drill-") as folder:
            for index, scenario in enumerate(loaded):
                target = db or Path(folder) / f"drill-{index}.db"
                reports.append(after_action(run_drill(scenario, db=target, channels=channels)))
    failed = any(not r.passed for r in reports)
    if report is not None:
        _write_atomically(report, _rendered(reports, output_format))
    if coverage:
        measured = measure([r.run for r in reports])
        if as_json:
            echo_json([_coverage_json(c) for c in measured])
        else:
            click.echo(_coverage_text(measured))
        return 1 if failed else 0
    if as_json or (output_format == "json" and report is None):
        echo_json([to_json(r) for r in reports] if len(reports) > 1 else to_json(reports[0]))
    elif output_format == "html" and report is None:
        click.echo(_rendered(reports, output_format), nl=False)
    elif len(reports) == 1:
        click.echo(to_markdown(reports[0]), nl=False)
    else:
        for item in reports:
            click.echo(_summary_line(item))
    return 1 if failed else 0


def _check_output(path: Path | None, output_format: str, *, count: int) -> None:
    """Refuse, before anything runs, a report that could not be written as asked."""
    from crisiscomm.errors import UsageError

    if output_format == "html" and count != 1:
        raise UsageError(
            _("--format html writes the report of one scenario; {n} were given").format(n=count),
            hint=_("run one scenario per page, or use --format md or json"),
        )
    if path is not None and not path.parent.is_dir():
        import errno
        import os

        reason = os.strerror(errno.ENOENT)  # what writing would say, before a run is wasted
        raise UsageError(_("cannot write {path}: {reason}").format(path=path, reason=reason))


def _rendered(reports: list[Any], output_format: str) -> str:
    """The reports in the format asked for (html: one scenario's page)."""
    import json

    from crisiscomm.drill.report import to_json, to_markdown

    if output_format == "html":
        from crisiscomm.drill.report_html import to_html

        return to_html(reports[0])
    if output_format == "json":
        data = [to_json(r) for r in reports] if len(reports) > 1 else to_json(reports[0])
        return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    return "\n".join(to_markdown(r) for r in reports)


def _write_atomically(path: Path, text: str) -> None:
    """Write the report whole or not at all: a temporary file beside it, then renamed."""
    import os
    import tempfile

    from crisiscomm.errors import UsageError

    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's 0600
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as error:
        raise UsageError(
            _("cannot write {path}: {reason}").format(path=path, reason=error.strerror)
        ) from None


def _interactive(scenario: Any, *, db: Path | None, speed: float, channels: Any) -> Any:
    """Play one scenario at the console; its after-action report, or None when stopped."""
    import sys
    import tempfile

    from crisiscomm.drill.interactive import InteractiveDrill, console
    from crisiscomm.drill.runner import refuse_office_database
    from crisiscomm.store import open_store

    with tempfile.TemporaryDirectory(prefix="crisiscomm-drill-") as folder:
        target = db or Path(folder) / "drill.db"
        refuse_office_database(target)
        with open_store(target) as store:
            store.scratch()
            session = InteractiveDrill(scenario, store, speed=speed, channels=channels)
            return console(session, out=sys.stdout, stdin_fd=sys.stdin.fileno())


@drill.command()
def stop() -> int:
    """End the running interactive drill at once (a real-world emergency).

    The drill prints "DRILL STOPPED: real-world emergency" and exits. Exit 1 when no
    interactive drill is running.

    \b
    Example:
      crisiscomm drill stop
    """
    from crisiscomm.drill.interactive import stop_running_drill

    stopped = stop_running_drill()
    click.echo(
        _("stopped the drill {scenario} (pid {pid})").format(
            scenario=stopped.get("scenario"), pid=stopped["pid"]
        )
    )
    return 0


def _summary_line(report: Any) -> str:
    verdict = _("PASS") if report.passed else _("FAIL")
    line = _("{verdict} {file}: {met}/{total} expectations met ({seconds:.2f} s)").format(
        verdict=verdict,
        file=report.run.scenario.name,
        met=sum(c.passed for c in report.all_checks),
        total=len(report.all_checks),
        seconds=report.run.wall_seconds,
    )
    missed = [f"    {c.where}: {c.subject}: {c.detail}" for c in report.all_checks if not c.passed]
    return "\n".join([line, *missed])


def _coverage_json(entry: Any) -> dict[str, Any]:
    return {
        "playbook": entry.playbook,
        "drills": entry.drills,
        "states": {
            "total": len(entry.states),
            "exercised": len(entry.states) - len(entry.missed_states),
        },
        "transitions": {
            "total": len(entry.transitions),
            "exercised": len(entry.transitions) - len(entry.missed_transitions),
        },
        "missed_states": entry.missed_states,
        "missed_transitions": [f"{s} --{t}--> {d}" for s, t, d in entry.missed_transitions],
    }


def _coverage_text(entries: list[Any]) -> str:
    lines = []
    for entry in entries:
        data = _coverage_json(entry)
        lines.append(
            _("{playbook}: states {s}/{st}, transitions {t}/{tt} ({n} drill(s))").format(
                playbook=entry.playbook,
                s=data["states"]["exercised"],
                st=data["states"]["total"],
                t=data["transitions"]["exercised"],
                tt=data["transitions"]["total"],
                n=len(entry.drills),
            )
        )
        if entry.missed_states:
            lines.append(
                "  "
                + _("states never entered: {names}").format(names=", ".join(entry.missed_states))
            )
        for missed in data["missed_transitions"]:
            lines.append("  " + _("transition never fired: {t}").format(t=missed))
    return "\n".join(lines)


@drill.command()
@click.argument("playbook")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=Path("drills/generated"),
    show_default=True,
    help="Folder to write the skeletons to.",
)
@click.option("--force", is_flag=True, help="Overwrite skeletons that already exist.")
def generate(playbook: str, output: Path, force: bool) -> int:
    """Write skeleton scenarios that reach every state of PLAYBOOK by a shortest path.

    PLAYBOOK is an id or a path. One file per state, named PLAYBOOK-STATE.yaml; each runs
    green as written, then becomes a real drill once you add injects and objectives.

    \b
    Example:
      crisiscomm drill generate flood -o drills/generated
    """
    import os

    from crisiscomm.drill.generate import skeletons
    from crisiscomm.errors import UsageError

    as_path = Path(playbook)
    reference = None
    if as_path.is_file():
        reference = os.path.relpath(as_path.resolve(), output.resolve())
    generated = skeletons(playbook, playbook_path_text=reference)
    try:
        output.mkdir(parents=True, exist_ok=True)
        for skeleton in generated:
            target = output / skeleton.file_name
            if target.exists() and not force:
                raise UsageError(
                    _("{path} exists").format(path=target), hint=_("give --force to overwrite it")
                )
            target.write_text(skeleton.text, encoding="utf-8")
            click.echo(
                _("wrote {path} (reaches {state})").format(path=target, state=skeleton.state)
            )
    except OSError as error:
        raise UsageError(
            _("cannot write to {path}: {reason}").format(path=output, reason=error.strerror)
        ) from None
    return 0
