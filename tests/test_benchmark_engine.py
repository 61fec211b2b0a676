"""benchmarks/engine.py's throughput runs end to end on a few incidents (no timings are
checked: the figures are README's), on SQLite and, where the test server is given, on
PostgreSQL, so that the benchmark the README quotes does not rot unseen."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RATIO = re.compile(r"^  ratio (\d+\.\d\d)x of raw", re.MULTILINE)


def run(*arguments: str) -> str:
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "engine.py"),
            "--only",
            "throughput",
            *arguments,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_throughput_on_sqlite_prints_each_chunk_the_ratio_and_the_storage() -> None:
    out = run("--incidents", "3")
    assert "throughput on sqlite, 3 incidents" in out
    assert re.search(r"incidents +1-3 +\d+ events/s = \d\.\d\dx of raw sqlite3", out), out
    assert "all: 186 commits, 198 events" in out  # 62 commands and 66 events an incident
    assert float(RATIO.findall(out)[0]) > 0
    assert "storage per closed incident (outbox delivered" in out


def test_throughput_on_postgresql_against_raw_psycopg() -> None:
    url = os.environ.get("CRISISCOMM_TEST_PG_URL", "")
    if not url:
        pytest.skip("PostgreSQL tests need CRISISCOMM_TEST_PG_URL")
    server = url.rsplit("/", 1)[0]
    out = run("--incidents", "2", "--database", "postgresql", "--pg-server", server)
    assert "throughput on postgresql, 2 incidents" in out
    assert re.search(r"incidents +1-2 +\d+ events/s = \d\.\d\dx of raw psycopg", out), out
    assert "all: 124 commits, 132 events" in out
    assert "storage per closed incident" not in out  # sqlite's dbstat only
