"""End to end: `crisiscomm watch`, `status` and `show` in a real terminal (tmux).

`watch` follows what other processes change. At 80x24, in each language, the screens stay
readable with the playbook's own texts in that language (the Russian titles are about a
third longer than the English ones): the columns fit the terminal, texts wrap at word
boundaries, and a word cut for lack of room ends in `…`, never silently.

A run chooses its language as an officer would: each language through CRISISCOMM_LANG, and
Russian also through the locale (LANG=ru_RU.UTF-8) and the command line (`--lang ru`); a
new way of choosing is one more entry in CHOICES.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from crisiscomm import i18n
from crisiscomm.clock import SimulatedClock, SystemClock
from crisiscomm.engine import service
from crisiscomm.engine.autopilot import path_to, plan_transition
from crisiscomm.playbook.compile import compile_playbook
from crisiscomm.playbook.model import Playbook
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


def register(db: Path, kind: str, received: str, subject: str, *args: str) -> str:
    """Register an item with `crisiscomm inbox add`; its id."""
    printed = crisiscomm(
        db,
        "inbox",
        "add",
        kind,
        "--received",
        received,
        "--channel",
        "telegram",
        "--language",
        "kaa",
        "--subject",
        subject,
        "--text",
        subject,
        "--as",
        "asultanova",
        *args,
    )
    return printed.split()[0]


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
    # the register beside the incidents: a question past its norm, a post spreading fast
    asked = (SystemClock().now() - timedelta(days=30)).strftime("%Y-%m-%d %H:%M")
    question = register(db, "question", asked, "Вода в Нукусе", "--source", "hotline 1050")
    post = register(
        db, "post", asked, "Suwǵa záhár qosılǵan", "--source", "@nukus_news", "--reach", "48000"
    )
    assert wait_for(lambda: question in screen() and post in screen()), screen()
    shown = screen()
    assert "Register items overdue:" in shown and "Rumours with the largest reach:" in shown
    assert "48000 views" in shown and "@nukus_news: Suwǵa záhár qosılǵan" in shown
    assert "INC-2026-0001" in shown  # beside the incidents, not instead of them
    assert tmux("display-message", "-p", "-t", SESSION, "#{alternate_on}").strip() == "1"
    tmux("send-keys", "-t", SESSION, "q")
    exit_file = tmp_path / "exit.txt"
    assert wait_for(exit_file.exists), screen()
    assert exit_file.read_text().strip() == "EXIT=0"
    # the terminal is restored: out of the alternate screen, the dashboard gone
    assert tmux("display-message", "-p", "-t", SESSION, "#{alternate_on}").strip() == "0"
    assert "INC-2026-0001" not in screen()


# -- 80x24, in each language --------------------------------------------------------------

LONG_TEXTS = FIXTURES / "ui" / "long-texts.yaml"
WIDTH, HEIGHT = 80, 24
TITLE = "Подъём уровня воды в Амударье у Беруни: подтопление прибрежных махаллей"
LANGUAGES = ("en", "kaa", "uz", "ru")
# How a run asks for its language: (environment, extra arguments of the command)
CHOICES: dict[str, Callable[[str], tuple[dict[str, str], list[str]]]] = {
    "env": lambda code: ({"CRISISCOMM_LANG": code}, []),
    "locale": lambda code: ({"LANG": f"{code}_{code.upper()}.UTF-8"}, []),
    "option": lambda code: ({}, ["--lang", code]),
}
RUNS = [pytest.param(code, "env", id=code) for code in LANGUAGES] + [
    pytest.param("ru", "locale", id="ru-locale"),
    pytest.param("ru", "option", id="ru-option"),
]
WORD = re.compile(r"\w[\w'’-]*…?")


@pytest.fixture
def speaking() -> Iterator[Callable[[str], None]]:
    """Speak a language in this process too (to compute what the screen should say)."""
    yield i18n.use
    i18n.use("en")


def incident_in_clearance(db: Path) -> tuple[str, Playbook]:
    """An incident of the long-texts playbook taken into `clearance` by its people."""
    playbook = compile_playbook(LONG_TEXTS)
    clock = SimulatedClock(SystemClock().now())
    with open_store(db) as store:
        incident_id = service.open_incident(
            store=store,
            clock=clock,
            playbook_ref=str(LONG_TEXTS),
            title=TITLE,
            severity="high",
            facts=["first_source=MES duty desk, 03:12", "second_source=Hokimiyat, 03:20"],
            actor="asultanova",
        ).id
        for transition in path_to(playbook, "clearance"):
            _playbook, incident = service.load(store=store, incident_id=incident_id)
            for step in plan_transition(playbook, incident, transition):
                act: dict[str, Any] = {"store": store, "clock": clock, "incident_id": incident_id}
                first = step.args[0]
                if step.command == "check":
                    service.check_item(**act, item=first, actor=step.actor)
                elif step.command == "draft":
                    service.draft_statement(**act, statement=first, actor=step.actor)
                elif step.command == "approve":
                    service.approve(**act, name=first, actor=step.actor)
                elif step.command == "release":
                    service.release_statement(**act, statement=first, actor=step.actor)
                else:
                    service.advance(**act, trigger=first, note=step.args[1], actor=step.actor)
    return incident_id, playbook


def pane(name: str, cwd: Path, language: str, choice: str, args: list[str]) -> str:
    """Start `crisiscomm ARGS` in an 80x24 tmux pane asking for `language` by `choice`;
    the session's name."""
    environment, extra = CHOICES[choice](language)
    settings = " ".join(f"{key}={shlex.quote(value)}" for key, value in environment.items())
    command = " ".join(shlex.quote(arg) for arg in [sys.executable, "-m", "crisiscomm", *args])
    unset = "-u LANGUAGE -u LC_ALL -u LC_MESSAGES -u CRISISCOMM_LANG -u COLUMNS -u LINES"
    shell = (
        f"cd {shlex.quote(str(cwd))} && PYTHONPATH={shlex.quote(str(REPO))} "
        f"env {unset} {settings} {command} {' '.join(extra)}; "
        f"touch {shlex.quote(str(cwd / (name + '.done')))}; sleep 60"
    )
    tmux("new-session", "-d", "-s", name, "-x", str(WIDTH), "-y", str(HEIGHT), shell)
    return name


def printed(cwd: Path, language: str, choice: str, args: list[str]) -> str:
    """What a command prints in an 80x24 terminal: all of it, lines the terminal wrapped
    joined again (so a line wider than the terminal shows as one)."""
    name = pane(
        f"crisiscomm-{os.getpid()}-{args[0]}-{language}-{choice}", cwd, language, choice, args
    )
    try:
        assert wait_for((cwd / f"{name}.done").exists, 20), tmux("capture-pane", "-p", "-t", name)
        return tmux("capture-pane", "-p", "-J", "-S", "-", "-t", name)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True, check=False)


def words(text: str) -> list[str]:
    return WORD.findall(text)


def assert_whole(shown: str, text: str) -> None:
    """`text` appears on the screen word for word, wrapped only between words."""
    wanted, seen = words(text), words(shown)
    starts = [i for i, word in enumerate(seen) if word == wanted[0]]
    assert any(seen[i : i + len(wanted)] == wanted for i in starts), (text, shown)


def assert_whole_or_cut(shown: str, text: str) -> None:
    """`text` appears word for word, or its words up to one cut for lack of room that ends
    in `…`: never a word cut silently."""
    wanted, seen = words(text), words(shown)
    for start in (i for i, word in enumerate(seen) if wanted[0].startswith(word.rstrip("…"))):
        for offset, word in enumerate(wanted):
            got = seen[start + offset] if start + offset < len(seen) else ""
            if got.endswith("…") and word.startswith(got[:-1]):
                return  # cut, and it says so
            if got != word:
                break
        else:
            return
    pytest.fail(f"{text!r} is not on the screen whole or cut with …:\n{shown}")


def assert_fits(shown: str) -> None:
    lines = shown.rstrip("\n").splitlines()
    assert lines and max(len(line) for line in lines) <= WIDTH, shown


@pytest.mark.parametrize(("language", "choice"), RUNS)
def test_status_at_80x24_keeps_long_texts_whole(
    tmp_path: Path, language: str, choice: str, speaking: Callable[[str], None]
) -> None:
    db = tmp_path / "office.db"
    incident_id, playbook = incident_in_clearance(db)
    shown = printed(tmp_path, language, choice, ["status", "--db", str(db)])
    assert_fits(shown)
    assert incident_id in shown and "Asia/Tashkent (UTC+05:00)" in shown
    assert_whole(shown, TITLE)
    # the state, its owner and the approver the statement waits for, in the language asked
    title = playbook.state_title("clearance", language)
    phase = i18n.translator(language).gettext("initial")
    assert f"{title} ({phase})" in shown  # on one line: the value column has the room
    # the owner, and the approver `full` waits for: the head of press and their people
    assert_whole(shown, playbook.role_title("head_of_press", language))
    assert_whole(shown, "(Baxtiyar Allamuratov, Zarina Abdurahmonova)")
    assert shown.count("Abdurahmonova") == 2
    if language != "en":  # the playbook's text in that language, not the English one
        assert playbook.state_title("clearance", "en") not in shown


@pytest.mark.parametrize(("language", "choice"), RUNS)
def test_show_at_80x24_keeps_long_texts_whole(
    tmp_path: Path, language: str, choice: str, speaking: Callable[[str], None]
) -> None:
    db = tmp_path / "office.db"
    incident_id, playbook = incident_in_clearance(db)
    shown = printed(tmp_path, language, choice, ["show", incident_id, "--db", str(db)])
    assert_fits(shown)
    assert shown.count("Asia/Tashkent") == 1  # the zone, named once
    assert_whole(shown, TITLE)
    assert_whole(shown, playbook.state_title("clearance", language))
    checklist = playbook.checklist("clearance", language)
    assert len(checklist) == 5
    for item_id, text, _required in checklist:  # every item, wrapped between words
        assert_whole(shown, f"{item_id}: {text}")
    speaking(language)
    assert_whole(shown, i18n._("checklist"))  # the interface speaks it too, where translated


@pytest.mark.parametrize(("language", "choice"), RUNS)
def test_watch_at_80x24_fits_its_columns_and_wraps_long_texts(
    tmp_path: Path, language: str, choice: str, speaking: Callable[[str], None]
) -> None:
    from crisiscomm.ui.dashboard import columns

    db = tmp_path / "office.db"
    incident_id, playbook = incident_in_clearance(db)
    name = pane(
        f"crisiscomm-{os.getpid()}-watch-{language}-{choice}",
        tmp_path,
        language,
        choice,
        ["watch", "--db", str(db), "--as", "ballamuratov"],
    )

    def current() -> str:
        return tmux("capture-pane", "-p", "-t", name)

    try:
        assert wait_for(lambda: incident_id in current(), 20), current()
        shown = current()
        lines = shown.splitlines()
        assert "Asia/Tashkent (UTC+05:00)" in shown  # the clock's zone, named
        # every column is on the screen (none pushed off to the right) ...
        speaking(language)
        layout = columns(WIDTH)
        header = next(i for i, line in enumerate(lines) if incident_id in line) - 1
        end = next(i for i, line in enumerate(lines) if i > header and line.startswith("╭"))
        x = 0
        cells: dict[str, str] = {}
        for key, label, width in layout:
            top = lines[header][x + 1 : x + 1 + width].strip()
            assert top and label.plain.startswith(top.rstrip("…")), (key, lines[header])
            cells[key] = " ".join(line[x + 1 : x + 1 + width] for line in lines[header + 1 : end])
            x += width + 2
        assert x <= WIDTH
        # ... and the texts wrap inside their column: whole, or cut with `…`
        assert_whole_or_cut(cells["state"], playbook.state_title("clearance", language))
        assert_whole_or_cut(cells["state"], playbook.role_title("head_of_press", language))
        assert_whole_or_cut(cells["clearance"], playbook.role_title("head_of_press", language))
        assert_whole_or_cut(cells["clearance"], "Baxtiyar Allamuratov, Zarina Abdurahmonova")
        # the detail of the incident, a keystroke away, reads as whole too
        tmux("send-keys", "-t", name, "Enter")
        assert wait_for(lambda: "╭─ " + incident_id in current()), current()
        detail = current()
        assert_whole(detail, playbook.state_title("clearance", language))
        assert_whole(detail, TITLE)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True, check=False)
