"""A large site is rendered on two cores: the same bytes as on one, whatever the helper does."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from crisiscomm.publish import site
from crisiscomm.publish.pages import SiteOptions
from crisiscomm.publish.record import PublicRecord, read_record
from crisiscomm.store import open_store

from .test_publish import build_office

OPTIONS = SiteOptions(base_url="https://press.example.uz/")


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> PublicRecord:
    tmp = tmp_path_factory.mktemp("parallel")
    build_office(tmp / "office.db", tmp)
    with open_store(tmp / "office.db") as store:
        found = read_record(store)
    assert len(found.incidents) >= 2  # halves to share
    return found


def test_two_cores_give_the_bytes_one_gives(record: PublicRecord, tmp_path: Path) -> None:
    marks = tmp_path / "rendered-by"
    marks.mkdir()
    render = site._Site.incident_files

    def marking(self: site._Site, incident: site.PublicIncident) -> None:
        (marks / f"{os.getpid()}-{incident.id}").touch()
        render(self, incident)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(site._Site, "incident_files", marking)
        apart = site.site_files(record, OPTIONS, workers=2)
    alone = site.site_files(record, OPTIONS, workers=1)
    assert apart == alone
    assert list(apart) == sorted(apart)
    renderers = {name.split("-")[0] for name in os.listdir(marks)}
    assert str(os.getpid()) in renderers and len(renderers) == 2  # a second process did half


def test_a_helper_that_dies_leaves_its_share_to_this_process(
    record: PublicRecord, tmp_path: Path
) -> None:
    here = os.getpid()
    died = tmp_path / "died"
    render = site._Site.incident_files

    def dying(self: site._Site, incident: site.PublicIncident) -> None:
        if os.getpid() != here:
            died.write_text(str(os.getpid()))
            os._exit(3)  # killed half way, nothing sent
        render(self, incident)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(site._Site, "incident_files", dying)
        apart = site.site_files(record, OPTIONS, workers=2)
    assert died.read_text() != str(here)  # the helper did start, and died
    assert apart == site.site_files(record, OPTIONS, workers=1)


def test_no_fork_while_another_thread_runs(record: PublicRecord) -> None:
    # a fork copies locks other threads may hold (serve's scheduler, its deliveries)
    assert site._parallel(2, 10_000)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert not site._parallel(2, 10_000)
        assert not site._parallel(None, 10_000)
    finally:
        release.set()
        other.join()


def test_a_small_record_stays_in_one_process() -> None:
    assert not site._parallel(None, site.PARALLEL_FROM - 1)
    assert not site._parallel(1, 10_000)
