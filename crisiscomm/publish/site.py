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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crisiscomm.errors import UsageError
from crisiscomm.i18n import LANGUAGE_NAMES, _
from crisiscomm.publish.cap import cap_messages, cap_path
from crisiscomm.publish.pages import CSS, SiteOptions, local_time, render, rfc3339, words
from crisiscomm.publish.record import PublicIncident, PublicRecord, PublicStatement, read_record

if TYPE_CHECKING:
    from crisiscomm.store import Store

__all__ = ["Published", "publish", "site_files", "swap_in"]

RECENT = 20  # closed incidents on the front page; the archive has them all
FEED_ENTRIES = 50  # statements in a feed; the archive has them all
SUMMARY_LENGTH = 240
WRITERS = 4


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


class _Site:
    """Renders the pages of one record; `files` maps a path in the site to its bytes."""

    def __init__(self, record: PublicRecord, options: SiteOptions) -> None:
        self.record = record
        self.options = options
        self.files: dict[str, bytes] = {}
        self.views: dict[tuple[str, str], Any] = {}
        self.codes = list(record.languages)
        self.drill_only = bool(record.incidents) and all(i.exercise for i in record.incidents)

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

    def statement_view(self, s: PublicStatement, incident: PublicIncident, code: str) -> Any:
        known = self.views.get((s.key, code))
        if known is None:
            known = self.views[s.key, code] = self._statement_view(s, incident, code)
        return known

    def _statement_view(self, s: PublicStatement, incident: PublicIncident, code: str) -> Any:
        zone = incident.timezone
        return {
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
        }

    def incident_pages(self, incident: PublicIncident) -> None:
        codes = list(incident.languages)
        for code in codes:
            w = words(code, self.options.title)
            newest_first = [s for s in reversed(incident.statements) if code in s.texts]
            page = f"{incident.id}.html"
            self.files[f"{code}/{page}"] = render(
                "incident.html",
                **self.common(code, page, codes, exercise=incident.exercise),
                name=incident.names.get(code, incident.playbook_id),
                incident_id=incident.id,
                status=w["closed"] if incident.closed else w["ongoing"],
                statements=[self.statement_view(s, incident, code) for s in newest_first],
            )

    def front_page(self, code: str) -> None:
        w = words(code, self.options.title)
        items = []
        for incident in self.record.incidents:
            latest = next((s for s in reversed(incident.statements) if code in s.texts), None)
            if latest is None:
                continue
            items.append(
                {
                    "id": incident.id,
                    "closed": incident.closed,
                    "exercise": incident.exercise,
                    "name": incident.names.get(code, incident.playbook_id),
                    "href": f"{incident.id}.html",
                    "status": w["closed"] if incident.closed else w["ongoing"],
                    "updated": local_time(latest.released_at, code, incident.timezone),
                    "updated_iso": rfc3339(latest.released_at),
                    "summary": _summary(latest.texts[code]),
                }
            )
        self.files[f"{code}/index.html"] = render(
            "index.html",
            **self.common(code, "index.html", self.codes),
            current=[i for i in items if not i["closed"]],
            recent=[i for i in items if i["closed"]][:RECENT],
        )

    def archive(self, code: str, by_month: dict[str, list[Any]]) -> None:
        w = words(code, self.options.title)
        months = sorted(by_month, reverse=True)
        self.files[f"{code}/archive.html"] = render(
            "archive.html",
            **self.common(code, "archive.html", self.codes),
            heading=w["archive"],
            months=[{"href": f"{m}.html", "label": m, "count": len(by_month[m])} for m in months],
            statements=[],
        )
        for month in months:
            page = f"{month}.html"
            codes = [c for c in self.codes if month in self.months.get(c, {})]
            self.files[f"{code}/{page}"] = render(
                "archive.html",
                **self.common(code, page, codes),
                heading=w["month"].format(month=month),
                months=[],
                statements=by_month[month],
            )

    def feed(self, code: str, views: list[Any]) -> None:
        base = self.options.base_url.rstrip("/")
        at = f"{base}/{code}/" if base else ""
        sender = self.options.sender
        entries = [
            {
                **view,
                "id": f"urn:crisiscomm:{sender}:{view['key']}:{code}",
                "updated": view["released_iso"],
                "href": at + view["href"],
                "cap": at + view["cap"],
            }
            for view in views[:FEED_ENTRIES]
        ]
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

    def build(self) -> dict[str, bytes]:
        by_id = {i.id: i for i in self.record.incidents}
        self.months: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        newest: dict[str, list[Any]] = defaultdict(list)
        for statement in self.record.statements:  # newest first
            incident = by_id[statement.incident_id]
            month = local_time_month(statement, incident.timezone)
            for code in incident.languages:
                if code in statement.texts:
                    view = self.statement_view(statement, incident, code)
                    self.months[code][month].append(view)
                    newest[code].append(view)
        titles = {c: words(c, self.options.title)["site"] for c in self.codes}
        for incident in self.record.incidents:
            self.incident_pages(incident)
            self.files.update(cap_messages(incident, self.options, titles))
        for code in self.codes:
            self.front_page(code)
            self.archive(code, self.months[code])
            self.feed(code, newest[code])
        first = self.codes[0] if self.codes else "en"
        self.files["index.html"] = render(
            "languages.html",
            lang=first,
            site_title=" · ".join(dict.fromkeys(titles.values())) or words(first)["site"],
            css=CSS,
            alternates=_alternates(self.codes, "index.html", prefix=""),
        )
        return dict(sorted(self.files.items()))


def local_time_month(statement: PublicStatement, zone: str) -> str:
    """The month a statement was released in, in its incident's zone: `2026-04`."""
    from zoneinfo import ZoneInfo

    return statement.released_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m")


def site_files(record: PublicRecord, options: SiteOptions) -> dict[str, bytes]:
    """Every file of the site by its path, in path order: the same record, the same bytes."""
    return _Site(record, options).build()


def _digest(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for path, content in files.items():
        digest.update(path.encode("utf-8") + b"\0" + hashlib.sha256(content).digest())
    return digest.hexdigest()[:16]


def _write_tree(folder: Path, files: dict[str, bytes]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    folder.mkdir()
    for parent in sorted({os.path.dirname(path) for path in files} - {""}):
        (folder / parent).mkdir(parents=True, exist_ok=True)

    def write(item: tuple[str, bytes]) -> None:
        with open(folder / item[0], "wb") as file:
            file.write(item[1])

    # thousands of small files: the file system's per-file cost overlaps across threads
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        list(pool.map(write, files.items(), chunksize=256))


def swap_in(files: dict[str, bytes], out: Path) -> tuple[Path, bool]:
    """Write the site beside `out` and point the link `out` at it in one step.

    Returns the folder the link points to and whether anything changed. `out` must be a
    link this command made, or absent, or an empty folder; anything else is refused.
    """
    out = out.absolute()
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
        link = parent / f".{out.name}.link-{os.getpid()}"
        if link.is_symlink():
            link.unlink()
        link.symlink_to(name, target_is_directory=True)
        os.replace(link, out)  # the one step readers can see
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


def publish(*, store: Store, out: Path, options: SiteOptions | None = None) -> Published:
    """Build the public site from the database and swap it in at `out`."""
    record = read_record(store)
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
