"""The whole public site as bytes: the same record gives the same bytes.

Layout (every link relative, so the folder works from any address or from disk):

    index.html                 the languages
    LANG/index.html            current and recent incidents
    LANG/INC-2026-0001.html    one incident: its released statements, newest first
    LANG/archive.html          the months; LANG/2026-04.html the statements of one month
    LANG/feed.xml              Atom (RFC 4287), the newest statements
    cap/INC-2026-0001-holding-v1.xml   one CAP 1.2 message per released statement

What is derived from one incident for the shared pages (its statements' lines on the month
pages, its line on the front page, its months, its feed candidates) is kept in a
`SiteMemo` under the incident's id, valid while the incident is the same object: a
republish (incremental.py) keeps the memo and the unchanged incidents, so it derives again
only what the changed incident touches.

A full build of a large record renders half of the incidents' own pages and CAP messages
in a forked process (the other core) while this one renders the rest and the shared pages;
a process that cannot fork, has other threads (`serve`) or whose helper dies renders them
itself: the bytes are the same either way. `folder.py` puts the files in place.
"""

from __future__ import annotations

import heapq
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from crisiscomm.formats.numbers import integer_text
from crisiscomm.i18n import LANGUAGE_NAMES
from crisiscomm.publish.cap import cap_messages, cap_path
from crisiscomm.publish.folder import swap_in
from crisiscomm.publish.notices import notice_text, notice_view
from crisiscomm.publish.pages import (
    CSS,
    SiteOptions,
    interface_language,
    local_time,
    macro,
    month_name,
    render,
    rfc3339,
    words,
)
from crisiscomm.publish.record import PublicIncident, PublicRecord, PublicStatement, read_record

if TYPE_CHECKING:
    from crisiscomm.store import Store

__all__ = [
    "Published",
    "SiteMemo",
    "changed_files",
    "local_time_month",
    "publish",
    "site_files",
    "site_parts",
]

RECENT = 20  # closed incidents on the front page; the archive has them all
FEED_ENTRIES = 50  # statements in a feed; the archive has them all
SUMMARY_LENGTH = 240
PARALLEL_FROM = 200  # incidents from which a full build renders on two cores


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


def _capitalised(text: str) -> str:
    """A list's first word capitalised: `Март 2027 г.` (a month alone in a list)."""
    return text[:1].upper() + text[1:]


def _newest_first(statement: PublicStatement) -> tuple[datetime, str, str, int]:
    """The record's order of statements (`PublicRecord.statements`), as a sort key."""
    return (statement.released_at, statement.incident_id, statement.statement, statement.version)


class _View(dict[str, Any]):
    """A page's data: Jinja reads `view.name` as an attribute first. The dict is its own
    attribute namespace, so that read is found at once, where a plain dict (or a
    `__getattr__` fallback) costs a failed attribute lookup for every field on every page."""

    def __init__(self, *args: Any, **fields: Any) -> None:
        super().__init__(*args, **fields)
        self.__dict__ = self

    def __reduce__(self) -> tuple[Any, ...]:
        # sent back from the process that rendered it as what it is: a dict of fields
        return (_View, (dict(self),))


class SiteMemo:
    """What was derived from each incident for the pages, by incident id; an entry is
    valid while its incident is the same object (a changed incident is a new one)."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[PublicIncident, dict[Any, Any]]] = {}

    def of(self, incident: PublicIncident) -> dict[Any, Any]:
        """The incident's derived values (empty when it is new or changed)."""
        entry = self._entries.get(incident.id)
        if entry is None or entry[0] is not incident:
            entry = self._entries[incident.id] = (incident, {})
        return entry[1]

    def adopt(self, incident: PublicIncident, derived: dict[Any, Any]) -> None:
        """Take what another process derived from `incident` (its copy of it)."""
        self._entries[incident.id] = (incident, derived)

    def forget(self, incident_ids: Iterable[str]) -> None:
        """Drop what was derived from these incidents (changed or gone)."""
        for incident_id in incident_ids:
            self._entries.pop(incident_id, None)


class _Site:
    """Renders the pages of one record; `files` maps a path in the site to its bytes and
    `owned` each incident to the paths of its own pages and CAP messages."""

    def __init__(
        self, record: PublicRecord, options: SiteOptions, memo: SiteMemo | None = None
    ) -> None:
        self.record = record
        self.options = options
        self.memo = memo if memo is not None else SiteMemo()
        self.files: dict[str, bytes] = {}
        self.owned: dict[str, tuple[str, ...]] = {}
        self.views: dict[tuple[str, str], Any] = {}
        self.codes = list(record.languages)
        self.drill_only = record.exercise or (
            bool(record.incidents) and all(i.exercise for i in record.incidents)
        )
        self.by_id = {i.id: i for i in record.incidents}
        self.titles = {c: words(c, options.title)["site"] for c in self.codes}
        self._month_index: dict[str, dict[str, list[list[PublicStatement]]]] | None = None

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

    def _derived(
        self, incident: PublicIncident, key: Any, make: Callable[..., Any], *args: Any
    ) -> Any:
        """`make(*args)`, derived once from `incident` (kept in the memo under `key`)."""
        known = self.memo.of(incident)
        if key not in known:
            known[key] = make(*args)
        return known[key]

    def statement_view(self, s: PublicStatement, code: str) -> Any:
        # kept for this build only: a republish renders the pages of changed incidents
        # alone, and the views of all would hold every text twice in `serve`'s memory
        known = self.views.get((s.key, code))
        if known is None:
            incident = self.by_id[s.incident_id]
            known = self.views[s.key, code] = self._statement_view(s, incident, code)
        return known

    def _statement_view(self, s: PublicStatement, incident: PublicIncident, code: str) -> Any:
        zone = incident.timezone
        return _View(
            {
                **self._item(s, incident, code),
                "key": s.key,
                "cap": f"../{cap_path(s)}",
                "paragraphs": _paragraphs(s.texts[code]),
                "text": s.texts[code],
                "next_update": local_time(s.next_update_at, code, zone) if s.next_update_at else "",
                "next_update_iso": rfc3339(s.next_update_at) if s.next_update_at else "",
                "hotline": s.hotline.get(code, ""),
                **notice_view(s, code, zone, self.options.title),
            }
        )

    def statement_line(self, s: PublicStatement, code: str) -> Any:
        """A month page's line for a statement, rendered once."""
        incident = self.by_id[s.incident_id]
        return self._derived(incident, ("line", s.key, code), self._statement_line, s, code)

    def _statement_line(self, s: PublicStatement, code: str) -> Any:
        # the view's first fields are all the line needs: the whole view where it was made
        incident = self.by_id[s.incident_id]
        view = self.views.get((s.key, code))
        if view is None:
            view = self._item(s, incident, code)
        return macro("lines.html", "statement_line")(view, words(code, self.options.title))

    def _item(self, s: PublicStatement, incident: PublicIncident, code: str) -> dict[str, Any]:
        return {
            "title": s.titles[code],
            "name": incident.names.get(code, incident.playbook_id),
            "incident_id": incident.id,
            "exercise": incident.exercise,
            "href": f"{incident.id}.html#{s.key}",
            "released": local_time(s.released_at, code, incident.timezone),
            "released_iso": rfc3339(s.released_at),
        }

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

    def _front_item(self, incident: PublicIncident, code: str) -> Any:
        latest = next((s for s in reversed(incident.statements) if code in s.texts), None)
        if latest is None:
            return None
        w = words(code, self.options.title)
        item = _View(
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
        item["line"] = macro("lines.html", "incident_line")(item, w)
        return item

    def front_page(self, code: str) -> None:
        items = []
        for incident in self.record.incidents:
            item = self._derived(incident, ("front", code), self._front_item, incident, code)
            if item is not None:
                items.append(item)
        self.files[f"{code}/index.html"] = render(
            "index.html",
            **self.common(code, "index.html", self.codes),
            current=[i for i in items if not i["closed"]],
            recent=[i for i in items if i["closed"]][:RECENT],
        )

    def months(self) -> dict[str, dict[str, list[list[PublicStatement]]]]:
        """Language -> month -> each incident's statements released that month."""
        if self._month_index is None:
            index: dict[str, dict[str, list[list[PublicStatement]]]] = {}
            for incident in self.record.incidents:
                mine = self._derived(incident, "months", _months_of, incident)
                for code, months in mine.items():
                    into = index.setdefault(code, {})
                    for month, statements in months.items():
                        into.setdefault(month, []).append(statements)
            self._month_index = index
        return self._month_index

    def archive(self, code: str, only: set[str] | None = None) -> None:
        """The language's archive page and its month pages (all, or the months `only`)."""
        w = words(code, self.options.title)
        by_month = self.months().get(code, {})
        months = sorted(by_month, reverse=True)
        self.files[f"{code}/archive.html"] = render(
            "archive.html",
            **self.common(code, "archive.html", self.codes),
            heading=w["archive"],
            months=[
                _View(
                    {
                        "href": f"{m}.html",
                        "label": _capitalised(month_name(m, code)),
                        "count": integer_text(sum(map(len, by_month[m])), interface_language(code)),
                    }
                )
                for m in months
            ],
            lines=[],
        )
        for month in months if only is None else sorted(only & set(by_month), reverse=True):
            page = f"{month}.html"
            codes = [c for c in self.codes if month in self.months().get(c, {})]
            statements = sorted(
                (s for part in by_month[month] for s in part), key=_newest_first, reverse=True
            )
            self.files[f"{code}/{page}"] = render(
                "archive.html",
                **self.common(code, page, codes),
                heading=w["month"].format(month=month_name(month, code)),
                months=[],
                lines=[self.statement_line(s, code) for s in statements],
            )

    def feed(self, code: str) -> None:
        base = self.options.base_url.rstrip("/")
        at = f"{base}/{code}/" if base else ""
        sender = self.options.sender
        # a withdrawal or a correction moves an entry up: its `updated` is when it changed
        candidates = (
            candidate
            for incident in self.record.incidents
            for candidate in self._derived(
                incident, ("feed", code), _feed_candidates, incident, code
            )
        )
        entries = []
        for _key, statement in heapq.nlargest(FEED_ENTRIES, candidates, key=lambda c: c[0]):
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

    def incident_parts(self, incident: PublicIncident) -> None:
        """The incident's own files, and what the shared pages take from it (its months,
        its lines on the front and month pages, its feed candidates), derived into the memo."""
        self.incident_files(incident)
        for code in self.codes:
            self._derived(incident, ("front", code), self._front_item, incident, code)
        for code in incident.languages:
            self._derived(incident, ("feed", code), _feed_candidates, incident, code)
        months = self._derived(incident, "months", _months_of, incident)
        for code, by_month in months.items():
            for statements in by_month.values():
                for statement in statements:
                    self.statement_line(statement, code)

    def build(self, *, workers: int | None = None) -> dict[str, bytes]:
        incidents = self.record.incidents
        if _parallel(workers, len(incidents)):
            half = len(incidents) // 2
            apart = _render_apart(self, incidents[half:])
            for incident in incidents[:half]:
                self.incident_parts(incident)
            apart()
        else:
            for incident in incidents:
                self.incident_parts(incident)
        self.shared()
        return dict(sorted(self.files.items()))


def _months_of(incident: PublicIncident) -> dict[str, dict[str, list[PublicStatement]]]:
    """Language -> month -> the incident's statements released in it that month."""
    found: dict[str, dict[str, list[PublicStatement]]] = {}
    for statement in incident.statements:
        month = local_time_month(statement, incident.timezone)
        for code in incident.languages:
            if code in statement.texts:
                found.setdefault(code, {}).setdefault(month, []).append(statement)
    return found


def _feed_candidates(
    incident: PublicIncident, code: str
) -> list[tuple[tuple[datetime, datetime, str, str, int], PublicStatement]]:
    """The incident's statements in `code`, each with its place in a feed: newest change
    first, then the record's order (the sort key is unique, so the order is total)."""
    return [((s.updated_at, *_newest_first(s)), s) for s in incident.statements if code in s.texts]


def _parallel(workers: int | None, incidents: int) -> bool:
    """Whether to render on a second core: asked for, or a large record on a machine
    with one to spare, where forking is safe (no other thread may hold a lock)."""
    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return False
    if workers is not None:
        return workers > 1
    return incidents >= PARALLEL_FROM and (os.cpu_count() or 1) > 1


def _render_apart(site: _Site, incidents: Iterable[PublicIncident]) -> Callable[[], None]:
    """Start rendering `incidents`' parts (`_Site.incident_parts`) in a forked process; the
    function returned waits for them and adds them to `site` and its memo (rendering them
    here if the process failed)."""
    chunk = tuple(incidents)
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)

    def render_chunk() -> None:
        # the fork's copy of `site` has no files yet: only this chunk's are sent
        for incident in chunk:
            site.incident_parts(incident)
        # the lines and front-page items are rendered text, worth sending; the months and
        # feed candidates are references to the statements, quicker made again there
        derived = {
            incident.id: {
                key: value
                for key, value in site.memo.of(incident).items()
                if isinstance(key, tuple) and key[0] in ("line", "front")
            }
            for incident in chunk
        }
        sending.send((site.files, site.owned, derived))

    process = context.Process(target=render_chunk, daemon=True)
    process.start()
    sending.close()

    def wait() -> None:
        try:
            files, owned, derived = receiving.recv()
        except (EOFError, OSError):  # the process died: its share is rendered here
            files, owned, derived = {}, {}, {}
        finally:
            receiving.close()
            process.join()
        if (
            process.exitcode != 0
            or set(owned) != {i.id for i in chunk}
            or set(derived) != set(owned)
        ):
            for incident in chunk:
                site.incident_parts(incident)
            return
        site.files.update(files)
        site.owned.update(owned)
        for incident in chunk:
            site.memo.adopt(incident, derived[incident.id])

    return wait


def local_time_month(statement: PublicStatement, zone: str) -> str:
    """The month a statement was released in, in its incident's zone: `2026-04`."""
    return _month(statement.released_at, zone)


@lru_cache(maxsize=65536)
def _month(moment: datetime, zone: str) -> str:
    local = moment.astimezone(ZoneInfo(zone))  # ZoneInfo keeps its own cache
    return f"{local.year:04d}-{local.month:02d}"


def site_files(
    record: PublicRecord, options: SiteOptions, *, workers: int | None = None
) -> dict[str, bytes]:
    """Every file of the site by its path, in path order: the same record, the same bytes.
    `workers`: 1 renders in this process only, 2 on two cores; by default two for a large
    record where that is safe."""
    return _Site(record, options).build(workers=workers)


def site_parts(
    record: PublicRecord, options: SiteOptions, memo: SiteMemo | None = None
) -> tuple[dict[str, bytes], dict[str, tuple[str, ...]]]:
    """Every file of the site, and each incident's own files (its pages, its CAP messages)."""
    site = _Site(record, options, memo)
    return site.build(), site.owned


def changed_files(
    record: PublicRecord,
    options: SiteOptions,
    *,
    incidents: set[str],
    months: set[str],
    memo: SiteMemo | None = None,
) -> tuple[dict[str, bytes], dict[str, tuple[str, ...]]]:
    """The files a change to `incidents` can alter: their own files, the month pages of
    `months`, and the pages every release changes; exactly as `site_files` renders them."""
    site = _Site(record, options, memo)
    for incident_id in sorted(incidents):
        if incident_id in site.by_id:
            site.incident_files(site.by_id[incident_id])
    site.shared(months)
    return site.files, site.owned


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
