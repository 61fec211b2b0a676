"""`crisiscomm timeline` as text: the zone named once, a line per day, a line per event.

```
INC-2026-0001  Amu Darya high water near Beruniy
Times: Asia/Tashkent (UTC+05:00)

04.12.2026
  17:40  Aygul Sultanova     assess: Detection → Verification
```

With a `width` (a terminal), long lines wrap under their text; without one (a pipe) each
event stays on one line, for grep.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from crisiscomm.engine.narrative import entered_by, event_text
from crisiscomm.engine.timefmt import local_text, times_header

if TYPE_CHECKING:
    from crisiscomm.playbook.model import Playbook
    from crisiscomm.store.rows import EventRow, IncidentRow

__all__ = ["timeline_text"]

ACTOR_WIDTH = 24  # at most; a longer name gets a line of its own


def timeline_text(
    playbook: Playbook, incident: IncidentRow, events: list[EventRow], *, width: int | None = None
) -> str:
    """The record of one incident as a person reads it."""
    zone = playbook.timezone
    out = [f"{incident.id}  {incident.title}", times_header(zone, [e.at for e in events])]
    actors = [playbook.display_name(event.actor) for event in events]
    column = min(max((len(name) for name in actors), default=0), ACTOR_WIDTH)
    day = ""
    for event, actor in zip(events, actors, strict=True):
        date = local_text(event.at, zone)[:10]
        if date != day:
            out += ["", date]
            day = date
        lead = f"  {local_text(event.at, zone, now=event.at)}  "
        if len(actor) > column:
            out.append(lead + actor)
            lead, actor = " " * len(lead), ""
        text = event_text(playbook, event, now=event.at)
        if clerk := entered_by(playbook, event):
            text += "; " + clerk
        line = f"{lead}{actor:<{column}}  {text}"
        if width is None or len(line) <= width:
            out.append(line)
            continue
        indent = " " * (len(lead) + column + 2)
        out += textwrap.wrap(
            line,
            width=max(width, len(indent) + 20),
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        )
    return "\n".join(out) + "\n"
