"""What every view may ask of the application that hosts it.

Views never change cluster state themselves: they read snapshots (``ClusterState``) that the app
hands them through ``show_state``, and reach the few live things they need (a node's log stream,
the worker actions of the interactive session) through this protocol. In watch mode
``read_only`` is True and ``audit`` and ``worker_actions`` are None: nothing that can change the
cluster exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from console.audit import AuditLog
    from console.config_model import Inventory
    from console.monitor import Monitor
    from console.state import ClusterState


class ConsoleHost(Protocol):
    """The app as its views see it."""

    inventory: Inventory
    """The inventory in force (replaced when cluster.toml is edited)."""
    monitor: Monitor | None
    """The running monitor; None in tests that feed recorded observations."""
    read_only: bool
    """Watch mode: no action may be offered or run."""
    audit: AuditLog | None
    """Where changes are recorded; None in watch mode."""
    worker_actions: Any | None
    """The balancer worker actions (``console.operations.workers.WorkerActions``); None when
    read-only."""

    @property
    def state(self) -> ClusterState:
        """The latest snapshot."""
        ...


@runtime_checkable
class StateView(Protocol):
    """A view that renders snapshots: the app calls ``show_state`` with each new one (coalesced)
    while the view is active, and once when it becomes active."""

    def show_state(self, state: ClusterState) -> None: ...
