"""A month's `crisiscomm report` over 10,000 closed incidents vs a plain SQL aggregate of
the same figures, in one run.

Seeding: a few flood incidents are driven through the engine for real (each command a
few minutes after the one before, varied), then copied with raw SQL under new ids and
shifted times until the database holds N closed incidents spread over 12 months (copies
keep their events, not valid hash chains: the report does not verify chains). The report
(store/reports.py + engine/kpis.py, the drills' own KPIs) is timed in process for one month;
the baseline is one SQL query computing, per incident of that month, time to verification,
to the first statement and escalations, then their medians (the same figures, fewer of
them). Target: the report <= 3 s; the ratio printed is report / baseline. The report is
the CLI's: per person by the office's names, the register's indicators (its items, none
here, read all the same). Besides, one incident's after-action report (`report INCIDENT`:
every event of it, Markdown) is timed, whose cost does not grow with the database either.

Run: .venv/bin/python benchmarks/report.py [--incidents N]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crisiscomm.clock import format_utc, parse_utc
from crisiscomm.inbox.register import compiled_register
from crisiscomm.office.find import compiled_office
from crisiscomm.office.norms import norms_of
from crisiscomm.report.figures import period_report
from crisiscomm.report.incident import incident_report, to_markdown
from crisiscomm.report.period import Period
from crisiscomm.report.render import to_text
from crisiscomm.store import open_store
from tests.report_data import closed_flood

START = datetime(2027, 1, 1, 6, tzinfo=UTC)
TEMPLATES = (1, 2, 3, 5)  # minutes between commands of each real incident

BASELINE = """
    SELECT i.id,
           MIN(CASE WHEN e.type = 'transition' AND json_extract(e.data, '$.from') = 'verification'
               THEN e.at END),
           MIN(CASE WHEN e.type = 'statement.released' THEN e.at END),
           SUM(CASE WHEN e.type IN ('escalation', 'clearance.overdue') THEN 1 ELSE 0 END),
           i.opened_at
    FROM incidents i JOIN events e ON e.incident_id = i.id
    WHERE i.opened_at >= :start AND i.opened_at < :end
    GROUP BY i.id
"""


def seed(path: Path, count: int) -> int:
    """N closed incidents over 12 months; the number of events."""
    with open_store(path, create=True) as store:
        for n, minutes in enumerate(TEMPLATES):
            closed_flood(store, START + timedelta(hours=n), timedelta(minutes=minutes))
    db = sqlite3.connect(path)
    incidents = db.execute("SELECT * FROM incidents ORDER BY id").fetchall()
    columns = [c[1] for c in db.execute("PRAGMA table_info(incidents)")]
    events = {
        i[0]: db.execute(
            "SELECT * FROM events WHERE incident_id = ? ORDER BY seq", (i[0],)
        ).fetchall()
        for i in incidents
    }
    at = columns.index("opened_at")
    step = timedelta(days=365) / count
    with db:
        for n in range(len(incidents), count):
            source = incidents[n % len(incidents)]
            shift = START + step * n - parse_utc(source[at])
            new_id = f"INC-B-{n:06d}"
            row = list(source)
            row[0] = new_id
            for name in ("state_entered_at", "opened_at", "closed_at"):
                index = columns.index(name)
                row[index] = format_utc(parse_utc(row[index]) + shift) if row[index] else None
            db.execute(f"INSERT INTO incidents VALUES ({', '.join('?' * len(row))})", row)
            db.executemany(
                "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        new_id,
                        e[1],
                        format_utc(parse_utc(e[2]) + shift),
                        e[3],
                        e[4],
                        _shifted(e[5], shift),
                        e[6],
                        e[7],
                    )
                    for e in events[source[0]]
                ],
            )
    total = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    db.close()
    return int(total)


def _shifted(data: str, shift: timedelta) -> str:
    if "next_update_at" not in data:
        return data
    value = json.loads(data)
    if value.get("next_update_at"):
        value["next_update_at"] = format_utc(parse_utc(value["next_update_at"]) + shift)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def baseline(path: Path, period: Period) -> float:
    db = sqlite3.connect(path)
    began = time.perf_counter()
    rows = db.execute(
        BASELINE, {"start": format_utc(period.start), "end": format_utc(period.end)}
    ).fetchall()
    for column in (1, 2):
        values = [
            (parse_utc(r[column]) - parse_utc(r[4])).total_seconds() for r in rows if r[column]
        ]
        statistics.median(values)
    statistics.median([r[3] for r in rows])
    took = time.perf_counter() - began
    db.close()
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=10_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    path = folder / "report.db"
    began = time.perf_counter()
    events = seed(path, args.incidents)
    print(
        f"seeded {args.incidents:,} closed incidents, {events:,} events"
        f" in {time.perf_counter() - began:.1f} s"
    )
    period = Period(datetime(2027, 6, 1).date(), datetime(2027, 6, 30).date(), "Asia/Tashkent")
    norms = norms_of()
    repo = Path(__file__).resolve().parents[1]
    names = {p.id: p.name for p in compiled_office(repo / "office.yaml").people.values()}
    register = compiled_register(repo / "inbox.yaml")
    reports, bases, singles = [], [], []
    for _ in range(3):
        with open_store(path) as store:
            start = time.perf_counter()
            result = period_report(
                store=store, period=period, norms=norms, names=names, register=register
            )
            to_text(result)
            reports.append(time.perf_counter() - start)
            start = time.perf_counter()
            to_markdown(
                incident_report(store=store, incident_id=result.incidents[0].id, norms=norms)
            )
            singles.append(time.perf_counter() - start)
        bases.append(baseline(path, period))
    report_s, base_s = min(reports), min(bases)
    before = next(s.previous_count for s in result.summaries if s.indicator == "escalations_fired")
    print(
        f"month of June 2027: {len(result.incidents)} incidents (+{before} in May for the change)"
    )
    print(f"report (figures + text): {report_s:.3f} s (target <= 3 s)")
    print(f"plain SQL aggregate of the month: {base_s:.3f} s")
    print(f"ratio: {report_s / base_s:.1f}x")
    print(f"one incident's after-action report (Markdown): {min(singles):.3f} s")


if __name__ == "__main__":
    main()
