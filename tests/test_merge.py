from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from crisiscomm.documents.library import Library
from crisiscomm.documents.load import load_text
from crisiscomm.documents.merge import merge
from crisiscomm.documents.source import location_of
from crisiscomm.errors import LoadError, NotFoundError

Write = Callable[[str, str], Path]

PROTOCOL = """
crisiscomm: 1
kind: protocol
id: proto
title: Protocol
description: the protocol's own
timezone: Asia/Tashkent
states:
  detection:
    deadline: 15m
    checklist:
      - {id: log_source, text: Record the source}
      - {id: call_duty, text: Call the duty officer}
    escalation:
      - {after: 5m, notify: [duty_officer]}
  closed: {final: true}
transitions:
  - {trigger: confirm, from: detection, to: closed}
  - {trigger: false_alarm, from: [detection], to: closed}
"""


def merged(base: str, override: str) -> dict:
    return merge(load_text(base, "proto.yaml"), load_text(override, "book.yaml"))


def test_mappings_merge_and_the_extending_file_wins() -> None:
    result = merged(PROTOCOL, "id: book\nstates:\n  detection:\n    deadline: 10m\n")
    assert result["states"]["detection"]["deadline"] == "10m"
    assert result["states"]["detection"]["escalation"] == [
        {"after": "5m", "notify": ["duty_officer"]}
    ]
    assert result["timezone"] == "Asia/Tashkent"


def test_file_identity_is_not_inherited() -> None:
    result = merged(PROTOCOL, "id: book\n")
    assert result["id"] == "book"
    assert "kind" not in result and "title" not in result and "description" not in result


def test_null_removes_an_inherited_key() -> None:
    result = merged(PROTOCOL, "id: book\nstates:\n  detection:\n    escalation: ~\n")
    assert "escalation" not in result["states"]["detection"]


def test_plain_lists_replace() -> None:
    override = (
        "id: book\nstates:\n  detection:\n    escalation:\n      - {after: 2m, notify: [x]}\n"
    )
    result = merged(PROTOCOL, override)
    assert result["states"]["detection"]["escalation"] == [{"after": "2m", "notify": ["x"]}]


def test_checklist_items_merge_by_id_append_and_remove() -> None:
    override = """
    id: book
    states:
      detection:
        checklist:
          - {id: log_source, text: Record the source and the time}
          - {id: call_duty, remove: true}
          - {id: call_hydromet, text: Call the hydromet centre}
    """
    import textwrap

    result = merged(PROTOCOL, textwrap.dedent(override))
    items = result["states"]["detection"]["checklist"]
    assert [i["id"] for i in items] == ["log_source", "call_hydromet"]
    assert items[0]["text"] == "Record the source and the time"


def test_transitions_merge_by_trigger_and_from() -> None:
    override = """
id: book
transitions:
  - {trigger: confirm, from: detection, to: closed, roles: [head_of_press]}
  - {trigger: false_alarm, from: [detection], remove: true}
  - {trigger: escalate, from: detection, to: closed}
"""
    result = merged(PROTOCOL, override)
    assert [(t["trigger"], t["to"]) for t in result["transitions"]] == [
        ("confirm", "closed"),
        ("escalate", "closed"),
    ]
    assert result["transitions"][0]["roles"] == ["head_of_press"]


def test_locations_come_from_the_file_that_wrote_the_value() -> None:
    result = merged(PROTOCOL, "id: book\nstates:\n  detection:\n    deadline: 10m\n")
    assert str(location_of(result, ["states", "detection", "deadline"])) == "book.yaml:4:15"
    assert (
        str(location_of(result, ["states", "detection", "escalation", 0, "after"]))
        == "proto.yaml:15:17"
    )
    assert str(location_of(result, ["transitions", 1, "trigger"])) == "proto.yaml:19:15"


def test_merge_does_not_change_its_inputs() -> None:
    base = load_text(PROTOCOL, "proto.yaml")
    before = repr(base)
    merge(base, load_text("id: book\nstates:\n  detection: {deadline: 1m}\n", "book.yaml"))
    assert repr(base) == before


def test_extends_by_id_finds_protocols_folder_above(write: Write, tmp_path: Path) -> None:
    write("repo/protocols/proto.yaml", PROTOCOL)
    book = write("repo/playbooks/book.yaml", "crisiscomm: 1\nid: book\nextends: proto\n")
    result, chain = Library().resolve(book)
    assert result["states"]["detection"]["deadline"] == "15m"
    assert [p.name for p in chain] == ["book.yaml", "proto.yaml"]


def test_extends_by_relative_path(write: Write) -> None:
    write("elsewhere/p.yaml", PROTOCOL)
    book = write("book.yaml", "crisiscomm: 1\nid: book\nextends: elsewhere/p.yaml\n")
    result, _chain = Library().resolve(book)
    assert "detection" in result["states"]


def test_extends_from_environment_folder(
    write: Write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write("shared-protocols/proto.yaml", PROTOCOL)
    monkeypatch.setenv("CRISISCOMM_PROTOCOLS", str(tmp_path / "shared-protocols"))
    book = write("office/book.yaml", "crisiscomm: 1\nid: book\nextends: proto\n")
    result, _chain = Library().resolve(book)
    assert "detection" in result["states"]


def test_extends_a_shipped_protocol(write: Write) -> None:
    book = write("book.yaml", "crisiscomm: 1\nid: book\nextends: standard\n")
    result, chain = Library().resolve(book)
    assert chain[-1].name == "standard.yaml"
    assert result["states"]


def test_extends_chain_of_three(write: Write) -> None:
    write("protocols/proto.yaml", PROTOCOL)
    write(
        "protocols/regional.yaml",
        "crisiscomm: 1\nkind: protocol\nid: regional\nextends: proto\ntimezone: Asia/Samarkand\n",
    )
    book = write("book.yaml", "crisiscomm: 1\nid: book\nextends: regional\n")
    result, chain = Library().resolve(book)
    assert [p.name for p in chain] == ["book.yaml", "regional.yaml", "proto.yaml"]
    assert result["timezone"] == "Asia/Samarkand"
    assert "detection" in result["states"]


def test_extends_cycle_is_named(write: Write) -> None:
    write("protocols/a.yaml", "crisiscomm: 1\nkind: protocol\nid: a\nextends: b\n")
    write("protocols/b.yaml", "crisiscomm: 1\nkind: protocol\nid: b\nextends: a\n")
    book = write("book.yaml", "crisiscomm: 1\nid: book\nextends: a\n")
    with pytest.raises(LoadError) as caught:
        Library().resolve(book)
    assert caught.value.rule == "extends-cycle"
    assert caught.value.message == (
        "`extends` goes round in a circle: book.yaml -> protocols/a.yaml -> protocols/b.yaml -> protocols/a.yaml"
    )


def test_unknown_protocol_says_where_it_looked(write: Write) -> None:
    book = write("book.yaml", "crisiscomm: 1\nid: book\nextends: nosuch\n")
    with pytest.raises(LoadError) as caught:
        Library().resolve(book)
    assert caught.value.message == "no protocol with id `nosuch` found"
    assert caught.value.location.line == 3
    assert caught.value.hint is not None and "protocols" in caught.value.hint


def test_find_playbook_by_id_and_path(write: Write, tmp_path: Path) -> None:
    path = write("playbooks/local.yaml", "crisiscomm: 1\nid: local\n")
    library = Library()
    assert library.find_playbook("local") == Path("playbooks/local.yaml")
    assert library.find_playbook(str(path)) == path
    assert library.find_playbook("flood").name == "flood.yaml"  # shipped
    with pytest.raises(NotFoundError) as caught:
        library.find_playbook("nosuch")
    assert caught.value.message == "no playbook with id `nosuch`"


def test_keys_keep_the_protocol_order_and_new_ones_follow() -> None:
    override = "id: book\nstates:\n  extra: {final: true}\n  detection: {deadline: 1m}\n"
    result = merged(PROTOCOL, override)
    assert list(result["states"]) == ["detection", "closed", "extra"]


def test_guard_checklists_replace_like_other_lists() -> None:
    base = "id: p\ntransitions:\n  - {trigger: go, from: a, to: b, guards: {checklist: [x, y]}}\n"
    override = "id: q\ntransitions:\n  - {trigger: go, from: a, guards: {checklist: [x]}}\n"
    result = merged(base, override)
    assert result["transitions"][0]["guards"]["checklist"] == ["x"]


def test_malformed_identities_do_not_crash_the_merge(write: Write) -> None:
    base = "id: p\ntransitions:\n  - {trigger: go, from: a, to: b}\nstates:\n  a: {checklist: [{id: x, text: t}]}\n"
    override = "id: q\ntransitions:\n  - {trigger: go, from: [1, a], to: b}\nstates:\n  a: {checklist: [{id: [x], text: t}]}\n"
    result = merged(base, override)
    assert len(result["transitions"]) == 2
    assert len(result["states"]["a"]["checklist"]) == 2


def test_unmatched_remove_stays_for_lint_and_compile_drops_it(write: Write) -> None:
    from crisiscomm.playbook.compile import compile_playbook
    from crisiscomm.validation import check_file

    from .conftest import FIXTURES

    write("protocols/base.yaml", (FIXTURES / "good/base.yaml").read_text(encoding="utf-8"))
    book = write(
        "book.yaml",
        "crisiscomm: 1\nid: book\nextends: base\ntransitions:\n  - {trigger: nosuch, from: detection, remove: true}\n",
    )
    library = Library()
    [finding] = check_file(book, library)
    assert (finding.rule, finding.message) == (
        "remove-unmatched",
        "transition `nosuch` from detection is removed, but nothing inherited matches it",
    )
    playbook = compile_playbook(book, library=library)
    assert [t["trigger"] for t in playbook.transitions] == ["confirm", "close"]


def test_from_as_a_word_or_a_one_item_list_is_the_same_transition() -> None:
    override = "id: q\ntransitions:\n  - {trigger: confirm, from: [detection], remove: true}\n"
    result = merged(PROTOCOL, override)
    assert [t["trigger"] for t in result["transitions"]] == ["false_alarm"]
