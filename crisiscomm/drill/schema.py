"""The drill scenario JSON Schema (`schema.json` beside this file) and its errors as findings."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crisiscomm.documents.findings import Finding
from crisiscomm.documents.source import Location, location_of

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

__all__ = ["SCHEMA_PATH", "scenario_schema_findings"]

SCHEMA_PATH = Path(__file__).with_name("schema.json")


@functools.cache
def _validator() -> Draft202012Validator:
    """The drill schema's validator, built once per process."""
    from jsonschema import Draft202012Validator

    from crisiscomm.documents.schema import inline_refs

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(inline_refs(schema, schema["$defs"]))


def scenario_schema_findings(document: Any) -> list[Finding]:
    """Every place a scenario breaks its schema, worded as the playbook schema's are."""
    from crisiscomm.documents.schema import error_message, leaf_errors

    findings = []
    for error in _validator().iter_errors(document):
        for leaf in leaf_errors(error):
            message, hint, where = error_message(leaf, document)
            location = where or location_of(document, list(leaf.absolute_path))
            findings.append(
                Finding(location or Location("?", 1, 1), "drill-schema", message, hint=hint)
            )
    return sorted(findings)
