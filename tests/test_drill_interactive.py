"""`crisiscomm drill --interactive`, `drill stop` and `--live-channels`, end to end: a real
subprocess with stdin piped and a clock running thousands of times real time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crisiscomm.cli import main
from crisiscomm.drill.interactive import AcceleratedClock, state_file

from .conftest import FIXTURES

SCENARIO = FIXTURES / "drill_interactive" / "drill.yaml"
MARK = "EXERCISE EXERCISE EXERCISE"
WAIT = 8.0  # seconds; a drill of these tests ends in one or two


class Drill:
    """An interactive drill in a subprocess; its stdout collected as it comes."""

    def __init__(self, folder: Path, *options: str, speed: str = "7200") -> None:
        self.folder = folder
        command = [sys.executable, "-m", "crisiscomm", "drill", str(SCENARIO), "--interactive"]
        self.process = subprocess.Popen(
            [*command, "--speed", speed, *options],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=folder,
            env={**os.environ, "XDG_RUNTIME_DIR": str(folder)},
        )
        self.chunks: list[bytes] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.chunks.append(line)

    @property
    def out(self) -> str:
        return b"".join(self.chunks).decode("utf-8")

    def send(self, *lines: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("".join(f"{line}\n" for line in lines).encode("utf-8"))
        self.process.stdin.flush()

    def wait_for(self, text: str) -> None:
        wait_until(lambda: text in self.out, f"{text!r} in\n{self.out}")

    def finish(self, *, close: bool = True) -> tuple[int, str, str]:
        if close and self.process.stdin is not None:
            self.process.stdin.close()
        code = self.process.wait(timeout=WAIT)
        self.reader.join(timeout=WAIT)
        assert self.process.stderr is not None and self.process.stdout is not None
        err = self.process.stderr.read().decode("utf-8")
        self.process.stderr.close()
        self.process.stdout.close()
        assert "Traceback" not in self.out + err
        return code, self.out, err


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def drills(tmp_path: Path) -> Iterator[list[Drill]]:
    started: list[Drill] = []
    yield started
    for drill in started:
        if drill.process.poll() is None:
            drill.process.kill()
        drill.process.wait()
        for stream in (drill.process.stdin, drill.process.stdout, drill.process.stderr):
            if stream is not None and not stream.closed:
                stream.close()


def start(drills: list[Drill], folder: Path, *options: str, speed: str = "7200") -> Drill:
    drill = Drill(folder, *options, speed=speed)
    drills.append(drill)
    return drill


def test_the_officer_plays_injects_and_marked_notifications_appear_then_the_report(
    tmp_path: Path, drills: list[Drill]
) -> None:
    drill = start(drills, tmp_path)
    drill.send("advance nosuch", "advance confirm --as aziz", "note On it, calling the hokimiyat")
    code, out, err = drill.finish()
    assert (code, err) == (0, "")
    assert "INJECT first-call (Operations room, phone call): Water over the levee" in out
    assert "  expected: advance confirm within 30m" in out
    assert "refused: `nosuch` is not possible from state detection" in out
    assert "done: advance confirm --as aziz (state verified)" in out
    assert "INJECT media-query (Local TV, media query)" in out
    assert "INJECT late-post (Telegram, social post)" in out
    # the escalation of `verified` fired on the accelerated clock, marked, to the head of press
    assert f"escalation via log to head_of_press:\n{MARK}\nUpdate due: INC-2026-0001" in out
    assert "end of the exercise" in out
    report = out[out.index("# After-action report: Tiny interactive drill") :]
    assert "**PASSED: every expectation met**" in report
    assert "| aziz | note | On it, calling the hokimiyat |" in report
    # the scripted response of the scenario was not played: the officer's confirm is the one
    assert report.count("confirm: detection -> verified") == 1
    assert not (tmp_path / "notifications.jsonl").exists()  # recorded, not sent
    assert not (tmp_path / "crisiscomm-drill.json").exists()


def test_pause_stops_the_clock_until_resume(tmp_path: Path, drills: list[Drill]) -> None:
    drill = start(drills, tmp_path, speed="3600")
    drill.send("pause")
    drill.wait_for("paused; `resume` to go on")
    time.sleep(1.0)  # an hour at this speed: the 40m inject would have come by now
    drill.send("status")
    drill.wait_for("PAUSED")
    assert "INJECT media-query" not in drill.out
    drill.send("resume")
    drill.wait_for("INJECT media-query")
    drill.send("quit")
    code, out, _err = drill.finish()
    assert code == 1  # `verified` by 30m was expected; nobody confirmed
    assert "resumed" in out and "# After-action report: Tiny interactive drill" in out
    assert "**FAILED" in out


def test_skip_jumps_to_the_next_inject(tmp_path: Path, drills: list[Drill]) -> None:
    drill = start(drills, tmp_path, speed="1")  # real time: only `skip` moves it on
    drill.send("skip")
    drill.wait_for("[T+40m 03:40] INJECT media-query")
    drill.send("skip")
    drill.wait_for("[T+1h30m 04:30] INJECT late-post")
    drill.send("skip")
    drill.wait_for("no inject left")
    drill.send("quit")
    code, out, _err = drill.finish()
    assert code == 1
    assert "| T+40m | exercise-control | note | INJECT media-query" in out
    # the escalation of `detection` at T+10m fired on the way, marked
    assert f"escalation via log to head_of_press:\n{MARK}\nEscalated: INC-2026-0001\n{MARK}" in out


def test_drill_stop_ends_a_running_drill_at_once(tmp_path: Path, drills: list[Drill]) -> None:
    drill = start(drills, tmp_path, speed="1")
    drill.wait_for("interactive drill at 1x")
    stop = subprocess.run(
        [sys.executable, "-m", "crisiscomm", "drill", "stop"],
        capture_output=True,
        text=True,
        env={**os.environ, "XDG_RUNTIME_DIR": str(tmp_path)},
        timeout=WAIT,
    )
    assert stop.returncode == 0, stop.stderr
    assert stop.stdout.startswith("stopped the drill ") and str(SCENARIO) in stop.stdout
    code, out, err = drill.finish(close=False)
    assert (code, err) == (0, "")
    assert out.rstrip().endswith("DRILL STOPPED: real-world emergency")
    assert "After-action report" not in out
    assert not (tmp_path / "crisiscomm-drill.json").exists()


def test_drill_stop_with_no_drill_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert main(["drill", "stop"]) == 1
    assert capsys.readouterr().err == "crisiscomm: error: no interactive drill is running\n"
    # a drill that died without cleaning up is not running either
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    state_file().write_text(json.dumps({"pid": dead.pid, "scenario": "x.yaml"}))
    assert main(["drill", "stop"]) == 1
    assert "no interactive drill is running" in capsys.readouterr().err
    assert not state_file().exists()


def test_live_channels_deliver_through_the_playbook_marked(
    tmp_path: Path, drills: list[Drill]
) -> None:
    drill = start(drills, tmp_path, "--live-channels")
    drill.send("advance confirm")
    code, out, _err = drill.finish()
    assert code == 0
    lines = (tmp_path / "notifications.jsonl").read_text(encoding="utf-8").splitlines()
    sent = [json.loads(line) for line in lines]
    assert [line["recipient"] for line in sent] == ["head_of_press"]
    for line in sent:
        for text in (line["subject"], line["text"]):
            assert text.startswith(MARK + "\n") and text.endswith("\n" + MARK)
    assert "Update due: INC-2026-0001" in sent[0]["text"]
    assert f"escalation via log to head_of_press:\n{MARK}\nUpdate due" in out


def test_live_channels_in_an_unattended_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["drill", str(SCENARIO), "--live-channels"]) == 0
    capsys.readouterr()
    sent = [
        json.loads(line)
        for line in (tmp_path / "notifications.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert sent and all(s["text"].startswith(MARK) and s["text"].endswith(MARK) for s in sent)


def test_interactive_plays_one_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["drill", str(SCENARIO), "--interactive", "--json"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--interactive plays one scenario, without --json or --coverage" in err


def test_accelerated_clock_pauses_resumes_and_jumps() -> None:
    start_at = datetime(2026, 4, 2, 22, 0, tzinfo=UTC)
    clock = AcceleratedClock(start_at, 3600)
    clock.pause()
    paused = clock.now()
    assert start_at <= paused == clock.now()
    clock.jump(start_at + timedelta(hours=5))
    assert clock.now() == start_at + timedelta(hours=5)
    clock.jump(start_at)  # never backwards
    assert clock.now() == start_at + timedelta(hours=5)
    clock.resume()
    assert clock.now() >= start_at + timedelta(hours=5)
