"""The drill scenario JSON Schema (`schema.json` beside this file) and its errors as findings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crisiscomm.documents.findings import Finding

__all__ = ["SCHEMA_PATH", "scenario_schema_findings"]

SCHEMA_PATH = Path(__file__).with_name("schema.json")


def scenario_schema_findings(document: Any) -> list[Finding]:
    """Every place a scenario breaks its schema, worded as the playbook schema's are."""
    from crisiscomm.documents.schema import findings_of, validator_for

    return findings_of(validator_for(SCHEMA_PATH), document, "drill-schema")
