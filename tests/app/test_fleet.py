"""The fleet view in a headless app: live HTTP states, literal text, clean quit."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from textual.widgets import DataTable

from console.app import ClusterConsoleApp
from console.config import load_inventory_text


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"node=node1\n")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.9.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.9.1:{server.server_address[1]}/app/"
    server.shutdown()


def inventory(tmp_path: Path, up_url: str) -> str:
    return f"""\
[cluster]
name = "fleet-test"

[[nodes]]
name = "node1"
host = "127.0.9.1"
catalina_base = "/opt/tomcat"
http = "{up_url}"

[[nodes]]
name = "node2"
host = "127.0.9.2"
catalina_base = "/opt/tomcat"
http = "http://127.0.9.2:9/app/"
"""


async def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll a condition (the app polls forever, so it never goes idle)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def cell(app: ClusterConsoleApp, row: str, column: str) -> str:
    return str(app.screen.query_one(DataTable).get_cell(row, column))


async def test_fleet_shows_up_and_down_nodes_with_reasons(tmp_path: Path, http_server: str) -> None:
    inv = load_inventory_text(inventory(tmp_path, http_server), tmp_path / "cluster.toml")
    app = ClusterConsoleApp(inv)
    async with app.run_test(size=(120, 24)) as pilot:
        await wait_for(lambda: cell(app, "node1", "http") == "UP 200")
        await wait_for(lambda: cell(app, "node2", "http").startswith("DOWN"))
        assert "refused" in cell(app, "node2", "http")
        assert cell(app, "node1", "latency").endswith("ms")
        assert cell(app, "node2", "latency") == "-"
        await pilot.press("q")
    assert app.return_code in (0, None)


async def test_cells_are_literal_text_not_markup(tmp_path: Path, http_server: str) -> None:
    text = inventory(tmp_path, http_server).replace(
        'name = "fleet-test"', 'name = "[bold red]prod[/] \\u001b[31m"'
    )
    inv = load_inventory_text(text, tmp_path / "cluster.toml")
    app = ClusterConsoleApp(inv)
    async with app.run_test(size=(120, 24)) as pilot:
        await wait_for(lambda: cell(app, "node1", "http") == "UP 200")
        summary = str(app.screen.query_one("#summary").render())
        assert "[bold red]prod[/]" in summary
        await pilot.press("q")
