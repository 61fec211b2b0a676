"""The whole public site as bytes, and the swap that puts a new one in place at once.

Layout (every link relative, so the folder works from any address or from disk):

    index.html                 the languages
    LANG/index.html            current and recent incidents
    LANG/INC-2026-0001.html    one incident: its released statements, newest first
    LANG/archive.html          the months; LANG/2026-04.html the statements of one month
    LANG/feed.xml              Atom (RFC 4287), the newest statements
    cap/INC-2026-0001-holding-v1.xml   one CAP 1.2 message per released statement

`--out DIR` is a symbolic link to a sibling folder named by the site's content hash
(`.DIR.3f2a...`): a new site is written in full beside the old one, then the link is
replaced in one `os.replace`, so a reader sees the old site or the new one, never half.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from crisiscomm.errors import UsageError
from crisiscomm.i18n import LANGUAGE_NAMES, _
from crisiscomm.publish.cap import cap_messages, cap_path
from crisiscomm.publish.notices import notice_text, notice_view
from crisiscomm.publish.pages import CSS, SiteOptions, local_time, render, rfc3339, words
from crisiscomm.publish.record import PublicIncident, PublicRecord, PublicStatement, read_record

if TYPE_CHECKING:
    from crisiscomm.store import Store

__all__ = [
    "Published",
    "changed_files",
    "local_time_month",
    "prepare_out",
    "publish",
    "site_files",
    "site_lock",
    "site_parts",
    "swap_in",
    "switch_link",
    "write_file",
]

RECENT = 20  # closed incidents on the front page; the archive has them all
FEED_ENTRIES = 50  # statements in a feed; the archive has them all
SUMMARY_LENGTH = 240


@dataclass(frozen=True)
class Published:
    """What one `publish` did."""

    path: Path  # the folder readers see (the link)
    target: Path  # the folder it points to now
    incidents: int
    statements: int
    files: int
    changed: bool  # False when the site was already exactly so


def _alternates(codes: list[str], page: str, *, prefix: str = "../") -> list[dict[str, str]]:
    return [
        {"code": c, "name": LANGUAGE_NAMES.get(c, c), "href": f"{prefix}{c}/{page}"} for c in codes
    ]


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]


def _summary(text: str) -> str:
    first = (_paragraphs(text) or [""])[0]
    return first if len(first) <= SUMMARY_LENGTH else first[: SUMMARY_LENGTH - 1] + "…"


class _View(dict[str, Any]):
    """A page's data: Jinja reads `view.name` as an attribute first. The dict is its own
    attribute namespace, so that read is found at once, where a plain dict (or a
    `__getattr__` fallback) costs a failed attribute lookup for every field on every page."""

    def __init__(self, *args: Any, **fields: Any) -> None:
        super().__init__(*args, **fields)
        self.__dict__ = self


class _Site:
    """Renders the pages of one record; `files` maps a path in the site to its bytes and
    `owned` each incident to the paths of its own pages and CAP messages."""

    def __init__(self, record: PublicRecord, options: SiteOptions) -> None:
        self.record = record
        self.options = options
        self.files: dict[str, bytes] = {}
        self.owned: dict[str, tuple[str, ...]] = {}
        self.views: dict[tuple[str, str], Any] = {}
        self.codes = list(record.languages)
        self.drill_only = record.exercise or (
            bool(record.incidents) and all(i.exercise for i in record.incidents)
        )
        self.by_id = {i.id: i for i in record.incidents}
        self.titles = {c: words(c, options.title)["site"] for c in self.codes}
        # language -> month -> statements, and language -> statements, newest first
        self.months: dict[str, dict[str, list[PublicStatement]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self.newest: dict[str, list[PublicStatement]] = defaultdict(list)
        for statement in record.statements:
            incident = self.by_id[statement.incident_id]
            month = local_time_month(statement, incident.timezone)
            for code in incident.languages:
                if code in statement.texts:
                    self.months[code][month].append(statement)
                    self.newest[code].append(statement)

    def common(self, code: str, page: str, codes: list[str], **extra: Any) -> dict[str, Any]:
        w = words(code, self.options.title)
        return {
            "lang": code,
            "w": w,
            "site_title": w["site"],
            "css": CSS,
            "home": "index.html",
            "feed": "feed.xml",
            "archive": "archive.html",
            "alternates": _alternates(codes, page) if len(codes) > 1 else [],
            "exercise": self.drill_only,
            **extra,
        }

    def statement_view(self, s: PublicStatement, code: str) -> Any:
        known = self.views.get((s.key, code))
        if known is None:
            incident = self.by_id[s.incident_id]
            known = self.views[s.key, code] = self._statement_view(s, incident, code)
        return known

    def _statement_view(self, s: PublicStatement, incident: PublicIncident, code: str) -> Any:
        zone = incident.timezone
        return _View(
            {
                "key": s.key,
                "title": s.titles[code],
                "name": incident.names.get(code, incident.playbook_id),
                "incident_id": incident.id,
                "exercise": incident.exercise,
                "href": f"{incident.id}.html#{s.key}",
                "cap": f"../{cap_path(s)}",
                "released": local_time(s.released_at, code, zone),
                "released_iso": rfc3339(s.released_at),
                "paragraphs": _paragraphs(s.texts[code]),
                "text": s.texts[code],
                "next_update": local_time(s.next_update_at, code, zone) if s.next_update_at else "",
                "next_update_iso": rfc3339(s.next_update_at) if s.next_update_at else "",
                "hotline": s.hotline.get(code, ""),
                **notice_view(s, code, zone, self.options.title),
            }
        )

    def incident_files(self, incident: PublicIncident) -> None:
        """The incident's pages in each language and its CAP messages."""
        codes = list(incident.languages)
        paths = []
        for code in codes:
            w = words(code, self.options.title)
            newest_first = [s for s in reversed(incident.statements) if code in s.texts]
            page = f"{incident.id}.html"
            paths.append(f"{code}/{page}")
            self.files[f"{code}/{page}"] = render(
                "incident.html",
                **self.common(code, page, codes, exercise=incident.exercise),
                name=incident.names.get(code, incident.playbook_id),
                incident_id=incident.id,
                status=w["closed"] if incident.closed else w["ongoing"],
                statements=[self.statement_view(s, code) for s in newest_first],
            )
        messages = cap_messages(incident, self.options, self.titles)
        self.files.update(messages)
        self.owned[incident.id] = (*paths, *messages)

    def front_page(self, code: str) -> None:
        w = words(code, self.options.title)
        items = []
        for incident in self.record.incidents:
            latest = next((s for s in reversed(incident.statements) if code in s.texts), None)
            if latest is None:
                continue
            items.append(
                _View(
                    {
                        "id": incident.id,
                        "closed": incident.closed,
                        "exercise": incident.exercise,
                        "name": incident.names.get(code, incident.playbook_id),
                        "href": f"{incident.id}.html",
                        "status": w["closed"] if incident.closed else w["ongoing"],
                        "updated": local_time(latest.released_at, code, incident.timezone),
                        "updated_iso": rfc3339(latest.released_at),
                        "summary": notice_text(latest, code, incident.timezone, self.options.title)
                        or _summary(latest.texts[code]),
                    }
                )
            )
        self.files[f"{code}/index.html"] = render(
            "index.html",
            **self.common(code, "index.html", self.codes),
            current=[i for i in items if not i["closed"]],
            recent=[i for i in items if i["closed"]][:RECENT],
        )

    def archive(self, code: str, only: set[str] | None = None) -> None:
        """The language's archive page and its month pages (all, or the months `only`)."""
        w = words(code, self.options.title)
        by_month = self.months[code]
        months = sorted(by_month, reverse=True)
        self.files[f"{code}/archive.html"] = render(
            "archive.html",
            **self.common(code, "archive.html", self.codes),
            heading=w["archive"],
            months=[
                _View({"href": f"{m}.html", "label": m, "count": len(by_month[m])}) for m in months
            ],
            statements=[],
        )
        for month in months if only is None else sorted(only & set(by_month), reverse=True):
            page = f"{month}.html"
            codes = [c for c in self.codes if month in self.months.get(c, {})]
            self.files[f"{code}/{page}"] = render(
                "archive.html",
                **self.common(code, page, codes),
                heading=w["month"].format(month=month),
                months=[],
                statements=[self.statement_view(s, code) for s in by_month[month]],
            )

    def feed(self, code: str) -> None:
        base = self.options.base_url.rstrip("/")
        at = f"{base}/{code}/" if base else ""
        sender = self.options.sender
        entries = []
        # a withdrawal or a correction moves an entry up: its `updated` is when it changed
        newest = sorted(self.newest[code], key=lambda s: s.updated_at, reverse=True)
        for statement in newest[:FEED_ENTRIES]:
            view = self.statement_view(statement, code)
            entries.append(
                _View(
                    {
                        **view,
                        "id": f"urn:crisiscomm:{sender}:{view['key']}:{code}",
                        "updated": view["updated_iso"],
                        "href": at + view["href"],
                        "cap": at + view["cap"],
                    }
                )
            )
        w = words(code, self.options.title)
        self.files[f"{code}/feed.xml"] = render(
            "feed.xml",
            lang=code,
            w=w,
            site_title=w["site"],
            feed_id=f"urn:crisiscomm:{sender}:feed:{code}",
            updated=entries[0]["updated"],
            self_href=at + "feed.xml",
            home_href=at + "index.html",
            entries=entries,
        )

    def shared(self, months: set[str] | None = None) -> None:
        """The pages every release changes: front pages, archives, feeds, the languages;
        and the month pages (all, or the months `months`)."""
        for code in self.codes:
            self.front_page(code)
            self.archive(code, months)
            self.feed(code)
        first = self.codes[0] if self.codes else "en"
        self.files["index.html"] = render(
            "languages.html",
            lang=first,
            site_title=" · ".join(dict.fromkeys(self.titles.values())) or words(first)["site"],
            css=CSS,
            alternates=_alternates(self.codes, "index.html", prefix=""),
            exercise=self.drill_only,
            w=words(first, self.options.title),
        )

    def build(self) -> dict[str, bytes]:
        for incident in self.record.incidents:
            self.incident_files(incident)
        self.shared()
        return dict(sorted(self.files.items()))


def local_time_month(statement: PublicStatement, zone: str) -> str:
    """The month a statement was released in, in its incident's zone: `2026-04`."""
    return _month(statement.released_at, zone)


@lru_cache(maxsize=65536)
def _month(moment: datetime, zone: str) -> str:
    local = moment.astimezone(ZoneInfo(zone))  # ZoneInfo keeps its own cache
    return f"{local.year:04d}-{local.month:02d}"


def site_files(record: PublicRecord, options: SiteOptions) -> dict[str, bytes]:
    """Every file of the site by its path, in path order: the same record, the same bytes."""
    return _Site(record, options).build()


def site_parts(
    record: PublicRecord, options: SiteOptions
) -> tuple[dict[str, bytes], dict[str, tuple[str, ...]]]:
    """Every file of the site, and each incident's own files (its pages, its CAP messages)."""
    site = _Site(record, options)
    return site.build(), site.owned


def changed_files(
    record: PublicRecord, options: SiteOptions, *, incidents: set[str], months: set[str]
) -> tuple[dict[str, bytes], dict[str, tuple[str, ...]]]:
    """The files a change to `incidents` can alter: their own files, the month pages of
    `months`, and the pages every release changes; exactly as `site_files` renders them."""
    site = _Site(record, options)
    for incident_id in sorted(incidents):
        if incident_id in site.by_id:
            site.incident_files(site.by_id[incident_id])
    site.shared(months)
    return site.files, site.owned


def _digest(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for path, content in files.items():
        digest.update(path.encode("utf-8") + b"\0" + hashlib.sha256(content).digest())
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
    name = f".{out.name}.{_digest(files)}"
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


def publish(
    *, store: Store, out: Path, options: SiteOptions | None = None, exercise: bool = False
) -> Published:
    """Build the public site from the database and swap it in at `out`; with `exercise`,
    the exercise site of the drills' incidents (the real site never holds them)."""
    record = read_record(store, exercise=exercise)
    files = site_files(record, options or SiteOptions())
    target, changed = swap_in(files, out)
    return Published(
        path=out,
        target=target,
        incidents=len(record.incidents),
        statements=sum(len(i.statements) for i in record.incidents),
        files=len(files),
        changed=changed,
    )
