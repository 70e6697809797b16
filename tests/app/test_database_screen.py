"""The database view: reachability with reasons, grants, connections per node, node reach."""

from __future__ import annotations

from pathlib import Path

from console.observations import DatabaseObserved, DatabaseReachObserved, ProcessObserved
from probes.database import DatabaseHealth
from probes.process import TomcatProcess
from probes.reach import Reach
from screens.database import DatabaseScreen
from tests.app.views_harness import NASTY, HarnessApp, inventory, plain, wait_for


def shown(app: HarnessApp, name: str) -> str:
    return plain(app.screen.query_one(f"#database-{name}"))


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
        connections = shown(app, "connections")
        node1 = next(line for line in connections.splitlines() if "10.0.0.1 " in line)
        assert "node1" in node1 and "12" in node1
        assert "10.9.9.9[0]" in connections and "not in inventory" in connections
        node2 = next(line for line in connections.splitlines() if "node2" in line)
        assert "NONE" in node2
        reach = shown(app, "reach")
        assert "NO connection refused [/" in reach
        assert "not checked yet" in reach
