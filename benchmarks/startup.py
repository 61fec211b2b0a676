"""CLI start-up, whole processes on compiled bytecode, against `python -c "import click"`:

- `crisiscomm --version` and `--help`: <= 1.5x;
- `crisiscomm validate playbooks/flood.yaml` (what pre-commit runs): <= 2.5x, and at least
  3x faster than `check-jsonschema --schemafile crisiscomm/playbook/schema.json` on the same
  file (schema only; without check-jsonschema in the venv, than a fresh process validating
  the file with plain jsonschema, said so in the output);
- `crisiscomm open-incident flood ...` (the duty officer's first command; the compiled
  playbook cached by an earlier command, as in real use): <= 2.5x; the same without the
  cache is printed too;
- `crisiscomm show ID` on a small database: <= 2x;
- the cost of speaking Russian: `crisiscomm --lang ru list` against `--lang en list`: <= 5%.

Medians of interleaved runs: wall time (the targets) and CPU time (steadier on a shared
machine). Run: .venv/bin/python benchmarks/startup.py
(with check-jsonschema: .venv/bin/pip install check-jsonschema first)
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNS = 30
TARGET = 1.5
CATALOG_TARGET = 1.05
# name -> (target ratio to the baseline); what the issue asks of the commands people feel
TARGETS = {"validate": 2.5, "open-incident": 2.5, "show": 2.0}
VALIDATE_VS_CHECKER = 3.0
OPEN = ("open-incident", "flood", "--title", "Water level rising", "--severity", "high")
FACTS = ("--fact", "district=Beruniy", "--fact", "hotline=1050")
PLAIN_JSONSCHEMA = """
import json, sys, yaml, jsonschema
schema = json.load(open(sys.argv[1], encoding="utf-8"))
document = yaml.safe_load(open(sys.argv[2], encoding="utf-8"))
errors = list(jsonschema.Draft202012Validator(schema).iter_errors(document))
"""


def median_times(
    commands: dict[str, list[str]], *, runs: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Wall seconds and user + system CPU seconds of each command, medians of interleaved
    runs. On a shared machine CPU time is far steadier: wall time also waits for other
    people's processes."""
    wall: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wall[name].append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(
                (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            )
    return (
        {name: statistics.median(values) for name, values in wall.items()},
        {name: statistics.median(values) for name, values in cpu.items()},
    )


def checker_command(bin_dir: Path) -> tuple[str, list[str]]:
    """check-jsonschema on flood.yaml if the venv has it, else plain jsonschema."""
    schema = str(REPO / "crisiscomm" / "playbook" / "schema.json")
    flood = str(REPO / "playbooks" / "flood.yaml")
    checker = bin_dir / "check-jsonschema"
    if checker.exists():
        return "check-jsonschema", [str(checker), "--schemafile", schema, flood]
    print("check-jsonschema is not in the venv: comparing against plain jsonschema instead")
    return "plain jsonschema", [sys.executable, "-c", PLAIN_JSONSCHEMA, schema, flood]


def main() -> int:
    # as `pip install .` leaves it: every module compiled, nothing compiled on first use
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(REPO / "crisiscomm")],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    crisiscomm = str(Path(sys.executable).with_name("crisiscomm"))
    folder = Path(tempfile.mkdtemp())
    os.environ["CRISISCOMM_DB"] = str(folder / "crisiscomm.db")
    os.environ["CRISISCOMM_ACTOR"] = "asultanova"
    os.environ["XDG_CACHE_HOME"] = str(folder / "cache")
    os.chdir(REPO)
    opened = [
        subprocess.run(
            [crisiscomm, *OPEN[:3], title, *OPEN[4:], *FACTS],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()[0]
        for title in ("Levee breach near Beruniy", "Water level rising at Samanbay")
    ]
    checker, checker_argv = checker_command(Path(sys.executable).parent)
    commands: dict[str, list[str]] = {
        "baseline": [sys.executable, "-c", "import click"],
        "--version": [crisiscomm, "--version"],
        "--help": [crisiscomm, "--help"],
        "list en": [crisiscomm, "--lang", "en", "list"],
        "list ru": [crisiscomm, "--lang", "ru", "list"],
        "validate": [crisiscomm, "validate", "playbooks/flood.yaml"],
        checker: checker_argv,
        "open-incident": [crisiscomm, *OPEN, *FACTS],
        "open-incident, no cache": [
            "env",
            "CRISISCOMM_NO_CACHE=1",
            crisiscomm,
            *OPEN,
            *FACTS,
        ],
        "show": [crisiscomm, "show", opened[0]],
    }
    times, cpu = median_times(commands, runs=RUNS)
    base = times["baseline"]
    print(
        f'python -c "import click": {base * 1000:.0f} ms wall, {cpu["baseline"] * 1000:.0f} ms'
        f" CPU (medians of {RUNS} interleaved runs; ratios below are wall, then CPU)"
    )
    failed = False
    for name, target in [("--version", TARGET), ("--help", TARGET), *TARGETS.items()]:
        ratio = times[name] / base
        failed |= ratio > target
        label = f"crisiscomm {name}: {times[name] * 1000:.0f} ms"
        print(
            f"{label} = {ratio:.2f}x baseline (target <= {target}x);"
            f" CPU time {cpu[name] / cpu['baseline']:.2f}x"
        )
    uncached = times["open-incident, no cache"]
    print(
        f"crisiscomm open-incident, CRISISCOMM_NO_CACHE=1: {uncached * 1000:.0f} ms"
        f" = {uncached / base:.2f}x baseline (for comparison);"
        f" CPU time {cpu['open-incident, no cache'] / cpu['baseline']:.2f}x"
    )
    faster = times[checker] / times["validate"]
    failed |= faster < VALIDATE_VS_CHECKER
    print(
        f"crisiscomm validate playbooks/flood.yaml vs {checker} ({times[checker] * 1000:.0f} ms):"
        f" {faster:.2f}x faster (target >= {VALIDATE_VS_CHECKER}x);"
        f" CPU time {cpu[checker] / cpu['validate']:.2f}x"
    )
    catalog = times["list ru"] / times["list en"]
    failed |= catalog > CATALOG_TARGET
    print(
        f"crisiscomm --lang ru list: {times['list ru'] * 1000:.0f} ms = {catalog:.3f}x"
        f" --lang en list ({times['list en'] * 1000:.0f} ms) (target <= {CATALOG_TARGET}x)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
