"""End to end: `crisiscomm watch` in a real terminal (tmux), changed by other processes."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from crisiscomm.store import open_store

from .conftest import FIXTURES, REPO

PLAYBOOK = str(FIXTURES / "engine" / "press.yaml")
SESSION = f"crisiscomm-watch-{os.getpid()}"
# `watch` as the installed CLI runs it (registered here too, in case the group does not list it yet)
LAUNCH = (
    "import sys; from crisiscomm.cli import cli, main; from crisiscomm.cli.ui import watch; "
    "cli.commands.setdefault('watch', watch); sys.exit(main(['watch']))"
)

if shutil.which("tmux") is None and not os.environ.get("CI"):
    pytest.skip("tmux is not installed (CI installs it)", allow_module_level=True)


def tmux(*args: str) -> str:
    done = subprocess.run(["tmux", *args], capture_output=True, text=True, check=True, timeout=10)
    return done.stdout


def crisiscomm(db: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "crisiscomm", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def wait_for(condition: Callable[[], bool], seconds: float = 8.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)  # a real terminal and real processes: polling is the only way
    return False


def screen() -> str:
    return tmux("capture-pane", "-p", "-t", SESSION)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Path]:
    db = tmp_path / "office.db"
    open_store(db).close()  # an office that has no incident yet
    exit_file = tmp_path / "exit.txt"
    command = (
        f"cd {shlex.quote(str(REPO))} && CRISISCOMM_DB={shlex.quote(str(db))} "
        f"CRISISCOMM_ACTOR=dilnoza {shlex.quote(sys.executable)} -c {shlex.quote(LAUNCH)}; "
        f"echo EXIT=$? > {shlex.quote(str(exit_file))}; sleep 60"
    )
    tmux("new-session", "-d", "-s", SESSION, "-x", "120", "-y", "40", command)
    try:
        yield db
    finally:
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True, check=False)


def test_watch_follows_other_processes_and_leaves_cleanly(session: Path, tmp_path: Path) -> None:
    db = session
    assert wait_for(lambda: "No open incidents" in screen()), screen()
    crisiscomm(
        db,
        "open-incident",
        PLAYBOOK,
        "--title",
        "Dam breach near Nukus",
        "--fact",
        "region=Nukus",
        "--as",
        "aziz",
    )
    assert wait_for(lambda: "INC-2026-0001" in screen() and "detection" in screen()), screen()
    crisiscomm(db, "check", "INC-2026-0001", "log_source", "--as", "aziz")
    crisiscomm(db, "advance", "INC-2026-0001", "confirm", "--as", "aziz")
    assert wait_for(lambda: "statement (initial)" in screen()), screen()
    assert tmux("display-message", "-p", "-t", SESSION, "#{alternate_on}").strip() == "1"
    tmux("send-keys", "-t", SESSION, "q")
    exit_file = tmp_path / "exit.txt"
    assert wait_for(exit_file.exists), screen()
    assert exit_file.read_text().strip() == "EXIT=0"
    # the terminal is restored: out of the alternate screen, the dashboard gone
    assert tmux("display-message", "-p", "-t", SESSION, "#{alternate_on}").strip() == "0"
    assert "INC-2026-0001" not in screen()
