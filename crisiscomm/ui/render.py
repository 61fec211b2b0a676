"""Drawing the read model: rich renderables for terminals, plain stable text for pipes.

Colour is never the only signal: an overdue deadline says OVERDUE and carries a symbol,
a severity is written out, a checklist item is [x] or [ ].

Times are in the incident's time zone, named once at the top ("Times: Asia/Tashkent
(UTC+05:00)"); a time on the day of `now` is `17:40`, another `04.12.2026 17:40`. At 80
columns texts wrap at word boundaries, and a word wider than its column is cut with `…`,
never silently: Russian titles are about a third longer than English ones.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final, Literal

from crisiscomm.engine.timefmt import humanize, local_text, times_header
from crisiscomm.i18n import N_, _, ngettext

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.table import Table

    from crisiscomm.ui.readmodel import Board, Clearance, Detail, IncidentLine

__all__ = [
    "WIDE",
    "board_times",
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
CUT: Final[Literal["ellipsis"]] = "ellipsis"  # a word too wide for its column ends in `…`


# the words of the protocol's phases and the usual severities, as a person reads them
# (a playbook's own severity names are shown as written)
WORDS: Final = {
    "initial": N_("initial"),
    "maintenance": N_("maintenance"),
    "resolution": N_("resolution"),
    "evaluation": N_("evaluation"),
    "closed": N_("closed"),
    "low": N_("low"),
    "medium": N_("medium"),
    "high": N_("high"),
    "critical": N_("critical"),
}


def word(value: str) -> str:
    """A phase or severity in the language in use; any other value as it is."""
    return _(WORDS[value]) if value in WORDS else value


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


def _not_published_text(line: IncidentLine) -> str:
    """`NOT PUBLISHED: 2 statements`: released, but their public copies did not go out."""
    return ngettext(
        "NOT PUBLISHED: {n} released statement",
        "NOT PUBLISHED: {n} released statements",
        line.not_published,
    ).format(n=line.not_published)


def deadline_text(line: IncidentLine, now: datetime, *, ticking: bool = False) -> str:
    """The next deadline as a humanised countdown, `⚠ OVERDUE ...` when past, `-` for none."""
    if line.next_due is None:
        return "-"
    delta = line.next_due.due_at - now
    text = countdown(delta) if ticking else humanize(delta)
    return f"{OVERDUE_MARK} {text}" if delta.total_seconds() < 0 else text


def board_times(board: Board, now: datetime) -> str:
    """The line naming the zone of the board's times, with the time now in it."""
    zone = board.timezone
    if zone is None:
        return _("Times: each incident's own time zone, named with it")
    return (
        times_header(zone, [now])
        + ", "
        + _("now {time}").format(time=local_text(now, zone, now=now))
    )


def _at(line: IncidentLine, moment: datetime, now: datetime, *, zone_named: bool) -> str:
    text = local_text(moment, line.timezone, now=now)
    return text if zone_named else f"{text} {line.timezone}"


def _due(line: IncidentLine, now: datetime, *, zone_named: bool, ticking: bool = False) -> str:
    """`in 12 min (17:40)`, `⚠ OVERDUE 5 min (17:10)`, `-`."""
    if line.next_due is None:
        return "-"
    at = _at(line, line.next_due.due_at, now, zone_named=zone_named)
    return f"{deadline_text(line, now, ticking=ticking)} ({at})"


def _clearance_text(line: IncidentLine) -> str:
    waiting = [
        _("{statement} waits for {who}").format(statement=c.statement, who=c.waiting[0])
        for c in line.clearances
        if c.waiting and c.released_at is None
    ]
    return "; ".join(waiting) or "-"


def _state_text(line: IncidentLine) -> str:
    return f"{line.state_title} ({word(line.phase)})"


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


def _status_rows(line: IncidentLine, now: datetime, *, zone_named: bool) -> list[tuple[str, str]]:
    """The labelled rows of one incident's status block."""
    return [
        (_("state"), _state_text(line)),
        (_("owner"), line.owner),
        (_("deadline"), _due(line, now, zone_named=zone_named)),
        (_("clearance"), _clearance_text(line)),
        (_("escalated"), _escalation_text(line)),
    ]


# -- plain text ---------------------------------------------------------------------------


def _aligned(rows: list[tuple[str, str]], indent: str = "  ") -> list[str]:
    """`label:  value` lines, the values in one column whatever the language's labels."""
    width = max(len(label) for label, _value in rows) + 2
    return [f"{indent}{label + ':':<{width}}{value}" for label, value in rows]


def status_plain(board: Board, now: datetime) -> str:
    """The status as plain, stable text: one block per incident."""
    from crisiscomm.ui.register import register_lines  # the status's, not `show`'s to load

    register = "".join(line + "\n" for line in register_lines(board.register, board.timezone))
    if not board.incidents:
        return empty_text() + "\n" + register + outbox_text(board.outbox) + "\n"
    zone_named = board.timezone is not None
    blocks = [board_times(board, now)]
    for line in board.incidents:
        closed = "  [" + _("closed") + "]" if line.closed_at else ""
        rows = [
            (
                _("playbook"),
                _("{playbook}, severity {severity}").format(
                    playbook=line.playbook, severity=word(line.severity)
                ),
            ),
            *_status_rows(line, now, zone_named=zone_named),
            (_("dead letters"), str(line.dead_letters)),
            *([(_("public copies"), _not_published_text(line))] if line.not_published else []),
        ]
        head = f"{line.id}  {line.title}{closed}"
        blocks.append("\n".join([head, *_aligned(rows)]).replace(OVERDUE_MARK, "!!"))
    register = register and register + "\n"
    return "\n\n".join(blocks) + "\n\n" + register + outbox_text(board.outbox) + "\n"


def _detail_rows(detail: Detail, now: datetime, *, plain: bool) -> list[tuple[str, str]]:
    line, zone = detail.line, detail.line.timezone
    rows = [
        (_("severity"), word(line.severity)),
        (
            _("opened"),
            _("{at} by {who}").format(
                at=local_text(line.opened_at, zone, now=now), who=line.opened_by
            ),
        ),
        (
            _("state"),
            _("{title} ({state}), {phase}").format(
                title=line.state_title, state=line.state, phase=word(line.phase)
            ),
        ),
        (_("phases"), _track(detail, plain=plain)),
        (_("owner"), line.owner),
    ]
    if line.closed_at is not None:
        rows.append((_("closed"), local_text(line.closed_at, zone, now=now)))
    if line.next_due is not None:
        rows.append((_("deadline"), _due(line, now, zone_named=True)))
    if line.not_published:
        rows.append((_("public copies"), _not_published_text(line)))
    return rows


def detail_plain(detail: Detail, now: datetime) -> str:
    """The `show` view as plain, stable text."""
    line, zone = detail.line, detail.line.timezone
    out = [f"{line.id}  {line.title}", "  " + times_header(zone, [now])]
    out += [
        row.replace(OVERDUE_MARK, "!!") for row in _aligned(_detail_rows(detail, now, plain=True))
    ]
    if detail.checklist:
        out.append("  " + _("checklist:"))
        for item_id, text, required, by, done in detail.checklist:
            mark = "[x]" if done else "[ ]"
            extra = (" " + _("(optional)")) if not required else ""
            who = " (" + _("by {person}").format(person=by) + ")" if done else ""
            out.append(f"    {mark} {item_id}: {text}{extra}{who}")
    if detail.facts:
        out.append("  " + _("facts:"))
        out.extend(f"    {k} = {v}" for k, v in detail.facts.items())
    if line.clearances:
        out.append("  " + _("statements:"))
        for c in line.clearances:
            out.append(f"    {c.statement} v{c.version}: {_clearance_status(c, zone, now)}")
            for role, actor, at in c.approved:
                out.append(
                    "      "
                    + _("approved by {actor} ({role}) at {at}").format(
                        actor=actor, role=role, at=local_text(at, zone, now=now)
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
                f"    {local_text(t.due_at, zone, now=now)}  {t.label}  "
                f"{humanize(t.due_at - now)}  -> {t.reaches}".replace(OVERDUE_MARK, "!!")
            )
            if t.next_try_at is not None:
                out.append("      " + _next_try(t.next_try_at, zone, now))
    if detail.possible:
        out.append("  " + _("next:     {triggers}").format(triggers=", ".join(detail.possible)))
    if detail.events:
        out.append("  " + _("last events:"))
        for event, who, what in detail.events:
            out.append(f"    {local_text(event.at, zone, now=now)}  {who}: {what}")
    return "\n".join(out) + "\n"


def _clearance_status(clearance: Clearance, zone: str, now: datetime) -> str:
    if clearance.released_at is not None:
        return _("released {at}").format(at=local_text(clearance.released_at, zone, now=now))
    if clearance.waiting:
        return _("waiting for {who}").format(who=clearance.waiting[0])
    return _("cleared, not released")


def _track(detail: Detail, *, plain: bool) -> str:
    here = detail.line.phase
    parts = [f"[{word(p)}]" if p == here else word(p) for p in detail.phases]
    if here not in detail.phases:
        parts.append(f"[{word(here)}]")
    return " -> ".join(parts) if plain else " → ".join(parts)


def _next_try(at: datetime, zone: str, now: datetime) -> str:
    """A timer whose firing failed: when `serve` tries it again."""
    return _("firing failed; next try {at}").format(at=local_text(at, zone, now=now))


# -- rich ---------------------------------------------------------------------------------


def _text(value: str, style: str = "") -> RenderableType:
    """A cell's text: wrapped at words, a word too wide cut with `…`."""
    from rich.text import Text

    return Text(value, style=style, overflow=CUT)


def _deadline_cell(
    line: IncidentLine, now: datetime, ticking: bool, *, zone_named: bool
) -> RenderableType:
    overdue = line.next_due is not None and line.next_due.due_at < now
    return _text(
        _due(line, now, zone_named=zone_named, ticking=ticking), "bold red" if overdue else ""
    )


def _labelled(rows: list[tuple[str, RenderableType | str]]) -> Table:
    """A two-column grid: labels as wide as the longest, values wrapping beside them."""
    from rich.table import Table

    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(no_wrap=True, style="dim")
    grid.add_column(ratio=1, overflow=CUT)
    for label, value in rows:
        grid.add_row(label, _text(value) if isinstance(value, str) else value)
    return grid


def _status_block(
    line: IncidentLine, now: datetime, ticking: bool, *, zone_named: bool
) -> RenderableType:
    """One incident at up to WIDE columns: id, severity and playbook; title; labelled rows."""
    from rich.console import Group
    from rich.text import Text

    head = Text(overflow=CUT)
    head.append(line.id, style="bold")
    head.append("  ")
    head.append(word(line.severity), style=SEVERITY_STYLE.get(line.severity, ""))
    head.append(f"  {line.playbook}", style="dim")
    if line.closed_at:
        head.append("  [" + _("closed") + "]")
    if line.dead_letters:
        head.append("  " + _("{n} dead").format(n=line.dead_letters), style="bold red")
    if line.not_published:
        head.append("  " + _not_published_text(line), style="bold red")
    rows: list[tuple[str, RenderableType | str]] = list(
        _status_rows(line, now, zone_named=zone_named)
    )
    rows[2] = (rows[2][0], _deadline_cell(line, now, ticking, zone_named=zone_named))
    return Group(head, _text(line.title, "bold"), _labelled(rows))


def status_view(
    board: Board, now: datetime, *, width: int = 80, ticking: bool = False
) -> RenderableType:
    """The status: a block per incident up to WIDE columns, a table with a column per field
    from there on."""
    from rich.console import Group
    from rich.rule import Rule
    from rich.text import Text

    from crisiscomm.ui.register import register_lines

    trouble = board.outbox.get("dead") or board.outbox.get("failing")
    footer = Text(outbox_text(board.outbox), style="red" if trouble else "dim")
    lines = register_lines(board.register, board.timezone)
    register = [Text("\n".join(lines), style="yellow", no_wrap=True)] if lines else []
    if not board.incidents:
        return Group(Text(empty_text()), *register, footer)
    zone_named = board.timezone is not None
    times = _text(board_times(board, now), "dim")
    if width >= WIDE:
        table = _status_table(board, now, ticking, zone_named=zone_named)
        return Group(times, table, *register, footer)
    parts: list[RenderableType] = [times]
    for line in board.incidents:
        parts += [Rule(style="dim"), _status_block(line, now, ticking, zone_named=zone_named)]
    return Group(*parts, Rule(style="dim"), *register, footer)


def _status_table(board: Board, now: datetime, ticking: bool, *, zone_named: bool) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(expand=True, pad_edge=False)
    table.add_column(_("incident"), no_wrap=True)
    table.add_column(_("title"), ratio=3, overflow=CUT)
    table.add_column(_("playbook"), overflow=CUT)
    table.add_column(_("severity"), overflow=CUT)
    table.add_column(_("state"), ratio=2, overflow=CUT)
    table.add_column(_("owner"), ratio=2, overflow=CUT)
    table.add_column(_("next deadline"), overflow=CUT)
    table.add_column(_("clearance"), ratio=2, overflow=CUT)
    table.add_column(_("escalations"), overflow=CUT)
    table.add_column(_("dead"), justify="right")
    for line in board.incidents:
        table.add_row(
            line.id,
            _text(line.title),
            _text(line.playbook),
            _text(word(line.severity), SEVERITY_STYLE.get(line.severity, "")),
            _text(_state_text(line)),
            _text(line.owner),
            _deadline_cell(line, now, ticking, zone_named=zone_named),
            _text(_clearance_text(line)),
            _text(_escalation_text(line)),
            Text(
                str(line.dead_letters) + (" · " + _("not published") if line.not_published else ""),
                style="bold red" if line.dead_letters or line.not_published else "",
            ),
        )
    return table


def detail_view(detail: Detail, now: datetime) -> RenderableType:
    """The `show` view: header panel, phase track, checklist, facts, statements, timers,
    last events."""
    from rich.console import Group
    from rich.panel import Panel

    line, zone = detail.line, detail.line.timezone
    rows: list[tuple[str, RenderableType | str]] = list(_detail_rows(detail, now, plain=False))
    rows[0] = (rows[0][0], _text(word(line.severity), SEVERITY_STYLE.get(line.severity, "")))
    if line.next_due is not None:
        rows[-1] = (rows[-1][0], _deadline_cell(line, now, False, zone_named=True))
    header = Group(
        _text(line.title, "bold"), _labelled(rows), _text(times_header(zone, [now]), "dim")
    )
    parts: list[RenderableType] = [Panel(header, title=line.id, title_align="left")]
    parts += _detail_tables(detail, now)
    return Group(*parts)


def _titled(title: str, *, header: bool = True, lines: bool = False) -> Table:
    from rich.table import Table

    return Table(
        title=title, title_justify="left", expand=True, show_header=header, show_lines=lines
    )


def _detail_tables(detail: Detail, now: datetime) -> list[RenderableType]:
    from rich.text import Text

    line, zone = detail.line, detail.line.timezone
    parts: list[RenderableType] = []
    if detail.checklist:
        checklist = _titled(_("checklist"), header=False)
        checklist.add_column(no_wrap=True)
        checklist.add_column(ratio=1, overflow=CUT)
        for item_id, text, required, by, done in detail.checklist:
            extra = "" if required else " " + _("(optional)")
            who = " — " + _("by {person}").format(person=by) if done else ""
            checklist.add_row(
                Text("[x]" if done else "[ ]", style="green" if done else "yellow"),
                _text(f"{item_id}: {text}{extra}{who}"),
            )
        parts.append(checklist)
    if detail.facts:
        facts = _titled(_("facts"), header=False)
        facts.add_column(ratio=1, overflow=CUT)
        facts.add_column(ratio=2, overflow=CUT)
        for key, value in detail.facts.items():
            facts.add_row(_text(key), _text(value))
        parts.append(facts)
    if line.clearances:
        parts.append(_statements_table(detail, now))
    if detail.timers:
        timers = _titled(_("timers ahead"))
        timers.add_column(_("due"), no_wrap=True)
        timers.add_column(_("what, and whom it reaches"), ratio=1, overflow=CUT)
        for t in detail.timers:
            due = f"{local_text(t.due_at, zone, now=now)}\n{humanize(t.due_at - now)}"
            if t.next_try_at is not None:
                due += "\n" + _next_try(t.next_try_at, zone, now)
            timers.add_row(
                _text(due, "bold red" if t.due_at < now else ""), _text(f"{t.label} → {t.reaches}")
            )
        parts.append(timers)
    if detail.possible:
        parts.append(_text(_("next: {triggers}").format(triggers=", ".join(detail.possible))))
    if detail.events:
        events = _titled(_("last events"))
        events.add_column(_("when"), no_wrap=True)
        events.add_column(_("who"), ratio=1, overflow=CUT)
        events.add_column(_("what"), ratio=3, overflow=CUT)
        for event, who, what in detail.events:
            events.add_row(local_text(event.at, zone, now=now), _text(who), _text(what))
        parts.append(events)
    return parts


def _statements_table(detail: Detail, now: datetime) -> Table:
    from rich.text import Text

    zone = detail.line.timezone
    statements = _titled(_("statements"), lines=True)
    statements.add_column(_("statement"), no_wrap=True)
    statements.add_column(_("clearance"), ratio=1, overflow=CUT)
    statements.add_column(_("texts"), ratio=2, overflow=CUT)
    for c in detail.line.clearances:
        chain = Text(overflow=CUT)
        for role, actor, at in c.approved:
            chain.append("✓ ", style="green")
            chain.append(
                _("{role}: {actor}, {at}").format(
                    role=role, actor=actor, at=local_text(at, zone, now=now)
                )
                + "\n"
            )
        for who in c.waiting:
            chain.append("… ", style="yellow")
            chain.append(_("waiting for {who}").format(who=who) + "\n")
        if not c.waiting:
            chain.append(_clearance_status(c, zone, now), style="bold")
        texts = "\n".join(
            f"[{lang}] {c.texts[lang]}" for lang in detail.languages if lang in c.texts
        )
        statements.add_row(f"{c.statement}\nv{c.version}", chain, _text(texts))
    return statements
