"""The database view: reachability with reasons, grants, connections per node, node reach."""

from __future__ import annotations

from pathlib import Path

from console.cluster.observations import DatabaseObserved, DatabaseReachObserved, ProcessObserved
from probes.database import DatabaseHealth
from probes.process import TomcatProcess
from probes.reach import Reach
from screens.database import DatabaseScreen
from screens.widgets.row_table import RowTable
from tests.app.views_harness import NASTY, HarnessApp, inventory, plain, wait_for


def shown(app: HarnessApp, name: str) -> str:
    return plain(app.screen.query_one(f"#database-{name}"))


def rows(app: HarnessApp, name: str) -> list[str]:
    """A table's rows top to bottom, each its cells' text joined by two spaces."""
    table = app.screen.query_one(f"#database-{name}", RowTable)
    return ["  ".join(str(cell) for cell in table.get_row_at(at)) for at in range(table.row_count)]


async def test_unreachable_with_literal_reason(tmp_path: Path) -> None:
    reason = "Can't connect " + "".join(NASTY) + " (error 2003)"
    app = HarnessApp(
        inventory(tmp_path),
        DatabaseScreen,
        observations=[DatabaseObserved(DatabaseHealth(False, error=reason, at=1.0), 1.0)],
    )
    async with app.run_test(size=(200, 50)):
        await wait_for(lambda: "UNREACHABLE" in shown(app, "summary"))
        assert "Can't connect [bold][/[0][red]x[/red]\\x1b[31m (error 2003)" in shown(
            app, "summary"
        )
        assert "unknown (the database is not reachable)" in shown(app, "grants")


async def test_grants_connections_and_reach(tmp_path: Path) -> None:
    health = DatabaseHealth(
        True,
        ms=1.5,
        connect_ms=4.0,
        version="10.11.6-MariaDB [bold]",
        grants=frozenset({"SELECT", "INSERT", "PROCESS"}),
        missing_grants=frozenset({"CREATE", "UPDATE"}),
        grants_ok=False,
        connections=(("10.0.0.1", 12), ("10.9.9.9[0]", 1)),
        at=1.0,
    )
    app = HarnessApp(
        inventory(tmp_path),
        DatabaseScreen,
        observations=[
            DatabaseObserved(health, 1.0),
            ProcessObserved("node1", TomcatProcess("running", 1), 1.0),
            ProcessObserved("node2", TomcatProcess("running", 2), 1.0),
            DatabaseReachObserved("node1", Reach(True), 1.0),
            DatabaseReachObserved("node2", Reach(False, "connection refused [/"), 1.0),
        ],
    )
    async with app.run_test(size=(200, 50)):
        await wait_for(lambda: "reachable" in shown(app, "summary"))
        summary = shown(app, "summary")
        assert "1.5 ms" in summary and "10.11.6-MariaDB [bold]" in summary
        grants = shown(app, "grants")
        assert "MISSING CREATE, UPDATE" in grants
        assert "extra" not in grants or "PROCESS" in grants
        assert shown(app, "connections-heading") == "connections of the application user\n"
        assert rows(app, "connections") == [
            "10.0.0.1  node1  12",
            "10.9.9.9[0]  not in inventory  1",
            "10.0.0.2  node2  NONE",
        ]
        assert rows(app, "reach") == [
            "node1  yes",
            "node2  NO connection refused [/",
            "node3  not checked yet",
        ]


async def test_connections_and_reach_sort_by_any_column(tmp_path: Path) -> None:
    health = DatabaseHealth(
        True, ms=1.0, connections=(("10.0.0.1", 3), ("10.0.0.2", 12), ("10.9.9.9", 7)), at=1.0
    )
    app = HarnessApp(
        inventory(tmp_path),
        DatabaseScreen,
        observations=[
            DatabaseObserved(health, 1.0),
            DatabaseReachObserved("node1", Reach(True), 1.0),
            DatabaseReachObserved("node2", Reach(False, "refused"), 1.0),
        ],
    )
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_for(lambda: len(rows(app, "connections")) == 3)
        app.screen.query_one("#database-connections", RowTable).focus()
        await pilot.press("C")  # by client host
        assert [row.split("  ")[-1] for row in rows(app, "connections")] == ["3", "12", "7"]
        await pilot.press("C", "C")  # the other way, then the next column with a C: connections
        assert [row.split("  ")[-1] for row in rows(app, "connections")] == ["3", "7", "12"]
        await pilot.press("C")
        assert [row.split("  ")[-1] for row in rows(app, "connections")] == ["12", "7", "3"]
        app.screen.query_one("#database-reach", RowTable).focus()
        await pilot.press("R")  # by "reaches the database": NO, not checked, yes
        assert [row.split("  ")[0] for row in rows(app, "reach")] == ["node2", "node3", "node1"]
        await pilot.press("equals_sign")
        assert [row.split("  ")[0] for row in rows(app, "reach")] == ["node1", "node2", "node3"]
