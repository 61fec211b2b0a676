"""Notifications leave through channels (console, file, smtp, webhook), via the outbox.

    from crisiscomm.notify import check_channels, deliver_due

    problems = check_channels(playbook.channels)      # at serve start-up
    report = deliver_due(store, now=clock.now())      # after each commit, on each wake-up

Importing this package is cheap: smtplib, urllib.request and email are imported by the
channel that needs them, when it first sends.
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
