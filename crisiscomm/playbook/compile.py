"""From a YAML file to a compiled Playbook: load, merge, check, freeze."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crisiscomm.documents.kinds import check_file, refuse_errors
from crisiscomm.documents.library import Library, display_path
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
    refuse_errors(check_file(path, library, [PLAYBOOK]), path)
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
