"""CLI start-up: `crisiscomm --version` and `--help` against `python -c "import click"`;
the cost of speaking Russian: `crisiscomm --lang ru list` against `--lang en list`.

Targets: each <= 1.5x the baseline; loading a catalog <= 5% of `list`.
Run: .venv/bin/python benchmarks/startup.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _timing import median_wall_times

RUNS = 30
TARGET = 1.5
CATALOG_TARGET = 1.05


def main() -> int:
    crisiscomm = str(Path(sys.executable).with_name("crisiscomm"))
    folder = tempfile.mkdtemp()
    os.environ["CRISISCOMM_DB"] = str(Path(folder) / "crisiscomm.db")
    os.environ["CRISISCOMM_ACTOR"] = "asultanova"
    for title in ("Levee breach near Beruniy", "Water level rising at Samanbay"):
        subprocess.run(
            [
                *(crisiscomm, "open-incident", "flood", "--title", title, "--severity", "high"),
                *("--fact", "district=Beruniy", "--fact", "hotline=1050"),
            ],
            check=True,
            capture_output=True,
            cwd=Path(__file__).resolve().parents[1],
        )
    times = median_wall_times(
        {
            "baseline": [sys.executable, "-c", "import click"],
            "--version": [crisiscomm, "--version"],
            "--help": [crisiscomm, "--help"],
            "list en": [crisiscomm, "--lang", "en", "list"],
            "list ru": [crisiscomm, "--lang", "ru", "list"],
        },
        runs=RUNS,
    )
    base = times["baseline"]
    print(f'python -c "import click": {base * 1000:.0f} ms (median of {RUNS})')
    worst = 0.0
    for name in ("--version", "--help"):
        ratio = times[name] / base
        worst = max(worst, ratio)
        label = f"crisiscomm {name}: {times[name] * 1000:.0f} ms"
        print(f"{label} = {ratio:.2f}x baseline (target <= {TARGET}x)")
    catalog = times["list ru"] / times["list en"]
    print(
        f"crisiscomm --lang ru list: {times['list ru'] * 1000:.0f} ms = {catalog:.3f}x"
        f" --lang en list ({times['list en'] * 1000:.0f} ms) (target <= {CATALOG_TARGET}x)"
    )
    return 0 if worst <= TARGET and catalog <= CATALOG_TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
