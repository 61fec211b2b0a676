"""`crisiscomm publish`: only released statements, escaped, valid Atom and CAP, same bytes."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from crisiscomm.cli import main
from crisiscomm.clock import SimulatedClock
from crisiscomm.engine import service
from crisiscomm.publish.cap import CAP_XSD
from crisiscomm.publish.pages import SiteOptions
from crisiscomm.publish.site import publish
from crisiscomm.store import Store, open_store

from .conftest import FIXTURES

PLAYBOOK = str(FIXTURES / "publish" / "press.yaml")
START = datetime(2027, 4, 12, 6, 0, tzinfo=UTC)
HOSTILE_FACT = "<script>alert('fact')</script> & <b>more</b>"
HOSTILE_TEXT = 'Evacuated. <script>steal(document.cookie)</script> <img src=x onerror="x()">'
# what must never appear anywhere in the site
INTERNAL = [
    "INTERNAL-TITLE-XYZ",  # the officer's incident title
    "NOTE-SECRET-TEXT",  # a note on the record
    "DRAFT-ONLY-TEXT",  # a drafted, never released version
    "UNRELEASED-REGION",  # an incident with nothing released
    "Aziz Karimov",
    "Dilnoza",
    "Rustam",
    "press.example.uz",  # people's e-mail addresses
    "dilnoza",
]


@dataclass
class Office:
    store: Store
    clock: SimulatedClock

    def act(self, function: object, actor: str, **kwargs: object) -> None:
        self.clock.advance(timedelta(minutes=7))
        function(store=self.store, clock=self.clock, actor=actor, **kwargs)  # type: ignore[operator]

    def open(self, title: str, *facts: str) -> str:
        self.clock.advance(timedelta(minutes=3))
        return service.open_incident(
            store=self.store,
            clock=self.clock,
            playbook_ref=PLAYBOOK,
            title=title,
            severity=None,
            facts=list(facts),
            actor="aziz",
        ).id

    def release(self, incident_id: str, statement: str, approvers: list[str]) -> None:
        for who in approvers:
            self.act(service.approve, who, incident_id=incident_id, name=statement)
        self.act(service.release_statement, "aziz", incident_id=incident_id, statement=statement)


def holding_released(office: Office, title: str, region: str) -> str:
    incident_id = office.open(title, f"region={region}", "hotline=+998 61 222-10-50")
    office.act(service.check_item, "aziz", incident_id=incident_id, item="log_source")
    office.act(service.advance, "aziz", incident_id=incident_id, trigger="confirm", note=None)
    office.act(service.draft_statement, "aziz", incident_id=incident_id, statement="holding")
    office.release(incident_id, "holding", ["dilnoza", "rustam"])
    return incident_id


def build_office(db: Path, tmp: Path) -> dict[str, str]:
    """A real database made through the service functions: two incidents with releases,
    a drill's, and one with nothing released."""
    ids: dict[str, str] = {}
    with open_store(db) as store:
        office = Office(store, SimulatedClock(START))
        first = ids["first"] = holding_released(office, "INTERNAL-TITLE-XYZ", "Nukus")
        office.act(service.add_note, "aziz", incident_id=first, text="NOTE-SECRET-TEXT")
        office.act(service.advance, "aziz", incident_id=first, trigger="publish", note=None)
        office.act(
            service.set_facts,
            "aziz",
            incident_id=first,
            assignments=["evacuated=120", f"damage={HOSTILE_FACT}"],
        )
        office.act(service.draft_statement, "aziz", incident_id=first, statement="update")
        hostile = tmp / "hostile.txt"
        hostile.write_text(HOSTILE_TEXT, encoding="utf-8")
        office.act(
            service.edit_statement,
            "aziz",
            incident_id=first,
            statement="update",
            language="en",
            file=hostile,
        )
        office.release(first, "update", ["dilnoza"])
        # a later draft that nobody released
        office.act(
            service.set_facts, "aziz", incident_id=first, assignments=["damage=DRAFT-ONLY-TEXT"]
        )
        office.act(service.draft_statement, "aziz", incident_id=first, statement="update")

        office.clock.advance(timedelta(days=30))  # the next month's archive
        ids["second"] = holding_released(office, "Another title", "Chimbay")
        ids["drill"] = holding_released(office, "EXERCISE: Amu Darya flood", "Beruniy")
        quiet = ids["quiet"] = office.open(
            "Nothing out yet", "region=UNRELEASED-REGION", "hotline=1050"
        )
        office.act(service.check_item, "aziz", incident_id=quiet, item="log_source")
        office.act(service.advance, "aziz", incident_id=quiet, trigger="confirm", note=None)
        office.act(service.draft_statement, "aziz", incident_id=quiet, statement="holding")
    return ids


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("publish")
    db = tmp / "office.db"
    ids = build_office(db, tmp)
    with open_store(db) as store:
        publish(store=store, out=tmp / "site")
    return db, tmp / "site", ids


def site_texts(site: Path) -> dict[str, str]:
    return {
        str(path.relative_to(site)): path.read_text(encoding="utf-8")
        for path in sorted(site.rglob("*"))
        if path.is_file()
    }


def test_only_released_statements_are_published(built: tuple[Path, Path, dict[str, str]]) -> None:
    _db, site, ids = built
    texts = site_texts(site)
    for path, text in texts.items():
        for internal in INTERNAL:
            assert internal not in text, (internal, path)
    assert ids["quiet"] not in "".join(texts)
    assert ids["quiet"] not in "".join(texts.values())
    page = texts[f"ru/{ids['first']}.html"]
    assert "Происшествие: Nukus. Телефон доверия: +998 61 222-10-50." in page
    # newest first, the hotline and the promised next update beside the text
    assert page.index("Обновление") < page.index("Первое сообщение")
    assert "<dd>+998 61 222-10-50</dd>" in page
    assert re.search(r'<time datetime="2027-04-12T\d\d:\d\d:00Z">', page)
    assert f"{ids['first']}-update-v2" in page and f"{ids['first']}-update-v3" not in page


def test_hostile_texts_are_published_as_text(built: tuple[Path, Path, dict[str, str]]) -> None:
    _db, site, ids = built
    for path, text in site_texts(site).items():
        assert "<script" not in text.lower(), path
        assert "<img" not in text and "<b>" not in text, path
    en = (site / "en" / f"{ids['first']}.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;steal(document.cookie)&lt;/script&gt;" in en
    ru = (site / "ru" / f"{ids['first']}.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#39;fact&#39;)&lt;/script&gt; &amp; &lt;b&gt;more&lt;/b&gt;" in ru


def test_pages_carry_languages_and_a_switcher(built: tuple[Path, Path, dict[str, str]]) -> None:
    _db, site, ids = built
    for code in ("kaa", "ru", "en"):
        page = (site / code / f"{ids['first']}.html").read_text(encoding="utf-8")
        assert page.startswith(f'<!DOCTYPE html>\n<html lang="{code}">')
        for other in ("kaa", "ru", "en"):
            assert f'<link rel="alternate" hreflang="{other}" href="../{other}/' in page
            assert f'hreflang="{other}" lang="{other}"' in page
        assert "<script" not in page and "javascript:" not in page
    months = {p.name for p in (site / "en").glob("2027-*.html")}
    assert months == {"2027-04.html", "2027-05.html"}
    # the archive names the months as each language does, and counts in its digits
    archive = (site / "ru" / "archive.html").read_text(encoding="utf-8")
    assert '<a href="2027-05.html">Май 2027\u202fг.</a> (' in archive
    may = (site / "kaa" / "2027-05.html").read_text(encoding="utf-8")
    assert "<h1>2027-jıl may ayında járiyalanǵan málimlemeler</h1>" in may
    assert "<h1>Statements released in April 2027</h1>" in (site / "en" / "2027-04.html").read_text(
        encoding="utf-8"
    )


def test_atom_feeds_parse_without_complaint(built: tuple[Path, Path, dict[str, str]]) -> None:
    import feedparser  # type: ignore[import-untyped]

    _db, site, ids = built
    for code in ("kaa", "ru", "en"):
        feed = feedparser.parse((site / code / "feed.xml").read_bytes())
        assert not feed.bozo, feed.get("bozo_exception")
        assert feed.version == "atom10"
        assert feed.feed.language == code
        assert len(feed.entries) == 3  # 2 of the first incident, 1 of the second (no drill)
        updated = [e.updated for e in feed.entries]
        assert updated == sorted(updated, reverse=True)
        assert all(e.id.startswith("urn:crisiscomm:") for e in feed.entries)
    en = feedparser.parse((site / "en" / "feed.xml").read_bytes())
    hostile = next(e for e in en.entries if ids["first"] in e.title and "Update" in e.title)
    assert "<script>steal(document.cookie)</script>" in hostile.content[0].value


def cap_dict(schema: Any, path: Path) -> dict[str, Any]:
    """A CAP message as a dict, its elements named `cap:...`."""
    decoded = schema.to_dict(str(path), namespaces={"cap": "urn:oasis:names:tc:emergency:cap:1.2"})
    assert isinstance(decoded, dict)
    return decoded


def test_cap_messages_validate_against_the_oasis_schema(
    built: tuple[Path, Path, dict[str, str]],
) -> None:
    import xmlschema

    _db, site, ids = built
    schema = xmlschema.XMLSchema(str(CAP_XSD))
    messages = sorted((site / "cap").glob("*.xml"))
    assert len(messages) == 3
    for message in messages:
        schema.validate(str(message))
    first = cap_dict(schema, site / "cap" / f"{ids['first']}-holding-v1.xml")
    update = cap_dict(schema, site / "cap" / f"{ids['first']}-update-v2.xml")
    assert first["cap:msgType"] == "Alert" and first["cap:status"] == "Actual"
    assert update["cap:msgType"] == "Update"
    assert update["cap:references"] == (
        f"crisiscomm,crisiscomm-{ids['first']}-holding-v1,{first['cap:sent']}"
    )
    assert [info["cap:language"] for info in update["cap:info"]] == ["kaa", "ru", "en"]
    assert first["cap:sent"].endswith("+05:00")
    assert first["cap:info"][0]["cap:contact"] == "+998 61 222-10-50"
    # a drill belongs to the exercise site only (test_publish_corrections.py)
    assert not (site / "cap" / f"{ids['drill']}-holding-v1.xml").exists()
    assert not (site / "en" / f"{ids['drill']}.html").exists()


def test_the_same_database_gives_the_same_bytes(
    built: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    db, site, _ids = built
    with open_store(db) as store:
        again = publish(store=store, out=tmp_path / "site")
        same = publish(store=store, out=site)
    assert not same.changed
    assert again.target.name == Path(os.readlink(site)).name
    first = {p: (site / p).read_bytes() for p in site_texts(site)}
    second = {p: (tmp_path / "site" / p).read_bytes() for p in site_texts(tmp_path / "site")}
    assert first == second


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)
            if name == "id" and value:
                self.ids.add(value)


def test_a_crawl_finds_no_broken_link(built: tuple[Path, Path, dict[str, str]]) -> None:
    _db, site, _ids = built
    pages = {p: Links() for p in sorted(site.rglob("*.html"))}
    for page, parser in pages.items():
        parser.feed(page.read_text(encoding="utf-8"))
    seen = 0
    for page, parser in pages.items():
        for link in parser.links:
            parts = urlsplit(link)
            assert not parts.scheme and not parts.netloc, (page, link)
            target = (
                Path(os.path.normpath(page.parent / unquote(parts.path))) if parts.path else page
            )
            assert target.is_file(), (page, link)
            assert site in target.parents, (page, link)
            if parts.fragment:
                assert parts.fragment in pages[target].ids, (page, link)
            seen += 1
    assert seen > 50


def test_a_new_release_is_swapped_in_whole(tmp_path: Path) -> None:
    db = tmp_path / "office.db"
    out = tmp_path / "site"
    with open_store(db) as store:
        office = Office(store, SimulatedClock(START))
        holding_released(office, "One", "Nukus")
        before = publish(store=store, out=out)
        assert out.is_symlink() and before.target.is_dir()
        holding_released(office, "Two", "Chimbay")
        after = publish(store=store, out=out, options=SiteOptions(title="Press service"))
    assert after.changed and after.target != before.target
    assert not before.target.exists()  # the old build is gone once nobody is pointed at it
    assert out.resolve() == after.target.resolve()
    assert "Press service" in (out / "en" / "index.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["office.db", "office.db-shm", "office.db-wal", "site", after.target.name]
    ) or sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("office.db")) == (
        sorted(["site", after.target.name])
    )


def test_the_command(
    built: tuple[Path, Path, dict[str, str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db, _site, _ids = built
    out = tmp_path / "public"
    assert main(["publish", "--out", str(out), "--db", str(db)]) == 0
    said = capsys.readouterr().out
    assert said == f"{out}: 3 released statements of 2 incidents, 25 files\n"
    assert main(["publish", "--out", str(out), "--db", str(db)]) == 0
    assert capsys.readouterr().out == f"{out}: already up to date\n"
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "mine.txt").write_text("an office file", encoding="utf-8")
    assert main(["publish", "--out", str(taken), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "is not a site that publish made; it is left as it is" in err
    assert (taken / "mine.txt").read_text(encoding="utf-8") == "an office file"
