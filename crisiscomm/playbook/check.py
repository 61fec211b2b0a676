"""The playbook document kind (`crisiscomm: 1`, playbooks and protocols): merge `extends`,
JSON Schema, then lint rules."""

from __future__ import annotations

from pathlib import Path

from crisiscomm.documents.findings import Finding
from crisiscomm.documents.kinds import Kind
from crisiscomm.documents.library import Library
from crisiscomm.documents.source import MarkedDict
from crisiscomm.errors import CrisisCommError, LoadError
from crisiscomm.playbook.lint import lint
from crisiscomm.playbook.schema import containers, quick_check, schema_findings

__all__ = ["PLAYBOOK", "playbook_findings"]


def playbook_findings(path: Path, document: MarkedDict, library: Library) -> list[Finding]:
    """Every finding for a playbook or protocol file (and what it inherits by `extends`)."""
    from crisiscomm.playbook.team import resolve_with_office

    try:
        merged, chain, _office, team = resolve_with_office(path, library)
    except LoadError as error:
        return [Finding(error.location, error.rule, error.message, hint=error.hint)]
    except CrisisCommError as error:  # CRISISCOMM_OFFICE names no file
        return [Finding(document.location, "unknown-person", error.message, hint=error.hint)]
    quick = quick_check()
    if quick is not None and quick(merged):  # clean: no need to know what the base gave
        findings = []
    else:
        findings = schema_findings(merged, already_valid=_valid_base(chain, library))
    if findings:
        return [*team, *findings]
    return [*team, *lint(merged)]


def _valid_base(chain: list[Path], library: Library) -> frozenset[int]:
    """The containers of the file's base (what it extends), if the base is schema-valid."""
    if len(chain) < 2:
        return frozenset()
    key = chain[1].resolve()
    if key not in library.valid_containers:
        base, base_chain = library.resolve(chain[1])
        clean = not schema_findings(base, already_valid=_valid_base(base_chain, library))
        library.valid_containers[key] = containers(base) if clean else frozenset()
    return library.valid_containers[key]


PLAYBOOK = Kind(name="playbook", key="crisiscomm", check=playbook_findings)
