"""From a YAML file to a compiled Playbook: load, merge, check, freeze (and reuse)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crisiscomm.documents.library import Library, display_path
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
    # checking needs the schema and the lint rules; a playbook from the cache does not
    from crisiscomm.documents.kinds import check_file, refuse_errors
    from crisiscomm.playbook.check import PLAYBOOK
    from crisiscomm.playbook.team import resolve_with_office

    library = library or Library()
    refuse_errors(check_file(path, library, [PLAYBOOK]), path)

    merged, chain, office, _team = resolve_with_office(path, library)
    files = [*chain, office] if office is not None else chain
    return Playbook.from_content(_plain(merged), files=tuple(display_path(p) for p in files))


_COMPILED: dict[Path, tuple[list[Path], list[tuple[int, int]], Playbook]] = {}


def compiled_playbook(path: Path) -> Playbook:
    """A playbook compiled from YAML, reused while none of its files changed: in this
    process (serve, drills) by their times and sizes, across processes by their hashes
    (playbook/cache.py)."""

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
    from crisiscomm.playbook import cache

    found = cache.cached(path)
    if found is None:
        library = Library()
        playbook = compile_playbook(path, library=library)
        cache.remember(path, playbook, library)
    else:
        playbook = found
    files = [Path(f).resolve() for f in playbook.files]
    _COMPILED[key] = (files, stamps(files), playbook)
    return playbook
