"""A slow receiver holds one send no longer than its channel's `timeout`, and never the other
channels: real trickling servers on 127.0.0.1 (an HTTP server that sends its answer a byte a
second, a raw SMTP server that does the same), real SQLite files, a delivery pass in its own
thread, polled from the test's."""

from __future__ import annotations

import hashlib
import json
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from crisiscomm.cli import main
from crisiscomm.clock import SimulatedClock
from crisiscomm.notify import ChannelFactory, DeliveryError, DeliveryReport, deliver_due
from crisiscomm.notify.settings import DEFAULT_LEASE, MAX_TIMEOUT, timeout_seconds
from crisiscomm.playbook.channels import check_channel
from crisiscomm.playbook.model import canonical_json
from crisiscomm.store import NewEvent, OutboxMessage, Store, open_store
from crisiscomm.store.rows import OutboxRow

from .conftest import FIXTURES, START
from .conftest_store import new_incident

TRICKLE_SECONDS = 1.0  # between two bytes of a trickling answer: below any read timeout here


def wait_until(condition: Callable[[], bool], *, within: float) -> float:
    """Poll `condition` until it holds; the seconds that took (fails after `within`)."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < within, "the condition never held"
        time.sleep(0.02)
    return time.monotonic() - started


# -- trickling receivers -------------------------------------------------------------------------


@dataclass
class TricklingWebhook:
    """An HTTP server that takes the POST, then sends its answer a byte at a time: the
    status line and headers at once and a body announced as 50 bytes (`body`), or the
    status line itself (`headers`)."""

    mode: str = "body"
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                answer = b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n" + b"x" * 50
                if receiver.mode == "body":
                    head, answer = answer[:-50], answer[-50:]
                    self.wfile.write(head)
                for byte in answer:
                    try:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    except OSError:  # the sender gave up
                        return
                    if receiver.stop.wait(TRICKLE_SECONDS):
                        return

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/press"

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


class TricklingMailServer:
    """A raw SMTP server that answers promptly except one reply, which it sends a byte at a
    time: the greeting (`greeting`) or the reply to the message itself (`data`)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = int(self.listener.getsockname()[1])
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                connection, _address = self.listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self.converse, args=(connection,), daemon=True).start()

    def converse(self, connection: socket.socket) -> None:
        with connection, connection.makefile("rb") as lines:
            try:
                self.reply(connection, b"220 slow.example.uz ESMTP\r\n", self.mode == "greeting")
                for line in lines:
                    command = line[:4].upper()
                    if command in (b"EHLO", b"HELO"):
                        self.reply(connection, b"250 slow.example.uz\r\n")
                    elif command == b"DATA":
                        self.reply(connection, b"354 go ahead\r\n")
                        for body_line in lines:
                            if body_line == b".\r\n":
                                break
                        self.reply(connection, b"250 queued\r\n", self.mode == "data")
                    elif command == b"QUIT":
                        self.reply(connection, b"221 bye\r\n")
                        return
                    else:
                        self.reply(connection, b"250 ok\r\n")
            except OSError:  # the sender gave up
                return

    def reply(self, connection: socket.socket, text: bytes, trickle: bool = False) -> None:
        if not trickle:
            connection.sendall(text)
            return
        # half a beat first: a 2 s deadline falls between two bytes, not on one
        if self.stop.wait(TRICKLE_SECONDS / 2):
            return
        for byte in text:
            connection.sendall(bytes([byte]))
            if self.stop.wait(TRICKLE_SECONDS):
                return

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.listener.close()


@pytest.fixture
def trickling_webhook() -> Iterator[TricklingWebhook]:
    receiver = TricklingWebhook()
    try:
        yield receiver
    finally:
        receiver.close()


def webhook(url: str, timeout: str) -> dict[str, Any]:
    return {"type": "webhook", "url": url, "timeout": timeout}


def mail(port: int, timeout: str) -> dict[str, Any]:
    return {
        "type": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "sender": "press@example.uz",
        "timeout": timeout,
    }


def outbox_row(channel: str, recipient: str = "aziz@press.example.uz") -> OutboxRow:
    return OutboxRow(
        id=1,
        incident_id="INC-2026-0001",
        idempotency_key=f"INC-2026-0001:{channel}:1",
        channel=channel,
        recipient=recipient,
        payload={"kind": "notification", "subject": "Suw tasqını", "text": "Nókis"},
        status="pending",
        attempts=1,
        next_attempt_at=START,
        created_at=START,
        sent_at=None,
        last_error=None,
    )


def timed_failure(channel: Any, row: OutboxRow) -> tuple[DeliveryError, float]:
    started = time.monotonic()
    with pytest.raises(DeliveryError) as caught:
        channel.send(row, now=START)
    return caught.value, time.monotonic() - started


# -- one send, one deadline ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["body", "headers"])
def test_a_trickling_webhook_cannot_hold_a_send_past_its_timeout(mode: str) -> None:
    receiver = TricklingWebhook(mode)
    try:
        channel = ChannelFactory(environ={})("chat", webhook(receiver.url, "2s"))
        error, took = timed_failure(channel, outbox_row("chat"))
    finally:
        receiver.close()
    # each byte comes well within the read timeout: only the deadline of the send ends it
    assert 1.5 < took < 6
    where = receiver.url.rsplit("/hooks", 1)[0]
    assert error.message == (
        f"channel `chat`: the webhook {where} is too slow: it did not answer within 2s"
    )
    assert error.channel_down and not error.permanent


@pytest.mark.parametrize("mode", ["greeting", "data"])
def test_a_trickling_mail_server_cannot_hold_a_send_past_its_timeout(mode: str) -> None:
    server = TricklingMailServer(mode)
    try:
        channel = ChannelFactory(environ={})("email", mail(server.port, "2s"))
        error, took = timed_failure(channel, outbox_row("email"))
    finally:
        server.close()
    assert 1.5 < took < 6
    assert error.message == (
        f"channel `email`: the mail server 127.0.0.1:{server.port} is too slow: it did not "
        "answer within 2s"
    )
    assert error.channel_down and not error.permanent


def test_a_prompt_mail_server_behind_the_trickling_one_is_still_served() -> None:
    """The deadline's timer ends with its send: a later send on the same channel is whole."""
    server = TricklingMailServer("none")
    try:
        channel = ChannelFactory(environ={})("email", mail(server.port, "2s"))
        for _ in range(3):
            channel.send(outbox_row("email"), now=START)
    finally:
        server.close()


# -- one slow receiver, the other channels ------------------------------------------------------


def open_with_channels(store: Store, channels: dict[str, Any], messages: list[str]) -> None:
    """An incident whose pinned playbook has `channels`, with a row for each of `messages`
    (a channel name each) queued in that order."""
    content = canonical_json({"id": "flood", "title": "Suw", "states": {}, "channels": channels})
    store.create_incident(
        incident=new_incident(playbook_hash=hashlib.sha256(content.encode()).hexdigest()),
        playbook_content=content,
        events=[NewEvent(at=START, actor="aziz", type="opened", data={})],
        timers=[],
        outbox=[
            OutboxMessage(
                f"k-{index}-{name}",
                name,
                "aziz@press.example.uz",
                {"kind": "notification", "subject": "Suw tasqını", "text": "Nókis"},
            )
            for index, name in enumerate(messages)
        ],
    )


def by_channel(store: Store) -> dict[str, OutboxRow]:
    return {row.channel: row for row in store.list_outbox(statuses=("pending", "sent", "dead"))}


def deliver_in_thread(db: Path, clock: SimulatedClock) -> tuple[threading.Thread, list[Any]]:
    """A delivery pass on its own connection, in its own thread (as `serve` runs it)."""
    outcome: list[Any] = []

    def run() -> None:
        with open_store(db) as own:
            outcome.append(deliver_due(own, now=clock.now(), rng=random.Random(7)))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


@pytest.mark.parametrize("slow", ["webhook", "smtp"])
def test_a_slow_receiver_does_not_delay_a_file_notification_in_the_same_pass(
    slow: str, db: Path, store: Store, clock: SimulatedClock, tmp_path: Path
) -> None:
    receiver: TricklingWebhook | TricklingMailServer
    if slow == "webhook":
        receiver = TricklingWebhook()
        definition = webhook(receiver.url, "3s")
    else:
        receiver = TricklingMailServer("greeting")
        definition = mail(receiver.port, "3s")
    log = tmp_path / "log" / "notifications.jsonl"
    channels = {"slow": definition, "log": {"type": "file", "path": str(log)}}
    # the slow channel's row comes first: a pass sending in order would hold the file's
    open_with_channels(store, channels, ["slow", "log"])
    try:
        started = time.monotonic()
        thread, outcome = deliver_in_thread(db, clock)
        # the file row is written and marked sent while the slow receiver still holds its send
        logged = wait_until(lambda: by_channel(store)["log"].status == "sent", within=10)
        thread.join(15)
        finished = time.monotonic() - started
    finally:
        receiver.close()
    assert logged < 1.5 < 2.5 < finished < 8
    assert [json.loads(line)["channel"] for line in log.read_text().splitlines()] == ["log"]
    report: DeliveryReport = outcome[0]
    assert (report.sent, report.retried, report.dead, report.deferred) == (1, 1, 0, 0)
    failed = by_channel(store)["slow"]
    assert failed.status == "pending" and "is too slow" in (failed.last_error or "")
    assert failed.next_attempt_at > clock.now() + timedelta(seconds=10)  # after its backoff


def test_the_pass_keeps_the_lease_of_a_row_whose_send_runs_long(
    db: Path, store: Store, clock: SimulatedClock, trickling_webhook: TricklingWebhook
) -> None:
    """Leases are renewed beside the sends, not between them: a send longer than half the
    lease (a lease set short) is not taken over by another deliverer meanwhile."""
    lease = timedelta(seconds=3)
    open_with_channels(store, {"chat": webhook(trickling_webhook.url, "4s")}, ["chat"])
    outcome: list[DeliveryReport] = []

    def run() -> None:
        with open_store(db) as own:
            outcome.append(deliver_due(own, now=clock.now(), lease=lease))

    started = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    wait_until(lambda: by_channel(store)["chat"].attempts == 1, within=5)  # the pass took it
    stolen: list[OutboxRow] = []
    while thread.is_alive() and not stolen:
        later = clock.now() + timedelta(seconds=time.monotonic() - started)
        stolen += store.take_due_outbox(now=later, lease_until=later + lease)
        thread.join(0.1)
    thread.join(15)
    assert stolen == []
    assert (outcome[0].sent, outcome[0].retried) == (0, 1)
    assert "is too slow" in (by_channel(store)["chat"].last_error or "")


def test_a_slow_but_answering_receiver_hands_its_other_rows_to_the_next_pass(
    db: Path, store: Store, clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the pass has run PASS_SECONDS a lane starts no new send: its rows go back,
    uncounted, due behind what was queued meanwhile, so the next pass takes that first."""
    from crisiscomm.notify import lanes

    monkeypatch.setattr(lanes, "PASS_SECONDS", 0.5)
    answered = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            answered.wait(0.4)  # never set: each answer takes 0.4 s
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    ).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    open_with_channels(store, {"chat": webhook(url, "5s")}, ["chat"] * 5)
    try:
        report = deliver_due(store, now=clock.now())
    finally:
        server.shutdown()
        server.server_close()
    assert 1 <= report.sent < 5 and report.sent + report.deferred == 5
    returned = [row for row in store.list_outbox() if row.status == "pending"]
    assert len(returned) == report.deferred
    assert all(row.attempts == 0 and row.next_attempt_at > clock.now() for row in returned)
    assert all(row.last_error is None for row in returned)


# -- the timeout against the lease --------------------------------------------------------------


def test_the_longest_timeout_ends_within_half_the_lease() -> None:
    assert MAX_TIMEOUT * 2 <= DEFAULT_LEASE


def test_a_timeout_too_long_for_the_lease_is_refused_at_start_up_and_cut_at_delivery() -> None:
    definition = webhook("https://chat.example.uz/hooks/press", "2m")
    assert check_channel(definition) == [
        "timeout 2m is too long: a send must end within 30s (half the outbox lease), or "
        "another `crisiscomm serve` may take the notification over and send it twice"
    ]
    assert check_channel({**definition, "timeout": "30s"}) == []
    # a playbook pinned before validate refused it still sends within the lease
    assert timeout_seconds("chat", definition) == 30.0


def test_validate_refuses_a_timeout_that_cannot_end_within_the_lease(
    write: Callable[[str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    write("protocols/base.yaml", (FIXTURES / "good/base.yaml").read_text(encoding="utf-8"))
    book = write(
        "book.yaml",
        """
        crisiscomm: 1
        id: book
        extends: base
        channels:
          chat:
            type: webhook
            url: https://chat.example.uz/hooks/press
            timeout: 45s
        """,
    )
    code = main(["validate", str(book)])
    out = capsys.readouterr().out
    assert code == 1
    assert (
        "book.yaml:8:14: error: channel `chat`: timeout 45s is too long: a send must end "
        "within 30s (half the outbox lease), or another `crisiscomm serve` may take the "
        "notification over and send it twice [channel-config]"
    ) in out
    assert "hint: write `timeout: 30s` or less" in out
