"""One deadline for a whole send: a socket's `timeout` bounds each read and write, not the
conversation, so a receiver that trickles a byte a second holds a send for ever.

    with SendDeadline(seconds) as deadline:
        client = smtp_client(deadline, ...)     # or webhook_opener(deadline, ...)
        ...                                    # cut off once `seconds` have passed
    # on an error: deadline.expired says the receiver was too slow

smtplib and urllib stay in charge of the conversation; they only open their sockets
through the hooks here, which hand each socket to `watch`. When the time is up, a timer
shuts the connection down (through a duplicate of its descriptor: whatever wraps the
socket, TLS included, and whichever read or write is waiting on it, it fails at once), and
the library raises its usual error, which the channel reports as a receiver too slow.

Imported by the smtp and webhook channels when they first send (it imports smtplib and
urllib.request).
"""

from __future__ import annotations

import http.client
import smtplib
import socket
import ssl
import threading
import time
import urllib.request
from contextlib import suppress
from types import TracebackType
from typing import Any

__all__ = ["SendDeadline", "smtp_client", "webhook_opener"]


class SendDeadline:
    """The end of one send, `seconds` after it starts; sockets watched are cut off then."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._watched: list[socket.socket] = []
        self._cut = False
        self._finished = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> SendDeadline:
        self.ends = time.monotonic() + self.seconds
        self._timer.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._timer.cancel()
        with self._lock:
            self._finished = True
            for watched in self._watched:
                watched.close()
            self._watched.clear()

    @property
    def expired(self) -> bool:
        """Whether the time is up: an error now may come from the connections cut."""
        return self._cut or time.monotonic() >= self.ends

    @property
    def cut(self) -> bool:
        """Whether the connections were cut (a read may have returned short, without error)."""
        return self._cut

    def watch(self, sock: socket.socket) -> socket.socket:
        """Cut `sock` off at the deadline (at once if it has passed); returns it."""
        with self._lock:
            if self._finished:
                return sock
            try:
                # our own descriptor of the connection: it outlives the socket object (a TLS
                # wrapper takes the original over), and is never another connection's number
                watched = sock.dup()
            except OSError:
                return sock
            self._watched.append(watched)
            if self._cut:
                _shut_down(watched)
        return sock

    def _expire(self) -> None:
        with self._lock:
            if self._finished:
                return
            self._cut = True
            for watched in self._watched:
                _shut_down(watched)


def _shut_down(watched: socket.socket) -> None:
    """Shut the connection down both ways: blocked reads return, later ones fail."""
    with suppress(OSError):
        watched.shutdown(socket.SHUT_RDWR)


# -- smtplib --------------------------------------------------------------------------------


class _WatchedSMTP(smtplib.SMTP):
    """smtplib's client, its connection watched by a deadline from the greeting on."""

    deadline: SendDeadline | None = None

    def __init__(self, *args: Any, deadline: SendDeadline | None = None, **kwargs: Any) -> None:
        if deadline is not None:
            self.deadline = deadline
        super().__init__(*args, **kwargs)  # connects

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        # smtplib's own hook for opening the connection (SMTP_SSL wraps what it returns)
        sock = socket.create_connection((host, port), timeout, self.source_address)
        return sock if self.deadline is None else self.deadline.watch(sock)


class _WatchedSMTPSSL(smtplib.SMTP_SSL, _WatchedSMTP):
    """The same, speaking TLS from the start (the handshake is within the deadline too)."""

    def __init__(self, *args: Any, deadline: SendDeadline | None = None, **kwargs: Any) -> None:
        self.deadline = deadline
        super().__init__(*args, **kwargs)  # connects


def smtp_client(
    deadline: SendDeadline,
    *,
    host: str,
    port: int,
    timeout: float,
    tls: ssl.SSLContext | None,
) -> smtplib.SMTP:
    """A client connected to `host` (TLS from the start with `tls`), cut off at `deadline`."""
    if tls is not None:
        return _WatchedSMTPSSL(host, port, timeout=timeout, context=tls, deadline=deadline)
    return _WatchedSMTP(host, port, timeout=timeout, deadline=deadline)


# -- urllib ---------------------------------------------------------------------------------


class _WatchedHTTP(http.client.HTTPConnection):
    """http.client's connection, its socket watched by a deadline once connected (a TLS
    handshake comes after this, within the deadline)."""

    def __init__(self, *args: Any, deadline: SendDeadline | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deadline = deadline

    def connect(self) -> None:
        super().connect()
        if self.deadline is not None and self.sock is not None:
            self.deadline.watch(self.sock)


class _WatchedHTTPS(http.client.HTTPSConnection, _WatchedHTTP):
    """The same for https:// (HTTPSConnection.connect calls the one above, then wraps)."""

    def __init__(self, *args: Any, deadline: SendDeadline | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deadline = deadline


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: SendDeadline) -> None:
        super().__init__()
        self.deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_WatchedHTTP, req, deadline=self.deadline)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: SendDeadline, context: ssl.SSLContext | None) -> None:
        super().__init__(context=context)
        self.deadline = deadline
        self.tls = context

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_WatchedHTTPS, req, context=self.tls, deadline=self.deadline)


def webhook_opener(
    deadline: SendDeadline,
    *,
    tls: ssl.SSLContext | None,
    handlers: tuple[urllib.request.BaseHandler, ...] = (),
) -> urllib.request.OpenerDirector:
    """urllib's opener (with `handlers` too) whose connections are cut off at `deadline`;
    https:// with the `tls` context (urllib's default one without it)."""
    return urllib.request.build_opener(
        *handlers, _HTTPHandler(deadline), _HTTPSHandler(deadline, tls)
    )
