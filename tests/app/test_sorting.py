"""Sorting tables by any column (k9s/htop keys), remembered per view."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from screens.app import ClusterConsoleApp
from screens.confirm import DetailScreen
from screens.events import EventsScreen
from screens.widgets.node_table import NodeTable
from screens.widgets.sorting import SortOrder, cell_key, sorted_keys
from tests.app import recorded
from tests.app.views_harness import HarnessApp, healthy_nodes, inventory, left
from tests.app.waiting import wait_for


def test_cells_sort_naturally_with_empty_cells_last() -> None:
    cells = {"a": "10/s", "b": "9/s", "c": "-", "d": "100/s", "e": ""}
    assert sorted_keys(list(cells), cells.__getitem__, SortOrder("x")) == ["b", "a", "d", "c", "e"]
    down = sorted_keys(list(cells), cells.__getitem__, SortOrder("x", reverse=True))
    assert down == ["d", "a", "b", "c", "e"]
    assert cell_key("node10") > cell_key("node9")


async def test_dashboard_sorts_by_a_column_and_remembers_it(tmp_path: Path) -> None:
    app = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False)
    async with app.run_test(size=(160, 40)) as pilot:
        for observation in recorded.healthy():
            app.apply(observation)
        table = app.screen.query_one(NodeTable)
        await wait_for(lambda: table.row_count == 3)
        assert table.shown == ("node1", "node2", "node3")
        await pilot.press("N")  # by node name
        assert table.shown == ("node1", "node2", "node3")
        assert "▲node" in table.header_text()
        await pilot.press("N")  # again: the other way
        assert table.shown == ("node3", "node2", "node1")
        assert "▼node" in table.header_text()
        assert table.selected_node == "node1"  # the cursor stays on its node
        await pilot.press("2")
        await pilot.press("1")
        table = app.screen.query_one(NodeTable)
        await wait_for(lambda: table.shown == ("node3", "node2", "node1"))
        await pilot.press("equals_sign")  # the view's own order again
        assert table.shown == ("node1", "node2", "node3")
        await pilot.press("greater_than_sign")  # the first column, then the next
        assert table.row_sort == SortOrder("node")
        await pilot.press("greater_than_sign")
        assert table.row_sort == SortOrder("ssh")


async def test_events_sorted_by_kind_open_the_row_under_the_cursor(tmp_path: Path) -> None:
    observations = [*healthy_nodes(), left("node1", "node3", at=5.0, text="node3 gone")]
    app = HarnessApp(inventory(tmp_path), EventsScreen, observations=observations)
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.screen.query_one(DataTable)
        await wait_for(lambda: table.row_count == 7)
        assert str(table.get_row_at(0)[2]) == "member-left"  # newest first
        await pilot.press("K")  # by kind: member-joined < member-left
        kinds = [str(table.get_row_at(i)[2]) for i in range(7)]
        assert kinds == ["member-joined"] * 6 + ["member-left"]
        assert any(str(c.label) == "kind▲" for c in table.columns.values())
        await pilot.press("end", "enter")
        await wait_for(lambda: isinstance(app.screen, DetailScreen))
        assert "member-left" in str(app.screen.title_text)  # type: ignore[attr-defined]
