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
from crisiscomm.drill.scenario import SCENARIO
from crisiscomm.inbox.check import CALENDAR, INBOX
from crisiscomm.office.check import OFFICE
from crisiscomm.playbook.check import PLAYBOOK

__all__ = ["KINDS", "check_file", "check_paths"]

# the first is also the kind of a mapping that names none (its schema names the key)
KINDS: tuple[Kind, ...] = (PLAYBOOK, SCENARIO, OFFICE, INBOX, CALENDAR)


def check_file(path: Path, library: Library) -> list[Finding]:
    """Every finding for one file of any kind."""
    return kinds.check_file(path, library, KINDS)


def check_paths(paths: Iterable[Path], *, on_file: Callable[[Path], None] | None = None) -> Report:
    """Validate every file under `paths`; `on_file` is called after each (for progress)."""
    return kinds.check_paths(paths, KINDS, on_file=on_file)
