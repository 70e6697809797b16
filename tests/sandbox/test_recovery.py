"""A real recovery on the sandbox: httpd stopped and started again, seen at once on `r`.

The balancer is polled once an hour here, so only the re-probe (`Monitor.reprobe`, the `r` key)
can bring the next read: the test waits on the state, never on a duration. How soon recovery
shows on the normal schedule is asserted on the schedule itself (tests/unit/test_recovery.py).
"""

from __future__ import annotations

import asyncio

import pytest

from console.cluster.state import ClusterState
from console.config import load_inventory
from console.monitor.runner import Monitor, MonitorOptions
from console.sandbox import httpd
from console.sandbox.layout import SandboxLayout

pytestmark = [pytest.mark.sandbox]

HOUR = 3600.0


@pytest.mark.disruptive
async def test_httpd_stopped_and_back_shows_at_once_on_reprobe(sandbox: SandboxLayout) -> None:
    inventory = load_inventory(sandbox.inventory)
    name = inventory.balancers[0].name
    options = MonitorOptions(read_only=True, balancer_interval=HOUR, http_interval=HOUR)
    monitor = Monitor(inventory, options)
    loop = asyncio.get_running_loop()

    def reachable(state: ClusterState) -> bool | None:
        return state.balancer(name).reachable

    await monitor.start()
    try:
        await monitor.wait_for(lambda state: reachable(state) is True, 60)
        await loop.run_in_executor(None, httpd.stop, sandbox)
        try:
            monitor.reprobe()
            await monitor.wait_for(lambda state: reachable(state) is False, 30)
        finally:
            await loop.run_in_executor(None, httpd.start, sandbox)
        monitor.reprobe()
        state = await monitor.wait_for(lambda state: reachable(state) is True, 30)
        assert state.balancer(name).error is None
    finally:
        await monitor.stop()
