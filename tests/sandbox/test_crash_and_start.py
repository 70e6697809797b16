"""A serving node killed with SIGKILL is a critical alarm at once, and its start afterwards does
not flash a false split brain while its peers learn of it (issue 11 items 8 and 20)."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from console.cluster.crosschecks import problems
from console.cluster.state import ClusterState
from console.config import load_inventory
from console.monitor.runner import Monitor, MonitorOptions, first_round_done
from console.sandbox import tomcat
from console.sandbox.layout import SandboxLayout

from .helpers import peers

pytestmark = [pytest.mark.sandbox, pytest.mark.disruptive]


async def test_a_killed_serving_node_is_critical_and_its_start_flashes_no_split_brain(
    sandbox: SandboxLayout,
) -> None:
    inventory = load_inventory(sandbox.inventory)
    node = sandbox.nodes[-1]
    member = f"{node.address}:4000"
    others = peers(sandbox, node)
    seen: list[set[tuple[str, str, str | None]]] = []

    def record(state: ClusterState) -> None:
        seen.append({(p.severity, p.code, p.node) for p in problems(state)})

    options = MonitorOptions(read_only=True, process_interval=1.0, balancer_interval=1.0)
    async with Monitor(inventory, options) as monitor:
        await monitor.wait_for(lambda s: first_round_done(s, inventory), 60)
        await monitor.wait_for(lambda s: not problems(s), 30)
        pid = tomcat.running_pid(node)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        try:
            state = await monitor.wait_for(lambda s: s.node(node.name).tomcat == "stopped", 30)
            crashed = [p for p in problems(state) if p.code == "tomcat-stopped"]
            assert [(p.severity, p.node) for p in crashed] == [("critical", node.name)]
        finally:
            node.pid_file.unlink(missing_ok=True)
            monitor.subscribe(record)
            await asyncio.to_thread(tomcat.start, node)
        await monitor.wait_for(
            lambda s: (
                s.node(node.name).tomcat == "running"
                and all(member in s.node(p.name).members_seen for p in others)
            ),
            60,
        )
        await monitor.wait_for(lambda s: not problems(s), 60)
        monitor.unsubscribe(record)
    flashed = [found for found in seen if any(code == "split-brain" for _, code, _ in found)]
    assert not flashed, flashed
