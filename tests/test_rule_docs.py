"""The rule table of docs/playbook-format.md (section 16) against the rule registry.

Every rule the playbook kind reports is in the table with its severity, and the table
lists no rule the registry does not have, so the two cannot drift apart. The lint rules
themselves each run once and say in their docstring what they find.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections import Counter
from pathlib import Path

import crisiscomm.playbook.rules
from crisiscomm.playbook.lint import CHECKS, RULES
from crisiscomm.playbook.rules.core import LintRule

DOC = Path(__file__).resolve().parents[1] / "docs" / "playbook-format.md"
SECTION = "## 16. lint rules"
ROW = re.compile(r"^\|\s*`(?P<rule>[a-z0-9-]+)`\s*\|\s*(?P<severity>[a-z]+)\s*\|")


def documented() -> list[tuple[str, str]]:
    """(rule id, severity) of each row of section 16's table, in the table's order."""
    text = DOC.read_text(encoding="utf-8")
    assert f"\n{SECTION}\n" in text, f"{DOC.name} has no section {SECTION!r}"
    section = text.split(f"\n{SECTION}\n", 1)[1].split("\n## ", 1)[0]
    return [(m["rule"], m["severity"]) for line in section.splitlines() if (m := ROW.match(line))]


def family_rules() -> list[LintRule]:
    """Every rule declared in a module of crisiscomm.playbook.rules."""
    found: list[LintRule] = []
    package = crisiscomm.playbook.rules
    for info in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
        module = importlib.import_module(info.name)
        found += [value for value in vars(module).values() if isinstance(value, LintRule)]
    return found


def test_the_table_is_found() -> None:
    assert len(documented()) > 30


def test_every_rule_is_in_the_table_with_its_severity() -> None:
    table = dict(documented())
    assert {rule_id: table.get(rule_id) for rule_id in RULES} == {
        rule_id: rule.severity.value for rule_id, rule in RULES.items()
    }


def test_the_table_lists_only_rules_the_registry_has() -> None:
    assert [rule_id for rule_id, _ in documented() if rule_id not in RULES] == []


def test_the_table_lists_each_rule_once() -> None:
    counts = Counter(rule_id for rule_id, _ in documented())
    assert [rule_id for rule_id, count in counts.items() if count > 1] == []


def test_every_family_rule_runs_once_and_is_registered() -> None:
    assert sorted(rule.id for rule in CHECKS) == sorted(rule.id for rule in family_rules())
    assert len({rule.id for rule in CHECKS}) == len(CHECKS)
    for rule in CHECKS:
        assert RULES[rule.id].severity is rule.severity, rule.id
        assert RULES[rule.id].summary == rule.summary, rule.id


def test_every_lint_rule_says_what_it_finds() -> None:
    assert [rule.id for rule in CHECKS if not rule.description] == []
