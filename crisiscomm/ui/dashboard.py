"""`crisiscomm watch`: the live dashboard (Textual).

The store is opened on mount, in the thread that runs the app's event loop, and read again
every second there: an SQLite connection belongs to the thread that opened it. Actions go
through the service functions, as the CLI's do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Header, Static

from crisiscomm.clock import Clock, SystemClock
from crisiscomm.engine.timefmt import local_text
from crisiscomm.i18n import _
from crisiscomm.ui import readmodel
from crisiscomm.ui.render import deadline_text, detail_view, empty_text, outbox_text

if TYPE_CHECKING:
    from datetime import datetime

    from crisiscomm.store import Store

__all__ = ["Dashboard"]

REFRESH_SECONDS = 1.0
FEED_LINES = 8
COLUMNS = [
    ("incident", lambda: _("incident")),
    ("deadline", lambda: _("next deadline")),
    ("state", lambda: _("state")),
    ("clearance", lambda: _("clearance waits for")),
    ("owner", lambda: _("owner")),
    ("severity", lambda: _("severity")),
    ("dead", lambda: _("dead letters")),
]


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
    #incidents { height: 1fr; }
    #bottom { height: auto; max-height: 12; }
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

    def __init__(self, *, db: str | None, actor: str, clock: Clock | None = None) -> None:
        super().__init__()
        self.db = db
        self.actor = actor
        self.clock: Clock = clock or SystemClock()
        self.ids: list[str] = []
        self._store: Store | None = None
        self._reader = readmodel.BoardReader()
        self._cells: dict[str, list[Text | str]] = {}
        self.main: Screen[object]

    @property
    def store(self) -> Store:
        """The store, opened in this (the event loop's) thread on mount."""
        assert self._store is not None
        return self._store

    def compose(self) -> ComposeResult:
        yield Header(show_clock=True)
        yield DataTable(id="incidents", cursor_type="row", zebra_stripes=True)
        yield Static(empty_text(), id="empty")
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
        table = self.query_one("#incidents", DataTable)
        # what matters most first: at 80 columns the right-hand ones scroll
        for key, label in COLUMNS:
            table.add_column(label(), key=key)
        self.query_one("#feed", Static).border_title = _("escalations and releases")
        self.query_one("#outbox", Static).border_title = _("outbox")
        self.reload()
        self.set_interval(REFRESH_SECONDS, self.reload)
        table.focus()

    def on_unmount(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def selected(self) -> str | None:
        """The id of the incident under the cursor."""
        table = self.main.query_one("#incidents", DataTable)
        row = table.cursor_row
        return self.ids[row] if 0 <= row < len(self.ids) else None

    def reload(self) -> None:
        """Read the store again and redraw (every second)."""
        if self._store is None:
            return
        board = self._reader.read(self.store)
        now = self.clock.now()
        table = self.main.query_one("#incidents", DataTable)
        rows = [_cells(line, now) for line in board.incidents]
        ids = [line.id for line in board.incidents]
        if ids == self.ids:
            for incident_id, cells in zip(ids, rows, strict=True):
                before = self._cells.get(incident_id)
                for index, (column, value) in enumerate(zip(table.columns, cells, strict=True)):
                    if before is None or before[index] != value:  # redraw only what changed
                        table.update_cell(incident_id, column, value)
        else:
            keep = self.selected()
            table.clear()
            for incident_id, cells in zip(ids, rows, strict=True):
                table.add_row(*cells, key=incident_id)
            self.ids = ids
            if keep in ids:
                table.move_cursor(row=ids.index(keep))
        self._cells = dict(zip(ids, rows, strict=True))
        table.display = bool(ids)
        self.main.query_one("#empty", Static).display = not ids
        feed = "\n".join(
            f"{local_text(item.at, item.timezone)[11:16]} {item.incident_id} {item.text}"
            for item in board.feed[:FEED_LINES]
        )
        self.main.query_one("#feed", Static).update(feed or _("nothing escalated or released yet"))
        health = Text(
            outbox_text(board.outbox).replace(", ", "\n").replace(": ", ":\n", 1),
            style="bold red" if board.outbox.get("dead") else "",
        )
        self.main.query_one("#outbox", Static).update(health)

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


def _cells(line: readmodel.IncidentLine, now: datetime) -> list[Text | str]:
    deadline = deadline_text(line, now, ticking=True)
    waiting = next((c for c in line.clearances if c.waiting and c.released_at is None), None)
    return [
        line.id,
        Text(deadline, style="bold red" if line.next_due and line.next_due.due_at < now else ""),
        f"{line.state_title} ({line.phase})",
        _("{s} → {who}").format(s=waiting.statement, who=waiting.waiting[0]) if waiting else "-",
        line.owner,
        line.severity,
        Text(str(line.dead_letters), style="bold red" if line.dead_letters else ""),
    ]
