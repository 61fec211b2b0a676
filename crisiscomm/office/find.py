"""Where the office file is, and compiling it (once per process while it is unchanged).

A playbook's office is `office.yaml` in the playbook's own folder, or next to the
`playbooks/` (or `protocols/`) folder the playbook is in, else the file named by
`CRISISCOMM_OFFICE`. A command that asks for the office itself (`oncall`) also
looks in the current folder and, last, at the example office shipped with crisiscomm.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path
from typing import TYPE_CHECKING

from crisiscomm.documents.library import Library, display_path
from crisiscomm.errors import NotFoundError
from crisiscomm.i18n import _

if TYPE_CHECKING:
    from crisiscomm.office.model import Office

__all__ = ["compiled_office", "find_office", "office_for"]

NAMES = ("office.yaml", "office.yml")


def _in(folder: Path) -> Path | None:
    return next((folder / n for n in NAMES if (folder / n).is_file()), None)


def _from_environment() -> Path | None:
    named = os.environ.get("CRISISCOMM_OFFICE")
    if not named:
        return None
    path = Path(named)
    if not path.is_file():
        raise NotFoundError(
            _("CRISISCOMM_OFFICE names {path}, which is no file").format(path=named),
            hint=_("give the path of the office's office.yaml, or unset CRISISCOMM_OFFICE"),
        )
    return path


def office_for(playbook: Path) -> Path | None:
    """The office file a playbook or protocol at `playbook` belongs to, if any: beside it,
    or beside the `playbooks/` or `protocols/` folder it is in."""
    folder = playbook.resolve().parent
    above = _in(folder.parent) if folder.name in ("playbooks", "protocols") else None
    return _in(folder) or above or _from_environment()


def shipped_office() -> Path | None:
    """The example office shipped with crisiscomm (a source checkout's first)."""
    candidates = [
        Path(__file__).resolve().parents[2],
        Path(sysconfig.get_path("data")) / "share" / "crisiscomm",
        Path(sys.prefix) / "share" / "crisiscomm",
    ]
    return next((found for folder in candidates if (found := _in(folder))), None)


def find_office(explicit: str | None = None) -> Path:
    """The office a command works with: `--office`, CRISISCOMM_OFFICE, ./office.yaml, or
    the shipped example; NotFoundError naming where it looked."""
    if explicit:
        path = Path(explicit)
        if path.is_file():
            return path
        raise NotFoundError(_("no office file {path}").format(path=explicit))
    found = _from_environment() or _in(Path.cwd()) or shipped_office()
    if found is None:
        raise NotFoundError(
            _("no office.yaml here, in CRISISCOMM_OFFICE or shipped with crisiscomm"),
            hint=_("write the office's office.yaml (see README: Setting up the office)"),
        )
    return found


_COMPILED: dict[Path, tuple[tuple[int, int], Office]] = {}


def compiled_office(path: Path, *, library: Library | None = None) -> Office:
    """The office in `path`, checked; PlaybookError naming the first error. Reused while the
    file is unchanged."""
    from crisiscomm.documents.kinds import check_file, refuse_errors
    from crisiscomm.office.check import OFFICE
    from crisiscomm.office.model import Office  # here: finding an office needs no model

    key = path.resolve()
    stat = key.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    if key in _COMPILED and _COMPILED[key][0] == stamp:
        return _COMPILED[key][1]
    library = library or Library()
    refuse_errors(check_file(path, library, [OFFICE]), path)
    content = _plain(library.load(path))
    assert isinstance(content, dict)  # the kind's check refused anything else
    office = Office.from_content(content, path=display_path(path))
    _COMPILED[key] = (stamp, office)
    return office


def _plain(value: object) -> object:
    """A marked document as plain dicts, lists and strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
