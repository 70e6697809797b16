"""A tiny host app for the content views: recorded state in, log chunks in, no monitor needed.

`HarnessApp` implements the `ConsoleHost` protocol the views code against. Tests feed
observations with `observe` (the active view gets `show_state` like in the real app) and log
chunks through `FakeMonitor.push`, then wait on predicates (never sleeps).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from textual.app import App
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static

from console.cluster.observations import (
    Observation,
)
from console.cluster.state import ClusterState, replay
from console.cluster.topology import specs_for
from console.config import load_inventory_text
from console.config.model import Inventory
from screens.host import StateView
from tests.app.waiting import wait_for as wait_for
from tests.inventories import ADDRESS as ADDRESS
from tests.inventories import event as event
from tests.inventories import healthy_nodes as healthy_nodes
from tests.inventories import joined as joined
from tests.inventories import left as left
from tests.inventories import three_nodes_text

INVENTORY = three_nodes_text(
    "views",
    extra='\n[database]\nurl = "mysql://app@10.0.0.50:3306/appdb"\n'
    'password_env = "VIEWS_DB_PASSWORD"\n',
)
NASTY = ("[bold]", "[/", "[0]", "[red]x[/red]", "\x1b[31m")
"""Remote text that must show literally (markup and an ANSI escape)."""


def inventory(tmp_path: Path, text: str = INVENTORY) -> Inventory:
    return load_inventory_text(text, tmp_path / "cluster.toml")


class FakeMonitor:
    """The two log calls of `console.monitor.runner.Monitor` that views use."""

    def __init__(self, recent: dict[str, dict[str, bytes]] | None = None) -> None:
        self.recent = recent or {}
        self.taps: dict[str, list[Callable[[str, bytes], None]]] = {}

    def recent_log(self, node: str) -> dict[str, bytes]:
        return dict(self.recent.get(node, {}))

    def tap_log(self, node: str, tap: Callable[[str, bytes], None]) -> Callable[[], None]:
        taps = self.taps.setdefault(node, [])
        taps.append(tap)

        def untap() -> None:
            if tap in taps:
                taps.remove(tap)

        return untap

    def push(self, node: str, log: str, data: bytes) -> None:
        for tap in list(self.taps.get(node, [])):
            tap(log, data)


class HostedApp(App[None]):
    """The `ConsoleHost` protocol's members with a test's defaults: no doctor, no drift, no
    incident, a fixed clock; subclasses set the inventory and the state."""

    inventory: Inventory

    def __init__(self, *, read_only: bool = False, worker_actions: Any | None = None) -> None:
        super().__init__()
        self.monitor: Any | None = None
        self.read_only = read_only
        self.audit: Any | None = None
        self.worker_actions = worker_actions
        self.clock: Callable[[], datetime] = lambda: FIXED_NOW
        self.config_error: str | None = None
        self.doctor: Any | None = None
        self.deploy_drift: Any | None = None
        self.opened: list[tuple[str, ...]] = []
        """What the views asked to open: ("node", name) or ("wizard", wizard, node)."""

    @property
    def state(self) -> ClusterState:
        raise NotImplementedError

    @property
    def incident(self) -> Any | None:
        return None

    @property
    def wizards_available(self) -> bool:
        return not self.read_only

    def apply(self, observation: Observation) -> None:
        del observation

    def console_commands(self) -> list[Any]:
        return []

    def open_node(self, node: str) -> None:
        self.opened.append(("node", node))

    def open_wizard(self, wizard: str, node: str) -> None:
        self.opened.append(("wizard", wizard, node))


FIXED_NOW = datetime(2026, 11, 22, 12, 0, 0).astimezone()


class HarnessApp(HostedApp):
    """Hosts one view; `observe` applies observations and shows the new state."""

    def __init__(
        self,
        inventory: Inventory,
        make_screen: Callable[[], Screen[None]],
        *,
        read_only: bool = False,
        worker_actions: Any | None = None,
        monitor: Any | None = None,
        observations: Sequence[Observation] = (),
    ) -> None:
        super().__init__(read_only=read_only, worker_actions=worker_actions)
        self.inventory = inventory
        self.monitor = monitor
        self._state = replay(
            ClusterState.initial(inventory, specs_for(inventory, resolve_names=False)),
            observations,
        )
        self._make_screen = make_screen
        self.view: Screen[None] | None = None

    @property
    def state(self) -> ClusterState:
        return self._state

    def on_mount(self) -> None:
        self.view = self._make_screen()
        self.push_screen(self.view)
        if isinstance(self.view, StateView):
            self.view.show_state(self._state)

    def apply(self, observation: Observation) -> None:
        self.observe(observation)

    def observe(self, *observations: Observation) -> ClusterState:
        self._state = replay(self._state, observations)
        if isinstance(self.view, StateView):
            self.view.show_state(self._state)
        return self._state


def plain(widget: Widget, width: int = 240) -> str:
    """What a Static shows, as plain text (its content rendered without colour)."""
    assert isinstance(widget, Static)
    console = Console(file=io.StringIO(), width=width, color_system=None, legacy_windows=False)
    content = widget.content
    console.print(content, markup=False)
    output = console.file.getvalue()  # type: ignore[attr-defined]
    return str(output)
