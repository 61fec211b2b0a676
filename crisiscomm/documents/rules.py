"""The registry of rule ids every document kind reports findings under.

Each kind registers its rules when its module is imported (`register`); output formats
(SARIF's rule table) and the docs read `RULES`. The rules of the loading stages shared by
every kind (YAML safety, `extends`, the JSON Schema) are registered here.
"""

from __future__ import annotations

from dataclasses import dataclass

from crisiscomm.documents.findings import Severity

__all__ = ["LOADING_RULES", "RULES", "Rule", "register"]


@dataclass(frozen=True)
class Rule:
    """A rule's identity, for output formats and docs."""

    id: str
    severity: Severity
    summary: str


RULES: dict[str, Rule] = {}


def register(rule_id: str, summary: str, severity: Severity = Severity.ERROR) -> Rule:
    """Record a rule id; registering the same id twice is a programming error."""
    if rule_id in RULES:
        raise ValueError(f"rule id {rule_id!r} registered twice")
    RULES[rule_id] = Rule(rule_id, severity, summary)
    return RULES[rule_id]


# Rules found by the stages before a kind's own checks, so every output format knows them.
for _id, _summary in [
    ("schema", "the file does not match the playbook format (JSON Schema)"),
    ("yaml-syntax", "the file is not valid YAML"),
    ("yaml-tag", "a YAML tag other than the plain core types"),
    ("yaml-alias", "alias bomb, recursive alias or merge key"),
    ("yaml-limits", "file too large or nested too deep"),
    ("duplicate-key", "the same key twice in one mapping"),
    ("unknown-protocol", "`extends` names a protocol that cannot be found"),
    ("extends-cycle", "`extends` chain goes round in a circle"),
    ("io", "the file cannot be read"),
]:
    register(_id, _summary)
LOADING_RULES: tuple[str, ...] = tuple(RULES)
