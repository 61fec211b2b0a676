"""Semantic lint rules over a merged, schema-valid playbook or protocol: the driver.

The rules live in `crisiscomm.playbook.rules`, a module per family. Each has a stable slug
id (used in output, SARIF and docs), a severity and a hint. This module registers them as
the playbook kind's rules and runs them over a document in a fixed order.
"""

from __future__ import annotations

from crisiscomm.documents.findings import Finding
from crisiscomm.documents.rules import LOADING_RULES, Rule, register
from crisiscomm.documents.rules import RULES as ALL_RULES
from crisiscomm.documents.source import MarkedDict
from crisiscomm.playbook import team  # noqa: F401  (registers the team's rules)
from crisiscomm.playbook.rules import channels, references, statements, structure, texts, timing
from crisiscomm.playbook.rules.core import Linter, LintRule

__all__ = ["CHECKS", "RULES", "Rule", "lint"]

# The order the rules run in, and so the order of a document's findings: compiling a
# playbook reports the first error found. A new rule joins its family and this list.
CHECKS: tuple[LintRule, ...] = (
    structure.missing_states,
    structure.missing_initial,
    structure.unknown_state,
    structure.unreachable_state,
    structure.no_final_state,
    structure.dead_end,
    timing.missing_deadline,
    timing.escalation_order,
    references.undefined_role,
    references.undefined_channel,
    references.undefined_statement,
    references.undefined_fact,
    references.undefined_checklist_item,
    references.unknown_action,
    references.unknown_severity,
    references.template_placeholder,
    references.unknown_gazetteer,
    statements.missing_language,
    statements.fact_language,
    statements.holding_statement_next_update,
    structure.ambiguous_trigger,
    timing.invalid_duration,
    timing.unknown_timezone,
    channels.literal_secret,
    channels.channel_config,
    structure.remove_unmatched,
    statements.missing_cadence,
    channels.missing_email,
    statements.self_approval,
    statements.clearance_deadline,
    texts.missing_translation,
)

# the playbook kind's rules: the loading stages' and the lint rules above
RULES: dict[str, Rule] = {rule_id: ALL_RULES[rule_id] for rule_id in LOADING_RULES}
for _check in CHECKS:
    RULES[_check.id] = register(_check.id, _check.summary, _check.severity)
# what laying the office's team over a playbook finds (team.py registers them)
for _id in ("unknown-person", "inline-team"):
    RULES[_id] = ALL_RULES[_id]


def lint(document: MarkedDict) -> list[Finding]:
    """All lint findings for a merged, schema-valid document."""
    linter = Linter(document)
    for check in CHECKS:
        check.check(linter)
    return linter.findings
