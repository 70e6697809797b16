"""Balancers: every worker with its status in words, elected per second and busy as sparklines.

Rates come from successive pages (`BalancerView.page/previous/interval`); the screen keeps a short
bounded history per worker. In the interactive session the selected worker can be drained,
disabled, put in standby or given a load factor: each change is planned (the exact request is
shown), confirmed, applied by `WorkerActions.set_worker` (which audits and reads back) in a
worker, and its outcome notified, by `screens.balancer_actions`. In watch mode those actions do
not exist at all.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Header, Sparkline, Static

from console.rates import elected_rate
from console.state import BalancerView, ClusterState
from console.topology import worker_node
from probes.balancer import Worker
from probes.balancer_client import WorkerChange
from screens.balancer_actions import (
    ACTION_BINDINGS,
    ACTIONS,
    Target,
    change_worker,
    status_text,
)
from screens.confirm import NumberPrompt
from screens.widgets.common import ago, is_interactive, safe
from screens.widgets.keybar import KeyBar
from screens.widgets.sparktext import spark

HISTORY = 60
"""Reads of history kept per worker for the sparklines."""
COLUMNS = (
    "balancer",
    "pool",
    "worker",
    "route",
    "node",
    "status",
    "factor",
    "set",
    "elected",
    "elected/s",
    "busy",
)


@dataclass(slots=True)
class History:
    elected_rate: deque[float]
    busy: deque[float]


def _number(value: float | int | None, fmt: str = "{:g}") -> Text:
    return Text("-", style="dim") if value is None else Text(fmt.format(value))


class BalancerScreen(Screen[None]):
    """Every balancer's workers, their rates, and (interactive only) worker changes."""

    BINDINGS: ClassVar[list[BindingType]] = []

    DEFAULT_CSS = """
    BalancerScreen #balancer-summary { height: auto; padding: 0 1; border-bottom: solid $primary; }
    BalancerScreen #balancer-table { height: 1fr; }
    BalancerScreen #balancer-detail { height: 7; border-top: solid $primary; padding: 0 1; }
    BalancerScreen #balancer-detail Vertical { width: 1fr; padding: 0 1; }
    BalancerScreen Sparkline { height: 3; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._state: ClusterState | None = None
        self._version = -1
        self._pages: dict[str, object] = {}
        self.history: dict[tuple[str, str, str], History] = {}
        self.targets: dict[str, Target] = {}
        self._row_keys: list[str] = []
        self._busy_change = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            Text("balancers: waiting for the first read", style="dim"), id="balancer-summary"
        )
        yield DataTable(id="balancer-table", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="balancer-detail"):
            with Vertical():
                yield Static(Text("elected/s", style="bold"), id="spark-elected-label")
                yield Sparkline([], id="spark-elected")
            with Vertical():
                yield Static(Text("busy", style="bold"), id="spark-busy-label")
                yield Sparkline([], id="spark-busy")
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = "balancers"
        if is_interactive(self.app):
            for binding in ACTION_BINDINGS:
                self._bindings.key_to_bindings.setdefault(binding.key, []).append(binding)
            self.refresh_bindings()
        table = self.query_one(DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column)
        if self._state is None:
            state = getattr(self.app, "state", None)
            self._state = state if isinstance(state, ClusterState) else None
        if self._state is not None:
            self._paint(self._state)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Worker changes exist only in the interactive session (never in watch mode)."""
        if action in ACTIONS:
            return is_interactive(self.app)
        return True

    # -- state -----------------------------------------------------------------------------

    def show_state(self, state: ClusterState) -> None:
        self._state = state
        if self.is_mounted:
            self._paint(state)

    def _paint(self, state: ClusterState) -> None:
        if state.version == self._version:
            return
        self._version = state.version
        self._record(state)
        self._summary(state)
        self._table(state)
        self._detail()

    def _record(self, state: ClusterState) -> None:
        """Add one point per worker for every balancer read since the last snapshot."""
        alive: set[tuple[str, str, str]] = set()
        for view in state.balancers:
            if view.page is None:
                continue
            fresh = self._pages.get(view.name) is not view.page
            self._pages[view.name] = view.page
            for pool in view.page.balancers:
                for worker in pool.workers:
                    key = (view.name, pool.name, worker.url)
                    alive.add(key)
                    if not fresh:
                        continue
                    history = self.history.get(key)
                    if history is None:
                        history = History(deque(maxlen=HISTORY), deque(maxlen=HISTORY))
                        self.history[key] = history
                    rate = elected_rate(view, pool.name, worker)
                    if rate is not None:
                        history.elected_rate.append(rate)
                    if worker.busy is not None:
                        history.busy.append(float(worker.busy))
        for key in list(self.history):
            if key not in alive:
                del self.history[key]

    def _summary(self, state: ClusterState) -> None:
        text = Text()
        if not state.balancers:
            text.append("no balancer in the inventory", style="dim")
        for index, view in enumerate(state.balancers):
            if index:
                text.append("\n")
            text.append(safe(view.name, "bold")).append(f" ({view.kind}) ")
            text.append(safe(view.url or "-", "dim", limit=120)).append("  ")
            if view.reachable is None:
                text.append("not read yet", style="dim")
            elif view.reachable:
                workers = sum(len(b.workers) for b in view.page.balancers) if view.page else 0
                text.append("reachable", style="green")
                text.append(f", {workers} worker(s), read {ago(view.at)}")
                if view.page is not None and view.page.server_version:
                    text.append(" · ").append(safe(view.page.server_version, "dim", limit=80))
            else:
                text.append("UNREACHABLE ", style="bold red")
                text.append(safe(view.error or "no answer", limit=300))
                if view.page is not None:
                    text.append(
                        f" (rows below are from the read {ago(view.at)} before)", style="yellow"
                    )
        if is_interactive(self.app):
            text.append("\nchanges: d drain · x disable · s standby · f load factor", style="dim")
        self.query_one("#balancer-summary", Static).update(text)

    def _table(self, state: ClusterState) -> None:
        table = self.query_one(DataTable)
        rows: list[tuple[str, list[Text]]] = []
        targets: dict[str, Target] = {}
        for view in state.balancers:
            if view.page is None:
                continue
            for pool in view.page.balancers:
                for worker in pool.workers:
                    key = f"{view.name}\x00{pool.name}\x00{worker.url}"
                    node = worker_node(worker, state.specs)
                    targets[key] = Target(view.name, pool.name, worker.url, node, worker)
                    rows.append((key, self._cells(view, pool.name, worker, node)))
        self.targets = targets
        keys = [key for key, _ in rows]
        if keys != self._row_keys:
            cursor = table.cursor_row
            table.clear()
            for key, cells in rows:
                table.add_row(*cells, key=key)
            self._row_keys = keys
            if rows:
                table.move_cursor(row=min(cursor, len(rows) - 1))
            return
        for key, cells in rows:
            for column, cell in zip(COLUMNS, cells, strict=True):
                if table.get_cell(key, column) != cell:
                    table.update_cell(key, column, cell)

    def _cells(self, view: BalancerView, pool: str, worker: Worker, node: str | None) -> list[Text]:
        history = self.history.get((view.name, pool, worker.url))
        rate = elected_rate(view, pool, worker)
        rate_cell = Text("-", style="dim") if rate is None else Text(f"{rate:.1f} ")
        busy_cell = _number(worker.busy)
        if history is not None:
            rate_cell.append(spark(history.elected_rate, 12), style="cyan")
            busy_cell.append(" ").append(spark(history.busy, 12), style="cyan")
        return [
            safe(view.name),
            safe(pool),
            safe(worker.url, limit=120),
            safe(worker.route or "-"),
            safe(node) if node else Text("not in inventory", style="yellow"),
            status_text(worker),
            _number(worker.factor),
            _number(worker.lbset),
            _number(worker.elected),
            rate_cell,
            busy_cell,
        ]

    def selected(self) -> Target | None:
        table = self.query_one(DataTable)
        if not self._row_keys or table.cursor_row < 0 or table.cursor_row >= len(self._row_keys):
            return None
        return self.targets.get(self._row_keys[table.cursor_row])

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self._detail()

    def _detail(self) -> None:
        target = self.selected()
        elected = self.query_one("#spark-elected", Sparkline)
        busy = self.query_one("#spark-busy", Sparkline)
        if target is None:
            elected.data, busy.data = [], []
            return
        history = self.history.get((target.balancer, target.pool, target.url))
        rates = list(history.elected_rate) if history else []
        busies = list(history.busy) if history else []
        elected.data, busy.data = rates, busies
        label = Text("elected/s of ", style="bold").append(safe(target.url, limit=80))
        label.append(
            f": now {rates[-1]:.1f}, peak {max(rates):.1f}" if rates else ": not enough reads yet"
        )
        self.query_one("#spark-elected-label", Static).update(label)
        label = Text("busy of ", style="bold").append(safe(target.url, limit=80))
        label.append(
            f": now {busies[-1]:g}, peak {max(busies):g}"
            if busies
            else ": not shown by this balancer"
        )
        self.query_one("#spark-busy-label", Static).update(label)

    # -- actions (interactive only) ----------------------------------------------------------

    def action_drain(self) -> None:
        self._toggle("drain", lambda w: WorkerChange(drain=not w.draining))

    def action_disable(self) -> None:
        self._toggle("disable", lambda w: WorkerChange(disabled=not w.disabled))

    def action_standby(self) -> None:
        self._toggle("standby", lambda w: WorkerChange(standby=not w.standby))

    def action_factor(self) -> None:
        target = self._target_for_change()
        if target is None:
            return
        current = round(target.worker.factor) if target.worker.factor is not None else None
        title = Text("load factor for ").append(safe(target.url, limit=120))

        def chosen(value: int | None) -> None:
            if value is not None:
                self._start(target, WorkerChange(factor=float(value)))

        self.app.push_screen(NumberPrompt(title, low=1, high=100, value=current), chosen)

    def _toggle(self, what: str, make: Any) -> None:
        target = self._target_for_change()
        if target is not None:
            self._start(target, make(target.worker))

    def _target_for_change(self) -> Target | None:
        if not is_interactive(self.app):
            return None
        if self._busy_change:
            self.notify("a worker change is still running; wait for its result", severity="warning")
            return None
        target = self.selected()
        if target is None:
            self.notify("select a worker first", severity="warning")
        return target

    def _start(self, target: Target, change: WorkerChange) -> None:
        self._busy_change = True
        self.run_worker(self._apply(target, change), name="worker-change", exit_on_error=False)

    async def _apply(self, target: Target, change: WorkerChange) -> None:
        """Plan, confirm, apply and report one change; every failure becomes a notification."""
        try:
            await change_worker(self, target, change)
        finally:
            self._busy_change = False


__all__ = ["ACTIONS", "BalancerScreen"]  # ACTIONS: re-exported from screens.balancer_actions
