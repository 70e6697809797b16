"""The membership matrix: who sees whom, by each node's own log, and the partitions it makes.

Each row is an observer, each column a member. A cell says `sees`, `MISSING` or `?` (unknown:
the observer's Tomcat is not known to run or its log has not told the whole membership yet),
with colour repeating the word. More than one partition gets a banner line naming the groups.
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from console.cluster.membership import matrix, partitions
from console.cluster.state import ClusterState
from screens.widgets.common import safe

SEES = Text("sees", style="green")
MISSING = Text("MISSING", style="bold red")
UNKNOWN = Text("?", style="dim")
SELF = Text("·", style="dim")


def cell(value: bool | None) -> Text:
    if value is None:
        return UNKNOWN.copy()
    return SEES.copy() if value else MISSING.copy()


def banner(groups: list[frozenset[str]]) -> Text:
    """One line about the partitions: a split brain is named as such."""
    if len(groups) > 1:
        text = Text("SPLIT BRAIN: ", style="bold white on red")
        text.append(f"{len(groups)} groups that do not see each other: ", style="bold red")
        text.append(" | ".join("{" + ", ".join(sorted(group)) + "}" for group in groups))
        return text
    if len(groups) == 1:
        return Text(
            f"one cluster: {len(next(iter(groups)))} running node(s) see each other", style="green"
        )
    return Text("membership unknown: no running node has told its membership yet", style="dim")


def observer_state(state: ClusterState, name: str) -> Text:
    view = state.node(name)
    if view.tomcat != "running":
        return Text(f"tomcat {view.tomcat}", style="yellow" if view.tomcat == "stopped" else "dim")
    if not view.membership_known:
        return Text("membership not told yet", style="dim")
    return Text("running", style="green")


class MembershipMatrix(Static):
    """Observer x member matrix with a partition banner; `show_state` redraws it."""

    DEFAULT_CSS = """
    MembershipMatrix { height: auto; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(
            Text("membership: waiting for the first snapshot", style="dim"), id=id, classes=classes
        )
        self.groups: list[frozenset[str]] = []
        self.cells: dict[str, dict[str, bool | None]] = {}

    def show_state(self, state: ClusterState) -> None:
        cells = matrix(state)
        groups = partitions(state)
        if cells == self.cells and groups == self.groups and self.cells:
            return
        self.cells, self.groups = cells, groups
        names = [view.name for view in state.nodes]
        table = Table(box=None, padding=(0, 1), show_edge=False, expand=False)
        table.add_column(Text("observer \\ member", style="bold"), no_wrap=True)
        for name in names:
            table.add_column(safe(name, "bold"), no_wrap=True, justify="center")
        table.add_column(Text("observer state", style="bold"), no_wrap=True)
        for observer in names:
            row = [safe(observer, "bold")]
            row.extend(
                SELF.copy() if member == observer else cell(cells[observer].get(member))
                for member in names
            )
            row.append(observer_state(state, observer))
            table.add_row(*row)
        self.update(Group(banner(groups), table))
