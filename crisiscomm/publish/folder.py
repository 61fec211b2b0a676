"""The folder a site lives in: written beside the live one and swapped in at once.

`--out DIR` is a symbolic link to a sibling folder named by the site's content hash
(`.DIR.3f2a...`): a new site is written in full beside the old one, then the link is
replaced in one `os.replace`, so a reader sees the old site or the new one, never half.
One builder at a time holds an advisory lock on the folder that holds DIR (`serve` and a
`publish` from cron may both build it).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from crisiscomm.errors import UsageError
from crisiscomm.i18n import _

__all__ = [
    "content_digest",
    "prepare_out",
    "site_digest",
    "site_lock",
    "swap_in",
    "switch_link",
    "write_file",
]


def content_digest(content: bytes) -> bytes:
    """The SHA-256 of one file's bytes: what a site's name is made of."""
    return hashlib.sha256(content).digest()


def site_digest(digests: dict[str, bytes]) -> str:
    """A site's name from each file's path and `content_digest`, in path order: the same
    files, the same name (so an unchanged site is not written again)."""
    digest = hashlib.sha256()
    for path in sorted(digests):
        digest.update(path.encode("utf-8") + b"\0" + digests[path])
    return digest.hexdigest()[:16]


def _write_tree(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir()
    for parent in sorted({os.path.dirname(path) for path in files} - {""}):
        (folder / parent).mkdir(parents=True, exist_ok=True)

    for path, content in files.items():
        write_file(folder / path, content)


def write_file(path: Path, content: bytes) -> None:
    """Write one new file (os.open and os.write: a third of the time `open()` takes for
    thousands of small files; threads only added contention)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(descriptor, view) :]
    finally:
        os.close(descriptor)


def prepare_out(out: Path) -> Path:
    """Check that `out` may be (re)placed by a site; its parent folder.

    `out` must be a link publish made, or absent, or an empty folder (then removed).
    """
    parent = out.parent
    if not parent.is_dir():
        raise UsageError(_("{path} does not exist").format(path=parent))
    if out.exists() and not out.is_symlink():
        if not out.is_dir() or any(out.iterdir()):
            raise UsageError(
                _("{path} is not a site that publish made; it is left as it is").format(path=out),
                hint=_("give a new path, or an empty folder, to --out"),
            )
        out.rmdir()
    return parent


@contextmanager
def site_lock(out: Path) -> Iterator[None]:
    """One builder of the site at `out` at a time (`serve` and a `publish` from cron):
    an advisory lock on the folder that holds it (no file of its own to leave behind),
    released when the process dies."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; one builder per site is the rule there
        yield
        return
    prepare_out(out)
    try:
        descriptor = os.open(out.parent, os.O_RDONLY)
    except OSError as error:
        raise UsageError(
            _("cannot write the site to {path}: {reason}").format(
                path=out, reason=error.strerror or error
            )
        ) from None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def switch_link(out: Path, target: Path) -> None:
    """Point the link `out` at `target` (a sibling) in one `os.replace`."""
    link = out.parent / f".{out.name}.link-{os.getpid()}"
    if link.is_symlink():
        link.unlink()
    link.symlink_to(target.name, target_is_directory=True)
    os.replace(link, out)  # the one step readers can see


def swap_in(files: dict[str, bytes], out: Path, *, locked: bool = False) -> tuple[Path, bool]:
    """Write the site beside `out` and point the link `out` at it in one step.

    Returns the folder the link points to and whether anything changed. `out` must be a
    link this command made, or absent, or an empty folder; anything else is refused.
    `locked`: the caller holds `site_lock(out)` already.
    """
    out = out.absolute()
    if not locked:
        with site_lock(out):
            return swap_in(files, out, locked=True)
    parent = prepare_out(out)
    name = f".{out.name}.{site_digest({p: content_digest(c) for p, c in files.items()})}"
    target = parent / name
    previous = Path(os.readlink(out)) if out.is_symlink() else None
    if previous is not None and previous.name == name and target.is_dir():
        return target, False
    if target.exists():
        shutil.rmtree(target)  # a half-written folder of a run that died
    staging = parent / f".{out.name}.tmp-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    try:
        _write_tree(staging, files)
        staging.rename(target)
        switch_link(out, target)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise UsageError(
            _("cannot write the site to {path}: {reason}").format(
                path=out, reason=error.strerror or error
            )
        ) from None
    if previous is not None:
        old = previous if previous.is_absolute() else parent / previous
        if old.name.startswith(f".{out.name}.") and old != target:
            shutil.rmtree(old, ignore_errors=True)
    return target, True
