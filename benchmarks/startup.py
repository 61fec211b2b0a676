"""CLI start-up: `crisiscomm --version` and `--help` against `python -c "import click"`.

Target: each <= 1.5x the baseline. Run: .venv/bin/python benchmarks/startup.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from _timing import median_wall_times

RUNS = 30
TARGET = 1.5


def main() -> int:
    crisiscomm = str(Path(sys.executable).with_name("crisiscomm"))
    times = median_wall_times(
        {
            "baseline": [sys.executable, "-c", "import click"],
            "--version": [crisiscomm, "--version"],
            "--help": [crisiscomm, "--help"],
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
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
