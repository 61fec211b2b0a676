"""The `site` channel: `serve` republishes after each release, incrementally, atomically."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crisiscomm.cli import main
from crisiscomm.clock import SimulatedClock, SystemClock
from crisiscomm.engine import service
from crisiscomm.notify.channels import ChannelFactory
from crisiscomm.notify.outbox import deliver_due
from crisiscomm.publish.incremental import SiteRepublisher, republish
from crisiscomm.publish.pages import SiteOptions
from crisiscomm.publish.site import publish
from crisiscomm.store import Store, open_store

from .conftest import FIXTURES


@dataclass
class Office:
    store: Store
    clock: SimulatedClock
    playbook: str

    def act(self, function: Any, actor: str, **kwargs: Any) -> None:
        self.clock.advance(timedelta(minutes=7))
        function(store=self.store, clock=self.clock, actor=actor, **kwargs)


def holding_released(office: Office, title: str, region: str) -> str:
    """An incident of the playbook with its holding statement released."""
    office.clock.advance(timedelta(minutes=3))
    incident_id = service.open_incident(
        store=office.store,
        clock=office.clock,
        playbook_ref=office.playbook,
        title=title,
        severity=None,
        facts=[f"region={region}", "hotline=1050"],
        actor="aziz",
    ).id
    office.act(service.check_item, "aziz", incident_id=incident_id, item="log_source")
    office.act(service.advance, "aziz", incident_id=incident_id, trigger="confirm", note=None)
    office.act(service.draft_statement, "aziz", incident_id=incident_id, statement="holding")
    for who in ("dilnoza", "rustam"):
        office.act(service.approve, who, incident_id=incident_id, name="holding")
    office.act(service.release_statement, "aziz", incident_id=incident_id, statement="holding")
    return incident_id


START = datetime(2027, 4, 12, 6, 0, tzinfo=UTC)
WAIT = 30.0


def playbook_with_site(tmp: Path, site: Path, url: str = "") -> Path:
    """The publish tests' playbook with a `site` channel its statements go out through."""
    text = (FIXTURES / "publish" / "press.yaml").read_text(encoding="utf-8")
    extra = f", url: {url}" if url else ""
    text = text.replace(
        "  console: {type: console}\n",
        f"  console: {{type: console}}\n  site: {{type: site, path: '{site}'{extra}}}\n",
    )
    text = text.replace("channels: [console]", "channels: [console, site]")
    path = tmp / "press.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def office_at(store: Store, playbook: Path, clock: SimulatedClock) -> Office:
    return Office(store, clock, str(playbook))


def wait_for(condition: object, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def test_incremental_republish_is_byte_for_byte_a_full_build(tmp_path: Path) -> None:
    db = tmp_path / "office.db"
    playbook = playbook_with_site(tmp_path, tmp_path / "unused")
    options = SiteOptions(base_url="https://press.example.uz/")
    with open_store(db) as store:
        office = office_at(store, playbook, SimulatedClock(START))
        first = holding_released(office, "one", "Nukus")
        holding_released(office, "two", "Chimbay")
        _done, state = republish(store=store, out=tmp_path / "site", options=options)
        before = {p: (tmp_path / "site" / p).stat().st_ino for p in tree(tmp_path / "site")}
        third = holding_released(office, "three", "Beruniy")
        done, state = republish(store=store, out=tmp_path / "site", options=options, state=state)
        assert done.changed
        publish(store=store, out=tmp_path / "full", options=options)
        assert tree(tmp_path / "site") == tree(tmp_path / "full")
        after = {p: (tmp_path / "site" / p).stat().st_ino for p in tree(tmp_path / "site")}
        # the first incident's page was not rewritten (a hard link to the old file); the
        # new incident's page and the front page were
        assert after[f"en/{first}.html"] == before[f"en/{first}.html"]
        assert f"en/{third}.html" not in before
        assert after["en/index.html"] != before["en/index.html"]
        # nothing changed: nothing written, the same folder
        again, _state = republish(store=store, out=tmp_path / "site", options=options, state=state)
        assert not again.changed and again.target == done.target


def test_a_reader_never_sees_half_a_site(tmp_path: Path) -> None:
    db = tmp_path / "office.db"
    playbook = playbook_with_site(tmp_path, tmp_path / "unused")
    out = tmp_path / "site"
    problems: list[str] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            if not out.exists():
                continue
            index = (out / "en" / "index.html").read_text(encoding="utf-8")
            for href in re.findall(r'href="([^"#]+)', index):
                if "://" not in href and not (out / "en" / href).is_file():
                    problems.append(href)

    with open_store(db) as store:
        office = office_at(store, playbook, SimulatedClock(START))
        holding_released(office, "zero", "Nukus")
        _done, state = republish(store=store, out=out, options=SiteOptions())
        reader = threading.Thread(target=read)
        reader.start()
        try:
            for number in range(6):
                holding_released(office, f"n{number}", "Nukus")
                _done, state = republish(store=store, out=out, options=SiteOptions(), state=state)
        finally:
            stop.set()
            reader.join()
    assert problems == []


def test_serve_republishes_after_a_release(tmp_path: Path) -> None:
    db = tmp_path / "office.db"
    site = tmp_path / "www" / "press"
    site.parent.mkdir()
    playbook = playbook_with_site(tmp_path, site)
    with open_store(db):
        pass
    with (tmp_path / "serve.log").open("wb") as log:
        serve = subprocess.Popen(
            [sys.executable, "-m", "crisiscomm", "serve", "--db", str(db), "--sync-interval", "1"],
            stderr=log,
            stdout=subprocess.DEVNULL,
        )
    try:
        with open_store(db) as store:
            # serve delivers by the wall clock: the releases are made now, not in 2027
            office = office_at(
                store, playbook, SimulatedClock(SystemClock().now() - timedelta(hours=2))
            )
            first = holding_released(office, "one", "Nukus")
        wait_for(lambda: (site / "en" / f"{first}.html").is_file())
        with open_store(db) as store:
            office = office_at(
                store, playbook, SimulatedClock(SystemClock().now() - timedelta(hours=2))
            )
            second = holding_released(office, "two", "Chimbay")
        wait_for(lambda: (site / "en" / f"{second}.html").is_file())
        with open_store(db) as store:
            wait_for(lambda: not store.list_outbox(statuses=["pending"]))
            publish(store=store, out=tmp_path / "full")
        assert tree(site) == tree(tmp_path / "full")
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=30)


def test_killed_before_the_swap_leaves_the_old_site_whole(tmp_path: Path) -> None:
    db = tmp_path / "office.db"
    playbook = playbook_with_site(tmp_path, tmp_path / "unused")
    out = tmp_path / "site"
    with open_store(db) as store:
        office = office_at(store, playbook, SimulatedClock(START))
        holding_released(office, "one", "Nukus")
        publish(store=store, out=out)
        old = tree(out)
        for number in range(40):  # enough pages that writing them takes a while
            holding_released(office, f"n{number}", "Nukus")
    process = subprocess.Popen(
        [sys.executable, "-m", "crisiscomm", "publish", "--out", str(out), "--db", str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    staging = tmp_path / f".site.tmp-{process.pid}"
    deadline = time.monotonic() + WAIT
    while not staging.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    process.send_signal(signal.SIGKILL)
    process.wait()
    if not staging.exists():
        pytest.skip("the build finished before it could be interrupted")  # a fast machine
    assert tree(out) == old
    assert main(["publish", "--out", str(out), "--db", str(db)]) == 0  # and the next one works
    assert len(tree(out)) > len(old)


def test_a_site_that_cannot_be_written_is_a_dead_letter_and_shown_as_not_published(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "office.db"
    playbook = playbook_with_site(tmp_path, tmp_path / "missing" / "press")
    with open_store(db) as store:
        office = office_at(store, playbook, SimulatedClock(START))
        incident = holding_released(office, "one", "Nukus")
        report = deliver_due(
            store,
            now=office.clock.now(),
            channels=ChannelFactory(republish=SiteRepublisher(store)),
        )
        assert report.dead == 1
        (dead,) = store.list_outbox(statuses=["dead"])
        assert dead.channel == "site"
        assert dead.last_error == (f"channel `site`: {tmp_path / 'missing'} does not exist")
    capsys.readouterr()
    assert main(["status", "--db", str(db)]) == 0
    shown = capsys.readouterr().out
    assert "public copies: NOT PUBLISHED: 1 released statement" in shown
    assert main(["show", incident, "--db", str(db)]) == 0
    assert "NOT PUBLISHED: 1 released statement" in capsys.readouterr().out


def test_incremental_republish_after_a_withdrawal_is_a_full_build(tmp_path: Path) -> None:
    """A withdrawal changes the incident's page, its month's archive and the feeds: the
    incremental republish still gives the bytes of a full build."""
    db = tmp_path / "office.db"
    playbook = playbook_with_site(tmp_path, tmp_path / "unused")
    options = SiteOptions(base_url="https://press.example.uz/")
    with open_store(db) as store:
        office = office_at(store, playbook, SimulatedClock(START))
        first = holding_released(office, "one", "Nukus")
        holding_released(office, "two", "Chimbay")
        _done, state = republish(store=store, out=tmp_path / "site", options=options)
        office.clock.advance(timedelta(days=40))  # the withdrawal falls in another month
        for who in ("dilnoza", "aziz"):  # proposed, then confirmed by another person
            office.act(
                service.withdraw_statement,
                who,
                incident_id=first,
                statement="holding",
                reason="Published for the wrong district." if who == "dilnoza" else None,
            )
        done, state = republish(store=store, out=tmp_path / "site", options=options, state=state)
        assert done.changed
        publish(store=store, out=tmp_path / "full", options=options)
        assert tree(tmp_path / "site") == tree(tmp_path / "full")
        assert "Published for the wrong district." in (
            tmp_path / "site" / "en" / f"{first}.html"
        ).read_text(encoding="utf-8")
