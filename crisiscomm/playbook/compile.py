"""From a YAML file to a compiled Playbook: load, merge, check, freeze."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crisiscomm.documents.findings import Severity
from crisiscomm.documents.kinds import check_file
from crisiscomm.documents.library import Library, display_path
from crisiscomm.errors import PlaybookError
from crisiscomm.i18n import _
from crisiscomm.playbook.check import PLAYBOOK
from crisiscomm.playbook.model import Playbook

__all__ = ["compile_playbook", "compiled_playbook"]


def _plain(value: Any) -> Any:
    """A marked document as plain dicts and lists (JSON-ready), without `remove: true` entries."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [
            _plain(item)
            for item in value
            if not (isinstance(item, dict) and item.get("remove") is True)
        ]
    return value


def compile_playbook(path: Path, *, library: Library | None = None) -> Playbook:
    """Load, merge and check a playbook; raise PlaybookError naming the first error."""
    library = library or Library()
    findings = check_file(path, library, [PLAYBOOK])
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if errors:
        first = errors[0]
        message = f"{first.location}: {first.message} [{first.rule}]"
        if len(errors) > 1:
            message += " " + _("(and {n} more; run `crisiscomm validate {path}`)").format(
                n=len(errors) - 1, path=display_path(path)
            )
        raise PlaybookError(message, hint=first.hint)
    from crisiscomm.playbook.team import resolve_with_office

    merged, chain, office, _team = resolve_with_office(path, library)
    files = [*chain, office] if office is not None else chain
    return Playbook.from_content(_plain(merged), files=tuple(display_path(p) for p in files))


_COMPILED: dict[Path, tuple[list[Path], list[tuple[int, int]], Playbook]] = {}


def compiled_playbook(path: Path) -> Playbook:
    """A playbook compiled from YAML, reused while none of its files changed (serve, drills)."""

    def stamps(files: list[Path]) -> list[tuple[int, int]]:
        return [(s.st_mtime_ns, s.st_size) for s in (f.stat() for f in files)]

    key = path.resolve()
    if key in _COMPILED:
        files, seen, playbook = _COMPILED[key]
        try:
            if stamps(files) == seen:
                return playbook
        except OSError:
            pass
    playbook = compile_playbook(path)
    files = [Path(f).resolve() for f in playbook.files]
    _COMPILED[key] = (files, stamps(files), playbook)
    return playbook
