"""Withdrawals and corrections on the public record, and the exercise site.

End to end: the officers' commands (`statement correct`, `approve`, `release`,
`statement withdraw`) on a real database, `crisiscomm publish`, then the pages in headless
Chromium in each of the four languages, the CAP messages against the OASIS schema and the
Atom feeds through a feed parser. A drill's incidents reach only the exercise site.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crisiscomm.cli import main
from crisiscomm.clock import SimulatedClock, parse_utc
from crisiscomm.engine import service
from crisiscomm.publish.cap import CAP_XSD
from crisiscomm.publish.pages import rfc3339, words
from crisiscomm.publish.site import publish
from crisiscomm.store import Store, open_store

from .conftest import FIXTURES
from .test_publish import cap_dict, site_texts

PLAYBOOK = str(FIXTURES / "publish" / "corrections.yaml")
LANGUAGES = ("kaa", "uz", "ru", "en")
START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # before the wall clock the CLI stamps
HOSTILE_REASON = "<script>alert('reason')</script> & <b>the figures</b> were wrong"
NOTE = "The district is Nukus district, not the city"
CORRECTED_EN = "Incident in Nukus district. Hotline: +998 61 222-10-50."
FIRST_EN = "Incident in Nukus. Hotline: +998 61 222-10-50."
# what must never appear anywhere in either site
INTERNAL = [
    "INTERNAL-TITLE-XYZ",
    "Aziz",
    "Dilnoza",
    "Rustam",
    "aziz",
    "dilnoza",
    "rustam",
    "press.example.uz",
    "proposed",
    "approv",
]


@dataclass
class Built:
    db: Path
    site: Path
    exercise_site: Path
    real_before_drill: Path
    ids: dict[str, str]


def _act(store: Store, clock: SimulatedClock, function: Any, actor: str, **kwargs: Any) -> None:
    clock.advance(timedelta(minutes=7))
    function(store=store, clock=clock, actor=actor, **kwargs)


def _holding_released(store: Store, clock: SimulatedClock, title: str) -> str:
    clock.advance(timedelta(minutes=3))
    iid = service.open_incident(
        store=store,
        clock=clock,
        playbook_ref=PLAYBOOK,
        title=title,
        severity=None,
        facts=["region=Nukus", "hotline=+998 61 222-10-50"],
        actor="aziz",
    ).id
    _act(store, clock, service.check_item, "aziz", incident_id=iid, item="log_source")
    _act(store, clock, service.advance, "aziz", incident_id=iid, trigger="confirm", note=None)
    _act(store, clock, service.draft_statement, "aziz", incident_id=iid, statement="holding")
    for who in ("dilnoza", "rustam"):
        _act(store, clock, service.approve, who, incident_id=iid, name="holding")
    _act(store, clock, service.release_statement, "aziz", incident_id=iid, statement="holding")
    return iid


def cli(*args: str, actor: str | None = None, db: Path) -> None:
    who = ["--as", actor] if actor else []
    assert main([*args, *who, "--db", str(db)]) == 0, args


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    tmp = tmp_path_factory.mktemp("corrections")
    db = tmp / "office.db"
    ids: dict[str, str] = {}
    with open_store(db) as store:
        clock = SimulatedClock(START)
        iid = ids["real"] = _holding_released(store, clock, "INTERNAL-TITLE-XYZ")
        _act(store, clock, service.advance, "aziz", incident_id=iid, trigger="publish", note=None)
        _act(
            store,
            clock,
            service.set_facts,
            "aziz",
            incident_id=iid,
            assignments=["evacuated=120", "damage=The road is closed."],
        )
        _act(store, clock, service.draft_statement, "aziz", incident_id=iid, statement="update")
        _act(store, clock, service.approve, "dilnoza", incident_id=iid, name="update")
        _act(store, clock, service.release_statement, "aziz", incident_id=iid, statement="update")
        before = publish(store=store, out=tmp / "before")
        # a drill in the same database: the real site does not change
        ids["drill"] = _holding_released(store, clock, "EXERCISE: Amu Darya flood")
        after = publish(store=store, out=tmp / "before")
        assert not after.changed and after.target == before.target

    # the correction: the corrected text, marked, cleared by both, released
    fixed = tmp / "en.txt"
    fixed.write_text(CORRECTED_EN, encoding="utf-8")
    cli(
        "statement",
        "edit",
        iid,
        "holding",
        "--lang",
        "en",
        "--file",
        str(fixed),
        actor="aziz",
        db=db,
    )
    cli("statement", "correct", iid, "holding", "--correction-note", NOTE, actor="aziz", db=db)
    cli("approve", iid, "holding", actor="dilnoza", db=db)
    cli("approve", iid, "holding", actor="rustam", db=db)
    cli("release", iid, "holding", actor="aziz", db=db)
    # the withdrawal: the head of press proposes, the duty officer (its releaser) confirms
    cli("statement", "withdraw", iid, "update", "--reason", HOSTILE_REASON, actor="dilnoza", db=db)
    cli("statement", "withdraw", iid, "update", actor="aziz", db=db)

    cli("publish", "--out", str(tmp / "site"), db=db)
    cli("publish", "--out", str(tmp / "exercise"), "--exercise", db=db)
    return Built(db, tmp / "site", tmp / "exercise", tmp / "before", ids)


def _times(built: Built) -> dict[str, datetime]:
    with open_store(built.db) as store:
        record = store.get_incident(built.ids["real"]).data["statements"]
    return {
        "corrected": parse_utc(record["holding"]["released"][-1]["at"]),
        "withdrawn": parse_utc(record["update"]["withdrawn"][0]["at"]),
    }


def test_nothing_internal_and_no_markup_reaches_either_site(built: Built) -> None:
    for site in (built.site, built.exercise_site):
        for path, text in site_texts(site).items():
            for internal in INTERNAL:
                assert internal not in text, (internal, path)
            assert "<script" not in text.lower() and "<b>" not in text, path
    page = (built.site / "en" / f"{built.ids['real']}.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#39;reason&#39;)&lt;/script&gt; &amp; &lt;b&gt;" in page


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI installs it)")
@pytest.mark.timeout(600)
@pytest.mark.parametrize("code", LANGUAGES)
def test_each_language_page_shows_the_withdrawal_and_the_correction(
    code: str, built: Built, tmp_path: Path
) -> None:
    from .test_publish_browser import chromium

    page = built.site / code / f"{built.ids['real']}.html"
    result = chromium("--dump-dom", page.as_uri(), home=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert f'<html lang="{code}">' in dom
    w = words(code)
    times = _times(built)
    for word, moment, note in (
        ("withdrawn_at", times["withdrawn"], "&lt;script&gt;alert('reason')&lt;/script&gt;"),
        ("corrected_at", times["corrected"], NOTE),
        ("superseded_at", times["corrected"], ""),
    ):
        before, _mark, after = w[word].partition("{time}")
        shown = re.search(
            re.escape(f"<strong>{before}")
            + rf'<time datetime="{rfc3339(moment)}">[^<]+</time>'
            + re.escape(f"{after}</strong>"),
            dom,
        )
        assert shown, (code, word)
        assert note in dom[shown.end() : shown.end() + 300], (code, word)
    # the withdrawn text stays readable, struck through; the superseded one stays as it was
    withdrawn = dom[dom.index(f'id="{built.ids["real"]}-update-v1"') :]
    assert "<del>" in withdrawn[: withdrawn.index("</article>")]
    assert f'id="{built.ids["real"]}-holding-v1"' in dom
    if code == "en":
        assert FIRST_EN in dom and CORRECTED_EN in dom
    assert "<script" not in dom


def test_cap_cancel_and_update_validate(built: Built) -> None:
    import xmlschema

    schema = xmlschema.XMLSchema(str(CAP_XSD))
    cap = built.site / "cap"
    for message in sorted(cap.glob("*.xml")):
        schema.validate(str(message))
    iid = built.ids["real"]
    first = cap_dict(schema, cap / f"{iid}-holding-v1.xml")
    update = cap_dict(schema, cap / f"{iid}-update-v1.xml")
    correction = cap_dict(schema, cap / f"{iid}-holding-v2.xml")
    cancel = cap_dict(schema, cap / f"{iid}-update-v1-withdrawn.xml")
    reference = f"crisiscomm,crisiscomm-{iid}-update-v1,{update['cap:sent']}"
    assert cancel["cap:msgType"] == "Cancel"
    assert cancel["cap:references"] == reference
    assert cancel["cap:note"] == HOSTILE_REASON
    assert cancel["cap:status"] == "Actual"
    assert correction["cap:msgType"] == "Update"
    assert correction["cap:note"] == NOTE
    assert f"crisiscomm,crisiscomm-{iid}-holding-v1,{first['cap:sent']}" in (
        correction["cap:references"].split()
    )
    assert [i["cap:language"] for i in correction["cap:info"]] == list(LANGUAGES)
    assert "cap:note" not in update and "cap:note" not in first


def test_atom_entries_move_and_say_so(built: Built) -> None:
    import feedparser  # type: ignore[import-untyped]

    times = _times(built)
    iid = built.ids["real"]
    for code in LANGUAGES:
        feed = feedparser.parse((built.site / code / "feed.xml").read_bytes())
        assert not feed.bozo, feed.get("bozo_exception")
        by_id = {e.id.split(":")[-2]: e for e in feed.entries}
        assert set(by_id) == {f"{iid}-holding-v1", f"{iid}-holding-v2", f"{iid}-update-v1"}
        w = words(code)
        withdrawn = by_id[f"{iid}-update-v1"]
        assert withdrawn.updated == rfc3339(times["withdrawn"])
        assert withdrawn.published != withdrawn.updated
        assert withdrawn.content[0].value.startswith(w["withdrawn_at"].partition("{time}")[0])
        assert HOSTILE_REASON in withdrawn.content[0].value
        superseded = by_id[f"{iid}-holding-v1"]
        assert superseded.updated == rfc3339(times["corrected"])
        assert superseded.content[0].value.startswith(w["superseded_at"].partition("{time}")[0])
        corrected = by_id[f"{iid}-holding-v2"].content[0].value
        assert corrected.startswith(w["corrected_at"].partition("{time}")[0])
        assert NOTE in corrected
        updated = [e.updated for e in feed.entries]
        assert updated == sorted(updated, reverse=True)


def test_a_drill_reaches_only_the_exercise_site(built: Built) -> None:
    real, drill = built.ids["real"], built.ids["drill"]
    assert drill not in "".join(site_texts(built.site).values())
    assert drill not in "".join(site_texts(built.site))
    assert real not in "".join(site_texts(built.exercise_site).values())
    _assert_exercise_site(built.exercise_site)
    for path, text in site_texts(built.site).items():
        assert "noindex" not in text and 'class="exercise"' not in text, path


def _assert_exercise_site(site: Path) -> None:
    import feedparser
    import xmlschema

    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 4
    for page in pages:
        text = page.read_text(encoding="utf-8")
        code = re.search(r'<html lang="([a-z]+)">', text)
        assert code, page
        w = words(code.group(1))
        assert '<meta name="robots" content="noindex">' in text, page
        assert f"<title>{w['exercise_short']} · " in text, page
        assert f'<p class="exercise" role="note"><strong>{w["exercise"]}</strong></p>' in text
    schema = xmlschema.XMLSchema(str(CAP_XSD))
    messages = sorted((site / "cap").glob("*.xml"))
    assert messages
    for message in messages:
        assert cap_dict(schema, message)["cap:status"] == "Exercise"
    for feed_path in site.glob("*/feed.xml"):
        feed = feedparser.parse(feed_path.read_bytes())
        assert not feed.bozo
        prefix = words(feed.feed.language)["exercise_short"] + " · "
        assert feed.feed.title.startswith(prefix)
        assert feed.entries and all(e.title.startswith(prefix) for e in feed.entries)


def test_a_real_drill_database_publishes_as_an_exercise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drill_db = tmp_path / "drill.db"
    scenario = Path(__file__).parent.parent / "drills" / "flood-amu-darya.yaml"
    assert main(["drill", str(scenario), "--db", str(drill_db)]) == 0
    capsys.readouterr()
    assert main(["publish", "--out", str(tmp_path / "real"), "--db", str(drill_db)]) == 0
    assert "0 released statements of 0 incidents" in capsys.readouterr().out
    assert "INC-" not in "".join(site_texts(tmp_path / "real").values())
    out = tmp_path / "exercise"
    assert main(["publish", "--out", str(out), "--exercise", "--db", str(drill_db)]) == 0
    said = capsys.readouterr().out
    assert re.fullmatch(
        rf"{re.escape(str(out))}: exercise site, [1-9]\d* released statements of 1 drill "
        r"incidents, \d+ files\n",
        said,
    ), said
    _assert_exercise_site(out)


def test_the_real_site_was_not_changed_by_the_drill(built: Built) -> None:
    # the build before the drill was not rebuilt by the build after it (checked in the
    # fixture); its pages hold no trace of the drill either
    assert built.ids["drill"] not in "".join(site_texts(built.real_before_drill).values())
