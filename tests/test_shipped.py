"""The shipped protocols and playbooks: clean, complete, and what a press office expects."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crisiscomm.playbook.compile import compile_playbook
from crisiscomm.playbook.graph import mermaid
from crisiscomm.templates import placeholders
from crisiscomm.validation import check_paths

from .conftest import REPO

PLAYBOOKS = sorted((REPO / "playbooks").glob("*.yaml"))
PROTOCOLS = sorted((REPO / "protocols").glob("*.yaml"))
SCENARIOS = {
    "flood",
    "outbreak",
    "utility-outage",
    "data-breach",
    "false-rumour",
    "industrial-accident",
}


def test_every_shipped_file_validates_clean_even_strict() -> None:
    report = check_paths([REPO / "playbooks", REPO / "protocols"])
    assert [str(f) for f in report.findings] == []
    assert len(report.files) == len(PLAYBOOKS) + len(PROTOCOLS) >= 8


def test_the_six_scenarios_and_two_protocols_ship() -> None:
    assert {p.stem for p in PLAYBOOKS} >= SCENARIOS
    assert {p.stem for p in PROTOCOLS} >= {"standard", "rumour-response"}


@pytest.mark.parametrize("path", PLAYBOOKS, ids=lambda p: p.stem)
def test_playbook_statements_exist_in_four_languages(path: Path) -> None:
    playbook = compile_playbook(path)
    assert playbook.languages == ["kaa", "uz", "ru", "en"]
    assert playbook.timezone.startswith("Asia/")
    for sid, statement in playbook.statements.items():
        assert set(statement["text"]) >= set(playbook.languages), sid
        if statement["kind"] == "holding":
            for language, text in statement["text"].items():
                assert "next_update_at" in placeholders(text).names, (sid, language)


@pytest.mark.parametrize("path", PLAYBOOKS, ids=lambda p: p.stem)
def test_playbook_has_escalation_on_every_open_state_and_a_false_alarm_exit(path: Path) -> None:
    playbook = compile_playbook(path)
    for name, state in playbook.states.items():
        if not state.get("final"):
            assert state.get("deadline") and state.get("escalation"), name
    finals = [name for name in playbook.states if playbook.is_final(name)]
    assert len(finals) >= 2  # closed, and an early exit (false alarm / rumour proved true)


@pytest.mark.parametrize("path", PLAYBOOKS, ids=lambda p: p.stem)
def test_playbook_graph_renders(path: Path) -> None:
    text = mermaid(compile_playbook(path))
    assert text.startswith("stateDiagram-v2\n")
    assert re.search(r"^    \[\*\] --> \w+$", text, re.MULTILINE)


def test_yaml_language_server_line_points_at_the_schema() -> None:
    for path in [*PLAYBOOKS, *PROTOCOLS]:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../crisiscomm/playbook/schema.json", path
