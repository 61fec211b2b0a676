"""Republishing after a release or a withdrawal: only what changed is rendered and written.

    state = republish(store=store, out=Path("/var/www/press"), options=options, state=state)

`state` (a SiteState, held by the process between calls: `serve` keeps one per site) says
what the site at `out` was built from: each incident's `version` (the store bumps it on
every commit), its public side, the digest of every file and which files are each
incident's. A republish reads the versions (one query), loads only the incidents whose
version moved, renders their pages and CAP messages, the month pages they touch and the
pages every release changes (front pages, archives, feeds), and writes those whose bytes
changed. The result is byte for byte what a full build of the same database gives
(tests/test_publish_serve.py compares them file by file).

For the reader it is still one step: the new folder is made beside the live one, its
unchanged files hard links to the live ones (no copy), the changed ones written, and the
link `out` replaced in one `os.replace`, as a full build does. A process killed before the
swap leaves the live site as it was. Without a state, or when the live folder is not the
one the state describes (a `publish` from cron swapped in another), it builds in full.
"""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from crisiscomm.errors import UsageError
from crisiscomm.i18n import _
from crisiscomm.publish.folder import (
    content_digest,
    prepare_out,
    site_digest,
    site_lock,
    swap_in,
    switch_link,
    write_file,
)
from crisiscomm.publish.pages import SiteOptions
from crisiscomm.publish.record import PublicIncident, PublicRecord, public_incident, read_record
from crisiscomm.publish.site import (
    Published,
    SiteMemo,
    changed_files,
    local_time_month,
    site_parts,
)

if TYPE_CHECKING:
    from crisiscomm.store import Store

__all__ = ["SiteRepublisher", "SiteState", "republish"]


@dataclass
class SiteState:
    """What the live site was built from (see the module docstring)."""

    options: SiteOptions
    target: Path
    versions: dict[str, int]
    incidents: dict[str, PublicIncident]
    digests: dict[str, bytes] = field(default_factory=dict)  # path -> sha256 of its bytes
    owned: dict[str, tuple[str, ...]] = field(default_factory=dict)
    languages: tuple[str, ...] = ()
    drill_only: bool = False
    memo: SiteMemo = field(default_factory=SiteMemo)  # what unchanged incidents rendered to


def _drill_only(record: PublicRecord) -> bool:
    return bool(record.incidents) and all(i.exercise for i in record.incidents)


def _record(incidents: dict[str, PublicIncident]) -> PublicRecord:
    found = sorted(incidents.values(), key=lambda i: (i.last_released_at, i.id), reverse=True)
    return PublicRecord(tuple(found))


def _months(incident: PublicIncident | None) -> set[str]:
    if incident is None:
        return set()
    return {local_time_month(s, incident.timezone) for s in incident.statements}


def republish(
    *, store: Store, out: Path, options: SiteOptions, state: SiteState | None = None
) -> tuple[Published, SiteState]:
    """Bring the site at `out` up to date with the database; what it did and the new state."""
    from crisiscomm.engine.service import load

    out = out.absolute()
    with site_lock(out):
        versions = store.incident_versions()
        live = Path(os.path.realpath(out)) if out.is_symlink() else None
        if state is None or state.options != options or live != state.target:
            return _full(store, out, options, versions)
        moved = {
            i
            for i in versions.keys() | state.versions.keys()
            if versions.get(i) != state.versions.get(i)
        }
        incidents = dict(state.incidents)
        months: set[str] = set()
        for incident_id in sorted(moved):
            months |= _months(incidents.pop(incident_id, None))
            if incident_id in versions:
                playbook, row = load(store=store, incident_id=incident_id)
                public = public_incident(playbook, row)
                if public is not None:
                    incidents[incident_id] = public
                    months |= _months(public)
        record = _record(incidents)
        if record.languages != state.languages or _drill_only(record) != state.drill_only:
            return _full(store, out, options, versions)  # every page's frame changes
        state.memo.forget(moved)
        files, owned = changed_files(
            record, options, incidents=moved, months=months, memo=state.memo
        )
        digests = dict(state.digests)
        for incident_id in moved:
            for path in state.owned.get(incident_id, ()):
                digests.pop(path, None)
        for code in state.languages:
            for month in months:
                digests.pop(f"{code}/{month}.html", None)
        written = {}
        for path, content in files.items():
            sha = content_digest(content)
            if state.digests.get(path) != sha:
                written[path] = content
            digests[path] = sha
        owned_now = {k: v for k, v in state.owned.items() if k not in moved}
        owned_now.update(owned)
        new = SiteState(
            options,
            state.target,
            versions,
            incidents,
            digests,
            owned_now,
            record.languages,
            _drill_only(record),
            state.memo,
        )
        published = Published(
            path=out,
            target=state.target,
            incidents=len(record.incidents),
            statements=sum(len(i.statements) for i in record.incidents),
            files=len(digests),
            changed=False,
        )
        if not written and digests.keys() == state.digests.keys():
            return published, new
        new.target = Path(os.path.realpath(_swap_changed(out, state.target, digests, written)))
        return Published(**{**published.__dict__, "target": new.target, "changed": True}), new


def _full(
    store: Store, out: Path, options: SiteOptions, versions: dict[str, int]
) -> tuple[Published, SiteState]:
    """A full build, and the state that lets the next republish be incremental."""
    record = read_record(store)
    memo = SiteMemo()
    files, owned = site_parts(record, options, memo)
    target, changed = swap_in(files, out, locked=True)
    state = SiteState(
        options,
        Path(os.path.realpath(target)),
        versions,
        {i.id: i for i in record.incidents},
        {path: content_digest(content) for path, content in files.items()},
        owned,
        record.languages,
        _drill_only(record),
        memo,
    )
    published = Published(
        path=out,
        target=target,
        incidents=len(record.incidents),
        statements=sum(len(i.statements) for i in record.incidents),
        files=len(files),
        changed=changed,
    )
    return published, state


def _swap_changed(
    out: Path, live: Path, digests: dict[str, bytes], written: dict[str, bytes]
) -> Path:
    """A new folder: hard links to the live folder's unchanged files, the `written` ones
    new; then the link swapped. Returns the new folder."""
    parent = prepare_out(out)
    target = parent / f".{out.name}.{site_digest(digests)}"
    if target == live:
        return live
    staging = parent / f".{out.name}.tmp-{os.getpid()}"
    for stale in (staging, target):
        if stale.exists():
            shutil.rmtree(stale)  # a half-written folder of a run that died
    try:
        staging.mkdir()
        by_folder: dict[str, list[str]] = {}
        for path in digests:
            folder, _slash, name = path.rpartition("/")
            names = by_folder.setdefault(folder, [])
            if path not in written:
                names.append(name)
        for folder in sorted(by_folder.keys() - {""}):
            (staging / folder).mkdir(parents=True, exist_ok=True)
        for folder, names in by_folder.items():
            source = os.open(live / folder, os.O_RDONLY | os.O_DIRECTORY)
            into = os.open(staging / folder, os.O_RDONLY | os.O_DIRECTORY)
            try:
                for name in names:
                    os.link(name, name, src_dir_fd=source, dst_dir_fd=into)
            finally:
                os.close(source)
                os.close(into)
        for path, content in written.items():
            write_file(staging / path, content)
        staging.rename(target)
        switch_link(out, target)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise UsageError(
            _("cannot write the site to {path}: {reason}").format(
                path=out, reason=error.strerror or error
            )
        ) from None
    if live.name.startswith(f".{out.name}.") and live != target:
        # no reader is sent there any more: removed beside the caller's next steps
        threading.Thread(target=shutil.rmtree, args=(live, True), daemon=False).start()
    return target


class SiteRepublisher:
    """What `serve` hands its `site` channels: republishes a site from `store`, keeping
    each site's state between deliveries so that only the first build is a full one."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.states: dict[tuple[Path, SiteOptions], SiteState] = {}

    def __call__(self, out: Path, base_url: str) -> Published:
        """Bring the site at `out` (public address `base_url`) up to date."""
        options = SiteOptions(base_url=base_url)
        key = (out.absolute(), options)
        done, self.states[key] = republish(
            store=self.store, out=out, options=options, state=self.states.get(key)
        )
        return done
