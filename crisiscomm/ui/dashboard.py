"""`crisiscomm watch`: the live dashboard (Textual).

The store is opened on mount, in the thread that runs the app's event loop, and read again
every second there: an SQLite connection belongs to the thread that opened it. Actions go
through the service functions, as the CLI's do.

The incidents' columns are fitted to the terminal's width (four at 80 columns, seven from
`WIDE` on) and their texts wrap inside them, so a long Russian state title takes two lines
rather than pushing the columns off the screen. Times are in the incidents' zone, named on
the line under the header with the clock.

Under the incidents, the register's overdue items and the rumours with the largest reach,
read by the queries `status` reads them with (ui/register.py: two, each bounded by LIMIT and
served by the index of open items), shown only when there is one.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Header, Static

from crisiscomm.clock import Clock, SystemClock
from crisiscomm.engine.timefmt import clock_text, local_text, times_header
from crisiscomm.i18n import _
from crisiscomm.ui import readmodel
from crisiscomm.ui.register import register_lines, register_summary
from crisiscomm.ui.render import (
    OVERDUE_MARK,
    SEVERITY_STYLE,
    WIDE,
    countdown,
    deadline_text,
    detail_view,
    empty_text,
    outbox_text,
)

if TYPE_CHECKING:
    from datetime import datetime

    from crisiscomm.store import Store

__all__ = ["Dashboard", "columns"]

REFRESH_SECONDS = 1.0
FEED_LINES = 6
ID_WIDTH = len("INC-2026-0001")
SCROLLBAR = 2  # columns kept for the table's vertical scroll bar
PADDING = 2  # a cell's padding, one column each side


def _label(text: str) -> Text:
    """A column's header: one line, cut with `…` if the column is narrower."""
    return Text(text, no_wrap=True, overflow="ellipsis")


def columns(width: int) -> list[tuple[str, Text, int]]:
    """(key, header, width) of the incidents' columns in a table `width` columns wide: what
    matters most first; texts wrap in their column, so together they fit the width."""
    longest_countdown = f"{OVERDUE_MARK} " + countdown(-timedelta(hours=99, seconds=3599))
    deadline = max(len(longest_countdown), len("00.00.0000 00:00"))
    wide = width >= WIDE
    fixed = [("incident", _("incident"), ID_WIDTH), ("deadline", _("next deadline"), deadline)]
    if wide:
        fixed += [("severity", _("severity"), 9), ("dead", _("dead letters"), 6)]
    flexible = [("state", _("state"), 3), ("clearance", _("clearance waits for"), 3)]
    if wide:
        flexible.append(("owner", _("owner"), 2))
    count = len(fixed) + len(flexible)
    room = max(
        width - SCROLLBAR - PADDING * count - sum(w for _k, _l, w in fixed), 12 * len(flexible)
    )
    shares = sum(share for _k, _l, share in flexible)
    sized = {key: (label, room * share // shares) for key, label, share in flexible}
    sized.update({key: (label, size) for key, label, size in fixed})
    order = ["incident", "deadline", "state", "clearance", "owner", "severity", "dead"]
    return [(key, _label(sized[key][0]), sized[key][1]) for key in order if key in sized]


def keys_text() -> str:
    """The keys, for `?`."""
    return "\n".join(
        [
            _("↑ ↓      select an incident"),
            _("Enter    open its detail (Escape goes back)"),
            _("a        acknowledge its escalation as you"),
            _("?        this list"),
            _("q        leave (Ctrl-C too)"),
        ]
    )


class KeysScreen(ModalScreen[None]):
    """The list of keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "app.pop_screen", _("close")),
    ]
    DEFAULT_CSS = """
    KeysScreen { align: center middle; }
    KeysScreen > Static { width: auto; padding: 1 2; border: round $accent; background: $panel; }
    """

    def compose(self) -> ComposeResult:
        yield Static(_("Keys") + "\n\n" + keys_text(), id="keys")


class DetailScreen(Screen[None]):
    """One incident: the `crisiscomm show` view, refreshed every second."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", _("back")),
        Binding("a", "app.acknowledge", _("acknowledge")),
        Binding("question_mark", "app.keys", _("keys")),
        Binding("q", "app.quit", _("quit")),
    ]

    def __init__(self, incident_id: str) -> None:
        super().__init__()
        self.incident_id = incident_id

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static(id="detail")
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        self.set_interval(REFRESH_SECONDS, self.reload)

    def reload(self) -> None:
        """Read the incident again and redraw it."""
        app = self.app
        assert isinstance(app, Dashboard)
        detail = readmodel.detail(store=app.store, incident_id=self.incident_id)
        self.query_one("#detail", Static).update(detail_view(detail, app.clock.now()))


class Dashboard(App[int]):
    """Open incidents with ticking countdowns, a feed of escalations and releases, and the
    outbox health."""

    TITLE = "crisiscomm watch"
    CSS = """
    #clock { height: 1; padding: 0 1; color: $text-muted; }
    #incidents { height: 1fr; }
    #register { height: auto; max-height: 40%; border: round $warning; padding: 0 1; }
    #bottom { height: auto; max-height: 35%; }
    #feed { width: 2fr; border: round $primary; padding: 0 1; }
    #outbox { width: 1fr; border: round $primary; padding: 0 1; }
    #empty { padding: 1 2; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "acknowledge", _("acknowledge")),
        Binding("question_mark", "keys", _("keys")),
        Binding("q", "quit", _("quit")),
        Binding("ctrl+c", "quit", _("quit"), show=False, priority=True),
    ]

    def __init__(
        self,
        *,
        db: str | None,
        actor: str,
        clock: Clock | None = None,
        timezone: str | None = None,
    ) -> None:
        super().__init__()
        self.db = db
        self.actor = actor
        self.clock: Clock = clock or SystemClock()
        # the zone of the clock and the times: the incidents', else the office's, else UTC
        self.timezone = timezone or "UTC"
        self.ids: list[str] = []
        self._store: Store | None = None
        self._reader = readmodel.BoardReader()
        self._shapes: list[tuple[object, ...]] = []
        self._width = 0
        self._register_shown: list[str] | None = None  # the register panel's lines
        self.main: Screen[object]

    @property
    def store(self) -> Store:
        """The store, opened in this (the event loop's) thread on mount."""
        assert self._store is not None
        return self._store

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="clock")
        yield DataTable(id="incidents", cursor_type="row", zebra_stripes=True)
        yield Static(empty_text(), id="empty")
        yield Static(id="register")
        with Horizontal(id="bottom"):
            yield Static(id="feed")
            yield Static(id="outbox")
        yield Footer()

    def on_mount(self) -> None:
        from crisiscomm.store import open_store

        # as the CLI opens it: a named database must exist; the default one is made
        self._store = open_store(self.db, create=not self.db)
        self.main = self.screen  # the incidents screen, whatever is pushed on top of it
        self.sub_title = _("acting as {actor}").format(actor=self.actor)
        self.query_one("#feed", Static).border_title = _("escalations and releases")
        self.query_one("#outbox", Static).border_title = _("outbox")
        self.query_one("#register", Static).border_title = _("register")
        self.reload()
        self.set_interval(REFRESH_SECONDS, self.reload)
        self.main.query_one("#incidents", DataTable).focus()

    def on_unmount(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def on_resize(self) -> None:
        """A new width: the columns are fitted to it again."""
        if self._store is not None and self.size.width != self._width:
            self.reload()

    def selected(self) -> str | None:
        """The id of the incident under the cursor."""
        table = self.main.query_one("#incidents", DataTable)
        row = table.cursor_row
        return self.ids[row] if 0 <= row < len(self.ids) else None

    def _fit_columns(self, table: DataTable[Text | str]) -> None:
        """Columns for the terminal's width (all rows are added again after)."""
        self._width = self.size.width
        table.clear(columns=True)
        for key, label, width in columns(self._width):
            table.add_column(label, key=key, width=width)
        self.ids, self._shapes = [], []

    def reload(self) -> None:
        """Read the store again and redraw (every second)."""
        if self._store is None or not self.main.query("#clock"):
            return  # not open yet, or leaving: a last tick may come after the widgets went
        board = self._reader.read(self.store)
        now = self.clock.now()
        zone = self.timezone = board.timezone or self.timezone
        ticking = _("now {time}").format(time=clock_text(now, zone))
        self.main.query_one("#clock", Static).update(
            Text(f"{times_header(zone, [now])} · {ticking}", no_wrap=True, overflow="ellipsis")
        )
        table: DataTable[Text | str] = self.main.query_one("#incidents", DataTable)
        if self.size.width != self._width:
            self._fit_columns(table)
        wide = self._width >= WIDE
        ids = [line.id for line in board.incidents]
        shapes = [_shape(line, wide) for line in board.incidents]
        if ids == self.ids and shapes == self._shapes:
            # only the countdowns tick: their cells keep their height
            for line in board.incidents:
                table.update_cell(line.id, "deadline", _deadline_cell(line, now))
        else:  # a change of text may change a row's height: the rows are laid out again
            keep = self.selected()
            table.clear()
            for line in board.incidents:
                table.add_row(*_cells(line, now, wide=wide), key=line.id, height=None)
            self.ids, self._shapes = ids, shapes
            if keep in ids:
                table.move_cursor(row=ids.index(keep))
        table.display = bool(ids)
        self.main.query_one("#empty", Static).display = not ids
        self._reload_register(now, zone)
        feed = "\n".join(
            f"{local_text(item.at, item.timezone, now=now)} {item.incident_id} {item.text}"
            for item in board.feed[:FEED_LINES]
        )
        self.main.query_one("#feed", Static).update(
            Text(feed or _("nothing escalated or released yet"), overflow="ellipsis")
        )
        health = Text(
            outbox_text(board.outbox).replace(", ", "\n").replace(": ", ":\n", 1),
            style="bold red" if board.outbox.get("dead") else "",
        )
        self.main.query_one("#outbox", Static).update(health)

    def _reload_register(self, now: datetime, zone: str) -> None:
        """The register's panel: redrawn only when its lines change (its times do not tick)."""
        lines = register_lines(register_summary(store=self.store, now=now), zone)
        if lines == self._register_shown:
            return
        self._register_shown = lines
        panel = self.main.query_one("#register", Static)
        panel.update(Text("\n".join(lines), no_wrap=True, overflow="ellipsis"))
        panel.display = bool(lines)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on an incident: open its detail."""
        if event.row_key.value is not None:
            self.push_screen(DetailScreen(str(event.row_key.value)))

    def action_keys(self) -> None:
        """`?`: list the keys."""
        self.push_screen(KeysScreen())

    def action_acknowledge(self) -> None:
        """`a`: acknowledge the selected incident (or the one in detail) as the actor."""
        from crisiscomm.engine import service
        from crisiscomm.errors import CrisisCommError

        screen = self.screen
        incident_id = screen.incident_id if isinstance(screen, DetailScreen) else self.selected()
        if incident_id is None:
            self.notify(_("no incident selected"), severity="warning")
            return
        try:
            service.acknowledge(
                store=self.store, clock=self.clock, incident_id=incident_id, actor=self.actor
            )
        except CrisisCommError as error:
            self.notify(error.message, severity="error")
        else:
            self.notify(_("{actor} acknowledged {id}").format(actor=self.actor, id=incident_id))
        self.reload()
        if isinstance(screen, DetailScreen):
            screen.reload()


def _deadline_cell(line: readmodel.IncidentLine, now: datetime) -> Text:
    """The ticking countdown, and under it the time it runs to."""
    if line.next_due is None:
        return Text("-")
    overdue = line.next_due.due_at < now
    due = local_text(line.next_due.due_at, line.timezone, now=now)
    text = Text(deadline_text(line, now, ticking=True), style="bold red" if overdue else "")
    return text.append(f"\n{due}", style="dim")


def _shape(line: readmodel.IncidentLine, wide: bool) -> tuple[object, ...]:
    """Everything a row shows but the ticking countdown."""
    cells = _cells(line, None, wide=wide)
    due = line.next_due.due_at if line.next_due else None
    return (due, *(cell.plain for index, cell in enumerate(cells) if index != 1))


def _cells(line: readmodel.IncidentLine, now: datetime | None, *, wide: bool) -> list[Text]:
    """The cells of one incident's row, in `columns` order; texts wrap, long words end `…`."""
    waiting = next((c for c in line.clearances if c.waiting and c.released_at is None), None)
    clearance = (
        _("{s} → {who}").format(s=waiting.statement, who=waiting.waiting[0]) if waiting else "-"
    )
    ident = Text(line.id, overflow="ellipsis")
    state = Text(f"{line.state_title} ({line.phase})", overflow="ellipsis")
    if not wide:  # severity and dead letters under the id, the owner under the state
        ident.append("\n" + line.severity, style=SEVERITY_STYLE.get(line.severity, ""))
        if line.dead_letters:
            ident.append("\n" + _("{n} dead").format(n=line.dead_letters), style="bold red")
        if line.not_published:
            ident.append("\n" + _("not published"), style="bold red")
        state.append("\n" + line.owner_role, style="dim")
    deadline = _deadline_cell(line, now) if now is not None else Text("")
    cells = [ident, deadline, state, Text(clearance, overflow="ellipsis")]
    if wide:
        cells += [
            Text(line.owner, overflow="ellipsis"),
            Text(line.severity, style=SEVERITY_STYLE.get(line.severity, "")),
            Text(str(line.dead_letters), style="bold red" if line.dead_letters else ""),
        ]
    return cells
