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
from crisiscomm.playbook.channels import MAX_TIMEOUT

__all__ = ["DEFAULT_LEASE", "DEFAULT_TIMEOUT", "MAX_TIMEOUT", "timeout_seconds"]

# seconds one send of an smtp or webhook channel may take in all: connecting, TLS, the
# request and the whole answer (deadline.py cuts it off then, however the server trickles)
DEFAULT_TIMEOUT = 10.0
# How long a taken row is held before another deliverer may take it: the longest a crashed
# deliverer's rows wait. One send must finish within half of it (`validate` refuses a channel
# `timeout` over MAX_TIMEOUT), or another deliverer may send it too (the same key, so a
# duplicate the receiver can drop).
DEFAULT_LEASE = timedelta(seconds=60)


def timeout_seconds(channel: str, definition: Mapping[str, Any]) -> float:
    """The channel's `timeout` in seconds (DEFAULT_TIMEOUT when it has none), at most
    MAX_TIMEOUT (a playbook pinned before `validate` refused longer ones may say more)."""
    from crisiscomm.durations import parse_duration

    text = definition.get("timeout")
    if text is None:
        return DEFAULT_TIMEOUT
    try:
        return min(parse_duration(str(text)), MAX_TIMEOUT).total_seconds()
    except ValueError as error:
        raise DeliveryError(
            _("channel `{channel}`: timeout: {error}").format(channel=channel, error=error),
            permanent=True,
        ) from None
