"""The shared database: reachability, latency, version, grants held versus required, the
application's connections per client host (mapped to inventory nodes) and each node's TCP reach.
Both tables sort by any column like the other views (shift+letter, `<` `>`, `=`).

Error text from the server or the network is shown literally (it can contain anything).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from console.cluster.state import ClusterState, DatabaseView
from console.cluster.topology import member_node
from probes.database import DatabaseHealth
from screens.snapshot import SnapshotScreen
from screens.watch import watch_chrome
from screens.widgets.common import ago, host_of, safe
from screens.widgets.keybar import KeyBar
from screens.widgets.row_table import RowTable


def summary_text(view: DatabaseView | None) -> Text:
    """Where the database is and whether it answers (with the reason when it does not)."""
    if view is None:
        return Text("no [database] in the inventory", style="dim")
    text = Text("database ", style="bold").append(safe(view.url, limit=200)).append("\n")
    health = view.health
    if health is None:
        return text.append("not checked yet", style="dim")
    if not health.reachable:
        text.append("UNREACHABLE ", style="bold red")
        return text.append(safe(health.error or "no reason given", limit=500)).append(
            f"\nchecked {ago(health.at)}", style="dim"
        )
    text.append("reachable", style="green")
    if health.ms is not None:
        style = "green" if health.ms < 50 else "yellow"
        text.append(" · round trip ").append(f"{health.ms:.1f} ms", style=style)
    if health.connect_ms is not None:
        text.append(f" · connect {health.connect_ms:.0f} ms")
    if health.version:
        text.append(" · version ").append(safe(health.version, limit=80))
    text.append(f" · checked {ago(health.at)}", style="dim")
    if health.error:
        text.append("\nCHECK FAILED ", style="bold yellow").append(safe(health.error, limit=500))
    return text


def grants_text(health: DatabaseHealth | None, required: frozenset[str]) -> Text:
    """Privileges held against the ones the application needs: missing and extra named."""
    text = Text("grants", style="bold underline").append("\n")
    if health is None or not health.reachable:
        return text.append("unknown (the database is not reachable)", style="dim")
    if health.grants_ok is None:
        return text.append("unknown (the grants could not be read)", style="dim")
    missing = sorted(health.missing_grants)
    if missing:
        text.append("MISSING ", style="bold red").append(", ".join(missing))
    else:
        text.append("all required privileges held", style="green")
    text.append("\nrequired ", style="bold").append(", ".join(sorted(required)) or "none")
    text.append("\nheld     ", style="bold").append(", ".join(sorted(health.grants)) or "none")
    extra = sorted(health.grants - required) if required else []
    if extra:
        text.append("\nextra    ", style="bold").append(", ".join(extra), style="dim")
    return text


Row = tuple[str, list[Text]]
CONNECTION_COLUMNS = ("client host", "node", "connections")
REACH_COLUMNS = ("node", "reaches the database")


def connection_rows(health: DatabaseHealth | None, state: ClusterState) -> list[Row]:
    """The application user's open connections by client host, with the node each host is; a
    running node with none is listed too (NONE)."""
    if health is None or not health.reachable:
        return []
    rows: list[Row] = []
    seen_nodes: set[str] = set()
    for host, count in health.connections:
        node = member_node(host, state.specs)
        if node is not None:
            seen_nodes.add(node)
        rows.append(
            (
                f"host:{host}",
                [
                    safe(host, limit=80),
                    safe(node) if node else Text("not in inventory", style="yellow"),
                    Text(str(count), justify="right"),
                ],
            )
        )
    for view in state.nodes:
        if view.name not in seen_nodes and view.tomcat == "running":
            rows.append(
                (
                    f"node:{view.name}",
                    [safe(view.spec.host), safe(view.name), Text("NONE", style="bold yellow")],
                )
            )
    return rows


def connections_heading(health: DatabaseHealth | None, rows: list[Row]) -> Text:
    if health is None or not health.reachable:
        return Text("connections: unknown", style="dim")
    if not rows:
        return Text("connections: none open by the application user", style="dim")
    return Text("connections of the application user", style="bold underline")


def reach_rows(state: ClusterState) -> list[Row]:
    """Whether each node can open a TCP connection to the database."""
    rows: list[Row] = []
    for view in state.nodes:
        reach = view.database_reach
        if reach is None:
            cell = Text("not checked yet", style="dim")
        elif reach.ok:
            cell = Text("yes", style="green")
        elif reach.ok is None:
            cell = Text("unknown ", style="dim").append(safe(reach.reason or ""))
        else:
            cell = Text("NO ", style="bold red").append(safe(reach.reason or "no reason given"))
        rows.append((view.name, [safe(view.name), cell]))
    return rows


class DatabaseScreen(SnapshotScreen):
    """The shared database as this machine and every node see it."""

    DEFAULT_CSS = """
    DatabaseScreen VerticalScroll > Static { padding: 0 1; margin-bottom: 1; height: auto; }
    DatabaseScreen VerticalScroll > Static.heading { margin-bottom: 0; }
    DatabaseScreen RowTable { height: auto; max-height: 24; margin: 0 1 1 1; }
    """

    def compose(self) -> ComposeResult:
        yield from watch_chrome(self.app)
        with VerticalScroll():
            yield Static(
                Text("database: waiting for the first check", style="dim"), id="database-summary"
            )
            yield Static(Text(""), id="database-grants")
            yield Static(Text(""), id="database-connections-heading", classes="heading")
            yield RowTable(id="database-connections")
            yield Static(Text(""), id="database-reach-heading", classes="heading")
            yield RowTable(id="database-reach")
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = "database"
        for name, columns in (("connections", CONNECTION_COLUMNS), ("reach", REACH_COLUMNS)):
            table = self.query_one(f"#database-{name}", RowTable)
            for column in columns:
                table.add_column(column, key=column)
        self.paint_latest()

    def paint(self, state: ClusterState) -> None:
        view = state.database
        health = view.health if view is not None else None
        config = host_of(self.app).inventory.database
        required: frozenset[str] = config.required_grants if config is not None else frozenset()
        self.query_one("#database-summary", Static).update(summary_text(view))
        connections = self.query_one("#database-connections", RowTable)
        reach = self.query_one("#database-reach", RowTable)
        if view is None:
            self.query_one("#database-grants", Static).update("")
            for name in ("connections", "reach"):
                self.query_one(f"#database-{name}-heading", Static).update("")
            connections.show_rows([])
            reach.show_rows([])
            return
        self.query_one("#database-grants", Static).update(grants_text(health, required))
        rows = connection_rows(health, state)
        self.query_one("#database-connections-heading", Static).update(
            connections_heading(health, rows)
        )
        connections.show_rows(rows)
        connections.display = bool(rows)
        self.query_one("#database-reach-heading", Static).update(
            Text("from each node", style="bold underline")
        )
        reach.show_rows(reach_rows(state))
