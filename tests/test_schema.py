from __future__ import annotations

import json
import random
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


# -- the metaschema is checked here, not by every process ------------------------------

REPO_ROOT = Path(__file__).resolve().parents[1]
SHIPPED_SCHEMAS = sorted(REPO_ROOT.glob("crisiscomm/*/*.json"))


@pytest.mark.parametrize("path", SHIPPED_SCHEMAS, ids=lambda p: p.parent.name + "/" + p.name)
def test_every_shipped_schema_is_valid_draft_2020_12(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_a_schema_from_outside_the_package_is_checked(tmp_path: Path) -> None:
    from jsonschema.exceptions import SchemaError

    from crisiscomm.documents.schema import validator_for

    bad = tmp_path / "bad.schema.json"
    bad.write_text('{"$defs": {}, "type": "mapping"}', encoding="utf-8")
    with pytest.raises(SchemaError):
        validator_for(bad)


# -- the quick check says what jsonschema says -----------------------------------------


def _samples() -> Iterator[tuple[str, Path, Any]]:
    """(name, schema file, plain document) for every shipped document of every kind."""
    from crisiscomm.documents.library import Library
    from crisiscomm.playbook.team import resolve_with_office

    library = Library()
    for path in sorted(REPO_ROOT.glob("playbooks/*.yaml")) + sorted(
        REPO_ROOT.glob("protocols/*.yaml")
    ):
        merged, _chain, _office, _team = resolve_with_office(path, library)
        yield path.name, SCHEMA_PATH, json.loads(json.dumps(merged))
    kinds = {
        "drills/*.yaml": "drill/schema.json",
        "office.yaml": "office/schema.json",
        "inbox.yaml": "inbox/schema.json",
        "calendars/*.yaml": "inbox/calendar.schema.json",
    }
    for pattern, schema in kinds.items():
        for path in sorted(REPO_ROOT.glob(pattern)):
            document = json.loads(json.dumps(library.load(path)))
            yield path.name, REPO_ROOT / "crisiscomm" / schema, document


def _containers(node: Any, found: list[Any]) -> list[Any]:
    if isinstance(node, dict | list):
        found.append(node)
        for child in node.values() if isinstance(node, dict) else node:
            _containers(child, found)
    return found


REPLACEMENTS: list[Any] = [
    None, True, False, 0, 1, -3, 2.5, 3.0, "", "x", "Not A Name", "10m", "high", [], {},
    ["x"], {"x": 1}, [1, True], ["a", "a"],
]  # fmt: skip


def _mutate(document: Any, rng: random.Random) -> Any:
    """A copy of `document` with one random change, of the kinds authors make."""
    copy = json.loads(json.dumps(document))
    node = rng.choice(_containers(copy, []))
    if isinstance(node, dict):
        keys = list(node)
        action = rng.choice(["drop", "add", "replace", "replace", "rename"])
        if not keys or action == "add":
            node[rng.choice(["extra", "titel", "id", "en", "type", "kaa"])] = rng.choice(
                REPLACEMENTS
            )
        elif action == "drop":
            del node[rng.choice(keys)]
        elif action == "rename":
            key = rng.choice(keys)
            node[key.upper() if key.islower() else f"{key}_"] = node.pop(key)
        else:
            key = rng.choice(keys)
            others = [v for v in _containers(copy, []) if v is not node]
            node[key] = rng.choice([*REPLACEMENTS, rng.choice(others) if others else None])
    elif node:
        index = rng.randrange(len(node))
        action = rng.choice(["drop", "duplicate", "replace"])
        if action == "drop":
            del node[index]
        elif action == "duplicate":
            node.append(json.loads(json.dumps(node[index])))
        else:
            node[index] = rng.choice(REPLACEMENTS)
    else:
        node.append(rng.choice(REPLACEMENTS))
    return copy


def test_quick_check_agrees_with_jsonschema_on_shipped_and_broken_documents() -> None:
    from crisiscomm.documents.schema import validator_for

    rng = random.Random(21)
    verdicts: dict[bool, int] = {True: 0, False: 0}
    for name, schema_path, document in _samples():
        checker = validator_for(schema_path)
        assert checker.quick is not None, f"{schema_path}: the quick check cannot read it"
        reference = checker.jsonschema()
        assert checker.quick(document) and reference.is_valid(document), name
        for _ in range(12):
            broken = _mutate(document, rng)
            expected = reference.is_valid(broken)
            assert checker.quick(broken) == expected, (name, broken)
            verdicts[expected] += 1
    assert verdicts[False] > 100 and verdicts[True] > 20, verdicts


@pytest.mark.parametrize(
    ("schema", "instance", "valid"),
    [
        ({"enum": [1, "a"]}, True, False),
        ({"const": False}, 0, False),
        ({"const": 1}, 1.0, True),
        ({"type": "integer"}, 3.0, True),
        ({"type": "integer"}, True, False),
        ({"type": "number"}, False, False),
        ({"uniqueItems": True}, [1, True], True),
        ({"uniqueItems": True}, [1, 1.0], False),
        ({"uniqueItems": True}, [{"a": [1]}, {"a": [True]}], True),
        ({"pattern": "^a"}, 5, True),
        ({"minLength": 2}, "ab", True),
        ({"oneOf": [{"type": "string"}, {"minLength": 1}]}, "x", False),
        ({"if": {"required": ["a"]}, "then": {"required": ["b"]}}, {"a": 1}, False),
        ({"then": {"required": ["b"]}}, {"a": 1}, True),
        ({"additionalProperties": False, "patternProperties": {"^x": {}}}, {"xa": 1}, True),
        ({"propertyNames": {"pattern": "^[a-z]+$"}}, {"A": 1}, False),
        ({"dependentRequired": {"a": ["b"]}}, {"a": 1}, False),
        ({"exclusiveMinimum": 0}, 0, False),
        ({"maxProperties": 1}, {"a": 1, "b": 2}, False),
    ],
)
def test_quick_check_keywords(schema: dict[str, Any], instance: Any, valid: bool) -> None:
    from crisiscomm.documents.quick import compile_check

    check = compile_check(schema)
    assert check is not None
    assert Draft202012Validator(schema).is_valid(instance) is valid
    assert check(instance) is valid


def test_quick_check_declines_what_it_does_not_know() -> None:
    from crisiscomm.documents.quick import compile_check

    assert compile_check({"properties": {"a": {"$ref": "other.json"}}}) is None
    assert compile_check({"unevaluatedProperties": False}) is None
    assert compile_check({"type": "mapping"}) is None
