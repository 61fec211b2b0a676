"""A finding: one thing wrong with a playbook, at a file:line, with a rule id and a hint."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from crisiscomm.documents.source import Location

__all__ = ["Finding", "Severity"]


class Severity(StrEnum):
    """How bad a finding is: errors always fail validation, warnings only with --strict."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Finding:
    """One problem found in a file."""

    location: Location
    rule: str
    message: str
    severity: Severity = Severity.ERROR
    hint: str | None = None

    def __str__(self) -> str:
        return f"{self.location}: {self.severity.value}: {self.message} [{self.rule}]"
