from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest

from crisiscomm import __version__
from crisiscomm.cli import COMMANDS, cli, main
from crisiscomm.playbook.schema import SCHEMA_PATH

from .conftest import FIXTURES, REPO

Write = Callable[[str, str], Path]
HEAVY = {"yaml", "jsonschema", "rich", "transitions", "apscheduler", "textual", "psycopg"}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--version") == (0, f"crisiscomm, version {__version__}\n", "")


def command_named(name: str) -> click.Command:
    command = cli.get_command(click.Context(cli), name)
    assert isinstance(command, click.Command), name
    return command


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "--help")
    assert code == 0
    for name in COMMANDS:
        assert re.search(rf"^  {name}\s", out, re.MULTILINE), name


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help_with_an_example_and_a_readme_section(name: str) -> None:
    command = command_named(name)
    assert command.name == name
    assert command.help and "Example" in command.help
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert re.search(rf"^#+ .*`crisiscomm {re.escape(name)}\b", readme, re.MULTILINE), name


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_summary_is_the_commands_own_first_sentence(name: str) -> None:
    assert COMMANDS[name][2] == command_named(name).get_short_help_str(limit=1000)


def test_a_command_loads_only_its_own_module() -> None:
    code = (
        "import sys; from crisiscomm.cli import main; main(['--version']); "
        "print(sorted(m for m in sys.modules if m.startswith('crisiscomm.cli.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded = result.stdout.strip().splitlines()[-1]
    # the language is chosen before any command runs; no command's module is loaded
    assert loaded == "['crisiscomm.cli.language']"


def test_startup_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys; from crisiscomm.cli import main; main(['--help']); "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(HEAVY)!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_python_dash_m() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "crisiscomm", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert result.stdout == f"crisiscomm, version {__version__}\n"


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "validat")
    assert code == 2
    assert "No such command 'validat'" in err


def test_validate_clean_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "validate", str(FIXTURES / "good"))
    assert (code, out) == (0, "2 files checked: no problems found\n")


def test_validate_errors_exit_1(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    path = write("bad.yaml", "crisiscomm: 1\nid: bad\nstates:\n  a: {deadlin: 1h}\n")
    code, out, err = run(capsys, "validate", str(path))
    assert code == 1
    assert out.startswith("bad.yaml:4:7: error: unknown key `deadlin` in states.a [schema]\n")
    assert "Traceback" not in out + err


def test_warnings_fail_only_with_strict(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    base = (FIXTURES / "good/base.yaml").read_text(encoding="utf-8")
    path = write("warn.yaml", base.replace("    deadline: 45m\n", ""))
    code, out, _err = run(capsys, "validate", str(path))
    assert code == 0
    assert "warning: state `statement` has no deadline" in out
    assert run(capsys, "validate", "--strict", str(path))[0] == 1


def test_validate_without_paths_uses_playbooks_and_protocols(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(capsys, "validate")
    assert code == 2
    assert err == (
        "crisiscomm: error: no PATHS given and no ./playbooks or ./protocols folder here\n"
        "  hint: name the files or folders to check: crisiscomm validate PATH ...\n"
    )
    write("playbooks/base.yaml", (FIXTURES / "good/base.yaml").read_text(encoding="utf-8"))
    assert run(capsys, "validate")[:2] == (0, "1 file checked: no problems found\n")


def test_validate_missing_path(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", "nosuch")
    assert (code, out) == (2, "")
    assert err.startswith("crisiscomm: error: nosuch: no such file or folder\n")


def test_validate_folder_without_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    code, _out, err = run(capsys, "validate", "empty")
    assert code == 2
    assert "no *.yaml or *.yml files found in empty" in err


def test_validate_skips_hidden_entries(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    write("repo/.github/workflow.yaml", "on: push\n")
    write("repo/.pre-commit-hooks.yaml", "- id: x\n")
    write("repo/base.yaml", (FIXTURES / "good/base.yaml").read_text(encoding="utf-8"))
    assert run(capsys, "validate", "repo")[:2] == (0, "1 file checked: no problems found\n")


def test_validate_checks_every_file_not_only_the_first(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    write("d/a.yaml", "crisiscomm: 1\nid: a\nbogus: 1\n")
    write("d/b.yaml", "crisiscomm: 1\nid: b\nbogus: 2\n")
    code, out, _err = run(capsys, "validate", "d")
    assert code == 1
    assert "d/a.yaml:3:1: error" in out and "d/b.yaml:3:1: error" in out


def test_validate_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(
        capsys, "validate", "--format", "json", "-o", "r.json", str(FIXTURES / "good")
    )
    assert (code, out) == (0, "")
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["findings"] == []


def test_validate_output_file_unwritable(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "validate", "-o", "no/such/dir/r.txt", str(FIXTURES / "good"))
    assert code == 2
    assert err.startswith(
        "crisiscomm: error: cannot write no/such/dir/r.txt: No such file or directory"
    )


def test_validate_bad_format_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "validate", "--format", "xml", str(FIXTURES / "good"))
    assert code == 2
    assert "Invalid value for '--format'" in err


def test_internal_error_exits_3_without_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("crisiscomm.validation.check_paths", explode)
    code, out, err = run(capsys, "validate", str(FIXTURES / "good"))
    assert (code, out) == (3, "")
    assert err == (
        "crisiscomm: error: internal error: RuntimeError: boom\n"
        "  hint: this is a bug in crisiscomm; rerun with CRISISCOMM_DEBUG=1 for the traceback\n"
    )


def test_schema_prints_the_shipped_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "schema")
    assert code == 0
    assert json.loads(out) == json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def test_graph(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "graph", str(FIXTURES / "good/child.yaml"))
    assert code == 0
    assert out == (
        "stateDiagram-v2\n"
        "    %% child: Child playbook\n"
        "    [*] --> detection\n"
        "    detection --> statement: confirm\n"
        "    statement --> closed: close\n"
        "    closed --> [*]\n"
    )


def test_graph_of_a_broken_playbook_is_refused(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write("bad.yaml", "crisiscomm: 1\nid: bad\nstates: {a: {}}\ninitial: b\n")
    code, out, err = run(capsys, "graph", str(path))
    assert (code, out) == (1, "")
    assert err.startswith(
        "crisiscomm: error: bad.yaml:4:10: initial state `b` is not defined [unknown-state]"
    )


def test_graph_unknown_playbook(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "graph", "nosuch")
    assert code == 2
    assert err.startswith("crisiscomm: error: no playbook with id `nosuch`\n")


def test_readme_commands_are_what_ci_runs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    commands = re.findall(r"```sh\n(python3 -m venv .*)\n```", readme)
    assert len(commands) == 2
    for command in commands:
        assert f"\n{command}\n" in ci


def test_progress_on_stderr_only_when_it_is_a_terminal(tmp_path: Path) -> None:
    import os
    import pty

    base = (FIXTURES / "good/base.yaml").read_text(encoding="utf-8")
    for index in range(25):
        (tmp_path / f"p{index}.yaml").write_text(
            base.replace("id: base", f"id: p{index}"), encoding="utf-8"
        )
    command = [sys.executable, "-m", "crisiscomm", "validate", str(tmp_path)]
    plain = subprocess.run(command, capture_output=True, text=True)
    assert (plain.returncode, plain.stderr) == (0, "")
    assert plain.stdout == "25 files checked: no problems found\n"

    controller, terminal = pty.openpty()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=terminal) as process:
        os.close(terminal)
        stdout = process.stdout.read() if process.stdout else b""
        screen = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:
                break
            if not chunk:
                break
            screen += chunk
        assert process.wait() == 0
    os.close(controller)
    assert b"Validating" in screen
    assert stdout == b"25 files checked: no problems found\n"
