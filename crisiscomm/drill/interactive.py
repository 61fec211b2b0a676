"""Interactive drills: the simulated clock runs accelerated against the wall clock, injects
and EXERCISE notifications reach the officer as they come due, the officer types commands.

    session = InteractiveDrill(scenario, store, speed=60)
    session.open()
    news = session.step()            # injects fired, deliveries made up to the paced time
    news = session.command("advance confirm")   # RefusedError/UsageError: the engine's reason
    run = session.finish()           # a DrillRun for the after-action report

`console()` is the front end around a session: it reads commands on a thread (stdin may
be a pipe), steps the clock in small real-time steps, writes to a stream, and stops at
once on SIGTERM (`crisiscomm drill stop`, a real-world emergency). The scenario's scripted
responses are not played: the officer plays.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shlex
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from crisiscomm.drill.channels import Delivery, Recorder
from crisiscomm.drill.runner import (
    DrillRun,
    Exercise,
    open_exercise,
    opener,
    perform,
    refusal,
)
from crisiscomm.errors import CrisisCommError, RefusedError, UsageError
from crisiscomm.i18n import _

if TYPE_CHECKING:
    from crisiscomm.drill.report import AfterAction
    from crisiscomm.drill.scenario import Inject, Scenario
    from crisiscomm.store import Store

__all__ = [
    "AcceleratedClock",
    "InteractiveDrill",
    "News",
    "console",
    "running_drill",
    "state_file",
    "stop_running_drill",
]

STATE_FILE = "crisiscomm-drill.json"
STEP_SECONDS = 0.02  # how often the console wakes to move the clock (wall time)


class AcceleratedClock:
    """A clock running `speed` times faster than the wall clock from `start`; it can be
    paused, resumed and jumped forward. The one place interactive drills read real time."""

    def __init__(self, start: datetime, speed: float) -> None:
        if start.tzinfo is None:
            raise ValueError("an accelerated clock needs a timezone-aware start time")
        self.speed = speed
        self._base = start.astimezone(UTC)
        self._anchor = time.monotonic()
        self.paused = False

    def now(self) -> datetime:
        """The accelerated current time, timezone-aware UTC."""
        if self.paused:
            return self._base
        return self._base + timedelta(seconds=(time.monotonic() - self._anchor) * self.speed)

    def pause(self) -> None:
        """Stop the clock where it is."""
        if not self.paused:
            self._base = self.now()
            self.paused = True

    def resume(self) -> None:
        """Let the clock run again from where it stopped."""
        if self.paused:
            self._anchor = time.monotonic()
            self.paused = False

    def jump(self, moment: datetime) -> None:
        """Move the clock forward to `moment` (never backwards)."""
        current = self.now()
        self._base = max(moment.astimezone(UTC), current)
        self._anchor = time.monotonic()


@dataclass(frozen=True)
class News:
    """Something that reached the players: an inject, or a delivery the drill made."""

    at: datetime
    inject: Inject | None = None
    delivery: Delivery | None = None


@dataclass(frozen=True)
class Status:
    """Where the exercise stands (`status`)."""

    now: datetime
    state: str
    phase: str
    paused: bool
    possible: list[str]
    next_inject: Inject | None
    next_timer: datetime | None


class InteractiveDrill:
    """An exercise whose simulated clock follows an AcceleratedClock and whose commands
    come from the officer. Its simulated clock moves in steps, so timers and injects fire
    at their exact times even when the wall clock jumps ahead between two steps."""

    def __init__(
        self, scenario: Scenario, store: Store, *, speed: float, channels: Recorder | None = None
    ) -> None:
        self.scenario = scenario
        self.exercise = Exercise(scenario, store, channels)
        self.pace = AcceleratedClock(scenario.start, speed)
        self.actor = opener(scenario)
        self.end = scenario.start + scenario.duration
        self.pending = sorted(scenario.injects, key=lambda inject: inject.at)
        self.run: DrillRun | None = None
        self._reported = 0
        self._started = time.perf_counter()

    @property
    def now(self) -> datetime:
        """The simulated time the exercise has reached."""
        return self.exercise.clock.now()

    @property
    def finished(self) -> bool:
        """Whether the exercise reached the end of its duration."""
        return self.now >= self.end

    def open(self) -> list[News]:
        """Open the exercise's incident and fire the injects at 0m."""
        incident = open_exercise(self.exercise)
        self.run = DrillRun(self.scenario, incident.id, [], self.exercise.recorder.deliveries)
        self.pace.jump(self.scenario.start)
        return self.step()

    def _deliveries(self, news: list[News]) -> None:
        fresh = self.exercise.recorder.deliveries[self._reported :]
        self._reported += len(fresh)
        news.extend(News(delivery.at, delivery=delivery) for delivery in fresh)

    def step(self) -> list[News]:
        """Move the simulated clock up to the paced time: due injects and timers fire."""
        assert self.run is not None, "open() first"
        exercise = self.exercise
        news: list[News] = []
        target = min(self.pace.now(), self.end)
        while self.pending and self.scenario.start + self.pending[0].at <= target:
            inject = self.pending.pop(0)
            moment = self.scenario.start + inject.at
            exercise.timers_until(moment)
            self._deliveries(news)
            exercise.clock.set(max(moment, exercise.clock.now()))
            self.run.inject_times[inject.id] = exercise.clock.now()
            news.append(News(exercise.clock.now(), inject=inject))
            try:
                exercise.inject(inject)
            except (RefusedError, UsageError) as error:
                command = _("inject {id}").format(id=inject.id)
                self.run.refusals.append(refusal(command, inject.location, exercise.clock, error))
            exercise.deliver()
            self._deliveries(news)
        exercise.timers_until(target)
        exercise.clock.set(max(target, exercise.clock.now()))
        self._deliveries(news)
        return news

    def command(self, line: str) -> list[News]:
        """Run an officer's command (`advance confirm`, `approve holding --as NAME` ...) at
        the current simulated time; RefusedError or UsageError carries the reason."""
        from crisiscomm.documents.source import Location
        from crisiscomm.drill.scenario import COMMANDS, Response

        assert self.run is not None, "open() first"
        words, options = _split(line)
        if words[:1] == ["statement"]:
            words = words[1:]
        verb, names = (words[0], words[1:]) if words else ("", [])
        if verb not in COMMANDS:
            raise UsageError(
                _("unknown command `{command}`").format(command=line.strip()),
                hint=_("type `help` for the commands"),
            )
        wanted = COMMANDS[verb]
        text = None
        facts: dict[str, str] = {}
        if verb == "note":
            text, names = " ".join(names), []
        elif verb == "edit":
            text = " ".join(names[2:])
            names = names[:2]
        elif verb == "set":
            for assignment in names:
                key, sep, value = assignment.partition("=")
                if not sep or not key:
                    raise UsageError(
                        _("`{text}` is not key=value").format(text=assignment),
                        hint=_("e.g. set evacuated=890"),
                    )
                facts[key] = value
            names = []
        if len(names) != wanted or (verb == "set" and not facts) or (verb == "note" and not text):
            raise UsageError(
                _("`{verb}` takes {n} name(s), not `{args}`").format(
                    verb=verb, n=wanted, args=" ".join(names) or "-"
                ),
                hint=_("type `help` for the commands"),
            )
        self.step()
        response = Response(
            at=self.now - self.scenario.start,
            actor=options.get("as") or self.actor,
            command=(verb, *names),
            note=options.get("note"),
            text=text,
            facts=facts,
            location=Location(_("(interactive)"), 1, 1),
        )
        perform(self.exercise.store, self.exercise.clock, self.run.incident_id, response)
        news: list[News] = []
        self.exercise.deliver()
        self._deliveries(news)
        return news

    def state(self) -> str:
        """The incident's current state."""
        from crisiscomm.engine import service

        assert self.run is not None, "open() first"
        return service.view(
            store=self.exercise.store, incident_id=self.run.incident_id
        ).incident.state

    def status(self) -> Status:
        """Where the exercise stands now."""
        from crisiscomm.engine import service

        assert self.run is not None, "open() first"
        view = service.view(store=self.exercise.store, incident_id=self.run.incident_id)
        state = view.incident.state
        return Status(
            now=self.now,
            state=state,
            phase=str(view.playbook.state(state).get("phase") or ""),
            paused=self.pace.paused,
            possible=view.possible,
            next_inject=self.pending[0] if self.pending else None,
            next_timer=min((t.due_at for t in view.timers), default=None),
        )

    def skip(self) -> Inject | None:
        """Jump the clock to the next inject (None when no inject is left)."""
        if not self.pending:
            return None
        self.pace.jump(self.scenario.start + self.pending[0].at)
        return self.pending[0]

    def finish(self) -> DrillRun:
        """What the exercise produced, for the after-action report."""
        assert self.run is not None, "open() first"
        self.run.events = self.exercise.store.events(self.run.incident_id)
        self.run.timers_fired = self.exercise.fired
        self.run.wall_seconds = time.perf_counter() - self._started
        return self.run


def _split(line: str) -> tuple[list[str], dict[str, str]]:
    """A command line's words and its `--as NAME` / `--note TEXT` options."""
    try:
        tokens = shlex.split(line)
    except ValueError as error:
        raise UsageError(str(error)) from None
    words: list[str] = []
    options: dict[str, str] = {}
    while tokens:
        token = tokens.pop(0)
        if token in ("--as", "--note"):
            if not tokens:
                raise UsageError(_("`{option}` needs a value").format(option=token))
            options[token[2:]] = tokens.pop(0)
        else:
            words.append(token)
    return words, options


# -- the running drill's state file, for `crisiscomm drill stop` ---------------------------


def state_file() -> Path:
    """Where a running interactive drill says who it is: $XDG_RUNTIME_DIR or the temp dir."""
    folder = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(folder) / STATE_FILE


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_drill() -> dict[str, Any] | None:
    """The running interactive drill (pid, scenario), or None; a stale file is removed."""
    path = state_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        pid = int(data["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _alive(pid):
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    return dict(data)


def stop_running_drill(wait: float = 5.0) -> dict[str, Any]:
    """Stop the running interactive drill (SIGTERM) and wait for it to end; RefusedError
    when none is running."""
    drill = running_drill()
    if drill is None:
        raise RefusedError(_("no interactive drill is running"))
    pid = int(drill["pid"])
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait
    while _alive(pid) and state_file().exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return drill


@contextlib.contextmanager
def _registered(scenario: Scenario) -> Any:
    other = running_drill()
    if other is not None:
        raise UsageError(
            _("an interactive drill is already running (pid {pid}, {scenario})").format(
                pid=other["pid"], scenario=other.get("scenario")
            ),
            hint=_("end it first, or stop it with `crisiscomm drill stop`"),
        )
    path = state_file()
    path.write_text(
        json.dumps({"pid": os.getpid(), "scenario": str(scenario.path)}), encoding="utf-8"
    )
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError, KeyError):
            if json.loads(path.read_text(encoding="utf-8"))["pid"] == os.getpid():
                path.unlink()


# -- the console front end ------------------------------------------------------------------


def _reader(fd: int, lines: queue.Queue[str | None]) -> None:
    """Feed the lines read from `fd` into `lines`; None at the end of input.

    Reads the descriptor directly, not sys.stdin: a thread blocked inside sys.stdin holds
    its lock, and the interpreter cannot shut down cleanly while it does."""
    pending = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            chunk = b""
        if not chunk:
            if pending.strip():
                lines.put(pending.decode("utf-8", "replace"))
            lines.put(None)
            return
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            lines.put(line.decode("utf-8", "replace"))


def _help() -> str:
    return "\n".join(
        [
            _("Commands (as in a scripted response; add --as NAME to act as someone else):"),
            "  advance TRIGGER [--note TEXT]   check ITEM   set KEY=VALUE ...   ack   note TEXT",
            "  statement draft|approve|release NAME   statement edit NAME LANG TEXT",
            "  approve NAME (a statement or a trigger)",
            _("Exercise control:"),
            "  pause   resume   skip   status   help   quit",
        ]
    )


class _Console:
    """Writes what a session reports, in the exercise's time zone and T+offsets."""

    def __init__(self, session: InteractiveDrill, out: TextIO) -> None:
        self.session = session
        self.out = out

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def when(self, moment: datetime) -> str:
        from zoneinfo import ZoneInfo

        from crisiscomm.durations import format_duration

        scenario = self.session.scenario
        offset = moment - scenario.start
        local = moment.astimezone(ZoneInfo(scenario.timezone)).strftime("%H:%M")
        return f"[T+{format_duration(offset)} {local}]"

    def news(self, items: list[News]) -> None:
        for item in items:
            if item.inject is not None:
                self.inject(item.at, item.inject)
            elif item.delivery is not None:
                delivery = item.delivery
                self.say(
                    _("{when} {kind} via {channel} to {recipient}:").format(
                        when=self.when(item.at),
                        kind=delivery.kind or _("notification"),
                        channel=delivery.channel,
                        recipient=delivery.recipient,
                    )
                )
                self.say(delivery.text)

    def inject(self, at: datetime, inject: Inject) -> None:
        from crisiscomm.durations import format_duration

        text = " / ".join(f"[{lang}] {t}" if lang else t for lang, t in inject.text.items())
        self.say(
            _("{when} INJECT {id} ({source}, {channel}): {text}").format(
                when=self.when(at),
                id=inject.id,
                source=inject.source,
                channel=inject.channel,
                text=text,
            )
        )
        if inject.expect_action and inject.expect_within is not None:
            self.say(
                "  "
                + _("expected: {action} within {within}").format(
                    action=" ".join(inject.expect_action),
                    within=format_duration(inject.expect_within),
                )
            )

    def status(self) -> None:
        from crisiscomm.durations import format_duration

        status = self.session.status()
        line = _("{when} state {state} ({phase})").format(
            when=self.when(status.now), state=status.state, phase=status.phase
        )
        if status.paused:
            line += " · " + _("PAUSED")
        self.say(line)
        if status.possible:
            self.say("  " + _("possible: {names}").format(names=", ".join(status.possible)))
        if status.next_inject is not None:
            self.say(
                "  "
                + _("next inject: {id} at T+{offset}").format(
                    id=status.next_inject.id, offset=format_duration(status.next_inject.at)
                )
            )
        if status.next_timer is not None:
            self.say("  " + _("next timer: {when}").format(when=self.when(status.next_timer)))


def console(session: InteractiveDrill, *, out: TextIO, stdin_fd: int = 0) -> AfterAction | None:
    """Run an interactive drill at the console until its end or `quit`; the after-action
    report, or None when it was stopped (SIGTERM: a real-world emergency)."""
    from crisiscomm.drill.report import after_action
    from crisiscomm.engine.timefmt import times_header

    stopped = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: stopped.set())
    lines: queue.Queue[str | None] = queue.Queue()
    try:
        with _registered(session.scenario):
            front = _Console(session, out)
            front.say(
                _("EXERCISE: {title} - interactive drill at {speed:g}x; type `help`.").format(
                    title=session.scenario.title, speed=session.pace.speed
                )
            )
            front.say(times_header(session.scenario.timezone, [session.scenario.start]))
            front.news(session.open())
            threading.Thread(target=_reader, args=(stdin_fd, lines), daemon=True).start()
            ended = _loop(session, front, lines, stopped)
            if stopped.is_set() and not ended:
                front.say(_("DRILL STOPPED: real-world emergency"))
                return None
            front.say(_("{when} end of the exercise").format(when=front.when(session.now)))
            return after_action(session.finish())
    finally:
        signal.signal(signal.SIGTERM, previous)


def _loop(
    session: InteractiveDrill,
    front: _Console,
    lines: queue.Queue[str | None],
    stopped: threading.Event,
) -> bool:
    """Step the clock and run commands; True at the end of the exercise or `quit`."""
    reading = True
    while not stopped.is_set():
        front.news(session.step())
        if session.finished:
            return True
        if not reading and session.pace.paused:
            return True  # nobody left to resume it
        try:
            line = lines.get(timeout=STEP_SECONDS) if reading else None
        except queue.Empty:
            continue
        if line is None:
            if reading:
                reading = False
            else:
                time.sleep(STEP_SECONDS)
            continue
        if stopped.is_set():
            break
        if _control(session, front, line.strip()):
            return True
    return False


def _control(session: InteractiveDrill, front: _Console, line: str) -> bool:
    """Run one typed line; True when it is `quit`."""
    word = line.split()[0].lower() if line.split() else ""
    if not word:
        return False
    if word == "quit":
        return True
    if word == "help":
        front.say(_help())
    elif word == "pause":
        front.news(session.step())
        session.pace.pause()
        front.say(_("{when} paused; `resume` to go on").format(when=front.when(session.now)))
    elif word == "resume":
        session.pace.resume()
        front.say(_("{when} resumed").format(when=front.when(session.now)))
    elif word == "skip":
        inject = session.skip()
        if inject is None:
            front.say(_("no inject left; `quit` ends the exercise"))
        else:
            front.say(_("skipping to inject {id}").format(id=inject.id))
    elif word == "status":
        front.news(session.step())
        front.status()
    else:
        try:
            news = session.command(line)
        except CrisisCommError as error:
            front.say(_("refused: {reason}").format(reason=error.message))
            if error.hint:
                front.say("  " + _("hint: {hint}").format(hint=error.hint))
            return False
        front.say(
            _("{when} done: {command} (state {state})").format(
                when=front.when(session.now), command=line, state=session.state()
            )
        )
        front.news(news)
    return False
