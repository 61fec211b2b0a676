from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from crisiscomm.errors import PlaybookError
from crisiscomm.playbook.compile import compile_playbook
from crisiscomm.playbook.graph import mermaid

from .conftest import FIXTURES

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
