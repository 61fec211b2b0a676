"""Validation of files and folders: load, merge `extends`, schema, then lint rules."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from crisiscomm.errors import LoadError, UsageError
from crisiscomm.i18n import _
from crisiscomm.playbook.findings import Finding, Severity
from crisiscomm.playbook.library import Library, display_path
from crisiscomm.playbook.lint import lint
from crisiscomm.playbook.schema import containers, schema_findings
from crisiscomm.playbook.source import Location, MarkedDict

__all__ = ["Report", "check_file", "check_paths", "collect_files"]

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass
class Report:
    """What validating some files found."""

    files: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def failed(self, *, strict: bool = False) -> bool:
        """Whether the findings fail validation (warnings only count when strict)."""
        return any(f.severity is Severity.ERROR or strict for f in self.findings)


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """The YAML files named, with folders searched recursively (hidden entries skipped)."""
    files: list[Path] = []
    for path in paths:
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files += sorted(
                candidate
                for candidate in path.rglob("*")
                if candidate.suffix in YAML_SUFFIXES
                and candidate.is_file()
                and not any(part.startswith(".") for part in candidate.relative_to(path).parts)
            )
        else:
            raise UsageError(
                _("{path}: no such file or folder").format(path=path),
                hint=_(
                    "give playbook files or folders, e.g. `crisiscomm validate playbooks protocols`"
                ),
            )
    return list(dict.fromkeys(files))


def check_file(path: Path, library: Library) -> list[Finding]:
    """Every finding for one file (and what it inherits through `extends`)."""
    try:
        document = library.load(path)
        if isinstance(document, MarkedDict) and "crisiscomm-drill" in document:
            from crisiscomm.drill.scenario import scenario_findings

            return scenario_findings(path, document)
        if not isinstance(document, MarkedDict):
            location = getattr(document, "location", Location(display_path(path), 1, 1))
            return [
                Finding(
                    location,
                    "schema",
                    _("the file must be a mapping starting with `crisiscomm: 1`"),
                )
            ]
        merged, chain = library.resolve(path)
    except LoadError as error:
        return [Finding(error.location, error.rule, error.message, hint=error.hint)]
    findings = schema_findings(merged, already_valid=_valid_base(chain, library))
    if findings:
        return findings
    return lint(merged)


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


def check_paths(paths: Iterable[Path], *, on_file: Callable[[Path], None] | None = None) -> Report:
    """Validate every file under `paths`; `on_file` is called after each (for progress)."""
    library = Library()
    report = Report()
    seen: set[tuple[object, ...]] = set()
    for path in collect_files(paths):
        report.files.append(display_path(path))
        for finding in check_file(path, library):
            # a protocol's problem shows once, not once per playbook extending it (their
            # hints may differ, e.g. listing the roles each playbook defines)
            key = (finding.location, finding.rule, finding.message)
            if key not in seen:
                seen.add(key)
                report.findings.append(finding)
        if on_file is not None:
            on_file(path)
    report.findings.sort()
    return report
