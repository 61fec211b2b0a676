"""Lint rule cases beyond the corpus: what must pass, and finer points of what must not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from crisiscomm.validation import check_paths

from .conftest import FIXTURES

Write = Callable[[str, str], Path]


def findings_for(write: Write, channels: str) -> list[tuple[str, str]]:
    write("protocols/base.yaml", (FIXTURES / "good/base.yaml").read_text(encoding="utf-8"))
    book = write("book.yaml", "crisiscomm: 1\nid: book\nextends: base\nchannels:\n" + channels)
    return [(f.rule, f.message) for f in check_paths([book]).findings]


def test_secret_references_with_a_scheme_word_are_fine(write: Write) -> None:
    channels = (
        "  chat:\n    type: webhook\n    url: https://chat.example.uz/hooks/press\n"
        "    secret: ${WEBHOOK_SECRET}\n    headers:\n      Authorization: Bearer ${CHAT_TOKEN}\n"
    )
    assert findings_for(write, channels) == []


@pytest.mark.parametrize(
    "url",
    [
        "https://api.telegram.org/bot123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage",
        "https://chat.example.uz/hook?access_token=abc123",
        "https://press:hunter2@chat.example.uz/hook",
    ],
)
def test_secrets_inside_urls_are_found(write: Write, url: str) -> None:
    channels = f"  chat: {{type: webhook, url: '{url}'}}\n"
    assert findings_for(write, channels) == [
        ("literal-secret", "the URL contains a password or token")
    ]


@pytest.mark.parametrize(
    "query", ["client_secret=abc", "access_key=abc", "passwd=abc", "private_key=abc"]
)
def test_more_secret_names_in_url_queries(write: Write, query: str) -> None:
    channels = f"  chat: {{type: webhook, url: 'https://chat.example.uz/hook?{query}'}}\n"
    assert findings_for(write, channels) == [
        ("literal-secret", "the URL contains a password or token")
    ]


def test_an_unmatched_removal_is_only_a_warning(write: Write) -> None:
    write("protocols/base.yaml", (FIXTURES / "good/base.yaml").read_text(encoding="utf-8"))
    book = write(
        "book.yaml",
        "crisiscomm: 1\nid: book\nextends: base\ntransitions:\n  - {trigger: confirm, from: [statement], remove: true}\n",
    )
    assert [(f.rule, f.message) for f in check_paths([book]).findings] == [
        (
            "remove-unmatched",
            "transition `confirm` from statement is removed, but nothing inherited matches it",
        )
    ]


def test_a_playbook_validated_without_its_office_gets_findings_not_a_crash(
    tmp_path: Path,
) -> None:
    """The shipped flood playbook copied where no office.yaml is: its people are ids the
    channel rules cannot look into; validate reports what is missing, exit 1."""
    import shutil
    import subprocess
    import sys

    from .conftest import REPO

    shutil.copy(REPO / "playbooks" / "flood.yaml", tmp_path / "flood.yaml")
    shutil.copytree(REPO / "protocols", tmp_path / "protocols")
    done = subprocess.run(
        [sys.executable, "-m", "crisiscomm", "validate", "flood.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    assert "flood.yaml:" in done.stdout
