"""The command palette's provider: every action of the console, searchable by name.

The app supplies the list (`ConsoleHost`-side ``console_commands()``), so the palette offers
exactly what the current mode allows: in watch mode nothing that changes the cluster is listed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from screens.widgets.common import host_of


@dataclass(frozen=True, slots=True)
class ConsoleCommand:
    """One palette entry."""

    id: str
    title: str
    help: str
    run: Callable[[], Any]


class ConsoleCommands(Provider):
    """Views, nodes, filter, help, themes, refresh, quit (and node actions when allowed)."""

    def _commands(self) -> list[ConsoleCommand]:
        return host_of(self.app).console_commands()

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(
                Content(command.title), partial(command.run), text=command.title, help=command.help
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(command.title),
                    partial(command.run),
                    text=command.title,
                    help=command.help,
                )


__all__ = ["ConsoleCommand", "ConsoleCommands"]
