"""Real receivers on 127.0.0.1 for the channel and outbox tests, and tests of the receivers.

`Webhook` is an http.server in a thread that checks every request's HMAC signature and can
fail, redirect or hang on purpose; `Mailbox` is an aiosmtpd server. Other test modules
import them (and the fixtures, by name) from here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import ssl
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

WEBHOOK_SECRET = "whsec-Tz9kQ4mN7pL2xR8v"  # what NOTIFY_TEST_WEBHOOK_SECRET holds in tests


# -- webhook receiver --------------------------------------------------------------------------


@dataclass
class Received:
    """One request the webhook receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


class _Server(ThreadingHTTPServer):
    quiet = False  # True: a request that fails (a refused TLS handshake) is not printed

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not self.quiet:
            super().handle_error(request, client_address)


@dataclass
class Webhook:
    """A real HTTP server; by default it answers 200 to every correctly signed POST."""

    secret: str = WEBHOOK_SECRET
    fail_first: int = 0  # answer 503 to this many requests first
    always_fail: bool = False
    redirect_to: str | None = None  # answer 302 with this Location
    hang: bool = False  # never answer (until the test ends)
    tls: ssl.SSLContext | None = None  # serve https:// with this server context
    requests: list[Received] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                expected = (
                    "sha256=" + hmac.new(receiver.secret.encode(), body, hashlib.sha256).hexdigest()
                )
                signed = hmac.compare_digest(
                    self.headers.get("X-Crisiscomm-Signature", ""), expected
                )
                receiver.requests.append(
                    Received(self.path, dict(self.headers.items()), body, signed)
                )
                if receiver.hang:
                    receiver.released.wait(10)
                    return
                if receiver.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", receiver.redirect_to)
                elif not signed:
                    self.send_response(401)
                elif receiver.always_fail or len(receiver.requests) <= receiver.fail_first:
                    self.send_response(503)
                else:
                    self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST  # a followed redirect would land here

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if self.tls is not None:
            # the handshake happens in the request's thread; a client refusing the
            # certificate is what some tests want, not an error to print
            self.server.socket = self.tls.wrap_socket(
                self.server.socket, server_side=True, do_handshake_on_connect=False
            )
            self.server.quiet = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.server.server_address[1]}/hooks/press"

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture(name="webhook")
def webhook_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhook]:
    """A webhook receiver, its URL and secret in the environment as the fixture playbook wants."""
    receiver = Webhook()
    monkeypatch.setenv("NOTIFY_TEST_WEBHOOK_URL", receiver.url)
    monkeypatch.setenv("NOTIFY_TEST_WEBHOOK_SECRET", WEBHOOK_SECRET)
    try:
        yield receiver
    finally:
        receiver.close()


# -- SMTP receiver -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mail:
    """One message as the server received it."""

    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def text(self) -> str:
        body = self.message.get_body(("plain",))
        assert body is not None
        return str(body.get_content()).replace("\r\n", "\n")


class Mailbox:
    """A real SMTP server (aiosmtpd) on 127.0.0.1; with `logins`, it offers AUTH in plain text.

    With `starttls`, it offers STARTTLS with that server context and takes no mail before it;
    with `implicit`, it speaks TLS from the first byte (as on port 465).
    """

    def __init__(
        self,
        logins: dict[str, str] | None = None,
        *,
        starttls: ssl.SSLContext | None = None,
        implicit: ssl.SSLContext | None = None,
    ) -> None:
        from aiosmtpd.controller import Controller

        self.mails: list[Mail] = []
        self.logins = logins
        options: dict[str, Any] = {}
        if logins is not None:
            options = {"authenticator": self._authenticate, "auth_require_tls": False}
        if starttls is not None:
            options |= {"tls_context": starttls, "require_starttls": True}
        if implicit is not None:
            options |= {"ssl_context": implicit}
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)
        self.controller.start()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        assert self.logins is not None
        ok = (
            isinstance(data, LoginPassword)
            and self.logins.get(data.login.decode()) == data.password.decode()
        )
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535

    def close(self) -> None:
        self.controller.stop()


@pytest.fixture(name="mailbox")
def mailbox_fixture() -> Iterator[Mailbox]:
    server = Mailbox()
    try:
        yield server
    finally:
        server.close()


# -- the receivers themselves --------------------------------------------------------------------


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return int(error.code)


def test_the_webhook_receiver_refuses_a_wrong_signature(webhook: Webhook) -> None:
    body = b'{"text": "x"}'
    good = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert _post(webhook.url, body, {"X-Crisiscomm-Signature": "sha256=" + "0" * 64}) == 401
    assert _post(webhook.url, body, {"X-Crisiscomm-Signature": good}) == 200
    assert [r.signature_ok for r in webhook.requests] == [False, True]


def test_the_mailbox_receives_what_smtplib_sends(mailbox: Mailbox) -> None:
    import smtplib

    with smtplib.SMTP("127.0.0.1", mailbox.port, timeout=5) as client:
        client.sendmail("a@example.uz", ["b@example.uz"], b"Subject: hi\r\n\r\nhello\r\n")
    [mail] = mailbox.mails
    assert (mail.sender, mail.recipients, mail.text) == (
        "a@example.uz",
        ["b@example.uz"],
        "hello\n",
    )
