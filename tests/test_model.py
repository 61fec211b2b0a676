from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crisiscomm.durations import parse_duration
from crisiscomm.errors import PlaybookError
from crisiscomm.playbook.compile import compile_playbook, compiled_playbook
from crisiscomm.playbook.graph import mermaid
from crisiscomm.playbook.model import canonical_json

from .conftest import FIXTURES, REPO

Write = Callable[[str, str], Path]


def test_compiled_playbook_is_merged_and_hashed() -> None:
    playbook = compile_playbook(FIXTURES / "good/child.yaml")
    assert playbook.id == "child"
    assert playbook.states["detection"]["deadline"] == "10m"
    assert [i["id"] for i in playbook.states["detection"]["checklist"]] == [
        "log_source",
        "call_hydromet",
    ]
    assert len(playbook.content_hash) == 64
    assert compile_playbook(FIXTURES / "good/child.yaml").content_hash == playbook.content_hash
    with pytest.raises(TypeError):
        playbook.content["id"] = "changed"  # type: ignore[index]


def test_hash_changes_with_the_protocol(write: Write) -> None:
    base = (FIXTURES / "good/base.yaml").read_text(encoding="utf-8")
    write("protocols/base.yaml", base)
    book = write("book.yaml", "crisiscomm: 1\nid: book\nextends: base\n")
    first = compile_playbook(book).content_hash
    write("protocols/base.yaml", base.replace("deadline: 45m", "deadline: 40m"))
    assert compile_playbook(book).content_hash != first


def test_compile_refuses_a_broken_playbook_naming_the_first_error(write: Write) -> None:
    base = (FIXTURES / "good/base.yaml").read_text(encoding="utf-8")
    write("protocols/base.yaml", base)
    book = write(
        "book.yaml",
        "crisiscomm: 1\nid: book\nextends: base\ntimezone: Mars/Base\ninitial: nowhere\n",
    )
    with pytest.raises(PlaybookError) as caught:
        compile_playbook(book)
    assert caught.value.message == (
        "book.yaml:5:10: initial state `nowhere` is not defined [unknown-state] "
        "(and 1 more; run `crisiscomm validate book.yaml`)"
    )


def test_mermaid_ids_are_safe_and_labels_escaped(write: Write) -> None:
    book = write(
        "book.yaml",
        """
        crisiscomm: 1
        id: book
        timezone: Asia/Tashkent
        initial: first-look
        states:
          first-look: {title: "First look: \\"is it real?\\"", deadline: 10m}
          done: {final: true}
        transitions:
          - {trigger: close, title: "Close: done", from: "*", to: done}
        """,
    )
    text = mermaid(compile_playbook(book))
    assert 'state "First look#58; #quot;is it real?#quot;" as first_look' in text
    assert "first_look --> done: Close#58; done" in text
    assert "[*] --> first_look" in text


def _folded_names(person: dict[str, Any]) -> set[str]:
    names = [person.get(k) for k in ("id", "login", "name")] + list(person.get("aliases") or [])
    return {" ".join(str(n).split()).casefold() for n in names if n}


def test_lookups_kept_per_playbook_answer_as_its_content_does() -> None:
    """The playbook keeps answers it is asked on every command (transitions from a state,
    who may act for a role, whether two names are one person, scaled durations, its
    canonical text); each must be what reading the content afresh gives."""
    playbook = compiled_playbook(REPO / "playbooks" / "flood.yaml")
    assert playbook.canonical_json() == canonical_json(dict(playbook.content))
    for state in [*playbook.states, "no_such_state"]:
        expected = [t for t in playbook.transitions if "to" in t and state in playbook.sources(t)]
        assert playbook.transitions_from(state) == expected
        assert playbook.transitions_from(state) is not playbook.transitions_from(state)
    people = [m for role in playbook.roles for m in playbook.members(role)]
    people += list(playbook.people.values())
    names = sorted({str(p[key]) for p in people for key in ("id", "login", "name") if p.get(key)})
    assert len(names) > 10
    for actor in [*names, "Somebody Else"]:
        folded = " ".join(actor.split()).casefold()
        for role in [*playbook.roles, "no_such_role"]:
            members = playbook.members(role)
            may = not members or any(folded in _folded_names(m) for m in members)
            assert playbook.may_act_for(actor, role) == may, (actor, role)
            assert playbook.may_act_for(actor.upper(), role) == may, (actor, role)
    groups = [_folded_names(person) for person in people]
    for first in names:
        for second in names:
            a, b = (" ".join(n.split()).casefold() for n in (first, second))
            same = a == b or any(a in group and b in group for group in groups)
            assert playbook.same_person(first, second) == same, (first, second)
    assert any(playbook.same_person(a, b) for a in names for b in names if a != b)
    for state in playbook.states.values():
        for step in state.get("escalation") or []:
            for severity in playbook.severities:
                scaled = parse_duration(step["after"]) * playbook.scale(severity)
                assert playbook.scaled(step["after"], severity) == scaled
