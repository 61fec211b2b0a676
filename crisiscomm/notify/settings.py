"""Settings every channel shares: how long a send may wait for its server, and the lease
that bounds it.

Below the channel registry (channels.py), the channels it builds (smtp.py, webhook.py) and
the outbox delivery: they all import from here, and this imports none of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from crisiscomm.i18n import _
from crisiscomm.notify.errors import DeliveryError

__all__ = ["DEFAULT_LEASE", "DEFAULT_TIMEOUT", "timeout_seconds"]

DEFAULT_TIMEOUT = 10.0  # seconds an smtp or webhook channel waits for its server
# How long a taken row is held before another deliverer may take it: the longest a crashed
# deliverer's rows wait. One send must finish within half of it, or another deliverer may
# send it too (the same key, so a duplicate the receiver can drop).
DEFAULT_LEASE = timedelta(seconds=60)


def timeout_seconds(channel: str, definition: Mapping[str, Any]) -> float:
    """The channel's `timeout` in seconds (DEFAULT_TIMEOUT when it has none)."""
    from crisiscomm.durations import parse_duration

    text = definition.get("timeout")
    if text is None:
        return DEFAULT_TIMEOUT
    try:
        return parse_duration(str(text)).total_seconds()
    except ValueError as error:
        raise DeliveryError(
            _("channel `{channel}`: timeout: {error}").format(channel=channel, error=error),
            permanent=True,
        ) from None
