from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from crisiscomm.documents.findings import Finding
from crisiscomm.documents.load import load_text
from crisiscomm.playbook.schema import SCHEMA_PATH, schema_findings, validator

SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def properties(node: Any, path: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            yield f"{path}/properties/{name}", sub
        for key, value in node.items():
            yield from properties(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from properties(value, f"{path}/{index}")


def test_schema_is_valid_draft_2020_12() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(SCHEMA)


def test_every_property_has_a_title_and_description() -> None:
    # `if` subschemas are conditions (channel type -> its required fields), not properties
    documented = [(path, sub) for path, sub in properties(SCHEMA) if "/if/" not in path]
    missing = [
        path for path, sub in documented if not (sub.get("title") and sub.get("description"))
    ]
    assert len(documented) > 100
    assert missing == []


def test_validator_is_built_once() -> None:
    assert validator() is validator()


def findings(text: str) -> list[Finding]:
    return schema_findings(load_text(text, "p.yaml"))


def test_unknown_key_suggests_the_close_one_at_the_key() -> None:
    [finding] = findings("crisiscomm: 1\nid: x\nstates:\n  a:\n    deadlin: 10m\n")
    assert finding.message == "unknown key `deadlin` in states.a"
    assert finding.hint == "did you mean `deadline`?"
    assert (finding.location.line, finding.location.column) == (5, 5)


def test_unquoted_version_number_gets_the_quote_hint() -> None:
    [finding] = findings("crisiscomm: 1\nid: x\nversion: 3.10\n")
    assert finding.message == "version must be text, not 3.1"
    assert finding.hint == 'YAML read `3.10` as a number; write it in quotes: "3.10"'
    assert finding.location.line == 3


def test_missing_required_key() -> None:
    [finding] = findings("crisiscomm: 1\nid: x\ntransitions:\n  - {trigger: go, to: b}\n")
    assert finding.message == "transitions.0 is missing the required key `from`"
    assert finding.location.line == 4


def test_wrong_enum_value_lists_the_choices() -> None:
    [finding] = findings("crisiscomm: 1\nid: x\nstates:\n  a: {phase: inital}\n")
    assert (
        finding.message
        == "states.a.phase is 'inital'; allowed: initial, maintenance, resolution, evaluation, closed"
    )
    assert finding.hint == "did you mean `initial`?"


def test_wrong_format_version() -> None:
    [finding] = findings("crisiscomm: 2\nid: x\n")
    assert finding.message == "crisiscomm must be 1"


def test_bad_state_name() -> None:
    [finding] = findings("crisiscomm: 1\nid: x\nstates:\n  Bad State: {}\n")
    assert "'Bad State' is not a valid name" in finding.message


@pytest.mark.parametrize("word", ["yes", "no", "on", "off"])
def test_yaml_1_1_booleans_are_valid_state_names(word: str) -> None:
    assert findings(f"crisiscomm: 1\nid: x\nstates:\n  {word}: {{}}\n") == []


def test_channel_type_requires_its_fields() -> None:
    [finding] = findings("crisiscomm: 1\nid: x\nchannels:\n  log: {type: file}\n")
    assert finding.message == "channels.log is missing the required key `path`"


def test_subtrees_validated_in_a_clean_base_are_skipped_and_new_ones_are_not() -> None:
    from crisiscomm.playbook.schema import containers

    document = load_text(
        "crisiscomm: 1\nid: x\nstates:\n  a: {deadlin: 1m}\n  b: {deadlin: 2m}\n", "p.yaml"
    )
    assert len(schema_findings(document)) == 2
    # pretend state `a` came untouched from a base that validated clean
    skipped = containers(document["states"]["a"])
    [finding] = schema_findings(document, already_valid=skipped)
    assert finding.message == "unknown key `deadlin` in states.b"


def test_playbook_errors_are_found_beside_a_clean_protocol(tmp_path: Path) -> None:
    from crisiscomm.validation import check_paths

    from .conftest import FIXTURES

    (tmp_path / "protocols").mkdir()
    (tmp_path / "protocols/base.yaml").write_text(
        (FIXTURES / "good/base.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    book = tmp_path / "book.yaml"
    book.write_text(
        "crisiscomm: 1\nid: book\nextends: base\nstates:\n  detection:\n    escalation:\n      - {after: 5m, notfy: [x]}\n",
        encoding="utf-8",
    )
    messages = {f.message for f in check_paths([tmp_path / "protocols", book]).findings}
    assert messages == {
        "unknown key `notfy` in states.detection.escalation.0",
        "states.detection.escalation.0 is missing the required key `notify`",
    }
