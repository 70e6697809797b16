"""Events: every node's cluster events merged newest first, and the membership matrix.

The table is rebuilt only when the snapshot's event ring changed (or a filter did); it holds at
most EVENTS_KEPT rows. Filters: kind (`k` cycles), node (`o` cycles) and `/` to filter by text.
`s` searches without hiding rows: every match highlighted, `n`/`N` move the cursor to the next or
previous matching row (`re:PATTERN` for a regular expression).
Every cell is `Text`: event text, members and node names are shown literally. Below `WIDE`
columns the time is shown as HH:MM:SS and history is marked by a dim kind, so the text keeps room;
Enter opens the whole event (every field, the full text).
"""

from __future__ import annotations

from typing import ClassVar, get_args

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from console.cluster.state import EVENTS_KEPT, ClusterState, NodeEvent
from console.textsafe import printable
from probes.logs.model import EventKind
from screens.confirm import DetailScreen, field_lines
from screens.watch import watch_chrome
from screens.widgets.common import clock, host_of, safe
from screens.widgets.keybar import KeyBar
from screens.widgets.matrix import MembershipMatrix
from screens.widgets.row_table import RowTable
from screens.widgets.search import Search, step

COLUMNS = ("time", "node", "kind", "member", "text")
WIDE = 120
"""Terminal width from which times are shown whole and history is spelt out."""
KINDS: tuple[str, ...] = get_args(EventKind)
KIND_STYLES: dict[str, str] = {
    "member-joined": "green",
    "member-left": "bold red",
    "membership": "cyan",
    "session-sync": "cyan",
    "server-started": "green",
    "server-stopping": "yellow",
    "error": "bold red",
}


def _first_line(text: str) -> str:
    return text.split("\n", 1)[0]


def event_row(record: NodeEvent, *, wide: bool = True) -> tuple[Text, Text, Text, Text, Text]:
    """One table row: time, node, kind, member, text (all literal)."""
    event = record.event
    stamp = event.time or clock(record.at)
    if not wide and event.time and len(event.time) >= 19:
        stamp = event.time[11:19]
    when = safe(stamp, "dim" if record.backlog else "", limit=40)
    kind = Text(event.kind, style=KIND_STYLES.get(event.kind, ""), end="")
    if record.backlog:
        if wide:
            kind.append(" (history)", style="dim")
        else:
            kind.stylize("dim")
    if event.member:
        member = safe(event.member, limit=80)
    elif event.members:
        member = safe(f"{len(event.members)}: " + ", ".join(event.members), limit=120)
    else:
        member = Text("-", style="dim")
    return (when, safe(record.node), kind, member, safe(_first_line(event.text), limit=300))


def matches(record: NodeEvent, kind: str | None, node: str | None, search: str) -> bool:
    if kind is not None and record.event.kind != kind:
        return False
    if node is not None and record.node != node:
        return False
    if search:
        event = record.event
        hay = " ".join((record.node, event.kind, event.member or "", *event.members, event.text))
        return search in hay.casefold()
    return True


class EventsScreen(Screen[None]):
    """The merged timeline of every node's events and who sees whom."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("k", "cycle_kind", "Kind filter", id="events.kind"),
        Binding("o", "cycle_node", "Node filter", id="events.node"),
        Binding("s", "find", "Search", show=False, id="events.find"),  # footer: 80 columns
        Binding("n", "next_match(True)", "Next match", show=False, id="events.next-match"),
        Binding("N", "next_match(False)", "Previous match", show=False, id="events.previous-match"),
        # Priority: runs as the app reads `/`, so the keys typed after it reach the field.
        Binding("slash", "search", "Filter", id="events.search", key_display="/", priority=True),
        Binding("escape", "clear_filters", "Clear filters", id="events.clear"),
        Binding("enter", "open_event", "Event details", show=False, id="events.open"),
    ]

    DEFAULT_CSS = """
    EventsScreen #events-matrix { border-bottom: solid $primary; }
    EventsScreen #events-filters { height: 1; padding: 0 1; background: $boost; }
    EventsScreen #events-table { height: 1fr; }
    EventsScreen #events-search { dock: bottom; display: none; }
    EventsScreen #events-search.shown { display: block; }
    EventsScreen #events-find { dock: bottom; display: none; }
    EventsScreen #events-find.shown { display: block; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._state: ClusterState | None = None
        self._events: tuple[NodeEvent, ...] | None = None
        self._shown_key: tuple[object, ...] | None = None
        self.kind_filter: str | None = None
        self.node_filter: str | None = None
        self.search_text = ""
        self.find = Search()
        """The search `s` highlights (rows stay)."""
        self.rows: list[NodeEvent] = []
        """The events in the table, top row first (for tests and the status line)."""
        self._wide: bool | None = None

    def compose(self) -> ComposeResult:
        yield from watch_chrome(self.app)
        yield MembershipMatrix(id="events-matrix")
        yield Static(Text(""), id="events-filters")
        yield RowTable(id="events-table")
        yield Input(
            placeholder="filter by event text (Enter keeps it, Escape clears; s searches instead)",
            id="events-search",
        )
        yield Input(
            placeholder="search, re:PATTERN for a regex (Enter: to the first match, then n/N)",
            id="events-find",
        )
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = "events"
        table = self.query_one(DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column)
        if self._state is None:
            self._state = host_of(self.app).state
        self._paint()

    def show_state(self, state: ClusterState) -> None:
        """Redraw the matrix and, when the events or filters changed, the table."""
        self._state = state
        if self.is_mounted:
            self._paint()

    def _paint(self) -> None:
        if self._state is not None:
            self.query_one(MembershipMatrix).show_state(self._state)
        self._rebuild()
        self._filters_line()

    def _rebuild(self, force: bool = False) -> None:
        state = self._state
        if state is None:
            return
        wide = self._wide = self.app.size.width >= WIDE
        key = (self.kind_filter, self.node_filter, self.search_text, wide, self.find.text)
        if not force and state.events is self._events and key == self._shown_key:
            return
        self._events, self._shown_key = state.events, key
        rows = [
            record
            for record in reversed(state.timeline())  # by the events' own time
            if matches(record, self.kind_filter, self.node_filter, self.search_text)
        ][:EVENTS_KEPT]
        self.rows = rows
        table = self.query_one(RowTable)
        table.show_rows(
            [(str(id(record)), self._found(event_row(record, wide=wide))) for record in rows]
        )
        self._filters_line()

    def _found(self, cells: tuple[Text, ...]) -> list[Text]:
        """The row's cells with every match of the search highlighted."""
        if not self.find.active:
            return list(cells)
        return [self.find.highlight(cell.copy()) if at else cell for at, cell in enumerate(cells)]

    def _matching(self, record: NodeEvent) -> bool:
        event = record.event
        hay = (record.node, event.kind, event.member or "", *event.members, event.text)
        return any(self.find.matches(printable(part)) for part in hay)

    def match_keys(self) -> list[str]:
        """The keys of the rows the search matches, top to bottom as shown."""
        table = self.query_one(RowTable)
        matching = {str(id(record)) for record in self.rows if self._matching(record)}
        return [key for key in table.row_keys if key in matching]

    def action_find(self) -> None:
        field = self.query_one("#events-find", Input)
        field.add_class("shown")
        field.value = self.find.text
        self.set_focus(field)

    def action_next_match(self, forward: bool, here: bool = False) -> None:
        """n/N: the cursor to the next (previous) row the search matches, wrapping round
        (``here``: the cursor's own row counts, for the first jump)."""
        if not self.find.active:
            return
        table = self.query_one(RowTable)
        keys = table.row_keys
        rows = [keys.index(key) for key in self.match_keys()]
        cursor = table.cursor_row if table.row_count else None
        if here and cursor is not None:
            cursor -= 1
        target = step(rows, cursor, forward)
        if target is None:
            self.notify("no event matches the search", timeout=3, markup=False)
            return
        table.move_cursor(row=target)
        self._filters_line()

    def on_resize(self) -> None:
        if self._state is not None and (self.app.size.width >= WIDE) != self._wide:
            self._rebuild()

    # -- the whole event -----------------------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_event()

    @property
    def cursor_record(self) -> NodeEvent | None:
        """The event on the highlighted row (the table may be sorted by any column)."""
        key = self.query_one(RowTable).cursor_key
        return next((record for record in self.rows if str(id(record)) == key), None)

    def action_open_event(self) -> None:
        """Enter: every field of the highlighted event and its whole text."""
        record = self.cursor_record
        if record is None:
            return
        event = record.event
        fields: list[tuple[str, Text | str]] = [
            ("node", safe(record.node)),
            ("kind", Text(event.kind, style=KIND_STYLES.get(event.kind, ""))),
            ("time", safe(event.time or "not in the line")),
            (
                "read",
                safe(clock(record.at) + (" (from the log's history)" if record.backlog else "")),
            ),
            ("member", safe(event.member or "-")),
            ("members", safe(", ".join(event.members) or "-", limit=2000)),
            ("detail", safe(event.detail or "-", limit=2000)),
            ("source", safe(event.source)),
            ("where", safe(f"line {event.line}, byte {event.offset}")),
        ]
        body = field_lines(fields)
        body.append("\n\n")
        body.append("text", style="bold underline").append("\n")
        body.append(Text(printable(event.text, keep_tabs=True).expandtabs(4)[:20000]))
        title = Text("event ", style="bold").append(safe(event.kind)).append(" on ")
        title.append(safe(record.node))
        self.app.push_screen(DetailScreen(title, body))

    def _filters_line(self) -> None:
        total = len(self._state.events) if self._state is not None else 0
        text = Text(f"{len(self.rows)} of {total} event(s) · newest first · ")
        text.append("kind ", style="bold").append(self.kind_filter or "all")
        text.append(" · node ", style="bold").append(safe(self.node_filter or "all"))
        if self.search_text:
            text.append(" · filter ", style="bold").append(
                safe(self.search_text, "reverse", limit=60)
            )
        if self.find.text:
            text.append(" · search ", style="bold").append(
                safe(self.find.describe(), "reverse", limit=60)
            )
            if self.find.error:
                text.append(" ").append(safe(self.find.error, "bold red", limit=80))
            else:
                text.append(f" {len(self.match_keys())} match(es) (n/N)")
        self.query_one("#events-filters", Static).update(text)

    # -- filters -----------------------------------------------------------------------------

    def action_cycle_kind(self) -> None:
        choices: list[str | None] = [None, *KINDS]
        self.kind_filter = choices[(choices.index(self.kind_filter) + 1) % len(choices)]
        self._rebuild()

    def action_cycle_node(self) -> None:
        names = [view.name for view in self._state.nodes] if self._state is not None else []
        choices: list[str | None] = [None, *names]
        current = choices.index(self.node_filter) if self.node_filter in choices else 0
        self.node_filter = choices[(current + 1) % len(choices)]
        self._rebuild()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "search":  # `/` typed in a field is text
            return not isinstance(self.focused, Input)
        return True

    def action_search(self) -> None:
        field = self.query_one("#events-search", Input)
        field.add_class("shown")
        field.value = self.search_text
        self.set_focus(field)  # at once: the keys typed after `/` go to the field

    def action_clear_filters(self) -> None:
        field = self.query_one("#events-search", Input)
        field.remove_class("shown")
        field.value = ""
        find = self.query_one("#events-find", Input)
        find.remove_class("shown")
        find.value = ""
        self.find = Search()
        self.kind_filter, self.node_filter, self.search_text = None, None, ""
        self.query_one(RowTable).focus()
        self._rebuild()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "events-search":
            self.search_text = event.value.casefold()
            self._rebuild()
        elif event.input.id == "events-find":
            self.find = Search.parse(event.value)
            self._rebuild()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id in ("events-search", "events-find"):
            event.input.remove_class("shown")
            self.query_one(RowTable).focus()
        if event.input.id == "events-find":
            self.action_next_match(True, here=True)
