"""The stand-in for a view whose module is not installed yet."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from console.cluster.state import ClusterState
from screens.watch import watch_chrome
from screens.widgets.keybar import KeyBar


class UnavailableView(Screen[None]):
    """Stands in for a view whose module is not installed yet."""

    def __init__(self, view: str) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        yield from watch_chrome(self.app)
        yield Static(Text(f"the {self.view} view is not available in this build"), markup=False)
        yield KeyBar()

    def show_state(self, state: ClusterState) -> None:
        """Nothing to render."""
