"""Notifications leave through channels (console, file, smtp, webhook, telegram), via the
outbox.

    from crisiscomm.notify import check_channels, deliver_due

    problems = check_channels(playbook.channels)      # at serve start-up
    report = deliver_due(store, now=clock.now())      # after each commit, on each wake-up

Importing this package is cheap: smtplib, urllib.request and email are imported by the
channel that needs them, when it first sends.

Modules, lowest first (each imports only those above it in this list):

    errors.py      DeliveryError, and short reasons without secrets
    env.py         `${ENV}` references in channel settings, resolved at delivery
    tls.py         verified TLS contexts for smtp and webhook
    settings.py    what channels share: the send timeout and the outbox lease bounding it
    deadline.py    one deadline for a whole send, however slowly a server answers
    smtp.py        the `smtp` channel (smtplib, imported when it first sends)
    webhook.py     the `webhook` channel (urllib, imported when it first sends)
    telegram.py    the `telegram` channel: the Bot API's sendMessage, long texts in parts
    channels.py    the registry: the Channel protocol, console and file, ChannelFactory
    check.py       channel settings checked at start-up
    lanes.py       remote channels sent side by side, a thread each, during a pass
    outbox.py      delivering the outbox: take, send, mark, retry, bury

The channels never import the registry; it imports them lazily, when a playbook uses one.
"""

from __future__ import annotations

from crisiscomm.notify.channels import Channel, ChannelFactory
from crisiscomm.notify.check import check_channel, check_channels
from crisiscomm.notify.errors import DeliveryError
from crisiscomm.notify.outbox import DeliveryReport, deliver_due, retry_delay

__all__ = [
    "Channel",
    "ChannelFactory",
    "DeliveryError",
    "DeliveryReport",
    "check_channel",
    "check_channels",
    "deliver_due",
    "retry_delay",
]
