"""The `site` channel: each release and withdrawal it carries republishes the public site.

    site:
      type: site
      path: /var/www/press          # the folder readers see (a link, swapped at once)
      url: https://press.example.uz/  # optional: absolute links in feeds and CAP messages

A row's payload is not what goes out: the site is rebuilt from the database, so a row
sent twice gives the same bytes (idempotent), and the rows of one delivery pass make one
republish at `sync` (ten releases in a burst are one build, not ten). The building is
done by a `Republisher` that `serve` hands in (publish/incremental.py: only what changed
is rendered); without one (a drill's factory, a test's), the channel cannot send and its
rows wait. A folder that cannot be written is retried, then buried with the reason; an
`--out` that is not a site (a folder with other files, a missing parent) is buried at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from crisiscomm.errors import CrisisCommError
from crisiscomm.i18n import _
from crisiscomm.notify.errors import DeliveryError, short_reason
from crisiscomm.store.rows import OutboxRow

__all__ = ["Republisher", "SiteChannel"]

# (the site's folder, its public address) -> None; raises CrisisCommError or OSError
Republisher = Callable[[Path, str], object]


class SiteChannel:
    """Republishes the public site at `path` once per delivery pass (at `sync`)."""

    secrets: tuple[str, ...] = ()

    def __init__(self, name: str, path: Path, url: str, republish: Republisher | None) -> None:
        if not str(path):
            raise DeliveryError(
                _("channel `{channel}` has no `path`").format(channel=name), permanent=True
            )
        self.name = name
        self.path = path
        self.url = url
        self.republish = republish
        self.waiting = 0  # rows accepted since the last republish

    def send(self, row: OutboxRow, *, now: datetime) -> None:
        """Accept the row; the site is republished at `sync`, once for all of them."""
        if self.republish is None:
            raise DeliveryError(
                _("channel `{channel}`: the site is republished by `crisiscomm serve`").format(
                    channel=self.name
                ),
                channel_down=True,
            )
        self.waiting += 1

    def sync(self) -> None:
        """Republish the site if a row came in since the last time."""
        if not self.waiting or self.republish is None:
            return
        try:
            self.republish(self.path, self.url)
        except CrisisCommError as error:
            raise DeliveryError(
                _("channel `{channel}`: {reason}").format(channel=self.name, reason=error.message),
                permanent=True,
            ) from None
        except OSError as error:
            raise DeliveryError(
                _("channel `{channel}`: cannot write the site to {path}: {reason}").format(
                    channel=self.name, path=self.path, reason=short_reason(error)
                ),
                channel_down=True,
            ) from None
        self.waiting = 0
