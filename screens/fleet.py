"""The fleet view: one row per node of the inventory with its direct HTTP answer.

Every cell is a `Text`, never markup: host names and error text come from outside.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from console.config import Inventory
from probes.http import HttpCheck

COLUMNS = ("node", "host", "route", "ssh", "http", "latency")


def http_cell(result: HttpCheck | None) -> Text:
    """The HTTP state as words and colour both (never colour alone)."""
    if result is None:
        return Text("checking", style="dim")
    if result.status is None:
        return Text(f"DOWN {result.error or ''}".strip(), style="bold red")
    style = "green" if result.ok else "bold red"
    return Text(f"{'UP' if result.ok else 'ERROR'} {result.status}", style=style)


def latency_cell(result: HttpCheck | None) -> Text:
    if result is None or result.ms is None:
        return Text("-", style="dim")
    return Text(f"{result.ms:.0f} ms")


class FleetScreen(Screen[None]):
    """Nodes of the cluster and their direct HTTP state, refreshed by the app's poll."""

    def __init__(self, inventory: Inventory) -> None:
        super().__init__()
        self.inventory = inventory

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(self._summary()), id="summary")
        yield DataTable(id="nodes", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def _summary(self) -> str:
        cluster = self.inventory.cluster
        return (
            f"cluster {cluster.name} · profile {self.inventory.profile.name} · "
            f"{len(self.inventory.nodes)} nodes · {len(self.inventory.balancers)} balancers · "
            f"inventory {self.inventory.path}"
        )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column)
        for node in self.inventory.nodes:
            user = f"{node.ssh_user}@" if node.ssh_user else ""
            table.add_row(
                Text(node.name),
                Text(node.host),
                Text(node.jvm_route or "-"),
                Text(f"{user}{node.host}:{node.ssh_port}"),
                http_cell(None),
                latency_cell(None),
                key=node.name,
            )

    def show_http(self, node: str, result: HttpCheck) -> None:
        """Update one node's HTTP cells (skipping the write when nothing changed)."""
        table = self.query_one(DataTable)
        for column, cell in (("http", http_cell(result)), ("latency", latency_cell(result))):
            if table.get_cell(node, column) != cell:
                table.update_cell(node, column, cell)
