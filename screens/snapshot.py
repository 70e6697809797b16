"""The snapshot guard every state view shares: keep the latest snapshot, paint it once mounted,
and paint again only when its version changed (or when the view's layout did)."""

from __future__ import annotations

from textual.screen import Screen

from console.cluster.state import ClusterState
from screens.widgets.common import host_of


class SnapshotScreen(Screen[None]):
    """A view that renders `ClusterState` snapshots; subclasses implement `paint`."""

    def __init__(self) -> None:
        super().__init__()
        self._state: ClusterState | None = None
        self._version = -1

    def show_state(self, state: ClusterState) -> None:
        """The app hands each new snapshot (coalesced) while the view is active."""
        self._state = state
        if self.is_mounted:
            self._paint_if_new(state)

    def paint_latest(self, *, force: bool = False) -> None:
        """Paint the latest snapshot (the app's when none was handed yet); `force` repaints the
        same version, e.g. after the columns changed with the terminal's width."""
        if self._state is None:
            self._state = host_of(self.app).state
        if force:
            self._version = -1
        if self._state is not None:
            self._paint_if_new(self._state)

    def _paint_if_new(self, state: ClusterState) -> None:
        if state.version == self._version:
            return
        self._version = state.version
        self.paint(state)

    def paint(self, state: ClusterState) -> None:
        """Render one snapshot (called once per version)."""
        raise NotImplementedError
