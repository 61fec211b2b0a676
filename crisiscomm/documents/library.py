"""Finding playbooks and protocols by id or path, and resolving `extends` chains.

A protocol named by id (`extends: standard`) is looked for, in order, in:
1. the extending file's own folder (`standard.yaml` or `standard.yml`);
2. a `protocols/` folder beside it or in any folder above it;
3. the folders in `CRISISCOMM_PROTOCOLS` (separated like PATH);
4. the protocols shipped with crisiscomm.
A value with a `/` or ending in `.yaml`/`.yml` is a path relative to the extending file.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crisiscomm.documents.merge import merge
from crisiscomm.documents.source import Location, MarkedDict, location_of
from crisiscomm.errors import LoadError, NotFoundError
from crisiscomm.i18n import _

__all__ = ["Library", "display_path", "shipped_dir"]

MAX_EXTENDS_DEPTH = 8


def display_path(path: Path) -> str:
    """A path as a person wants to read it: relative to the current folder when inside it."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(resolved)


def shipped_dir(kind: str) -> Path | None:
    """The folder of shipped `protocols` or `playbooks`, installed or in a source checkout."""
    candidates = [
        # a source checkout (editable install) first, so edits there are what runs
        Path(__file__).resolve().parents[2] / kind,
        Path(sysconfig.get_path("data")) / "share" / "crisiscomm" / kind,
        Path(sys.prefix) / "share" / "crisiscomm" / kind,
    ]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None


def _looks_like_path(reference: str) -> bool:
    return "/" in reference or "\\" in reference or reference.endswith((".yaml", ".yml"))


@dataclass
class Library:
    """Loads files once each and resolves `extends` chains, detecting cycles."""

    loaded: dict[Path, Any] = field(default_factory=dict)
    resolved: dict[Path, tuple[Any, list[Path]]] = field(default_factory=dict)
    # ids of the containers of files whose merged document is schema-valid (see check.py)
    valid_containers: dict[Path, frozenset[int]] = field(default_factory=dict)

    def load(self, path: Path) -> Any:
        """The marked document of a file, read once per Library."""
        key = path.resolve()
        if key not in self.loaded:
            # yaml only when a file is read: commands that find a playbook, or use a
            # compiled one from the cache, never parse YAML
            from crisiscomm.documents.load import load_file

            self.loaded[key] = load_file(path, display_name=display_path(path))
        return self.loaded[key]

    def protocol_dirs(self, near: Path) -> list[Path]:
        """Where a protocol id used in a file at `near` is looked for, in order."""
        folder = near.resolve().parent
        dirs = [folder]
        dirs += [parent / "protocols" for parent in [folder, *folder.parents]]
        dirs += [Path(e) for e in os.environ.get("CRISISCOMM_PROTOCOLS", "").split(os.pathsep) if e]
        shipped = shipped_dir("protocols")
        if shipped is not None:
            dirs.append(shipped)
        unique = {d.resolve(): d for d in reversed(dirs) if d.is_dir()}
        return [d for d in dirs if d.is_dir() and unique.get(d.resolve()) is d]

    def find_protocol(self, reference: str, *, near: Path, location: Location) -> Path:
        """The file an `extends:` value names."""
        if _looks_like_path(reference):
            candidate = near.resolve().parent / reference
            if candidate.is_file():
                return candidate
            raise LoadError(
                _("`extends` names {path}, which does not exist").format(path=reference),
                location=location,
                rule="unknown-protocol",
                hint=_("the path is relative to the file that extends it"),
            )
        dirs = self.protocol_dirs(near)
        for folder in dirs:
            for suffix in (".yaml", ".yml"):
                candidate = folder / f"{reference}{suffix}"
                if candidate.is_file() and candidate.resolve() != near.resolve():
                    return candidate
        raise LoadError(
            _("no protocol with id `{id}` found").format(id=reference),
            location=location,
            rule="unknown-protocol",
            hint=_("looked in: {dirs}").format(dirs=", ".join(display_path(d) for d in dirs)),
        )

    def resolve(self, path: Path) -> tuple[Any, list[Path]]:
        """The file merged over everything it extends, and the chain of files used.

        Each file is resolved once per Library, so every playbook extending a protocol
        shares the protocol's merged document (and its untouched subtrees, by identity).
        """
        return self._resolve(path, [])

    def _resolve(self, path: Path, extending: list[Path]) -> tuple[Any, list[Path]]:
        key = path.resolve()
        if key in self.resolved:
            merged, chain = self.resolved[key]
            return merged, list(chain)
        if key in (p.resolve() for p in extending):
            names = " -> ".join(display_path(p) for p in [*extending, path])
            document = self.load(extending[-1])
            raise LoadError(
                _("`extends` goes round in a circle: {chain}").format(chain=names),
                location=location_of(document, ["extends"]) or document.location,
                rule="extends-cycle",
                hint=_("a protocol must not extend a file that extends it"),
            )
        if len(extending) >= MAX_EXTENDS_DEPTH:
            document = self.load(extending[-1])
            raise LoadError(
                _("`extends` chain is longer than {limit} files").format(limit=MAX_EXTENDS_DEPTH),
                location=location_of(document, ["extends"]) or document.location,
                rule="extends-cycle",
            )
        document = self.load(path)
        if not isinstance(document, MarkedDict):
            raise LoadError(
                _("{path} is not a crisiscomm file: it must be a mapping").format(
                    path=display_path(path)
                ),
                location=getattr(document, "location", Location(display_path(path), 1, 1)),
                rule="schema",
                hint=_("start it with `crisiscomm: 1` and an `id`"),
            )
        reference = document.get("extends")
        if isinstance(reference, str):
            base_path = self.find_protocol(
                reference,
                near=path,
                location=location_of(document, ["extends"]) or document.location,
            )
            base, base_chain = self._resolve(base_path, [*extending, path])
            result: tuple[Any, list[Path]] = (merge(base, document), [path, *base_chain])
        else:
            result = (document, [path])
        self.resolved[key] = result
        return result[0], list(result[1])

    def find_playbook(self, reference: str) -> Path:
        """A playbook given as a path, or an id in ./playbooks, CRISISCOMM_PLAYBOOKS or shipped."""
        as_path = Path(reference)
        if _looks_like_path(reference) or as_path.is_file():
            if as_path.is_file():
                return as_path
            raise NotFoundError(_("no playbook file {path}").format(path=reference))
        dirs = [Path("playbooks")]
        dirs += [Path(e) for e in os.environ.get("CRISISCOMM_PLAYBOOKS", "").split(os.pathsep) if e]
        shipped = shipped_dir("playbooks")
        if shipped is not None:
            dirs.append(shipped)
        for folder in dirs:
            for suffix in (".yaml", ".yml"):
                candidate = folder / f"{reference}{suffix}"
                if candidate.is_file():
                    return candidate
        raise NotFoundError(
            _("no playbook with id `{id}`").format(id=reference),
            hint=_("looked in: {dirs}; give a path to the YAML file instead").format(
                dirs=", ".join(display_path(d) for d in dirs)
            ),
        )
