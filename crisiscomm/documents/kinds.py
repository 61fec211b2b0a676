"""Document kinds, and validating files by dispatching each one to its kind.

A kind (playbook or protocol, drill scenario, and as they land office, lifecycle, norms)
is told apart by the key its file starts with (`crisiscomm: 1`, `crisiscomm-drill: 1`)
and brings its own check: schema and rules. This module knows no kind by name; the list
of kinds is handed in by the floor above (`crisiscomm.kinds`), so documents/ imports
nothing of playbook/, drill/ or anything above them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crisiscomm.documents.findings import Finding, Severity
from crisiscomm.documents.library import Library, display_path
from crisiscomm.documents.source import Location, MarkedDict
from crisiscomm.errors import LoadError, UsageError
from crisiscomm.i18n import _

__all__ = ["Kind", "Report", "check_file", "check_paths", "collect_files", "refuse_errors"]

YAML_SUFFIXES = (".yaml", ".yml")

Check = Callable[[Path, MarkedDict, Library], list[Finding]]


@dataclass(frozen=True)
class Kind:
    """One kind of YAML document: the key that marks it, and the check of its files."""

    name: str
    key: str
    check: Check


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


def kind_of(document: Any, kinds: Sequence[Kind]) -> Kind | None:
    """The kind whose key the document carries; None when it carries none of them."""
    if isinstance(document, MarkedDict):
        for kind in kinds:
            if kind.key in document:
                return kind
    return None


def check_file(path: Path, library: Library, kinds: Sequence[Kind]) -> list[Finding]:
    """Every finding for one file, by the check of its kind.

    A mapping that names no kind goes to the first kind (the playbook, whose schema then
    says which key is missing); anything else is not a document of ours.
    """
    try:
        document = library.load(path)
    except LoadError as error:
        return [Finding(error.location, error.rule, error.message, hint=error.hint)]
    if not isinstance(document, MarkedDict):
        location = getattr(document, "location", Location(display_path(path), 1, 1))
        message = _("the file must be a mapping starting with `{key}: 1`").format(key=kinds[0].key)
        return [Finding(location, "schema", message)]
    kind = kind_of(document, kinds) or kinds[0]
    return kind.check(path, document, library)


def check_paths(
    paths: Iterable[Path],
    kinds: Sequence[Kind],
    *,
    on_file: Callable[[Path], None] | None = None,
) -> Report:
    """Validate every file under `paths`; `on_file` is called after each (for progress)."""
    library = Library()
    report = Report()
    seen: set[tuple[object, ...]] = set()
    for path in collect_files(paths):
        report.files.append(display_path(path))
        for finding in check_file(path, library, kinds):
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


def refuse_errors(findings: list[Finding], path: Path) -> None:
    """Raise PlaybookError naming the first error among `findings` (and how many more)."""
    from crisiscomm.errors import PlaybookError

    errors = [f for f in findings if f.severity is Severity.ERROR]
    if errors:
        first = errors[0]
        message = f"{first.location}: {first.message} [{first.rule}]"
        if len(errors) > 1:
            message += " " + _("(and {n} more; run `crisiscomm validate {path}`)").format(
                n=len(errors) - 1, path=display_path(path)
            )
        raise PlaybookError(message, hint=first.hint)
