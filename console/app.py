"""The Textual application shell: the interactive session on one inventory.

For now it shows the fleet view and polls each node's direct HTTP URL; the probes, state and
the full dashboard arrive with the monitor (see the README's roadmap). Polls never overlap:
the next one is armed when the previous one has finished.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

import httpx
from textual.app import App
from textual.binding import Binding

from console import exitcodes
from console.config import Inventory
from probes.http import HttpCheck, check
from screens.fleet import FleetScreen

POLL_SECONDS = 2.0
HTTP_TIMEOUT = httpx.Timeout(3.0, connect=2.0)


class ClusterConsoleApp(App[int]):
    """The interactive session."""

    TITLE = "clusterconsole"
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("r", "refresh", "Refresh now", id="refresh"),
    ]

    def __init__(self, inventory: Inventory, theme_name: str | None = None) -> None:
        super().__init__()
        self.inventory = inventory
        self.sub_title = inventory.cluster.name
        if theme_name:
            self.theme = theme_name
        self._client: httpx.AsyncClient | None = None

    def on_mount(self) -> None:
        self._client = httpx.AsyncClient(timeout=HTTP_TIMEOUT, follow_redirects=False)
        self.push_screen(FleetScreen(self.inventory))
        self.run_worker(self._poll_forever(), name="http-poll", exit_on_error=False)

    async def on_unmount(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def _poll_once(self) -> None:
        client = self._client
        if client is None:
            return
        nodes = [node for node in self.inventory.nodes if node.http]
        results = await asyncio.gather(
            *(check(client, node.http or "") for node in nodes), return_exceptions=True
        )
        screen = self.screen
        if not isinstance(screen, FleetScreen):
            return
        for node, result in zip(nodes, results, strict=True):
            if isinstance(result, HttpCheck):
                screen.show_http(node.name, result)
            else:
                screen.show_http(node.name, HttpCheck(node.http or "", None, None, "probe failed"))

    async def _poll_forever(self) -> None:
        while True:
            await self._poll_once()
            await asyncio.sleep(POLL_SECONDS)

    async def action_refresh(self) -> None:
        await self._poll_once()


def run_interactive(inventory: Inventory, theme: str | None = None) -> int:
    """Run the interactive session until the operator quits; returns the exit code."""
    result = ClusterConsoleApp(inventory, theme).run()
    return exitcodes.OK if result is None else result
