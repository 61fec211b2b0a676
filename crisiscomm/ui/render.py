"""Drawing the read model: rich renderables for terminals, plain stable text for pipes.

Colour is never the only signal: an overdue deadline says OVERDUE and carries a symbol,
a severity is written out, a checklist item is [x] or [ ].
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from crisiscomm.engine.timefmt import humanize, local_text
from crisiscomm.i18n import _

if TYPE_CHECKING:
    from rich.console import RenderableType

    from crisiscomm.ui.readmodel import Board, Clearance, Detail, IncidentLine

__all__ = [
    "WIDE",
    "countdown",
    "deadline_text",
    "detail_plain",
    "detail_view",
    "empty_text",
    "outbox_text",
    "status_plain",
    "status_view",
]

WIDE = 120  # from this many columns on, the status table gets a column per field
OVERDUE_MARK = "⚠"
SEVERITY_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow"}


def empty_text() -> str:
    """The empty state: what to do next."""
    return _("No open incidents. Open one with: crisiscomm open-incident PLAYBOOK --title ...")


def countdown(delta: timedelta) -> str:
    """A countdown that ticks each second: `in 12:05`, `OVERDUE 1:02:09`."""
    seconds = int(delta.total_seconds())
    left = abs(seconds)
    hours, rest = divmod(left, 3600)
    text = f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
    return _("OVERDUE {d}").format(d=text) if seconds < 0 else _("in {d}").format(d=text)


def deadline_text(line: IncidentLine, now: datetime, *, ticking: bool = False) -> str:
    """The next deadline as a humanised countdown, `⚠ OVERDUE ...` when past, `-` for none."""
    if line.next_due is None:
        return "-"
    delta = line.next_due.due_at - now
    text = countdown(delta) if ticking else humanize(delta)
    return f"{OVERDUE_MARK} {text}" if delta.total_seconds() < 0 else text


def _clearance_text(line: IncidentLine) -> str:
    waiting = [
        _("{statement} waits for {who}").format(statement=c.statement, who=c.waiting[0])
        for c in line.clearances
        if c.waiting and c.released_at is None
    ]
    return "; ".join(waiting) or "-"


def _state_text(line: IncidentLine) -> str:
    return f"{line.state_title} ({line.phase})"


def outbox_text(counts: dict[str, int]) -> str:
    """Outbox health in words."""
    text = _("outbox: {pending} pending, {sent} sent, {dead} dead").format(
        pending=counts.get("pending", 0), sent=counts.get("sent", 0), dead=counts.get("dead", 0)
    )
    if counts.get("failing"):
        text += "; " + _("{n} failing, to be retried (see: crisiscomm outbox)").format(
            n=counts["failing"]
        )
    if counts.get("dead"):
        text += " " + _("(see: crisiscomm outbox --dead)")
    return text


def _escalation_text(line: IncidentLine) -> str:
    if not line.escalations:
        return "-"
    acked = ", ".join(line.acknowledged_by)
    return (
        _("{n} fired, acknowledged by {who}").format(n=line.escalations, who=acked)
        if acked
        else _("{n} fired, not acknowledged").format(n=line.escalations)
    )


# -- plain text ---------------------------------------------------------------------------


def status_plain(board: Board, now: datetime) -> str:
    """The status as plain, stable text: one block per incident."""
    if not board.incidents:
        return empty_text() + "\n" + outbox_text(board.outbox) + "\n"
    blocks = []
    for line in board.incidents:
        closed = f"  [{_('closed')}]" if line.closed_at else ""
        rows = [
            f"{line.id}  {line.title}{closed}",
            "  " + _("playbook:   {p}  severity: {s}").format(p=line.playbook, s=line.severity),
            "  " + _("state:      {s}").format(s=_state_text(line)),
            "  " + _("owner:      {o}").format(o=line.owner),
            "  "
            + _("deadline:   {d}").format(d=deadline_text(line, now).replace(OVERDUE_MARK, "!!")),
            "  " + _("clearance:  {c}").format(c=_clearance_text(line)),
            "  " + _("escalated:  {e}").format(e=_escalation_text(line)),
            "  " + _("dead letters: {n}").format(n=line.dead_letters),
        ]
        blocks.append("\n".join(rows))
    return "\n\n".join(blocks) + "\n\n" + outbox_text(board.outbox) + "\n"


def detail_plain(detail: Detail, now: datetime) -> str:
    """The `show` view as plain, stable text."""
    line, zone = detail.line, detail.line.timezone
    out = [
        f"{line.id}  {line.title}",
        "  " + _("severity: {s}").format(s=line.severity),
        "  "
        + _("opened:   {at} by {who}").format(
            at=local_text(line.opened_at, zone), who=line.opened_by
        ),
        "  "
        + _("state:    {title} ({state}), {phase}").format(
            title=line.state_title, state=line.state, phase=line.phase
        ),
        "  " + _("phases:   {track}").format(track=_track(detail, plain=True)),
        "  " + _("owner:    {o}").format(o=line.owner),
    ]
    if line.closed_at is not None:
        out.append("  " + _("closed:   {at}").format(at=local_text(line.closed_at, zone)))
    if line.next_due is not None:
        out.append(
            "  "
            + _("deadline: {at} ({left})").format(
                at=local_text(line.next_due.due_at, zone),
                left=deadline_text(line, now).replace(OVERDUE_MARK, "!!"),
            )
        )
    if detail.checklist:
        out.append("  " + _("checklist:"))
        for item_id, text, required, by, done in detail.checklist:
            mark = "[x]" if done else "[ ]"
            extra = (" " + _("(optional)")) if not required else ""
            who = f" ({_('by')} {by})" if done else ""
            out.append(f"    {mark} {item_id}: {text}{extra}{who}")
    if detail.facts:
        out.append("  " + _("facts:"))
        out.extend(f"    {k} = {v}" for k, v in detail.facts.items())
    if line.clearances:
        out.append("  " + _("statements:"))
        for c in line.clearances:
            out.append(f"    {c.statement} v{c.version}: {_clearance_status(c, zone)}")
            for role, actor, at in c.approved:
                out.append(
                    "      "
                    + _("approved by {actor} ({role}) at {at}").format(
                        actor=actor, role=role, at=local_text(at, zone)
                    )
                )
            for who in c.waiting:
                out.append("      " + _("waiting for {who}").format(who=who))
            for language in detail.languages:
                if language in c.texts:
                    out.append(f"      [{language}] {c.texts[language]}")
    if detail.timers:
        out.append("  " + _("timers ahead:"))
        for t in detail.timers:
            out.append(
                f"    {t.kind:<10} {local_text(t.due_at, zone)}  "
                f"{humanize(t.due_at - now)}  -> {t.reaches}"
            )
            if t.next_try_at is not None:
                out.append("      " + _next_try(t.next_try_at, zone))
    if detail.possible:
        out.append("  " + _("next:     {triggers}").format(triggers=", ".join(detail.possible)))
    if detail.events:
        out.append("  " + _("last events:"))
        for e in detail.events:
            out.append(f"    {local_text(e.at, zone)}  {e.actor:<16} {e.type}")
    return "\n".join(out) + "\n"


def _clearance_status(clearance: Clearance, zone: str) -> str:
    if clearance.released_at is not None:
        return _("released {at}").format(at=local_text(clearance.released_at, zone))
    if clearance.waiting:
        return _("waiting for {who}").format(who=clearance.waiting[0])
    return _("cleared, not released")


def _track(detail: Detail, *, plain: bool) -> str:
    here = detail.line.phase
    parts = [f"[{p}]" if p == here else p for p in detail.phases]
    if here not in detail.phases:
        parts.append(f"[{here}]")
    return " -> ".join(parts) if plain else " → ".join(parts)


# -- rich ---------------------------------------------------------------------------------


def _deadline_cell(line: IncidentLine, now: datetime, ticking: bool) -> RenderableType:
    from rich.text import Text

    text = deadline_text(line, now, ticking=ticking)
    overdue = text.startswith(OVERDUE_MARK)
    return Text(text, style="bold red" if overdue else "")


def _severity_cell(severity: str) -> RenderableType:
    from rich.text import Text

    return Text(severity, style=SEVERITY_STYLE.get(severity, ""))


def status_view(
    board: Board, now: datetime, *, width: int = 80, ticking: bool = False
) -> RenderableType:
    """The status table: compact at 80 columns, a column per field from WIDE on."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    trouble = board.outbox.get("dead") or board.outbox.get("failing")
    footer = Text(outbox_text(board.outbox), style="red" if trouble else "dim")
    if not board.incidents:
        return Group(Text(empty_text()), footer)
    wide = width >= WIDE
    table = Table(expand=True, show_lines=not wide, pad_edge=False)
    table.add_column(_("incident"), no_wrap=True)
    if wide:
        table.add_column(_("title"), ratio=3)
        table.add_column(_("playbook"))
        table.add_column(_("severity"))
    table.add_column(_("state"), ratio=2)
    table.add_column(_("owner"), ratio=2)
    table.add_column(_("next deadline"))
    table.add_column(_("clearance"), ratio=2)
    if wide:
        table.add_column(_("escalations"))
        table.add_column(_("dead"), justify="right")
    for line in board.incidents:
        deadline = _deadline_cell(line, now, ticking)
        if wide:
            table.add_row(
                line.id,
                line.title,
                line.playbook,
                _severity_cell(line.severity),
                _state_text(line),
                line.owner,
                deadline,
                _clearance_text(line),
                _escalation_text(line),
                Text(str(line.dead_letters), style="bold red" if line.dead_letters else ""),
            )
        else:
            ident = Text(line.id + "\n")
            ident.append(line.severity, style=SEVERITY_STYLE.get(line.severity, ""))
            ident.append(f" {line.playbook}", style="dim")
            if line.dead_letters:
                ident.append("\n" + _("{n} dead").format(n=line.dead_letters), style="bold red")
            table.add_row(
                ident,
                Text(line.title + "\n", style="bold").append(_state_text(line), style=""),
                line.owner,
                deadline,
                _clearance_text(line),
            )
    return Group(table, footer)


def detail_view(detail: Detail, now: datetime) -> RenderableType:
    """The `show` view: header panel, phase track, checklist, facts, statements, timers,
    last events."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    line, zone = detail.line, detail.line.timezone
    header = Text()
    header.append(_("severity: "))
    header.append(line.severity, style=SEVERITY_STYLE.get(line.severity, ""))
    header.append(
        "\n"
        + _("opened {at} by {who}").format(at=local_text(line.opened_at, zone), who=line.opened_by)
    )
    header.append(
        "\n"
        + _("state: {title} ({state}), {phase}").format(
            title=line.state_title, state=line.state, phase=line.phase
        )
    )
    header.append("\n" + _("owner: {o}").format(o=line.owner))
    if line.next_due is not None:
        header.append("\n" + _("deadline: {at} ").format(at=local_text(line.next_due.due_at, zone)))
        header.append_text(Text.assemble(_deadline_cell(line, now, False)))  # type: ignore[arg-type]
    if line.closed_at is not None:
        header.append("\n" + _("closed: {at}").format(at=local_text(line.closed_at, zone)))
    header.append("\n" + _("time zone: {z}").format(z=zone), style="dim")
    parts: list[RenderableType] = [
        Panel(header, title=f"{line.id}  {line.title}", title_align="left"),
        Text(_("phases: ") + _track(detail, plain=False)),
    ]
    if detail.checklist:
        checklist = Table(
            title=_("checklist"), title_justify="left", expand=True, show_header=False
        )
        checklist.add_column(no_wrap=True)
        checklist.add_column(ratio=1)
        for item_id, text, required, by, done in detail.checklist:
            extra = "" if required else " " + _("(optional)")
            who = f" — {_('by')} {by}" if done else ""
            checklist.add_row(
                Text("[x]" if done else "[ ]", style="green" if done else "yellow"),
                f"{item_id}: {text}{extra}{who}",
            )
        parts.append(checklist)
    if detail.facts:
        facts = Table(title=_("facts"), title_justify="left", expand=True, show_header=False)
        facts.add_column(no_wrap=True)
        facts.add_column(ratio=1)
        for key, value in detail.facts.items():
            facts.add_row(key, str(value))
        parts.append(facts)
    if line.clearances:
        statements = Table(
            title=_("statements"), title_justify="left", expand=True, show_lines=True
        )
        statements.add_column(_("statement"), no_wrap=True)
        statements.add_column(_("clearance"), ratio=1)
        statements.add_column(_("texts"), ratio=2)
        for c in line.clearances:
            chain = Text()
            for role, actor, at in c.approved:
                chain.append("✓ ", style="green")
                chain.append(
                    _("{role}: {actor}, {at}").format(
                        role=role, actor=actor, at=local_text(at, zone)
                    )
                    + "\n"
                )
            for who in c.waiting:
                chain.append("… ", style="yellow")
                chain.append(_("waiting for {who}").format(who=who) + "\n")
            if not c.waiting:
                chain.append(_clearance_status(c, zone), style="bold")
            texts = "\n".join(
                f"[{lang}] {c.texts[lang]}" for lang in detail.languages if lang in c.texts
            )
            statements.add_row(f"{c.statement}\nv{c.version}", chain, Text(texts))
        parts.append(statements)
    if detail.timers:
        timers = Table(title=_("timers ahead"), title_justify="left", expand=True)
        timers.add_column(_("timer"), no_wrap=True)
        timers.add_column(_("due"))
        timers.add_column(_("reaches"), ratio=1)
        for t in detail.timers:
            left = humanize(t.due_at - now)
            timers.add_row(
                t.key,
                Text(
                    f"{local_text(t.due_at, zone)}\n{left}"
                    + ("" if t.next_try_at is None else "\n" + _next_try(t.next_try_at, zone)),
                    style="bold red" if t.due_at < now else "",
                ),
                t.reaches,
            )
        parts.append(timers)
    if detail.possible:
        parts.append(Text(_("next: {triggers}").format(triggers=", ".join(detail.possible))))
    if detail.events:
        events = Table(title=_("last events"), title_justify="left", expand=True)
        events.add_column(_("when"), no_wrap=True)
        events.add_column(_("who"))
        events.add_column(_("what"), ratio=1)
        for e in detail.events:
            events.add_row(local_text(e.at, zone), e.actor, e.type)
        parts.append(events)
    return Group(*parts)


def _next_try(at: datetime, zone: str) -> str:
    """A timer whose firing failed: when `serve` tries it again."""
    return _("firing failed; next try {at}").format(at=local_text(at, zone))
