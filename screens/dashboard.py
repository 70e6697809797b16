"""The dashboard: one row per node and a problems panel, fed by cluster snapshots.

Rows are keyed by node name. A row is recomputed only when its `NodeView` (or a balancer read)
changed, and handed to the `NodeTable` only when its cells differ; the table then re-renders just
that row, and only if it is visible. Every cell is `Text` built from printable text (see
`screens.cells`), never markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Header, Input, Static

from console.cluster.crosschecks import Findings, Problem, findings
from console.cluster.peers import expected_peers
from console.cluster.rates import PoolWorker, previous_elected
from console.cluster.state import BalancerView, ClusterState, NodeView
from console.cluster.topology import NodeSpec
from probes.balancer.model import Worker
from screens import cells
from screens.cells import Palette
from screens.metrics_cells import METRIC_COLUMNS, metric_cell, trend_title
from screens.problems import ProblemsPanel, merged_problems
from screens.watch import Banner, Incident, WatchBar, watch_chrome
from screens.widgets.keybar import KeyBar
from screens.widgets.node_table import Column, NodeTable

if TYPE_CHECKING:
    from screens.host import ConsoleHost

Row = tuple[Text, ...]

_NAME = Style(bold=True)

ColumnSpec = tuple[str, str, int, int, int | None, int]
# (key, title, width, widest, narrowest, squeeze): a column grows from its width towards its widest
# to fit content; on a narrow terminal the columns with the highest squeeze give up width first,
# down to their narrowest (0: hidden; None: never squeezed). The line under the table shows the
# selected node's host and last event whole, so at 80 columns nothing is lost.
FIXED_COLUMNS: tuple[ColumnSpec, ...] = (
    ("ssh", "SSH", 10, 32, 5, 3),
    ("tomcat", "Tomcat", 7, 11, None, 0),
    ("http", "HTTP direct", 15, 32, 11, 3),
)
TAIL_COLUMNS: tuple[ColumnSpec, ...] = (
    ("peers", "peers", 5, 9, None, 0),
    ("event", "last event", 44, 64, 12, 2),
    ("host", "host", 22, 40, 0, 5),
)
LB_COLUMN = (21, 32, 15, 4)
"""Width, widest, narrowest and squeeze of each balancer's column."""


class DashboardScreen(Screen[None]):
    """Every node at a glance; Enter opens a node, `/` filters."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # A priority binding runs as the app reads the key, before the keys typed after it are
        # handed to the focused widget: the field then has focus and receives every one of them.
        Binding("slash", "filter", "Filter", key_display="/", id="dashboard.filter", priority=True),
        Binding("enter", "open_node", "Open node", show=False, id="dashboard.open-node"),
    ]

    DEFAULT_CSS = """
    DashboardScreen #filter { display: none; }
    DashboardScreen #filter.shown { display: block; }
    DashboardScreen #config-error {
        display: none; height: auto; max-height: 6; background: $error; color: $background;
        padding: 0 1;
    }
    DashboardScreen #config-error.shown { display: block; }
    DashboardScreen #nodes { height: 1fr; }
    DashboardScreen #selected { height: 1; padding: 0 1; background: $boost; }
    """

    def __init__(self, *, watch: bool = False) -> None:
        super().__init__()
        self.wall = watch
        self.filter_text = ""
        self._names: tuple[str, ...] = ()
        self._shown: tuple[str, ...] = ()
        self._balancer_names: tuple[str, ...] = ()
        self._rows: dict[str, Row] = {}
        self._cell_inputs: dict[str, tuple[object, ...]] = {}
        self._maintenance: dict[str, object] = {}
        self._views: dict[str, NodeView] = {}
        self._expected: dict[str, int] = {}
        self._balancers: tuple[BalancerView, ...] = ()
        self._workers: list[dict[str, list[tuple[str, Worker]]]] = []
        self._elected: list[dict[PoolWorker, int]] = []
        self._palette_key: str | None = None
        self._palette = cells.palette_for(None)
        self._state: ClusterState | None = None
        self._problems: tuple[Problem, ...] = ()
        self._findings = Findings((), (), ())
        self._problems_version: tuple[int, ...] = (-1, -1, -1)

    @property
    def host(self) -> ConsoleHost:
        return cast("ConsoleHost", self.app)

    def compose(self) -> ComposeResult:
        if not self.wall:
            yield Header()
        else:
            yield from watch_chrome(self.app)
        yield Static("", id="config-error", markup=False)
        yield NodeTable(id="nodes", zebra_stripes=True)
        yield Static("", id="selected", markup=False)
        yield ProblemsPanel(id="problems")
        yield KeyBar(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(NodeTable).focus()
        self.show_state(self.host.state)

    # -- rendering -----------------------------------------------------------------------------

    def _current_palette(self) -> Palette:
        theme = self.app.current_theme
        key = f"{theme.name}:{self.wall}"
        if key != self._palette_key:
            self._palette_key = key
            self._palette = cells.palette_for(theme, loud=self.wall)
            self._rows.clear()
            self._cell_inputs.clear()
            self._views.clear()
        return self._palette

    def _setup_columns(self, state: ClusterState) -> None:
        names = [view.name for view in state.nodes]
        width = min(max((len(name) for name in names), default=4) + 1, 24)
        columns = [Column("node", "node", max(width, 5), 32)]
        columns += [Column(*spec) for spec in FIXED_COLUMNS]
        columns += [
            Column(f"lb:{view.name}", cells.safe(view.name, 20), *LB_COLUMN)
            for view in state.balancers
        ]
        columns.append(Column(*TAIL_COLUMNS[0]))  # peers, then the figures, event and host
        interval = self.host.inventory.metrics.interval
        columns += [
            Column(key, trend_title(interval) if key == "trend" else title, w, most, least, sq)
            for key, title, w, most, least, sq in METRIC_COLUMNS
        ]
        columns += [Column(*spec) for spec in TAIL_COLUMNS[1:]]
        self.query_one(NodeTable).set_columns(columns)
        self._names = tuple(names)
        self._balancer_names = tuple(view.name for view in state.balancers)
        self._shown = ()
        self._rows.clear()
        self._cell_inputs.clear()
        self._views.clear()
        self._balancers = ()

    def _row(
        self,
        view: NodeView,
        state: ClusterState,
        specs: tuple[NodeSpec, ...],
        expected: int,
        palette: Palette,
    ) -> Row:
        """A node's cells; a cell is rebuilt only when its inputs changed.

        Returns the previous row object itself when no cell changed, so callers can compare
        rows by identity. With 500 nodes a snapshot usually changes one or two cells a row.
        Inputs that are snapshot objects (checks, balancer reads, events) are compared by
        identity: the reducer replaces what changed, and comparing a balancer read by value
        would walk all its workers for every row.
        """
        inputs: tuple[object, ...] = (
            view.spec,
            (view.ssh, view.ssh_reason),
            view.tomcat,
            view.http,
            *state.balancers,
            (view.tomcat, view.membership_known, view.members_seen, expected),
            *(view.metrics,) * len(METRIC_COLUMNS),
            view.last_event,
            view.spec,
        )
        if self._maintenance.get(view.name) != view.maintenance:  # every cell's colours change
            self._maintenance[view.name] = view.maintenance
            self._cell_inputs.pop(view.name, None)
        previous = self._cell_inputs.get(view.name)
        old = self._rows.get(view.name)
        if previous is not None and old is not None:
            self._cell_inputs[view.name] = inputs
            fresh = list(old)
            for index, (was, now) in enumerate(zip(previous, inputs, strict=True)):
                if was is not now and (not isinstance(now, tuple | str) or was != now):
                    cell = self._cell(index, view, specs, expected, palette)
                    if cell != old[index]:
                        fresh[index] = cell
            return old if all(a is b for a, b in zip(fresh, old, strict=True)) else tuple(fresh)
        self._cell_inputs[view.name] = inputs
        return tuple(
            self._cell(index, view, specs, expected, palette) for index in range(len(inputs))
        )

    def _cell(
        self,
        index: int,
        view: NodeView,
        specs: tuple[NodeSpec, ...],
        expected: int,
        palette: Palette,
    ) -> Text:
        """Cell ``index`` of a node's row (columns as set up by `_setup_columns`).

        A node in maintenance was taken out on purpose: its Tomcat cell says "maintenance" and
        its other states lose their alarm colour (the words stay)."""
        lb = index - 4
        if view.maintenance is not None:
            palette = cells.calm(palette)
        if index == 0:
            return cells.plain(view.name, _NAME)
        if index == 1:
            return cells.ssh_cell(view, palette)
        if index == 2:
            if view.maintenance is not None:
                return cells.maintenance_cell(view, palette)
            return cells.tomcat_cell(view, palette)
        if index == 3:
            return cells.http_cell(view, palette)
        if lb < len(self._workers):
            balancer = self._balancers[lb]
            workers = self._workers[lb].get(view.name, [])
            return cells.worker_cell(balancer, workers, palette, self._elected[lb])
        tail = lb - len(self._workers)
        if tail == 0:
            return cells.peers_cell(view, expected, specs, palette)
        if tail <= len(METRIC_COLUMNS):
            return metric_cell(METRIC_COLUMNS[tail - 1][0], view, palette)
        if tail == len(METRIC_COLUMNS) + 1:
            return cells.event_cell(view, palette)
        return cells.plain(view.spec.host)

    def _matches(self, name: str) -> bool:
        if not self.filter_text:
            return True
        row = self._rows.get(name)
        text = " ".join(cell.plain for cell in row) if row else name
        return self.filter_text.lower() in text.lower()

    def show_state(self, state: ClusterState) -> None:
        """Render one snapshot: changed rows only."""
        self._state = state
        table = self.query_one(NodeTable)
        names = tuple(view.name for view in state.nodes)
        balancer_names = tuple(view.name for view in state.balancers)
        if names != self._names or balancer_names != self._balancer_names or not table.columns:
            self._setup_columns(state)
        palette = self._current_palette()
        specs = state.specs  # a property that builds a tuple: once per snapshot
        balancers_changed = state.balancers is not self._balancers
        if balancers_changed:
            self._workers = [cells.workers_by_node(view, specs) for view in state.balancers]
            self._elected = [previous_elected(view) for view in state.balancers]
            self._balancers = state.balancers
        # Peers expected: every other node not known to be stopped (the rule `status` uses too).
        expected_by_node = expected_peers(state)
        changed: dict[str, Row] = {}
        for view in state.nodes:
            name = view.name
            expected = expected_by_node[name]
            if (
                not balancers_changed
                and self._views.get(name) is view
                and self._expected.get(name) == expected
            ):
                continue
            self._views[name] = view
            self._expected[name] = expected
            row = self._row(view, state, specs, expected, palette)
            if row is not self._rows.get(name):
                changed[name] = row
        self._rows.update(changed)
        table.update_rows(changed)
        self._apply_rows(table)
        self._show_problems(state, palette)
        self._show_selected()
        self._show_config_error()
        if self.wall:
            self._show_watch(state)

    def _apply_rows(self, table: NodeTable) -> None:
        """List the nodes the filter lets through (the table keeps the cursor on its node)."""
        shown = (
            tuple(name for name in self._names if self._matches(name))
            if self.filter_text
            else self._names
        )
        if shown != self._shown:
            table.set_rows(shown)
            self._shown = shown

    def _show_problems(self, state: ClusterState, palette: Palette) -> None:
        doctor = self.host.doctor  # the doctor's findings join the panel
        drift = self.host.deploy_drift  # and the deploy drift's
        version = (state.version, getattr(doctor, "version", -1), getattr(drift, "version", -1))
        if version != self._problems_version:
            self._findings = findings(state)
            self._problems = merged_problems(self._findings.alarms, doctor, drift)
            self._problems_version = version
        found = self._findings
        self.query_one(ProblemsPanel).show(
            self._problems, palette, found.acknowledged, found.notices
        )

    def on_node_table_highlighted(self, event: NodeTable.Highlighted) -> None:
        event.stop()
        self._show_selected()

    def _show_selected(self) -> None:
        """The selected node's host and last event, whole (narrow terminals hide or cut them)."""
        node = self.selected_node
        view = self._views.get(node) if node is not None else None
        line = self.query_one("#selected", Static)
        if view is None:
            line.update(Text("no node selected", style="dim"))
            return
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append(cells.safe(view.name, 40), style=_NAME)
        text.append(" · host ").append(cells.plain(view.spec.host))
        text.append(" · last event ").append_text(cells.event_cell(view, self._palette))
        line.update(text)

    def _show_config_error(self) -> None:
        error = self.host.config_error
        widget = self.query_one("#config-error", Static)
        if error:
            widget.update(
                Text(f"cluster.toml has errors; still showing the last good inventory:\n{error}")
            )
        widget.set_class(bool(error), "shown")

    def _show_watch(self, state: ClusterState) -> None:
        for bar in self.query(WatchBar):
            bar.show(state, self._problems)

    # -- watch chrome --------------------------------------------------------------------------

    def raise_incident(self, incident: Incident) -> None:
        """Show an incident on the banner (watch mode)."""
        for banner in self.query(Banner):
            banner.raise_incident(incident)

    def tick(self) -> None:
        """Once a second in watch mode: the clock, and expiring the banner."""
        for bar in self.query(WatchBar):
            bar.tick()
        for banner in self.query(Banner):
            banner.expire(self.host.clock())

    # -- interaction ---------------------------------------------------------------------------

    @property
    def selected_node(self) -> str | None:
        """The node under the cursor, if any."""
        return self.query_one(NodeTable).selected_node

    @property
    def rows(self) -> dict[str, Row]:
        """The cells of every node's row as last rendered (for tests and the filter)."""
        return dict(self._rows)

    @property
    def shown(self) -> tuple[str, ...]:
        """The nodes listed now (after the filter), in order."""
        return self._shown

    def _filter_field(self) -> Input | None:
        return next(self.query("#filter").results(Input), None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "filter":  # `/` typed in the field is text, not the filter key again
            field = self._filter_field()
            return field is None or not field.has_focus
        return True

    async def action_filter(self) -> None:
        field = self._filter_field()
        if field is None:  # built on first use: the first frame does not need it
            field = Input(placeholder="filter nodes (name, host or state words)", id="filter")
            await self.mount(field, before=self.query_one("#config-error"))
        field.add_class("shown")
        # At once, not on the next idle (`focus()`): keys already typed go to the field.
        self.set_focus(field)

    def clear_filter(self) -> bool:
        """Hide the filter and show every node again; False if there was nothing to clear."""
        field = next(self.query("#filter").results(Input), None)
        if field is None or (not field.has_class("shown") and not self.filter_text):
            return False
        field.value = ""
        field.remove_class("shown")
        self.filter_text = ""
        self.query_one(NodeTable).focus()
        self._refilter()
        return True

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.filter_text = event.value.strip()
            self._refilter()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self.query_one(NodeTable).focus()

    def _refilter(self) -> None:
        if self._state is not None:
            self._apply_rows(self.query_one(NodeTable))

    def on_node_table_selected(self, event: NodeTable.Selected) -> None:
        event.stop()
        self._open(event.node)

    def action_open_node(self) -> None:
        node = self.selected_node
        if node is not None:
            self._open(node)

    def _open(self, node: str) -> None:
        self.host.open_node(node)


__all__ = ["DashboardScreen"]
