"""Channels: how a notification leaves. `console` and `file` here; `smtp`, `webhook` and
`telegram` in their own modules, imported only when a playbook uses them. The channels take
their shared settings (timeouts) from settings.py and never import this registry.

A channel is built from its definition in the incident's pinned playbook, with `${ENV}`
references resolved (env.py), and sends one outbox row at a time; `sync` then makes what
it accepted durable (the file channel's one fsync for many lines), before the rows are
marked sent. It raises DeliveryError with a message a press officer understands and never a
secret in it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from crisiscomm.clock import format_utc
from crisiscomm.i18n import _
from crisiscomm.notify.env import resolve
from crisiscomm.notify.errors import DeliveryError, short_reason
from crisiscomm.store.rows import OutboxRow

if TYPE_CHECKING:
    from crisiscomm.notify.site import Republisher

__all__ = [
    "Channel",
    "ChannelFactory",
    "ConsoleChannel",
    "FileChannel",
]


class Channel(Protocol):
    """Sends outbox rows; `secrets` are the values to keep out of any message.

    A channel that sends to a server says so with a class attribute `remote = True`: a
    delivery pass then gives it a lane (a thread) of its own, so it cannot hold the other
    channels' rows, and its `send` must end within its `timeout` (deadline.py). Without
    it, the pass sends the channel's rows itself, in order, between the other local ones.

    A channel that sends one row as several messages (telegram) has an attribute
    `record_progress`: the pass sets it to a function that commits the row's payload as
    the channel has updated it (the parts accepted so far), and returns once it is durable,
    so a retry sends only the rest.
    """

    name: str
    secrets: tuple[str, ...]

    def send(self, row: OutboxRow, *, now: datetime) -> None:
        """Deliver one row, or raise DeliveryError."""
        ...

    def sync(self) -> None:
        """Make every row `send` accepted durable, or raise DeliveryError (then none of
        them counts as sent). Channels that deliver on `send` have nothing to do."""
        ...


class ChannelFactory:
    """Builds channels from their definitions.

    `environ` is where `${ENV}` references are looked up (default: the process's);
    `streams` are what a console channel writes to by its `stream` setting (default: this
    process's stdout and stderr, read when a channel is built). A drill passes its own
    factory to record instead of send.
    """

    def __init__(
        self,
        *,
        environ: Mapping[str, str] | None = None,
        streams: Mapping[str, TextIO] | None = None,
        republish: Republisher | None = None,
    ) -> None:
        self.environ = environ
        self.streams = streams
        self.republish = republish  # what a `site` channel builds with (serve hands it in)

    def __call__(self, name: str, definition: Mapping[str, Any]) -> Channel:
        """The channel `name` as defined; DeliveryError if it cannot be built."""
        environ = os.environ if self.environ is None else self.environ
        resolved = resolve(name, definition, environ)
        settings, secrets = resolved.settings, resolved.secrets
        kind = settings.get("type")
        if kind == "console":
            stream_name = str(settings.get("stream") or "stdout")
            streams = self.streams or {"stdout": sys.stdout, "stderr": sys.stderr}
            if stream_name not in streams:
                raise DeliveryError(
                    _("channel `{channel}`: stream `{stream}` is neither stdout nor stderr").format(
                        channel=name, stream=stream_name
                    ),
                    permanent=True,
                )
            return ConsoleChannel(name, streams[stream_name])
        if kind == "file":
            return FileChannel(name, Path(str(settings.get("path") or "")))
        if kind == "smtp":
            from crisiscomm.notify.smtp import SmtpChannel

            return SmtpChannel.from_settings(name, settings, secrets)
        if kind == "site":
            from crisiscomm.notify.site import SiteChannel

            path = Path(str(settings.get("path") or ""))
            return SiteChannel(name, path, str(settings.get("url") or ""), self.republish)
        if kind == "webhook":
            from crisiscomm.notify.webhook import WebhookChannel

            return WebhookChannel.from_settings(name, settings, secrets)
        if kind == "telegram":
            from crisiscomm.notify.telegram import TelegramChannel

            return TelegramChannel.from_settings(name, settings, secrets)
        raise DeliveryError(
            _("channel `{channel}` has the unknown type `{type}`").format(channel=name, type=kind),
            permanent=True,
        )


class ConsoleChannel:
    """Writes a readable block per notification to a stream (the terminal of `serve`)."""

    secrets: tuple[str, ...] = ()

    def __init__(self, name: str, stream: TextIO) -> None:
        self.name = name
        self.stream = stream

    def send(self, row: OutboxRow, *, now: datetime) -> None:
        """Write the row's subject and text; a stream that cannot show a letter gets `?`."""
        subject = str(row.payload.get("subject") or row.payload.get("kind") or "")
        text = str(row.payload.get("text") or "")
        block = f"[{row.incident_id}] {row.recipient}: {subject}\n{text}\n\n"
        try:
            try:
                self.stream.write(block)
            except UnicodeEncodeError:
                encoding = getattr(self.stream, "encoding", None) or "ascii"
                self.stream.write(block.encode(encoding, "replace").decode(encoding))
            self.stream.flush()
        except (OSError, ValueError) as error:  # a closed pipe or stream
            raise DeliveryError(
                _("channel `{channel}`: cannot write to the console: {reason}").format(
                    channel=self.name, reason=short_reason(error)
                ),
                channel_down=True,
            ) from None

    def sync(self) -> None:
        """Nothing to do: `send` flushed the stream."""


class FileChannel:
    """Appends one JSON line per notification; `sync` fsyncs them (the record on disk).

    A relative path is relative to the current folder of the delivering process; missing
    folders are created. Each line is one append write, so several `serve` processes can
    share the file. One fsync for all the lines of a delivery pass, not one per line: the
    rows are marked sent only after it.
    """

    secrets: tuple[str, ...] = ()

    def __init__(self, name: str, path: Path) -> None:
        if not str(path):
            raise DeliveryError(
                _("channel `{channel}` has no `path`").format(channel=name), permanent=True
            )
        self.name = name
        self.path = path
        # the file as the group's first line opened it: sync makes exactly those lines
        # durable, even if the file was renamed (rotated) in between
        self.descriptor: int | None = None
        self.created = False

    def send(self, row: OutboxRow, *, now: datetime) -> None:
        """Append the row as a JSON line: when, where, key, incident, subject, text, payload."""
        line = json.dumps(
            {
                "at": format_utc(now),
                "channel": row.channel,
                "idempotency_key": row.idempotency_key,
                "incident_id": row.incident_id,
                "recipient": row.recipient,
                "subject": row.payload.get("subject"),
                "text": row.payload.get("text"),
                "payload": row.payload,
            },
            ensure_ascii=False,
            sort_keys=True,
            separators=(",", ":"),
        )
        data = (line + "\n").encode("utf-8")
        try:
            if self.descriptor is None:  # once per group of lines, not for each
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.created = not self.path.exists()
                flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
                self.descriptor = os.open(self.path, flags, 0o666)
            _append_whole(self.descriptor, data)
        except OSError as error:
            raise self._cannot_append(error) from None

    def sync(self) -> None:
        """fsync the lines appended since the last sync (and the folder of a new file)."""
        if self.descriptor is None:
            return
        descriptor, self.descriptor = self.descriptor, None
        try:
            os.fsync(descriptor)
            if self.created:
                _fsync_folder(self.path.parent)
        except OSError as error:
            raise self._cannot_append(error) from None
        finally:
            os.close(descriptor)
            self.created = False

    def _cannot_append(self, error: OSError) -> DeliveryError:
        return DeliveryError(
            _("channel `{channel}`: cannot append to {path}: {reason}").format(
                channel=self.name, path=self.path, reason=short_reason(error)
            ),
            channel_down=True,
        )


def _append_whole(descriptor: int, data: bytes) -> None:
    """Append all of `data` or none of it: a line cut short (a full disk) is taken back, so
    the retried line does not land glued to half of itself."""
    start = os.fstat(descriptor).st_size
    written = 0
    try:
        while written < len(data):
            written += os.write(descriptor, data[written:])
    except OSError:
        # only when nobody else appended after the part written: never cut their lines
        if written and os.fstat(descriptor).st_size == start + written:
            os.ftruncate(descriptor, start)
        raise


def _fsync_folder(folder: Path) -> None:
    """Make a new file's name durable too (POSIX; Windows has no folder handles to sync)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
