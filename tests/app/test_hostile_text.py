"""Markup and escape sequences from remote text are shown literally, never interpreted."""

from __future__ import annotations

from pathlib import Path

from console.cluster.observations import BalancerObserved
from console.config import load_inventory_text
from probes.balancer.model import Balancer, BalancerPage, make_worker
from screens.app import ClusterConsoleApp
from screens.dashboard import DashboardScreen
from screens.problems import ProblemsPanel
from screens.watch import WatchBar
from tests.app import recorded
from tests.app.waiting import wait_for

H = recorded.HOSTILE


def hostile_worker_page() -> BalancerObserved:
    """node1's worker with a hostile route (a route mismatch quotes it) and a hostile stranger."""
    workers = (
        make_worker("http://127.0.9.11:8080", route=H, status="Init Ok", elected=1, busy=0),
        make_worker(f"http://{H}:8080", route=H, status="Init Err", elected=1, busy=0),
    )
    page = BalancerPage("http://127.0.9.1:8000/balancer-manager", (Balancer(H, H, workers),))
    return BalancerObserved("httpd", page, None, recorded.T0 + 30)


async def test_hostile_log_lines_hosts_and_worker_names(tmp_path: Path) -> None:
    # Control characters in cluster.toml are refused by validation; markup is not.
    text = recorded.inventory_text(name="[bold red]prod[/] [0] [blink]")
    path = tmp_path / "cluster.toml"
    path.write_text(text)
    inventory = load_inventory_text(text, path)
    for read_only in (False, True):
        app = ClusterConsoleApp(inventory, monitor=False, read_only=read_only)
        async with app.run_test(size=(200, 50)) as pilot:
            for observation in recorded.healthy() + recorded.hostile():
                app.apply(observation)
            screen = app.screen
            assert isinstance(screen, DashboardScreen)
            await wait_for(lambda s=screen: "pwn" in s.rows["node1"][-2].plain)  # type: ignore[misc]
            event = screen.rows["node1"][-2]
            assert "[bold red]pwn[/] [/ [0]" in event.plain
            assert "\x1b" not in event.plain and "\\x1b[31m" in event.plain
            assert "\\x07" in event.plain
            assert all("red" not in str(span.style) for span in event.spans)
            ssh = screen.rows["node2"][1].plain  # capitals on the wall screen
            assert "[bold red]pwn[/]" in (ssh.lower() if read_only else ssh)
            app.apply(hostile_worker_page())
            panel = screen.query_one(ProblemsPanel)
            await wait_for(lambda p=panel: any(x.code == "route-mismatch" for x in p.problems))  # type: ignore[misc]
            rendered = str(panel.render())
            assert "[bold red]pwn[/]" in rendered and "\x1b" not in rendered
            if read_only:
                bar = str(screen.query_one(WatchBar).query_one("#watch-cluster").render())
                assert "[bold red]prod[/] [0]" in bar and "\x1b" not in bar
            await pilot.press("question_mark", "escape", "2", "3", "4", "1")
            await wait_for(lambda a=app: a.current_mode == "dashboard")  # type: ignore[misc]
            await pilot.press("enter")
            await pilot.press("escape", "q")
