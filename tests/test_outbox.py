"""Delivering the outbox end to end: incidents opened by the engine on a real SQLite file,
real receivers on 127.0.0.1, a simulated clock for the backoff, the `outbox` command."""

from __future__ import annotations

import io
import json
import logging
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from crisiscomm.cli import main
from crisiscomm.clock import SimulatedClock
from crisiscomm.engine import service
from crisiscomm.notify import ChannelFactory, DeliveryReport, deliver_due
from crisiscomm.notify.outbox import DEFAULT_LEASE, retry_delay
from crisiscomm.store import OutboxMessage, Store, open_store
from crisiscomm.store.rows import OutboxRow
from tests.test_notify_receivers import (  # noqa: F401 (fixtures, used by name)
    WEBHOOK_SECRET,
    Mailbox,
    Webhook,
    mailbox_fixture,
    webhook_fixture,
)

from .conftest import FIXTURES, START


@pytest.fixture
def console() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def playbook(tmp_path: Path, mailbox: Mailbox) -> str:
    """The notify fixture playbook, its SMTP channel pointing at the test's mail server."""
    text = (FIXTURES / "notify" / "office.yaml").read_text(encoding="utf-8")
    path = tmp_path / "office.yaml"
    path.write_text(text.replace("port: 2525", f"port: {mailbox.port}"), encoding="utf-8")
    return str(path)


def open_flood(store: Store, clock: SimulatedClock, playbook: str) -> str:
    return service.open_incident(
        store=store,
        clock=clock,
        playbook_ref=playbook,
        title="Suw tasqını — Наводнение",
        severity=None,
        facts=["region=Nókis"],
        actor="aziz",
    ).id


def deliver(
    store: Store, clock: SimulatedClock, console: io.StringIO, **options: Any
) -> DeliveryReport:
    factory = ChannelFactory(streams={"stdout": console, "stderr": console})
    return deliver_due(store, now=clock.now(), rng=random.Random(7), channels=factory, **options)


def counts(report: DeliveryReport) -> tuple[int, int, int, int]:
    return report.sent, report.retried, report.dead, report.deferred


def rows(store: Store) -> dict[str, OutboxRow]:
    """Every outbox row by channel and recipient."""
    found = store.list_outbox(statuses=("pending", "sent", "dead"))
    return {f"{r.channel}:{r.recipient}": r for r in found}


@pytest.fixture(autouse=True)
def _outbox_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """`crisiscomm outbox` as registered in crisiscomm.cli (registered here too, until it is)."""
    from crisiscomm.cli import cli
    from crisiscomm.cli.outbox import outbox

    monkeypatch.setitem(cli.commands, "outbox", cli.commands.get("outbox", outbox))


def run(capsys: pytest.CaptureFixture[str], db: Path, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--db", str(db)])
    out, err = capsys.readouterr()
    return code, out, err


# -- delivery -----------------------------------------------------------------------------------


def test_the_engines_notifications_reach_every_channel_once(
    store: Store,
    clock: SimulatedClock,
    playbook: str,
    mailbox: Mailbox,
    webhook: Webhook,
    console: io.StringIO,
    tmp_path: Path,
) -> None:
    incident_id = open_flood(store, clock, playbook)
    assert counts(deliver(store, clock, console)) == (5, 0, 0, 0)
    assert sorted(rows(store)) == [
        "console:duty_officer",
        "email:aziz@press.example.uz",
        "email:gulnara@press.example.uz",
        "log:duty_officer",
        "newsroom:duty_officer",
    ]
    assert all(r.status == "sent" and r.sent_at == START for r in rows(store).values())
    text = "Jańa hádiyse: Nókis. Новое происшествие: Nókis."
    assert text in console.getvalue()
    assert sorted(m.recipients[0] for m in mailbox.mails) == [
        "aziz@press.example.uz",
        "gulnara@press.example.uz",
    ]
    assert all(text in mail.text for mail in mailbox.mails)
    [request] = webhook.requests
    assert request.signature_ok and text in request.json()["text"]
    [line] = (tmp_path / "log" / "notifications.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["payload"]["text"] == text
    assert json.loads(line)["incident_id"] == incident_id
    assert counts(deliver(store, clock, console)) == (0, 0, 0, 0)  # nothing sent twice


def test_a_receiver_failing_at_first_is_retried_with_backoff(
    store: Store, clock: SimulatedClock, playbook: str, webhook: Webhook, console: io.StringIO
) -> None:
    webhook.fail_first = 2
    open_flood(store, clock, playbook)
    assert counts(deliver(store, clock, console)) == (4, 1, 0, 0)
    first = rows(store)["newsroom:duty_officer"]
    assert (first.status, first.attempts) == ("pending", 1)
    assert first.last_error is not None and first.last_error.endswith("answered HTTP 503")
    assert timedelta(seconds=15) <= first.next_attempt_at - START <= timedelta(seconds=30)

    assert counts(deliver(store, clock, console)) == (0, 0, 0, 0)  # not due yet
    clock.advance(timedelta(seconds=30))
    assert counts(deliver(store, clock, console)) == (0, 1, 0, 0)
    second = rows(store)["newsroom:duty_officer"]
    assert timedelta(seconds=30) <= second.next_attempt_at - clock.now() <= timedelta(minutes=1)
    clock.advance(timedelta(minutes=1))
    assert counts(deliver(store, clock, console)) == (1, 0, 0, 0)
    sent = rows(store)["newsroom:duty_officer"]
    assert (sent.status, sent.attempts, sent.sent_at) == ("sent", 3, clock.now())
    # every attempt carried the same key, so the receiver can drop a redelivery
    assert [r.headers["Idempotency-Key"] for r in webhook.requests] == [sent.idempotency_key] * 3


def test_backoff_doubles_up_to_its_cap_with_jitter_from_a_seeded_random() -> None:
    nominal = [30, 60, 120, 240, 480, 960, 1800, 1800]
    for attempts, seconds in enumerate(nominal, 1):
        delay = retry_delay(attempts, random.Random(attempts)).total_seconds()
        assert seconds / 2 <= delay <= seconds
    assert retry_delay(3, random.Random(1)) == retry_delay(3, random.Random(1))


def test_a_receiver_that_always_fails_makes_a_dead_letter_listed_and_requeued(
    db: Path,
    store: Store,
    clock: SimulatedClock,
    playbook: str,
    webhook: Webhook,
    console: io.StringIO,
    capsys: pytest.CaptureFixture[str],
) -> None:
    webhook.always_fail = True
    incident_id = open_flood(store, clock, playbook)
    for _attempt in range(3):
        deliver(store, clock, console, max_attempts=3)
        clock.advance(timedelta(hours=1))
    dead = rows(store)["newsroom:duty_officer"]
    assert (dead.status, dead.attempts) == ("dead", 3)
    assert len(webhook.requests) == 3
    assert store.outbox_counts() == {"pending": 0, "sent": 4, "dead": 1, "failing": 0}

    code, out, err = run(capsys, db, "outbox")
    assert (code, err) == (0, "")
    header, first, second = out.splitlines()
    assert header == "Times: Asia/Tashkent (UTC+05:00)"  # the incident's zone, named once
    assert first.split()[:6] == [str(dead.id), "dead", incident_id, "newsroom", "duty_officer", "3"]
    assert second.strip().startswith(
        "last error: channel `newsroom`: the webhook http://127.0.0.1:"
    )
    assert second.endswith("answered HTTP 503")
    code, out, _err = run(capsys, db, "outbox", "--json", "--dead")
    [listed] = json.loads(out)
    assert (listed["id"], listed["status"], listed["attempts"]) == (dead.id, "dead", 3)
    code, out, _err = run(capsys, db, "outbox", "--all")
    assert (
        len([line for line in out.splitlines() if line.strip().startswith(tuple("0123456789"))])
        == 5
    )
    sent = next(row for row in rows(store).values() if row.status == "sent")
    assert sent.sent_at is not None
    local = sent.sent_at.astimezone(ZoneInfo("Asia/Tashkent")).strftime("%d.%m.%Y %H:%M")
    assert f"sent {local}" in out  # local time, not UTC

    code = main(["outbox", "--db", str(db), "retry", str(dead.id)])  # --db before the command
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert out == f"outbox row {dead.id} (newsroom to duty_officer) is queued again\n"
    code, out, _err = run(capsys, db, "outbox", "--dead")
    assert (code, out) == (0, "No dead letters.\n")
    webhook.always_fail = False
    requeued = rows(store)["newsroom:duty_officer"]
    assert (requeued.status, requeued.attempts) == ("pending", 0)
    clock.set(max(clock.now(), requeued.next_attempt_at))
    assert counts(deliver(store, clock, console)) == (1, 0, 0, 0)
    assert rows(store)["newsroom:duty_officer"].status == "sent"


def test_outbox_retry_of_an_unknown_or_live_row_says_why(
    db: Path, store: Store, clock: SimulatedClock, playbook: str, capsys: pytest.CaptureFixture[str]
) -> None:
    open_flood(store, clock, playbook)
    code, out, err = run(capsys, db, "outbox", "retry", "999")
    assert (code, out) == (2, "")
    assert err == (
        "crisiscomm: error: no outbox row 999\n"
        "  hint: run `crisiscomm outbox --all` to see the outbox\n"
    )
    pending = rows(store)["log:duty_officer"]
    code, out, err = run(capsys, db, "outbox", "retry", str(pending.id))
    assert (code, out) == (1, "")
    assert err.startswith(
        f"crisiscomm: error: outbox row {pending.id} is pending, not dead: only a dead letter is re-queued\n"
    )
    code, _out, err = run(capsys, db, "outbox", "retry", "forty-two")
    assert code == 2 and "'forty-two' is not a valid integer" in err


def test_outbox_lists_nothing_plainly(
    db: Path, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, db, "outbox") == (0, "Nothing waiting in the outbox.\n", "")
    assert run(capsys, db, "outbox", "--json") == (0, "[]\n", "")


def test_a_missing_variable_is_named_and_the_row_retried_later_not_lost(
    store: Store,
    clock: SimulatedClock,
    playbook: str,
    webhook: Webhook,
    console: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NOTIFY_TEST_WEBHOOK_SECRET")
    open_flood(store, clock, playbook)
    assert counts(deliver(store, clock, console)) == (4, 1, 0, 0)  # the other channels went
    waiting = rows(store)["newsroom:duty_officer"]
    assert waiting.status == "pending"
    assert waiting.last_error == (
        "channel `newsroom`: the environment variable NOTIFY_TEST_WEBHOOK_SECRET (for `secret`) "
        "is not set"
    )
    assert webhook.requests == []
    monkeypatch.setenv("NOTIFY_TEST_WEBHOOK_SECRET", WEBHOOK_SECRET)
    clock.set(waiting.next_attempt_at)
    assert counts(deliver(store, clock, console)) == (1, 0, 0, 0)
    assert webhook.requests[0].signature_ok


def test_rows_of_a_channel_that_just_failed_wait_with_it(
    store: Store, clock: SimulatedClock, playbook: str, webhook: Webhook, console: io.StringIO
) -> None:
    webhook.always_fail = True
    for _number in range(3):
        open_flood(store, clock, playbook)
    report = deliver(store, clock, console)
    assert counts(report) == (12, 1, 0, 2)
    assert len(webhook.requests) == 1  # not three timeouts in a row
    newsroom = [r for r in store.list_outbox(statuses=("pending",)) if r.channel == "newsroom"]
    assert sorted(r.attempts for r in newsroom) == [0, 0, 1]
    assert len({r.next_attempt_at for r in newsroom}) == 1  # tried again together


def test_a_row_taken_by_a_deliverer_that_died_is_sent_after_its_lease_with_the_same_key(
    store: Store,
    clock: SimulatedClock,
    playbook: str,
    webhook: Webhook,
    console: io.StringIO,
    tmp_path: Path,
) -> None:
    open_flood(store, clock, playbook)
    taken = store.take_due_outbox(now=clock.now(), lease_until=clock.now() + DEFAULT_LEASE)
    assert len(taken) == 5  # ... and the process taking them died here
    assert counts(deliver(store, clock, console)) == (0, 0, 0, 0)  # leased, not lost
    clock.advance(DEFAULT_LEASE)
    assert counts(deliver(store, clock, console)) == (5, 0, 0, 0)
    log = tmp_path / "log" / "notifications.jsonl"
    [line] = log.read_text(encoding="utf-8").splitlines()
    [logged] = [r for r in taken if r.channel == "log"]
    assert json.loads(line)["idempotency_key"] == logged.idempotency_key
    assert rows(store)["log:duty_officer"].attempts == 2


def test_a_row_that_kills_every_deliverer_is_buried_not_retried_forever(
    store: Store, clock: SimulatedClock, playbook: str, console: io.StringIO
) -> None:
    open_flood(store, clock, playbook)
    for _crash in range(3):
        store.take_due_outbox(now=clock.now(), lease_until=clock.now() + DEFAULT_LEASE)
        clock.advance(DEFAULT_LEASE)
    assert counts(deliver(store, clock, console, max_attempts=3)) == (0, 0, 5, 0)
    assert console.getvalue() == ""
    assert rows(store)["console:duty_officer"].last_error == "gave up after 3 attempts"


def test_a_long_pass_renews_the_lease_of_the_rows_it_has_yet_to_send(
    db: Path,
    store: Store,
    clock: SimulatedClock,
    playbook: str,
    webhook: Webhook,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from crisiscomm.notify import outbox as delivery

    class SlowTime:
        """Each look at the time finds 40 s more gone: every row outlasts half a lease."""

        seconds = 0.0

        @classmethod
        def monotonic(cls) -> float:
            cls.seconds += 40
            return cls.seconds

    monkeypatch.setattr(delivery, "time", SlowTime)
    open_flood(store, clock, playbook)
    later = clock.now() + DEFAULT_LEASE + timedelta(seconds=10)  # past the first lease
    stolen: list[OutboxRow] = []

    class Racing:
        """A channel that, while sending, lets another deliverer try to take rows."""

        name, secrets = "any", ()

        def send(self, row: OutboxRow, *, now: datetime) -> None:
            with open_store(db) as other:
                stolen.extend(other.take_due_outbox(now=later, lease_until=later + DEFAULT_LEASE))

        def sync(self) -> None:
            pass

    class RacingFactory(ChannelFactory):
        def __call__(self, name: str, definition: Any) -> Any:
            return Racing()

    report = deliver_due(store, now=clock.now(), channels=RacingFactory())
    assert (report.sent, stolen) == (5, [])
    assert {r.status for r in rows(store).values()} == {"sent"}


def test_a_channel_the_pinned_playbook_lacks_is_a_dead_letter_at_once(
    store: Store, clock: SimulatedClock, console: io.StringIO
) -> None:
    from tests.conftest_store import open_incident

    incident = open_incident(store, outbox=[OutboxMessage("k-1", "pager", "duty", {"text": "x"})])
    clock.set(incident.opened_at + timedelta(days=1))
    assert counts(deliver(store, clock, console)) == (0, 0, 1, 0)
    [dead] = store.list_outbox(statuses=("dead",))
    assert (dead.attempts, dead.last_error) == (
        1,
        "channel `pager` is not defined in the playbook the incident pinned",
    )


# -- secrets ------------------------------------------------------------------------------------


class Leaky:
    """A channel with a bug whose exception text holds its secret."""

    name = "newsroom"

    def __init__(self, secret: str) -> None:
        self.secrets = (secret,)

    def send(self, row: OutboxRow, *, now: datetime) -> None:
        raise ValueError(f"bad header value 'Bearer {self.secrets[0]}'")


def test_secrets_reach_no_row_event_log_line_or_error(
    db: Path,
    store: Store,
    clock: SimulatedClock,
    playbook: str,
    webhook: Webhook,
    console: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = "tok-8Hq2Zx7Lm4Rv9Ws1"
    monkeypatch.setenv("NOTIFY_TEST_WEBHOOK_URL", f"{webhook.url}/{token}")  # a token in the path
    webhook.always_fail = True
    caplog.set_level(logging.DEBUG, logger="crisiscomm")
    incident_id = open_flood(store, clock, playbook)
    deliver(store, clock, console, max_attempts=1)
    assert rows(store)["newsroom:duty_officer"].status == "dead"

    class LeakyFactory(ChannelFactory):
        def __call__(self, name: str, definition: Any) -> Any:
            return Leaky(WEBHOOK_SECRET)

    open_flood(store, clock, playbook)
    deliver_due(store, now=clock.now(), channels=LeakyFactory(), max_attempts=1)
    errors = [r.last_error for r in store.list_outbox(statuses=("dead",))]
    assert "channel `newsroom` failed: ValueError: bad header value 'Bearer ***'" in errors

    import sqlite3

    connection = sqlite3.connect(db)
    dump = "\n".join(connection.iterdump())
    connection.close()
    everything = "\n".join(
        [
            dump,
            caplog.text,
            console.getvalue(),
            json.dumps([e.data for e in store.events(incident_id)]),
        ]
    )
    assert "answered HTTP 503" in everything  # the failures were recorded and logged ...
    for secret in (token, WEBHOOK_SECRET):
        assert secret not in everything  # ... without the secrets


class Unsyncable:
    """A channel that accepts every row but cannot make them durable (a full disk)."""

    name, secrets = "any", ()

    def __init__(self, sent: list[int]) -> None:
        self.sent = sent

    def send(self, row: OutboxRow, *, now: datetime) -> None:
        self.sent.append(row.id)

    def sync(self) -> None:
        raise OSError("No space left on device")


def test_rows_a_channel_cannot_make_durable_are_retried_not_marked_sent(
    store: Store, clock: SimulatedClock, playbook: str
) -> None:
    open_flood(store, clock, playbook)
    sent: list[int] = []

    class Factory(ChannelFactory):
        def __call__(self, name: str, definition: Any) -> Any:
            return Unsyncable(sent)

    report = deliver_due(store, now=clock.now(), rng=random.Random(7), channels=Factory())
    assert len(sent) == 5 and report.sent == 0 and report.retried == 5
    for row in rows(store).values():
        assert row.last_error == (
            f"channel `{row.channel}` failed: OSError: No space left on device"
        )
    assert all(r.status == "pending" and r.sent_at is None for r in rows(store).values())


def test_the_file_channel_appends_at_send_and_fsyncs_once_at_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from crisiscomm.notify import channels

    synced: list[int] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(channels.os, "fsync", recording_fsync)
    channel = ChannelFactory(environ={})("log", {"type": "file", "path": "new/n.jsonl"})
    for number in range(3):
        channel.send(file_row(number), now=START)
    assert synced == []  # appended, visible, not yet made durable
    assert len((tmp_path / "new" / "n.jsonl").read_text(encoding="utf-8").splitlines()) == 3
    channel.sync()
    assert len(synced) == 2  # the file, and the folder that now holds a new name
    channel.sync()
    assert len(synced) == 2  # nothing appended since


def file_row(number: int) -> OutboxRow:
    return OutboxRow(
        id=number,
        incident_id="INC-2026-0001",
        idempotency_key=f"k{number}",
        channel="log",
        recipient="duty",
        payload={"text": "Suw"},
        status="pending",
        attempts=1,
        next_attempt_at=START,
        created_at=START,
        sent_at=None,
        last_error=None,
    )


def test_the_file_channel_syncs_the_file_it_wrote_even_if_rotated_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from crisiscomm.notify import channels

    synced: list[int] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(os.fstat(fd).st_ino)
        real_fsync(fd)

    monkeypatch.setattr(channels.os, "fsync", recording_fsync)
    (tmp_path / "n.jsonl").write_text("", encoding="utf-8")
    channel = ChannelFactory(environ={})("log", {"type": "file", "path": "n.jsonl"})
    channel.send(file_row(1), now=START)
    (tmp_path / "n.jsonl").rename(tmp_path / "n.jsonl.1")  # logrotate, between send and sync
    channel.send(file_row(2), now=START)
    channel.sync()
    assert synced == [(tmp_path / "n.jsonl.1").stat().st_ino]  # where the lines are
    assert len((tmp_path / "n.jsonl.1").read_text(encoding="utf-8").splitlines()) == 2
    channel.send(file_row(3), now=START)  # the next group starts the new file
    channel.sync()
    assert (tmp_path / "n.jsonl").read_text(encoding="utf-8").count("\n") == 1


def test_a_line_the_disk_cut_short_is_taken_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    from crisiscomm.notify import DeliveryError, channels

    channel = ChannelFactory(environ={})("log", {"type": "file", "path": "n.jsonl"})
    channel.send(file_row(1), now=START)
    real_write = os.write
    calls: list[int] = []

    def disk_fills(fd: int, data: bytes) -> int:
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, data[:10])  # part of the line fits
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(channels.os, "write", disk_fills)
    with pytest.raises(DeliveryError, match="No space left on device"):
        channel.send(file_row(2), now=START)
    monkeypatch.setattr(channels.os, "write", real_write)
    channel.send(file_row(2), now=START)  # the retry
    channel.sync()
    lines = (tmp_path / "n.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["idempotency_key"] for line in lines] == ["k1", "k2"]


@pytest.mark.timeout(30)
def test_a_lane_done_while_local_rows_are_sent_does_not_hold_the_pass(
    store: Store,
    clock: SimulatedClock,
    playbook: str,
    webhook: Webhook,
    console: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A lane's last report read between two local rows used to go uncounted, and the pass
    then waited for it forever (`serve` delivered nothing more). Here the local rows are
    sent only once the lane has finished, so its `done` is read there."""
    import time

    from crisiscomm.notify import outbox

    webhook.always_fail = True  # the lane fails at once, and is done
    open_flood(store, clock, playbook)
    original = outbox._Delivery.record_reports

    waited: list[bool] = []

    def after_the_lane(self: Any) -> None:
        deadline = time.monotonic() + 10
        while not waited and self.reports.empty() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not waited:
            time.sleep(0.2)  # its last reports, `done` among them, are in the queue
            waited.append(True)
        original(self)

    monkeypatch.setattr(outbox._Delivery, "record_reports", after_the_lane)
    # the old pass never returned here: pytest-timeout ends it (the store is this thread's)
    report = deliver(store, clock, console)
    assert counts(report)[1] == 1  # the webhook's row: retried later
