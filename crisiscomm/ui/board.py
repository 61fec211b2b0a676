"""What `status` and `watch` show: the board of incidents and its feed, plain frozen data.

Built by `readmodel.board` and `readmodel.BoardReader`, and importable from `readmodel` as
before; kept apart so that `show`, which draws one incident, does not build these classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from crisiscomm.ui.register import RegisterSummary

if TYPE_CHECKING:
    from crisiscomm.ui.lines import IncidentLine

__all__ = ["Board", "FeedItem"]


@dataclass(frozen=True)
class FeedItem:
    """An escalation that went out or a statement that was released."""

    at: datetime
    incident_id: str
    text: str
    timezone: str


@dataclass(frozen=True)
class Board:
    """Everything `status` and `watch` show."""

    incidents: list[IncidentLine]
    feed: list[FeedItem]
    outbox: dict[str, int]
    register: RegisterSummary = field(default_factory=RegisterSummary)
    more: int = 0  # incidents after the last one listed, on the next pages

    @property
    def timezone(self) -> str | None:
        """The one time zone of every incident on the board (None: none, or several)."""
        zones = {line.timezone for line in self.incidents}
        return zones.pop() if len(zones) == 1 else None
