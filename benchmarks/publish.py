"""`crisiscomm publish` at scale: 1,000 incidents with 10,000 released statements.

The database is seeded quickly: one incident is driven through the publish tests' playbook
by the service functions (open, draft, approve, release), and its row is copied 1,000 times
with ten released versions each (five of the holding statement, five updates), each in
three languages, at times spread over a year. Then the site is built twice (a new build,
then an unchanged one), and once more after one more release.

Targets (issue #20): a build <= 5 s; a republish after one release (what `serve`'s `site`
channel does) <= 200 ms. Printed: seed time, the build split into reading the record,
rendering and writing, the number of files and bytes; the republish, and whether its site
is byte for byte the full build's.

Run: .venv/bin/python benchmarks/publish.py [--incidents N] [--per-incident N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from crisiscomm.clock import SimulatedClock, format_utc  # noqa: E402
from crisiscomm.engine import service  # noqa: E402
from crisiscomm.publish.folder import swap_in  # noqa: E402
from crisiscomm.publish.incremental import republish  # noqa: E402
from crisiscomm.publish.pages import SiteOptions  # noqa: E402
from crisiscomm.publish.record import read_record  # noqa: E402
from crisiscomm.publish.site import publish, site_files  # noqa: E402
from crisiscomm.store import open_store  # noqa: E402
from crisiscomm.store.rows import NewEvent  # noqa: E402

PLAYBOOK = REPO / "tests" / "fixtures" / "publish" / "press.yaml"
START = datetime(2027, 1, 1, 6, 0, tzinfo=UTC)


def seed(db: Path, incidents: int, per_incident: int) -> None:
    """A real incident, then `incidents` copies with `per_incident` releases each."""
    with open_store(db) as store:
        clock = SimulatedClock(START)
        model = service.open_incident(
            store=store,
            clock=clock,
            playbook_ref=str(PLAYBOOK),
            title="model",
            severity=None,
            facts=["region=Nukus", "hotline=1050"],
            actor="aziz",
        ).id
        service.check_item(
            store=store, clock=clock, incident_id=model, item="log_source", actor="aziz"
        )
        service.advance(
            store=store, clock=clock, incident_id=model, trigger="confirm", note=None, actor="aziz"
        )
        service.draft_statement(
            store=store, clock=clock, incident_id=model, statement="holding", actor="aziz"
        )
        for who in ("dilnoza", "rustam"):
            service.approve(store=store, clock=clock, incident_id=model, name="holding", actor=who)
        service.release_statement(
            store=store, clock=clock, incident_id=model, statement="holding", actor="aziz"
        )
        _playbook, row = service.load(store=store, incident_id=model)
        version = row.data["statements"]["holding"]["versions"][0]
        with store.batch():
            for number in range(incidents):
                opened = START + timedelta(hours=8 * number)
                statements: dict[str, dict[str, list[dict[str, object]]]] = {}
                for n in range(per_incident):
                    name = "holding" if n < per_incident // 2 else "update"
                    record = statements.setdefault(
                        name, {"versions": [], "approvals": [], "released": []}
                    )
                    at = opened + timedelta(minutes=30 * (n + 1))
                    texts = {
                        code: f"{text} ({number}/{n})" for code, text in version["texts"].items()
                    }
                    v = {
                        **version,
                        "version": len(record["versions"]) + 1,
                        "texts": texts,
                        "hash": f"h{number}-{n}",
                        "at": format_utc(at),
                    }
                    record["versions"].append(v)
                    record["released"].append(
                        {
                            "version": v["version"],
                            "hash": v["hash"],
                            "at": format_utc(at),
                            "actor": "aziz",
                            "next_update_at": format_utc(at + timedelta(hours=2)),
                        }
                    )
                data = {**json.loads(json.dumps(row.data)), "statements": statements}
                store.create_incident(
                    incident=replace(
                        row,
                        id="",
                        title=f"copy {number}",  # `release_again` finds the model by title
                        opened_at=opened,
                        state_entered_at=opened,
                        closed_at=opened + timedelta(days=3) if number % 3 else None,
                        data=data,
                    ),
                    playbook_content=store.playbook_content(row.playbook_hash),
                    events=[NewEvent(opened, "aziz", "incident.opened", {})],
                    timers=[],
                    outbox=[],
                )


def release_again(db: Path) -> None:
    """One more release in the model incident: a new version of `holding`, cleared."""
    with open_store(db) as store:
        clock = SimulatedClock(START + timedelta(days=400))
        model = next(row.id for row in store.list_incidents() if row.title == "model")
        service.draft_statement(
            store=store, clock=clock, incident_id=model, statement="holding", actor="aziz"
        )
        for who in ("dilnoza", "rustam"):
            service.approve(store=store, clock=clock, incident_id=model, name="holding", actor=who)
        service.release_statement(
            store=store, clock=clock, incident_id=model, statement="holding", actor="aziz"
        )


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` by its relative path."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--per-incident", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        db = tmp / "office.db"
        started = time.perf_counter()
        seed(db, args.incidents, args.per_incident)
        print(
            f"seeded {args.incidents:,} incidents x {args.per_incident} releases in "
            f"{time.perf_counter() - started:.1f} s"
        )
        options = SiteOptions()
        with open_store(db) as store:
            t0 = time.perf_counter()
            record = read_record(store)
            t1 = time.perf_counter()
            files = site_files(record, options)
            t2 = time.perf_counter()
            swap_in(files, tmp / "site")
            t3 = time.perf_counter()
            size = sum(len(b) for b in files.values())
            count = sum(len(i.statements) for i in record.incidents)
            print(
                f"build: {t3 - t0:.2f} s (read the record {t1 - t0:.2f} s, render {t2 - t1:.2f} s, "
                f"write {t3 - t2:.2f} s); target <= 5 s"
            )
            print(
                f"  {len(record.incidents):,} incidents, {count:,} statements, "
                f"{len(files):,} files, {size / 1e6:.1f} MB"
            )
            t0 = time.perf_counter()
            same = publish(store=store, out=tmp / "site")
            print(f"unchanged rebuild: {time.perf_counter() - t0:.2f} s (changed={same.changed})")
            # what `serve` does: a full build once, then a republish after each release
            _done, state = republish(store=store, out=tmp / "served", options=options)
        release_again(db)
        with open_store(db) as store:
            t0 = time.perf_counter()
            done, state = republish(store=store, out=tmp / "served", options=options, state=state)
            elapsed = time.perf_counter() - t0
            publish(store=store, out=tmp / "full")
        before = set(files)
        print(
            f"republish after one release: {elapsed * 1000:.0f} ms (changed={done.changed}, "
            f"{len(set(state.digests) - before)} new files); target <= 200 ms"
        )
        print(f"  same bytes as a full build: {tree(tmp / 'served') == tree(tmp / 'full')}")


if __name__ == "__main__":
    main()
