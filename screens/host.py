"""What every view may ask of the application that hosts it.

Views never change cluster state themselves: they read snapshots (``ClusterState``) that the app
hands them through ``show_state``, and reach the few live things they need (a node's log stream,
the worker actions of the interactive session) through this protocol. In watch mode
``read_only`` is True and ``audit`` and ``worker_actions`` are None: nothing that can change the
cluster exists.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from console.audit import AuditLog
    from console.cluster.observations import Observation
    from console.cluster.state import ClusterState
    from console.config.model import Inventory
    from console.deploy.schedule import DriftSchedule
    from console.doctor.schedule import DoctorSchedule
    from console.monitor.runner import Monitor
    from console.operations.workers import WorkerActions
    from screens.commands import ConsoleCommand
    from screens.watch import Incident


class ConsoleHost(Protocol):
    """The app as its views see it: everything a view may read or ask of it."""

    inventory: Inventory
    """The inventory in force (replaced when cluster.toml is edited)."""
    monitor: Monitor | None
    """The running monitor; None in tests that feed recorded observations."""
    read_only: bool
    """Watch mode: no action may be offered or run."""
    audit: AuditLog | None
    """Where changes are recorded; None in watch mode."""
    worker_actions: WorkerActions | None
    """The balancer worker actions; None when read-only."""
    clock: Callable[[], datetime]
    """The wall clock the watch chrome shows (a fixed one in tests)."""
    config_error: str | None
    """The last broken edit of cluster.toml (the last good inventory stays in force)."""
    doctor: DoctorSchedule | None
    """The doctor's schedule once started: its findings join the problems panel."""
    deploy_drift: DriftSchedule | None
    """The deploy drift's schedule once started (never in watch mode)."""

    @property
    def state(self) -> ClusterState:
        """The latest snapshot."""
        ...

    @property
    def incident(self) -> Incident | None:
        """The latest incident raised on the wall screen's banner."""
        ...

    @property
    def wizards_available(self) -> bool:
        """Whether node wizards may be opened (the interactive session only)."""
        ...

    def apply(self, observation: Observation) -> None:
        """Fold an observation the view made (an acknowledgement) into the state now."""

    def console_commands(self) -> list[ConsoleCommand]:
        """Every action, for the command palette."""
        ...

    def open_node(self, node: str) -> None:
        """Open the node view."""

    def open_wizard(self, wizard: str, node: str) -> None:
        """Open a node wizard on a node (interactive session only)."""


@runtime_checkable
class StateView(Protocol):
    """A view that renders snapshots: the app calls ``show_state`` with each new one (coalesced)
    while the view is active, and once when it becomes active."""

    def show_state(self, state: ClusterState) -> None: ...
