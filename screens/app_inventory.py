"""The inventory in force and its replacement: the live reload of cluster.toml (a broken edit
is reported and the last good inventory stays) and the switch to another cluster's context."""

from __future__ import annotations

from typing import TYPE_CHECKING

from console.cluster.state import ClusterState
from console.config.errors import ConfigError
from console.config.model import Inventory
from screens.app_schedules import SchedulesPart
from screens.app_views import wizard_screen_class

if TYPE_CHECKING:
    from console.operations.workers import WorkerActions


class InventoryPart(SchedulesPart):
    """Reloading the inventory and switching context: each restarts the schedules on the new
    inventory."""

    config_error: str | None
    worker_actions: WorkerActions | None
    _use_monitor: bool
    _reload: bool
    _watched_state: ClusterState
    _theme_base: str

    if TYPE_CHECKING:

        def _build_operator_tools(self) -> None: ...

        def _build_worker_actions(self) -> None: ...

        def _themed(self, base_name: str) -> str: ...

    def _start_reload(self) -> None:
        self.run_worker(self._watch_config(), name="reload", exit_on_error=False)

    async def _watch_config(self) -> None:
        from console.config.reload import watch_inventory

        async for result in watch_inventory(self.inventory):
            if isinstance(result, ConfigError):
                self.show_config_error(result)
            else:
                await self.replace_inventory(result)

    def show_config_error(self, error: ConfigError) -> None:
        """A broken edit: say so, keep the last good inventory running."""
        self.config_error = str(error)
        self._generation += 1
        self.notify(
            "cluster.toml has errors; keeping the last good inventory",
            severity="error",
            timeout=10,
        )
        self.deliver_now()

    async def replace_inventory(self, inventory: Inventory) -> None:
        """A valid edit: a new monitor on the new inventory (nodes added or removed)."""
        self.inventory = inventory
        self.config_error = None
        self._generation += 1
        if self.worker_actions is not None:  # its balancers are the old inventory's
            old, self.worker_actions = self.worker_actions, None
            await old.aclose()
            self._build_worker_actions()
        if self.monitor is not None or self._use_monitor:
            await self._stop_monitor()
            await self._start_monitor(inventory)
        if self.doctor is not None:
            self.workers.cancel_group(self, "doctor")
            self.start_doctor()
        if self.deploy_drift is not None:
            self.workers.cancel_group(self, "deploy-drift")
            self.deploy_drift = None
            self.start_drift()
        else:
            self._state = ClusterState.initial(inventory)
        self._watched_state = self._state
        self.title = f"clusterconsole · {inventory.cluster.name}"
        self.notify(f"inventory reloaded: {len(inventory.nodes)} nodes", timeout=5)
        self.deliver_now()

    async def switch_context(self, name: str) -> bool:
        """Watch and operate another cluster (an inventory of the contexts directory): a new
        monitor, its accent colour, its audit log; refused while a wizard is open."""
        from console.config import load_inventory
        from console.config.contexts import context_path

        wizard = wizard_screen_class()
        if wizard is not None and any(isinstance(s, wizard) for s in self.screen_stack):
            self.notify("finish or close the wizard first", severity="warning", markup=False)
            return False
        try:
            inventory = load_inventory(context_path(name))
        except ConfigError as error:
            self.notify(f"context {name}: {error}", severity="error", timeout=10, markup=False)
            return False
        for worker in list(self.workers):
            if worker.name == "reload":
                worker.cancel()
        await self.replace_inventory(inventory)
        self.theme = self._themed(self._theme_base)  # the cluster's own accent colour
        if not self.read_only:
            self._build_operator_tools()  # its audit lines name the new cluster
        if self._reload and inventory.path.exists():
            self._start_reload()
        self.notify(f"context {name}: cluster {inventory.cluster.name}", markup=False)
        return True
