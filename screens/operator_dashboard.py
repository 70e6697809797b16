"""The interactive dashboard: the read-only dashboard plus the node wizards' keys and the
acknowledgement of an alarm (audited; never in watch mode)."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType

from console.cluster.crosschecks import Problem
from console.operations.catalog import CATALOG
from screens.dashboard import DashboardScreen


class OperatorDashboardScreen(DashboardScreen):
    """The interactive dashboard: adds the node actions (wizards) when they are available."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *(  # the node wizards' keys, from the wizards' declarations
            Binding(w.key, f"wizard('{w.name}')", w.label, id=f"dashboard.{w.name}-node")
            for w in CATALOG
            if w.key is not None and w.scope == "node"
        ),
        Binding("a", "acknowledge", "Ack problem", id="dashboard.acknowledge"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "wizard":
            return self.host.wizards_available and not self.host.read_only
        if action == "acknowledge":  # an audited change: never in watch mode
            return not self.host.read_only and self.host.audit is not None
        return super().check_action(action, parameters)

    def action_acknowledge(self) -> None:
        """`a`: choose one of the alarms and for how long to silence it (audited)."""
        if self.host.read_only or self.host.audit is None:
            return
        alarms = self._findings.alarms
        if not alarms:
            self.notify("there is no alarm to acknowledge", severity="information")
            return
        from screens.acknowledge import AcknowledgeScreen

        def chosen(choice: tuple[Problem, str, float] | None) -> None:
            if choice is not None:
                self.run_worker(self._acknowledge(*choice), name="acknowledge", exit_on_error=False)

        self.app.push_screen(AcknowledgeScreen(alarms), chosen)

    async def _acknowledge(self, problem: Problem, words: str, seconds: float) -> None:
        """Write the acknowledgement (audited before and after) and show it at once."""
        import asyncio
        from datetime import UTC, datetime, timedelta

        from console.audit import AuditError
        from console.cluster import maintenance
        from console.monitor.maintenance_watch import maintenance_observation

        audit = self.host.audit
        if audit is None or self.host.read_only:
            return
        cluster = self.host.inventory.cluster.name
        until = datetime.now(UTC) + timedelta(seconds=seconds)
        try:
            await asyncio.to_thread(
                maintenance.acknowledge,
                cluster,
                problem.key,
                until,
                audit.operator,
                reason="acknowledged from the problems panel",
                audit=audit,
            )
        except (maintenance.MaintenanceError, AuditError, OSError) as exc:
            self.notify(str(exc), title="not acknowledged", severity="error", markup=False)
            return
        self.host.apply(await asyncio.to_thread(maintenance_observation, cluster))
        self.notify(
            f"{problem.code}{' on ' + problem.node if problem.node else ''} acknowledged for "
            f"{words} (until {until.astimezone():%H:%M})",
            title="acknowledged",
            markup=False,
        )

    def action_wizard(self, wizard: str) -> None:
        node = self.selected_node
        if node is not None:
            self.host.open_wizard(wizard, node)
