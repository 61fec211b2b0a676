"""Where a drill's deliveries go: recorded and marked EXERCISE instead of sent
(`Recorder`), or through the playbook's real channels, still marked (`LiveChannels`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crisiscomm.notify.channels import Channel, ChannelFactory

if TYPE_CHECKING:
    from crisiscomm.store.rows import OutboxRow

__all__ = ["MARK", "Delivery", "LiveChannels", "Recorder", "mark"]

MARK = "EXERCISE EXERCISE EXERCISE"


def mark(text: str) -> str:
    """A text as a drill emits it: begins and ends with EXERCISE EXERCISE EXERCISE."""
    return f"{MARK}\n{text}\n{MARK}"


@dataclass(frozen=True)
class Delivery:
    """A notification or statement the drill would have sent."""

    at: datetime
    channel: str
    recipient: str
    kind: str
    subject: str
    text: str
    roles: tuple[str, ...]
    incident: str = ""  # the incident it belongs to ("" for the register's notices)


class _RecordingChannel:
    secrets: tuple[str, ...] = ()

    def __init__(self, name: str, sink: list[Delivery]) -> None:
        self.name = name
        self.sink = sink

    def sync(self) -> None:
        """Nothing to do: recorded in memory."""

    def send(self, row: OutboxRow, *, now: datetime) -> None:
        payload = row.payload
        self.sink.append(
            Delivery(
                at=now,
                channel=self.name,
                recipient=row.recipient,
                kind=str(payload.get("kind") or ""),
                subject=mark(str(payload.get("subject") or "")),
                text=mark(str(payload.get("text") or "")),
                roles=tuple(payload.get("roles") or ()),
                incident=row.incident_id or "",
            )
        )


class Recorder(ChannelFactory):
    """A channel factory whose every channel records, marked, instead of sending."""

    def __init__(self) -> None:
        super().__init__(environ={})
        self.deliveries: list[Delivery] = []

    def __call__(self, name: str, definition: Mapping[str, Any]) -> Channel:
        """A recording stand-in for channel `name`."""
        return _RecordingChannel(name, self.deliveries)


class _MarkedChannel:
    """A real channel whose every message is sent marked, and recorded as well."""

    def __init__(self, inner: Channel, sink: list[Delivery]) -> None:
        self.inner = inner
        self.name = inner.name
        self.secrets = inner.secrets
        self.sink = sink

    def send(self, row: OutboxRow, *, now: datetime) -> None:
        payload = dict(row.payload)
        payload["subject"] = mark(str(payload.get("subject") or ""))
        payload["text"] = mark(str(payload.get("text") or ""))
        self.inner.send(dataclasses.replace(row, payload=payload), now=now)
        _RecordingChannel(self.name, self.sink).send(row, now=now)

    def sync(self) -> None:
        self.inner.sync()


class LiveChannels(Recorder):
    """`--live-channels`: the playbook's real channels, every message still marked EXERCISE."""

    def __init__(self, factory: ChannelFactory | None = None) -> None:
        super().__init__()
        self.factory = factory or ChannelFactory()

    def __call__(self, name: str, definition: Mapping[str, Any]) -> Channel:
        """The real channel `name`, wrapped to mark what it sends."""
        return _MarkedChannel(self.factory(name, definition), self.deliveries)
