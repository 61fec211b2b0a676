"""The playbook JSON Schema (Draft 2020-12) and its errors as findings.

The validator is built once per process: `jsonschema.validate()` re-checks the schema
itself on every call (~40 ms), which would dominate validating a tree of playbooks. A
clean document never meets jsonschema at all: the quick check (documents/quick.py) says
so first, and jsonschema is imported only to word the findings of a broken one.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crisiscomm.documents.findings import Finding
from crisiscomm.documents.quick import Check, compile_check
from crisiscomm.documents.schema import error_message, inline_refs, leaf_errors
from crisiscomm.documents.source import Location, location_of

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

__all__ = [
    "SCHEMA_PATH",
    "containers",
    "quick_check",
    "schema_findings",
    "schema_text",
    "validator",
]

SCHEMA_PATH = Path(__file__).with_name("schema.json")


def schema_text() -> str:
    """The schema exactly as shipped."""
    return SCHEMA_PATH.read_text(encoding="utf-8")


# Containers (by id) already validated, clean, at the same place of a base document: the
# merged playbook shares its protocol's untouched subtrees, so they are not checked again.
_ALREADY_VALID: ContextVar[frozenset[int]] = ContextVar("already_valid", default=frozenset())


def _skipping(keyword: Callable[..., Any]) -> Callable[..., Any]:
    def check(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
        if id(instance) in _ALREADY_VALID.get():
            return ()
        return keyword(validator, value, instance, schema)

    return check


@functools.cache
def _inlined() -> dict[str, Any]:
    # checked against the metaschema by tests/test_schema.py, not by every process (~270 ms)
    schema = json.loads(schema_text())
    return inline_refs(schema, schema["$defs"])


@functools.cache
def quick_check() -> Check | None:
    """The quick yes-or-no check of the schema (documents/quick.py)."""
    return compile_check(_inlined())


@functools.cache
def validator() -> Draft202012Validator:
    """The one validator of this process (Draft 2020-12, able to skip validated subtrees)."""
    from jsonschema import Draft202012Validator
    from jsonschema.validators import extend

    keywords = {name: _skipping(check) for name, check in Draft202012Validator.VALIDATORS.items()}
    return extend(Draft202012Validator, keywords)(_inlined())


def containers(document: Any) -> frozenset[int]:
    """The ids of every mapping and list in a document (for `already_valid`)."""
    found: set[int] = set()
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.add(id(node))
            stack.extend(node.values())
        elif isinstance(node, list):
            found.add(id(node))
            stack.extend(node)
    return frozenset(found)


def schema_findings(document: Any, *, already_valid: frozenset[int] = frozenset()) -> list[Finding]:
    """Every place `document` breaks the schema, as findings.

    `already_valid` holds the ids of containers that were validated clean at the same place
    of a base document (see `containers`); they are skipped.
    """
    quick = quick_check()
    if quick is not None and quick(document):  # most files are clean: no jsonschema at all
        return []
    findings = []
    token = _ALREADY_VALID.set(already_valid)
    try:
        errors = list(validator().iter_errors(document))
    finally:
        _ALREADY_VALID.reset(token)
    for error in errors:
        for leaf in leaf_errors(error):
            message, hint, where = error_message(leaf, document)
            location = (
                where or location_of(document, list(leaf.absolute_path)) or Location("?", 1, 1)
            )
            findings.append(Finding(location, "schema", message, hint=hint))
    return findings
