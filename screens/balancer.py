"""Balancers: every worker with its status in words, elected per second and busy as sparklines.

Rates come from successive pages (`BalancerView.page/previous/interval`); the screen keeps a short
bounded history per worker. In the interactive session the selected worker can be drained,
disabled, put in standby or given a load factor: each change is planned (the exact request is
shown), confirmed, applied by `WorkerActions.set_worker` (which audits and reads back) in a
worker, and its outcome notified, by `screens.balancer_actions`. In watch mode those actions do
not exist at all.

Below `WIDE` columns the table keeps the columns an operator acts on (worker, node, status,
factor, elected/s, busy) and the line above the sparklines names the selected worker's balancer,
pool, route, set and elected count. While a balancer cannot be read its rows are the last
successful read's: dimmed, marked "stale", without rates. Enter opens everything known about the
selected worker.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Sparkline, Static

from console.cluster.rates import elected_rate
from console.cluster.state import BalancerView, ClusterState
from console.cluster.topology import worker_node
from probes.balancer.httpd_client import FACTOR_RANGE, WorkerChange
from probes.balancer.model import Worker
from screens.balancer_actions import (
    ACTION_BINDINGS,
    ACTIONS,
    Target,
    change_worker,
    status_text,
)
from screens.confirm import DetailScreen, NumberPrompt, field_lines
from screens.snapshot import SnapshotScreen
from screens.watch import watch_chrome
from screens.widgets.common import ago, is_interactive, safe
from screens.widgets.keybar import KeyBar
from screens.widgets.row_table import RowTable
from screens.widgets.sparktext import spark

HISTORY = 60
"""Reads of history kept per worker for the sparklines."""
WIDE = 120
"""Terminal width from which every column is shown."""
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
NARROW_COLUMNS = ("worker", "node", "status", "factor", "elected/s", "busy")
SPARK = {True: 12, False: 6}
"""Sparkline characters in a cell, wide and narrow."""
FACTOR_DECIMALS = 2
"""httpd 2.4 keeps a load factor in hundredths (1.00 to 100.00; it truncates a third decimal)."""


@dataclass(slots=True)
class History:
    """One point per successful read for both figures (None: not known at that read), so the
    two sparklines stay aligned in time, also across a counter reset."""

    elected_rate: deque[float | None]
    busy: deque[float | None]


def _number(value: float | int | None, fmt: str = "{:g}") -> Text:
    return Text("-", style="dim") if value is None else Text(fmt.format(value))


def _points(values: deque[float | None]) -> list[float]:
    """Sparkline widget data: an unknown point is drawn as zero."""
    return [0.0 if value is None or not math.isfinite(value) else value for value in values]


def _short_url(url: str) -> str:
    """`host:port/path` for an http worker (the scheme is the usual one), the URL otherwise."""
    return url[len("http://") :] if url.startswith("http://") else url


class BalancerScreen(SnapshotScreen):
    """Every balancer's workers, their rates, and (interactive only) worker changes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "worker_detail", "Worker details", show=False, id="balancer.detail"),
    ]

    DEFAULT_CSS = """
    BalancerScreen #balancer-summary { height: auto; padding: 0 1; border-bottom: solid $primary; }
    BalancerScreen #balancer-table { height: 1fr; }
    BalancerScreen #balancer-selected {
        height: auto; max-height: 3; padding: 0 1; border-top: solid $primary;
    }
    BalancerScreen #balancer-detail { height: 4; padding: 0 1; }
    BalancerScreen #balancer-detail Vertical { width: 1fr; padding: 0 1; }
    BalancerScreen Sparkline { height: 3; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._pages: dict[str, object] = {}
        self.history: dict[tuple[str, str, str], History] = {}
        self.targets: dict[str, Target] = {}
        self._busy_change = False
        self._wide: bool | None = None

    def compose(self) -> ComposeResult:
        yield from watch_chrome(self.app)
        yield Static(
            Text("balancers: waiting for the first read", style="dim"), id="balancer-summary"
        )
        yield RowTable(id="balancer-table")
        yield Static(Text(""), id="balancer-selected")
        with Horizontal(id="balancer-detail"):
            with Vertical():
                yield Static(Text("elected/s", style="bold"), id="spark-elected-label")
                yield Sparkline([], id="spark-elected")
            with Vertical():
                yield Static(Text("busy", style="bold"), id="spark-busy-label")
                yield Sparkline([], id="spark-busy")
        yield KeyBar()

    @property
    def table(self) -> RowTable:
        return self.query_one("#balancer-table", RowTable)

    def on_mount(self) -> None:
        self.sub_title = "balancers"
        if is_interactive(self.app):
            for binding in ACTION_BINDINGS:
                self._bindings.key_to_bindings.setdefault(binding.key, []).append(binding)
            self.refresh_bindings()
        self._set_columns()
        self.paint_latest()

    def on_resize(self, event: events.Resize) -> None:
        if self._set_columns():
            self.paint_latest(force=True)

    def _set_columns(self) -> bool:
        """Columns for the screen's width; True if they changed."""
        wide = self.app.size.width >= WIDE
        if wide == self._wide:
            return False
        self._wide = wide
        table = self.table
        table.clear(columns=True)
        table.row_keys = []
        for column in COLUMNS if wide else NARROW_COLUMNS:
            table.add_column(column, key=column)
        return True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Worker changes exist only in the interactive session (never in watch mode)."""
        if action in ACTIONS:
            return is_interactive(self.app)
        return True

    # -- state -----------------------------------------------------------------------------

    def paint(self, state: ClusterState) -> None:
        self._record(state)
        self._summary(state)
        self._table(state)
        self._detail()

    def _record(self, state: ClusterState) -> None:
        """Add one point per worker for every successful balancer read since the last snapshot."""
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
                    history.elected_rate.append(elected_rate(view, pool.name, worker))
                    busy = float(worker.busy) if worker.busy is not None else None
                    history.busy.append(busy)
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
            read_at = view.read_at if view.read_at is not None else view.at
            if view.reachable is None:
                text.append("not read yet", style="dim")
            elif view.reachable:
                workers = sum(len(b.workers) for b in view.page.balancers) if view.page else 0
                text.append("reachable", style="green")
                text.append(f", {workers} worker(s), read {ago(read_at)}")
                if view.page is not None and view.page.server_version:
                    text.append(" · ").append(safe(view.page.server_version, "dim", limit=80))
            else:
                text.append("UNREACHABLE ", style="bold red")
                text.append(safe(view.error or "no answer", limit=300))
                if view.stale and view.read_at is not None:
                    text.append(
                        f" · rows below are STALE: from the last successful read, "
                        f"{ago(view.read_at)}",
                        style="yellow",
                    )
        self.query_one("#balancer-summary", Static).update(text)

    def _table(self, state: ClusterState) -> None:
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
        self.table.show_rows(rows)

    def _cells(self, view: BalancerView, pool: str, worker: Worker, node: str | None) -> list[Text]:
        wide = bool(self._wide)
        history = self.history.get((view.name, pool, worker.url))
        rate = elected_rate(view, pool, worker)
        rate_cell = Text("-", style="dim") if rate is None else Text(f"{rate:.1f}")
        busy_cell = _number(worker.busy)
        if view.stale:
            busy_cell = Text("-", style="dim")
        elif history is not None:
            rate_cell.append(" ").append(spark(history.elected_rate, SPARK[wide]), style="cyan")
            busy_cell.append(" ").append(spark(history.busy, SPARK[wide]), style="cyan")
        if view.stale:
            status = Text("stale", style="bold dim").append(" (last read: ", style="dim")
            status.append(status_text(worker).plain, style="dim").append(")", style="dim")
        else:
            status = status_text(worker)
        cells = {
            "balancer": safe(view.name),
            "pool": safe(pool),
            "worker": safe(worker.url if wide else _short_url(worker.url), limit=120),
            "route": safe(worker.route or "-"),
            "node": safe(node) if node else Text("not in inventory", style="yellow"),
            "status": status,
            "factor": _number(worker.factor),
            "set": _number(worker.lbset),
            "elected": _number(worker.elected),
            "elected/s": rate_cell,
            "busy": busy_cell,
        }
        if view.stale:
            for name in ("balancer", "pool", "worker", "route", "node", "factor", "set", "elected"):
                cells[name].stylize("dim")
        return [cells[column] for column in (COLUMNS if wide else NARROW_COLUMNS)]

    def selected(self) -> Target | None:
        key = self.table.cursor_key
        return self.targets.get(key) if key is not None else None

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self._detail()

    def _view(self, name: str) -> BalancerView | None:
        state = self._state
        if state is None:
            return None
        return next((view for view in state.balancers if view.name == name), None)

    def _detail(self) -> None:
        target = self.selected()
        elected = self.query_one("#spark-elected", Sparkline)
        busy = self.query_one("#spark-busy", Sparkline)
        line = self.query_one("#balancer-selected", Static)
        if target is None:
            elected.data, busy.data = [], []
            line.update(Text("no worker selected", style="dim"))
            return
        worker = target.worker
        url = target.url if self._wide else _short_url(target.url)
        text = Text("selected ", style="bold").append(safe(url, limit=80))
        text.append(" · balancer ").append(safe(target.balancer))
        text.append(" · pool ").append(safe(target.pool))
        text.append(" · route ").append(safe(worker.route or "-"))
        text.append(f" · set {worker.lbset if worker.lbset is not None else '-'}")
        text.append(f" · elected {worker.elected if worker.elected is not None else '-'}")
        text.append(" · Enter: details", style="dim")
        line.update(text)
        history = self.history.get((target.balancer, target.pool, target.url))
        rates = list(history.elected_rate) if history else []
        busies = list(history.busy) if history else []
        elected.data = _points(history.elected_rate) if history else []
        busy.data = _points(history.busy) if history else []
        known_rates = [value for value in rates if value is not None]
        label = Text("elected/s", style="bold")
        if rates and rates[-1] is not None:
            label.append(f": now {rates[-1]:.1f}, peak {max(known_rates):.1f}")
        elif known_rates:
            label.append(f": now unknown (counters reset), peak {max(known_rates):.1f}")
        else:
            label.append(": not enough reads yet")
        self.query_one("#spark-elected-label", Static).update(label)
        known_busy = [value for value in busies if value is not None]
        label = Text("busy", style="bold")
        if busies and busies[-1] is not None:
            label.append(f": now {busies[-1]:g}, peak {max(known_busy):g}")
        else:
            label.append(": not shown by this balancer")
        self.query_one("#spark-busy-label", Static).update(label)

    # -- worker details ------------------------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_worker_detail()

    def action_worker_detail(self) -> None:
        """Enter: everything the balancer page says about the selected worker."""
        target = self.selected()
        if target is None:
            return
        view = self._view(target.balancer)
        worker = target.worker
        fields: list[tuple[str, Text | str]] = [
            ("balancer", safe(target.balancer)),
            ("pool", safe(target.pool)),
            ("node", safe(target.node) if target.node else Text("not in inventory", "yellow")),
            ("state", status_text(worker)),
        ]
        if view is not None and view.stale:
            fields.append(("read", Text("STALE: the balancer cannot be read now", "yellow")))
        if view is not None and view.read_at is not None:
            fields.append(("read at", ago(view.read_at)))
        for name, value in worker.to_json().items():
            if name == "url":
                continue
            shown = ", ".join(value) if isinstance(value, list) else value
            fields.append((name, safe("-" if shown is None or shown == "" else shown, limit=300)))
        title = Text("worker ", style="bold").append(safe(target.url, limit=120))
        self.app.push_screen(DetailScreen(title, field_lines(fields)))

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
        view = self._view(target.balancer)
        if view is not None and view.kind != "apache":
            self.notify(
                f"{target.balancer} is {view.kind}: only drain, disable (maint) and enable "
                "(ready) can be changed from here, not the weight",
                title="load factor not changed",
                severity="warning",
                markup=False,
            )
            return
        low, high = FACTOR_RANGE
        title = Text("load factor for ").append(safe(target.url, limit=120))

        def chosen(value: float | None) -> None:
            if value is not None:
                self._start(target, WorkerChange(factor=value))

        self.app.push_screen(
            NumberPrompt(
                title,
                low=low,
                high=high,
                value=target.worker.factor,
                decimals=FACTOR_DECIMALS,
                note="httpd takes 1 to 100 with up to two decimals (e.g. 1.5)",
            ),
            chosen,
        )

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
