"""A node's figures on the dashboard (sessions, heap, threads, req/s, 5xx/s, latency, each a dash
when unknown; all dropped before the other columns at 80 columns) and in the node view (each
figure with its sparkline and time span, or why it is unknown; per application sessions)."""

from __future__ import annotations

from pathlib import Path

from console.cluster.observations import MetricsObserved
from probes.metrics.access_log import AccessCounts
from probes.metrics.access_tail import AccessRead
from probes.metrics.tomcat_manager import AppSessions, ConnectorStats, ManagerSample, ServerStatus
from screens.app import ClusterConsoleApp
from screens.dashboard import DashboardScreen
from screens.node import NodeScreen
from screens.problems import ProblemsPanel
from screens.widgets.node_table import NodeTable
from tests.app import recorded
from tests.app.test_node_screen import static_text
from tests.app.views_harness import HarnessApp, inventory
from tests.app.waiting import wait_for

MIB = 1 << 20


def sample(requests: int, *, busy: int = 3, heap: int = 100 * MIB) -> ManagerSample:
    connector = ConnectorStats(
        "http-nio-8080", busy, 200, requests, requests // 10, requests * 5, 0, 0
    )
    app = AppSessions("/[bold]app", "DeltaManager", 42, 50, 8, 0, 20, 30)
    return ManagerSample(ServerStatus(heap, 256 * MIB, (connector,)), None, (app,), None, 2.0)


def figures(
    node: str, at: float, requests: int, *, fives: int | None = None, **extra: int
) -> MetricsObserved:
    """A read of the manager and of the access log: its first read (`fives` None) or one with
    `fives` 5xx lines written in the 5 s since the previous one."""
    counts = AccessCounts(fives * 2, 0, fives, 0) if fives is not None else None
    access = AccessRead(counts, None, "logs/localhost_access_log.2026-12-06.txt")
    since = at - 5 if fives is not None else None
    return MetricsObserved(node, sample(requests, **extra), None, at, None, 1.0, access, since)


def shown(table: NodeTable) -> list[str]:
    """The titles of the columns drawn now."""
    return [c.label for c, w in zip(table.columns, table.drawn_widths, strict=True) if w > 0]


def cells(app: ClusterConsoleApp, node: str) -> list[str]:
    screen = app.screen
    assert isinstance(screen, DashboardScreen)
    return [cell.plain for cell in screen.rows[node]]


async def test_dashboard_shows_the_figures_and_unknowns_as_dashes(tmp_path: Path) -> None:
    app = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False)
    async with app.run_test(size=(200, 40)) as pilot:
        for observation in recorded.healthy():
            app.apply(observation)
        app.apply(figures("node1", recorded.T0 + 40, 1000))
        app.apply(figures("node1", recorded.T0 + 45, 1100, fives=10, busy=200, heap=240 * MIB))
        await wait_for(lambda: "42" in cells(app, "node1"))
        row = cells(app, "node1")
        at = row.index("42")
        assert row[at : at + 6] == ["42", "94% 256M", "200/200", "20", "2", "5"]
        assert cells(app, "node2")[at : at + 6] == ["-"] * 6
        table = app.screen.query_one(NodeTable)
        assert {"sess", "heap", "threads", "req/s", "5xx/s", "ms"} <= set(shown(table))
        panel = app.screen.query_one(ProblemsPanel)
        await wait_for(lambda: any(p.code == "threads-exhausted" for p in panel.problems))
        await pilot.resize_terminal(80, 24)
        await wait_for(lambda: "sess" not in shown(table))
        assert {"SSH", "Tomcat", "peers"} <= set(shown(table))  # the figures go first


async def test_node_view_has_each_figure_with_history_or_why_not(tmp_path: Path) -> None:
    app = HarnessApp(
        inventory(tmp_path),
        lambda: NodeScreen("node1"),
        observations=[
            figures("node1", 100.0, 1000),
            figures("node1", 105.0, 1050, fives=5),
            figures("node1", 110.0, 1200, fives=15),
            MetricsObserved(
                "node2",
                ManagerSample(
                    None, "the manager refused the credentials (401) [red]", None, "x", None
                ),
                None,
                110.0,
                "the manager refused the credentials (401) [red]",
            ),
        ],
    )
    async with app.run_test(size=(200, 50)):
        await wait_for(lambda: "figures from Tomcat's manager" in static_text(app, "#node-facts"))
        facts = static_text(app, "#node-facts")
        assert "last 10 s" in facts
        assert "requests/s" in facts and "30" in facts  # (1200 - 1050) / 5
        assert "/[bold]app (DeltaManager): active 42" in facts
        assert "created here 20, from peers 30" in facts
        assert any(block in facts for block in "▁▂▃▄▅▆▇█")
        lines = facts.splitlines()
        # the 5xx rate from the access log, 4xx apart, Tomcat's own >= 400 count beside them
        assert next(line for line in lines if "5xx/s (log)" in line).split()[2] == "3"
        assert any("4xx/s (log)" in line for line in lines)
        assert next(line for line in lines if "400+/s Tomcat" in line).split()[2] == "3"
        assert "access log logs/localhost_access_log.2026-12-06.txt: 30 requests" in facts


async def test_node_view_says_why_a_figure_is_unknown_literally(tmp_path: Path) -> None:
    why = "the manager refused the credentials (401) [red]\x1b[31m"
    app = HarnessApp(
        inventory(tmp_path),
        lambda: NodeScreen("node2"),
        observations=[
            MetricsObserved("node2", ManagerSample(None, why, None, why, None), None, 1.0, why)
        ],
    )
    async with app.run_test(size=(200, 50)):
        await wait_for(lambda: "heap" in static_text(app, "#node-facts"))
        facts = static_text(app, "#node-facts")
        assert "refused the credentials (401) [red]\\x1b[31m" in facts
        assert "\x1b" not in facts


async def test_dashboard_has_a_requests_sparkline_with_its_time_scale_hidden_first(
    tmp_path: Path,
) -> None:
    app = ClusterConsoleApp(recorded.inventory(tmp_path), monitor=False)
    async with app.run_test(size=(220, 40)) as pilot:
        for observation in recorded.healthy():
            app.apply(observation)
        for step, requests in enumerate((1000, 1010, 1100, 1400, 1450)):
            app.apply(figures("node1", recorded.T0 + 40 + 5 * step, requests))
        table = app.screen.query_one(NodeTable)
        # 10 reads at the inventory's 5 s interval: the column says what it covers
        await wait_for(lambda: "req/s 50s" in shown(table))
        at = [c.label for c in table.columns].index("req/s 50s")
        await wait_for(lambda: "█" in cells(app, "node1")[at])
        # rates 2, 18, 60, 10 req/s scaled to their maximum, oldest left (the first read: none)
        assert cells(app, "node1")[at] == " ▁▂█▁"
        assert cells(app, "node2")[at] == "-"
        # narrower: the sparkline goes before any other figure
        for width in range(210, 79, -10):
            await pilot.resize_terminal(width, 40)
            await pilot.pause()
            if "req/s 50s" not in shown(table):
                assert {"sess", "heap", "threads", "req/s", "5xx/s", "ms"} <= set(shown(table))
                break
        else:
            raise AssertionError("the sparkline column was never hidden")
