"""The register beside the incidents in `status`: overdue items and the widest-spread rumours.

Read in two small queries (each bounded by LIMIT), so `status` stays as fast on a register of
100,000 items as on one of 100; drawn as short lines that fit 80 columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from crisiscomm.clock import format_utc
from crisiscomm.i18n import _

if TYPE_CHECKING:
    from crisiscomm.store import Store
    from crisiscomm.store.inbox import InboxItem

__all__ = ["RegisterSummary", "register_lines", "register_summary"]

SHOWN = 5
OVERDUE = (
    "id IN (SELECT id FROM inbox_items WHERE closed_at IS NULL AND due_at IS NOT NULL"
    " AND due_at < :now ORDER BY due_at LIMIT 50)"
)
RUMOURS = (
    "id IN (SELECT id FROM inbox_items WHERE kind = 'post' AND closed_at IS NULL"
    " AND reach IS NOT NULL ORDER BY reach DESC LIMIT 5)"
)
WIDTH = 78


@dataclass(frozen=True)
class RegisterSummary:
    """The most overdue open items and the open posts with the largest reach."""

    overdue: list[InboxItem] = field(default_factory=list)
    rumours: list[InboxItem] = field(default_factory=list)


def register_summary(*, store: Store, now: datetime) -> RegisterSummary:
    """What `status` shows of the register (nothing when it holds no item)."""
    from crisiscomm.inbox.register import compiled_register, find_register

    overdue = store.inbox_items(OVERDUE, now=format_utc(now))
    rumours = store.inbox_items(RUMOURS)
    if not overdue and not rumours:
        return RegisterSummary()
    register = compiled_register(find_register())
    late = [i for i in overdue if not register.lifecycle(i.kind).norm_met(i.status)]
    late.sort(key=lambda item: (item.due_at or now, item.id))
    rumours.sort(key=lambda item: (-(item.reach or 0), item.id))
    return RegisterSummary(overdue=late[:SHOWN], rumours=rumours[:SHOWN])


def _cut(text: str) -> str:
    return text if len(text) <= WIDTH else text[: WIDTH - 1] + "…"


def register_lines(summary: RegisterSummary, zone: str | None) -> list[str]:
    """The register's part of the status, a line each ([] when there is nothing to show)."""
    lines: list[str] = []
    where = ZoneInfo(zone or "UTC")
    if summary.overdue:
        lines.append(_("Register items overdue:"))
        for item in summary.overdue:
            due = "-" if item.due_at is None else item.due_at.astimezone(where)
            lines.append(
                _cut(
                    _("  {id}  {kind}  due {due}  {assignee}  {subject}").format(
                        id=item.id,
                        kind=item.kind,
                        due=due if isinstance(due, str) else due.strftime("%m-%d %H:%M"),
                        assignee=item.assignee or _("unassigned"),
                        subject=item.subject,
                    )
                )
            )
    if summary.rumours:
        lines.append(_("Rumours with the largest reach:"))
        for item in summary.rumours:
            lines.append(
                _cut(
                    _("  {id}  {views} views  {status}  {source}: {subject}").format(
                        id=item.id,
                        views=item.reach,
                        status=item.status,
                        source=item.source,
                        subject=item.subject,
                    )
                )
            )
    return lines
