"""`crisiscomm validate`: every document kind the office writes, told apart by first key.

The floor above playbook/ and drill/: it lists their kinds for documents/ to dispatch on,
so neither layer knows of the other. New kinds (office, lifecycles, norms) join `KINDS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from crisiscomm.documents import kinds
from crisiscomm.documents.findings import Finding
from crisiscomm.documents.kinds import Kind, Report
from crisiscomm.documents.library import Library
from crisiscomm.documents.source import MarkedDict
from crisiscomm.playbook.check import PLAYBOOK

__all__ = ["KINDS", "check_file", "check_paths", "every_kind"]


# The other kinds' modules (their schemas, rules and models) are imported when a file of
# theirs is checked: `validate playbooks/flood.yaml` in pre-commit loads no drill code.
# tests/test_startup.py keeps each name and key here equal to the kind's own.
def _scenario(path: Path, document: MarkedDict, library: Library) -> list[Finding]:
    from crisiscomm.drill.scenario import SCENARIO

    return SCENARIO.check(path, document, library)


def _office(path: Path, document: MarkedDict, library: Library) -> list[Finding]:
    from crisiscomm.office.check import OFFICE

    return OFFICE.check(path, document, library)


def _inbox(path: Path, document: MarkedDict, library: Library) -> list[Finding]:
    from crisiscomm.inbox.check import INBOX

    return INBOX.check(path, document, library)


def _calendar(path: Path, document: MarkedDict, library: Library) -> list[Finding]:
    from crisiscomm.inbox.check import CALENDAR

    return CALENDAR.check(path, document, library)


# the first is also the kind of a mapping that names none (its schema names the key)
KINDS: tuple[Kind, ...] = (
    PLAYBOOK,
    Kind(name="drill scenario", key="crisiscomm-drill", check=_scenario),
    Kind(name="office", key="crisiscomm-office", check=_office),
    Kind(name="register", key="crisiscomm-inbox", check=_inbox),
    Kind(name="calendar", key="crisiscomm-calendar", check=_calendar),
)


def every_kind() -> tuple[Kind, ...]:
    """Every kind, its module imported (so its rules are registered, e.g. for SARIF)."""
    from crisiscomm.drill.scenario import SCENARIO
    from crisiscomm.inbox.check import CALENDAR, INBOX
    from crisiscomm.office.check import OFFICE

    return (PLAYBOOK, SCENARIO, OFFICE, INBOX, CALENDAR)


def check_file(path: Path, library: Library) -> list[Finding]:
    """Every finding for one file of any kind."""
    return kinds.check_file(path, library, KINDS)


def check_paths(paths: Iterable[Path], *, on_file: Callable[[Path], None] | None = None) -> Report:
    """Validate every file under `paths`; `on_file` is called after each (for progress)."""
    return kinds.check_paths(paths, KINDS, on_file=on_file)
