"""What the office costs an officer's act: resolving the actor to a person of the office and
checking their role, against the same playbook with its own inline team (the path without
an office), measured in the same run, interleaved.

1. In process: `service.check_item` + `service.advance` on N incidents each way.
2. As a command: `crisiscomm advance ID confirm` wall time each way (start-up included).

Target: the office adds <= 5% to `advance`.
Run: .venv/bin/python benchmarks/office.py [--incidents N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crisiscomm.clock import SimulatedClock
from crisiscomm.engine import service
from crisiscomm.store import open_store

REPO = Path(__file__).resolve().parents[1]
PRESS = REPO / "tests" / "fixtures" / "engine" / "press.yaml"
OFFICE = """\
crisiscomm-office: 1
id: bench-press
name: {en: Bench press service}
timezone: Asia/Tashkent
languages: [kaa, ru]
settings: {acting_for: allowed}
people:
  aziz: {name: Aziz Karimov, logins: [aziz]}
  dilnoza: {name: Dilnoza Yusupova, logins: [dilnoza]}
  rustam: {name: Rustam Aliev, logins: [rustam]}
roles:
  duty_officer: {title: Duty press officer, members: [aziz]}
  head_of_press: {title: Head of press, members: [dilnoza]}
  legal: {title: Legal, members: [rustam]}
"""


def repositories(folder: Path) -> dict[str, Path]:
    """The press playbook with its own team, and the same playbook taking the office's."""
    legacy = folder / "legacy"
    legacy.mkdir()
    (legacy / "press.yaml").write_text(PRESS.read_text(encoding="utf-8"), encoding="utf-8")
    office = folder / "office"
    (office / "playbooks").mkdir(parents=True)
    (office / "office.yaml").write_text(OFFICE, encoding="utf-8")
    lines, skipping = [], False
    for line in PRESS.read_text(encoding="utf-8").splitlines():
        skipping = line.startswith("roles:") or (skipping and line.startswith(" "))
        if not skipping:
            lines.append(line)
    (office / "playbooks" / "press.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"inline team": legacy / "press.yaml", "office": office / "playbooks" / "press.yaml"}


def in_process(books: dict[str, Path], folder: Path, count: int) -> dict[str, float]:
    """Median seconds of one check + advance, each way, in interleaved rounds."""
    clock = SimulatedClock(datetime(2026, 4, 3, 1, 0, tzinfo=UTC))
    samples: dict[str, list[float]] = {name: [] for name in books}
    stores = {name: open_store(folder / f"{n}.db", create=True) for n, name in enumerate(books)}
    ids: dict[str, list[str]] = {name: [] for name in books}
    for name, book in books.items():
        for number in range(count):
            incident = service.open_incident(
                store=stores[name], clock=clock, playbook_ref=str(book),
                title=f"T{number}", severity=None, facts=["region=Nukus"], actor="aziz",
            )  # fmt: skip
            ids[name].append(incident.id)
    for number in range(count):
        for name in books:
            common = {"store": stores[name], "clock": clock, "incident_id": ids[name][number]}
            clock.advance(timedelta(seconds=1))
            started = time.perf_counter()
            service.check_item(**common, item="log_source", actor="aziz")  # type: ignore[arg-type]
            service.advance(**common, trigger="confirm", note=None, actor="aziz")  # type: ignore[arg-type]
            samples[name].append(time.perf_counter() - started)
    for store in stores.values():
        store.close()
    return {name: statistics.median(values) for name, values in samples.items()}


def as_commands(books: dict[str, Path], folder: Path, runs: int) -> dict[str, float]:
    """Median wall seconds of `crisiscomm advance ID confirm --as aziz`, each way."""
    crisiscomm = str(Path(sys.executable).with_name("crisiscomm"))
    clock = SimulatedClock(datetime.now(UTC))
    ids: dict[str, list[str]] = {}
    for name, book in books.items():
        with open_store(folder / f"cli-{name}.db", create=True) as store:
            ids[name] = []
            for number in range(runs):
                incident_id = service.open_incident(
                    store=store, clock=clock, playbook_ref=str(book), title=f"T{number}",
                    severity=None, facts=["region=Nukus"], actor="aziz",
                ).id  # fmt: skip
                service.check_item(
                    store=store, clock=clock, incident_id=incident_id, item="log_source",
                    actor="aziz",
                )  # fmt: skip
                ids[name].append(incident_id)
    samples: dict[str, list[float]] = {name: [] for name in books}
    for number in range(runs):
        for name in books:
            argv = [crisiscomm, "advance", ids[name][number], "confirm", "--as", "aziz",
                    "--db", str(folder / f"cli-{name}.db")]  # fmt: skip
            started = time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=400)
    parser.add_argument("--runs", type=int, default=25)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        books = repositories(folder)
        step = in_process(books, folder, arguments.incidents)
        ratio = step["office"] / step["inline team"]
        print(f"check + advance in process, median of {arguments.incidents}:")
        print(f"  inline team {step['inline team'] * 1000:6.2f} ms")
        print(f"  office      {step['office'] * 1000:6.2f} ms = {ratio:.3f}x (target <= 1.05x)")
        command = as_commands(books, folder, arguments.runs)
        ratio = command["office"] / command["inline team"]
        print(f"crisiscomm advance as a command, median of {arguments.runs}:")
        print(f"  inline team {command['inline team'] * 1000:6.1f} ms")
        print(f"  office      {command['office'] * 1000:6.1f} ms = {ratio:.3f}x (target <= 1.05x)")


if __name__ == "__main__":
    main()
