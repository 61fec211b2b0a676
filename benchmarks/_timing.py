"""Shared timing helpers: interleaved runs of shell commands (median wall time), and
percentiles and ratios of latencies as the benchmarks print them."""

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


def p99(values: list[float]) -> float:
    return sorted(values)[min(len(values) - 1, int(len(values) * 0.99))]


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p50, p99 = statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {p50 * 1000:7.1f} ms  p99 {p99 * 1000:7.1f} ms  max {ordered[-1] * 1000:7.1f} ms"


def ratio(ours: list[float], reference: list[float]) -> str:
    """`4.7x`: two significant digits, however small or large."""
    return f"{p99(ours) / max(p99(reference), 1e-6):.2g}x"


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"
