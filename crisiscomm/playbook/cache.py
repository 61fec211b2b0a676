"""Compiled playbooks kept on disk between processes, keyed by the hashes of their sources.

Compiling a playbook (YAML, `extends`, the office's team, schema, lint) costs a command
more than everything else it does before its first write; `open-incident` is the duty
officer's first command. An entry holds the merged content of one playbook and what it was
made from: the SHA-256 of the playbook file, of every protocol it extends and of the office
file it takes its people from, the `extends` value of each, and a stamp of crisiscomm's
version and code. It is used only when all of them still match: a changed protocol, a
protocol that now shadows the one used, another office or another crisiscomm compiles
anew.

Where: `$XDG_CACHE_HOME/crisiscomm/playbooks/` (default `~/.cache/crisiscomm/playbooks/`),
the folder readable by its owner only (entries hold the office's people). Off with
`CRISISCOMM_NO_CACHE=1`. An entry is written to a temporary file and renamed into place,
so processes racing on it each see a whole entry or none; an entry that cannot be read,
does not parse or does not match is ignored and the playbook compiled, never an error.
`crisiscomm validate` does not use it: it reports every finding of the files as they are.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from crisiscomm import __version__
from crisiscomm.documents.library import Library, display_path
from crisiscomm.documents.source import Location
from crisiscomm.errors import CrisisCommError
from crisiscomm.playbook.model import Playbook

__all__ = ["cache_dir", "cached", "remember"]


FORMAT = 1
PACKAGE = Path(__file__).resolve().parents[1]
# the code a compiled playbook's content depends on
CODE_FOLDERS = ("documents", "playbook", "office")
# anything wrong with an entry or the files it names means: compile anew
_UNUSABLE = (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError)


def _debug(message: str, *args: object) -> None:
    import logging  # only for an entry not used: `open-incident` from the cache logs nothing

    logging.getLogger(__name__).debug(message, *args)


def cache_dir() -> Path | None:
    """The folder of cached playbooks; None when CRISISCOMM_NO_CACHE is set."""
    if os.environ.get("CRISISCOMM_NO_CACHE", "") not in ("", "0"):
        return None
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG rule: a relative value is ignored
        base = str(Path.home() / ".cache")
    return Path(base) / "crisiscomm" / "playbooks"


@functools.cache
def _code_stamp() -> str:
    """crisiscomm's version and the size and time of every file compiling reads, so an
    upgrade (or an edit in a source checkout) never meets an older entry."""
    parts = [__version__]
    for folder in CODE_FOLDERS:
        for root, dirs, files in os.walk(PACKAGE / folder):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith((".py", ".json")):
                    stat = os.stat(os.path.join(root, name))
                    parts.append(f"{root}/{name}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def _entry(folder: Path, playbook: Path) -> Path:
    name = hashlib.sha256(f"{_code_stamp()}\0{playbook}".encode()).hexdigest()[:40]
    return folder / f"{name}.json"


def _hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _office(playbook: Path) -> Path | None:
    from crisiscomm.office.find import office_for

    found = office_for(playbook)
    return found.resolve() if found is not None else None


def _sources_unchanged(entry: dict[str, Any], playbook: Path) -> bool:
    links = entry["links"]
    if Path(links[0]["path"]) != playbook:
        return False
    library = Library()
    for index, link in enumerate(links):
        path = Path(link["path"])
        if _hash(path) != link["sha256"]:
            return False
        reference = link["extends"]
        if reference is not None:
            # the protocol the same `extends` finds now: another may have appeared before it
            found = library.find_protocol(reference, near=path, location=Location(str(path), 1, 1))
            if index + 1 >= len(links) or found.resolve() != Path(links[index + 1]["path"]):
                return False
    office = entry["office"]
    now = _office(playbook)
    if office is None or now is None:
        return office is None and now is None
    return Path(office["path"]) == now and _hash(now) == office["sha256"]


def cached(path: Path) -> Playbook | None:
    """The playbook at `path` as cached, if every source is unchanged; else None."""
    folder = cache_dir()
    if folder is None:
        return None
    playbook = path.resolve()
    try:
        entry = json.loads(_entry(folder, playbook).read_text(encoding="utf-8"))
        if entry["format"] != FORMAT or not _sources_unchanged(entry, playbook):
            return None
        compiled = Playbook.from_content(
            entry["content"], files=tuple(display_path(Path(f)) for f in entry["files"])
        )
    except FileNotFoundError:
        return None
    except (*_UNUSABLE, CrisisCommError) as error:
        _debug("cached playbook for %s not used: %r", playbook, error)
        return None
    if compiled.content_hash != entry["content_hash"]:
        return None
    return compiled


def remember(path: Path, compiled: Playbook, library: Library) -> None:
    """Keep `compiled` (compiled from `path` with `library`) for the next process; a cache
    that cannot be written is skipped."""
    folder = cache_dir()
    if folder is None:
        return
    playbook = path.resolve()
    files = [Path(f).resolve() for f in compiled.files]
    try:
        office = _office(playbook)
        chain = [f for f in files if f != office]
        links = []
        for link in chain:
            document = library.load(link)
            reference = document.get("extends") if isinstance(document, dict) else None
            links.append(
                {
                    "path": str(link),
                    "sha256": _hash(link),
                    "extends": reference if isinstance(reference, str) else None,
                }
            )
        content = dict(compiled.content)
        sources = None if office is None else {"path": str(office), "sha256": _hash(office)}
        text = json.dumps(
            {
                "format": FORMAT,
                "links": links,
                "office": sources,
                "files": [str(f) for f in files],
                "content_hash": compiled.content_hash,
                "content": content,
            },
            ensure_ascii=False,
        )
        if json.loads(text)["content"] != content:  # not plain JSON: keep it out of the cache
            return
        import tempfile

        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.replace(temporary, _entry(folder, playbook))
        except BaseException:
            os.unlink(temporary)
            raise
    except (*_UNUSABLE, CrisisCommError) as error:
        _debug("compiled playbook %s not cached: %r", playbook, error)
