"""Shared timing helper: interleaved runs of shell commands, median wall time."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Sequence


def median_wall_times(commands: dict[str, Sequence[str]], *, runs: int) -> dict[str, float]:
    """Run each command `runs` times, interleaved so machine noise hits all alike."""
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            started = time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in samples.items()}
