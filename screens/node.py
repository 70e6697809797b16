"""One node: its live log (following, pausable, filterable), its facts and its problems.

The log comes from the monitor: the recent history first, then every chunk through a tap that
only appends to the `LogView`'s bounded buffer (rendering is coalesced there). Facts and problems
come from the snapshots the app hands over with `show_state`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Static

from console.cluster.crosschecks import problems
from console.cluster.state import ClusterState, NodeView
from console.cluster.topology import member_node
from console.monitor.node_watch import RECENT_BYTES
from screens.metrics_cells import metric_lines
from screens.snapshot import SnapshotScreen
from screens.watch import watch_chrome
from screens.widgets.common import ago, host_of, safe
from screens.widgets.keybar import KeyBar
from screens.widgets.log_view import LEVELS, LogView


def _ssh(view: NodeView) -> Text:
    if view.ssh == "up":
        return Text("up", style="green")
    if view.ssh == "connecting":
        return Text("connecting", style="dim")
    text = Text(view.ssh.upper(), style="bold red")
    if view.ssh_reason:
        text.append(" ").append(safe(view.ssh_reason))
    return text


def _tomcat(view: NodeView) -> Text:
    if view.tomcat == "running":
        pid = f" (pid {view.tomcat_pid})" if view.tomcat_pid else ""
        return Text(f"running{pid}", style="green")
    if view.tomcat == "stopped":
        return Text("STOPPED", style="bold yellow")
    return Text(view.tomcat, style="dim")


def _http(view: NodeView) -> Text:
    check = view.http
    if check is None:
        return Text("not checked yet", style="dim")
    if check.status is None:
        text = Text("DOWN", style="bold red")
        if check.error:
            text.append(" ").append(safe(check.error))
        return text
    ms = f" in {check.ms:.0f} ms" if check.ms is not None else ""
    if check.ok:
        return Text(f"UP {check.status}{ms}", style="green")
    return Text(f"ERROR {check.status}{ms}", style="bold red")


def _members(view: NodeView, state: ClusterState) -> Text:
    if view.tomcat != "running":
        return Text("unknown (tomcat not running)", style="dim")
    expected = sorted(
        other.name for other in state.nodes if other.name != view.name and other.tomcat == "running"
    )
    if not view.membership_known:
        return Text("not told yet by the log", style="dim")
    seen = view.sees(state.specs)
    missing = [name for name in expected if name not in seen]
    text = Text(
        f"{len(seen)} of {len(expected)} running peers", style="red" if missing else "green"
    )
    if seen:
        text.append(" · sees ").append(safe(", ".join(sorted(seen))))
    if missing:
        text.append(" · MISSING ", style="bold red").append(safe(", ".join(missing)))
    strangers = [m for m in view.members_seen if member_node(m, state.specs) is None]
    if strangers:
        text.append(f" · {len(strangers)} member(s) not in the inventory: ", style="yellow")
        text.append(safe(", ".join(sorted(strangers)), limit=200))
    return text


def _reach(view: NodeView) -> Text:
    reach = view.database_reach
    if reach is None:
        return Text("not checked yet", style="dim")
    if reach.ok:
        return Text("reachable", style="green")
    if reach.ok is None:
        return Text("unknown", style="dim").append(" ").append(safe(reach.reason or ""))
    return Text("UNREACHABLE ", style="bold red").append(safe(reach.reason or "no reason given"))


def _shared(view: NodeView, path: str | None) -> Text:
    if path is None:
        return Text("none configured", style="dim")
    health = view.shared_dir
    if health is None:
        return Text("not checked yet", style="dim")
    if health.ok:
        how = "written and read back" if health.written else "readable"
        return Text(f"ok ({health.fstype or 'fs unknown'}, {how})", style="green")
    return Text("FAILING ", style="bold red").append(safe(health.reason or "no reason given"))


def facts_table(view: NodeView, state: ClusterState) -> Table:
    """The node's facts, one per row, as words and colour."""
    table = Table(box=None, show_header=False, padding=(0, 1), expand=True)
    table.add_column("fact", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    spec = view.spec
    table.add_row("host", safe(spec.host))
    mark = view.maintenance
    if mark is not None:
        since = mark.since.astimezone().strftime("%Y-%m-%d %H:%M")
        text = Text("IN MAINTENANCE", style="bold cyan").append(f" since {since}")
        if mark.operator:
            text.append(" by ").append(safe(mark.operator))
        if mark.reason:
            text.append(": ").append(safe(mark.reason, limit=300))
        table.add_row("maintenance", text)
    table.add_row("jvmRoute", safe(spec.jvm_route or "-"))
    table.add_row("ssh", _ssh(view))
    table.add_row("tomcat", _tomcat(view))
    table.add_row("http", _http(view))
    table.add_row("members", _members(view, state))
    table.add_row("database", _reach(view))
    table.add_row("shared dir", _shared(view, state.shared_dir))
    trouble = (
        Text("LOG TROUBLE ", style="bold yellow").append(safe(view.log_trouble))
        if view.log_trouble
        else Text("none", style="green")
    )
    table.add_row("log", trouble)
    last = view.last_event
    if last is not None:
        table.add_row(
            "last event",
            Text(f"{last.event.kind} {ago(last.when)}").append(
                f" {last.event.member}" if last.event.member else ""
            ),
        )
    return table


def problems_text(state: ClusterState, node: str) -> Text:
    found = [problem for problem in problems(state) if problem.node == node]
    if not found:
        return Text("no problems", style="green")
    text = Text()
    for index, problem in enumerate(found):
        if index:
            text.append("\n")
        style = "bold red" if problem.severity == "critical" else "bold yellow"
        text.append(problem.severity.upper(), style=style)
        text.append(f" [{problem.code}] ", style="dim")
        text.append(printable_text(problem.text))
    return text


def printable_text(text: str) -> Text:
    return safe(text, limit=2000)


class NodeScreen(SnapshotScreen):
    """A node's live log beside its facts and problems."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p,space", "toggle_follow", "Pause/resume", id="node.pause"),
        # Priority: runs as the app reads `/`, so the keys typed after it reach the field.
        Binding("slash", "filter", "Filter", id="node.filter", key_display="/", priority=True),
        Binding("escape", "clear_filter", "Clear filter / back", id="node.clear"),
        Binding("end", "follow", "Follow tail", id="node.follow", show=False),
        Binding("s", "search", "Search", id="node.search"),
        Binding("n", "next_match(True)", "Next match", show=False, id="node.next-match"),
        Binding("N", "next_match(False)", "Previous match", show=False, id="node.previous-match"),
        Binding("l", "cycle_level", "Level SEVERE/WARN", show=False, id="node.level"),
        Binding("w", "toggle_wrap", "Wrap lines", show=False, id="node.wrap"),
    ]

    DEFAULT_CSS = """
    NodeScreen #node-status { height: 1; padding: 0 1; background: $boost; }
    NodeScreen #node-log { width: 2fr; }
    NodeScreen #node-side { width: 1fr; min-width: 40; border-left: solid $primary; }
    NodeScreen #node-facts, NodeScreen #node-problems { padding: 0 1; height: auto; }
    NodeScreen #node-problems { margin-top: 1; }
    NodeScreen #node-filter { dock: bottom; display: none; }
    NodeScreen #node-filter.shown { display: block; }
    NodeScreen #node-search { dock: bottom; display: none; }
    NodeScreen #node-search.shown { display: block; }
    """

    def __init__(self, node: str) -> None:
        super().__init__()
        self.node = node
        self._untap: Callable[[], None] | None = None
        self.log_source = "none"
        """Where the log comes from: ``monitor``, ``none`` (no monitor) or an error sentence."""

    def compose(self) -> ComposeResult:
        yield from watch_chrome(self.app)
        yield Static(Text(""), id="node-status")
        with Horizontal():
            yield LogView(id="node-log")
            with VerticalScroll(id="node-side"):
                yield Static(Text(f"node {self.node}", style="dim"), id="node-facts")
                yield Static(Text(""), id="node-problems")
        yield Input(placeholder="filter the log (Enter keeps it, Escape clears)", id="node-filter")
        yield Input(
            placeholder="search the log, re:PATTERN for a regex (Enter: to the first match, "
            "then n/N; Escape clears)",
            id="node-search",
        )
        yield KeyBar()

    @property
    def log_view(self) -> LogView:
        return self.query_one(LogView)

    def on_mount(self) -> None:
        self.sub_title = f"node {self.node}"
        self._attach_log()
        self.paint_latest()
        self.log_view.focus()
        self._status()

    def _attach_log(self) -> None:
        monitor = host_of(self.app).monitor if hasattr(self.app, "monitor") else None
        view = self.log_view
        if monitor is None:
            self.log_source = "none"
            return
        try:
            for log, data in monitor.recent_log(self.node).items():
                if len(data) >= RECENT_BYTES and b"\n" in data:
                    data = data[data.index(b"\n") + 1 :]  # the cut first line is partial
                view.feed(data, log)
            self._untap = monitor.tap_log(self.node, self._on_chunk)
            self.log_source = "monitor"
        except KeyError:
            self.log_source = f"the monitor does not follow {self.node}'s logs"

    def _on_chunk(self, log: str, data: bytes) -> None:
        """Called by the monitor for every chunk: only buffer it (the view coalesces)."""
        self.log_view.feed(data, log)

    def on_unmount(self) -> None:
        if self._untap is not None:
            self._untap()
            self._untap = None

    # -- state -----------------------------------------------------------------------------

    def paint(self, state: ClusterState) -> None:
        """Render the node's facts and problems (once per snapshot version)."""
        facts = self.query_one("#node-facts", Static)
        problems_box = self.query_one("#node-problems", Static)
        try:
            view = state.node(self.node)
        except KeyError:
            facts.update(Text(f"{self.node} is no longer in the inventory", style="bold yellow"))
            problems_box.update("")
            return
        spark = max(8, min(60, self.query_one("#node-side").size.width - 33))
        facts.update(
            Group(
                Text("facts", style="bold underline"),
                facts_table(view, state),
                Text("figures", style="bold underline"),
                *metric_lines(view, spark),
            )
        )
        problems_box.update(
            Group(Text("problems", style="bold underline"), problems_text(state, self.node))
        )

    # -- log controls ----------------------------------------------------------------------

    def on_log_view_changed(self, _: LogView.Changed) -> None:
        self._status()

    def _status(self) -> None:
        view = self.log_view
        text = Text()
        if view.following:
            text.append("FOLLOWING", style="bold green")
        else:
            text.append("PAUSED", style="bold yellow")
            if view.unseen:
                text.append(f" · {view.unseen} new line(s) below")
        text.append(f" · {view.line_count} line(s) shown of {view.kept} kept")
        if view.filter_text:
            text.append(" · filter ").append(safe(view.filter_text, "reverse", limit=60))
        if view.level:
            text.append(" · level ").append(f"{view.level} and worse", style="bold")
        search = view.search
        if search.text:
            text.append(" · search ").append(safe(search.describe(), "reverse", limit=60))
            if search.error:
                text.append(" ").append(safe(search.error, "bold red", limit=80))
            elif (where := view.current_match()) is not None:
                text.append(f" match {where[0]} of {where[1]} (n/N)")
            else:
                text.append(f" {len(view.match_indexes())} line(s) match (n/N)")
        if view.wrap:
            text.append(" · wrap")
        if view.bytes_skipped:
            text.append(f" · {view.bytes_skipped} bytes skipped in bursts", style="yellow")
        if self.log_source != "monitor":
            reason = "no live log in this session" if self.log_source == "none" else self.log_source
            text.append(" · ").append(safe(reason, "dim"))
        self.query_one("#node-status", Static).update(text)

    def action_toggle_follow(self) -> None:
        self.log_view.toggle_follow()

    def action_follow(self) -> None:
        self.log_view.following = True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "filter":  # `/` typed in a field is text
            return not isinstance(self.focused, Input)
        return True

    def action_search(self) -> None:
        field = self.query_one("#node-search", Input)
        field.add_class("shown")
        field.value = self.log_view.search.text
        self.set_focus(field)

    def action_next_match(self, forward: bool) -> None:
        if self.log_view.search.active and not self.log_view.next_match(forward):
            self.notify("no line matches the search", timeout=3, markup=False)

    def action_cycle_level(self) -> None:
        levels = ["", *LEVELS]
        view = self.log_view
        view.set_level(levels[(levels.index(view.level) + 1) % len(levels)])

    def action_toggle_wrap(self) -> None:
        self.log_view.set_wrap(not self.log_view.wrap)

    def action_filter(self) -> None:
        field = self.query_one("#node-filter", Input)
        field.add_class("shown")
        field.value = self.log_view.filter_text
        self.set_focus(field)  # at once: the keys typed after `/` go to the field

    def action_clear_filter(self) -> None:
        field = self.query_one("#node-filter", Input)
        search = self.query_one("#node-search", Input)
        if search.has_class("shown") or self.log_view.search.text:
            search.remove_class("shown")
            search.value = ""
            self.log_view.set_search("")
            self.log_view.focus()
        elif field.has_class("shown") or self.log_view.filter_text:
            field.remove_class("shown")
            field.value = ""
            self.log_view.set_filter("")
            self.log_view.focus()
        elif len(self.app.screen_stack) > 1:
            self.dismiss(None)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "node-filter":
            self.log_view.set_filter(event.value)
        elif event.input.id == "node-search":
            self.log_view.set_search(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "node-filter":
            event.input.remove_class("shown")
            self.log_view.focus()
        elif event.input.id == "node-search":
            event.input.remove_class("shown")
            self.log_view.focus()
            self.log_view.next_match(True)
