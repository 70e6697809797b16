"""Maintenance marks and acknowledgements reach the state: at the monitor's start (so `status`
sees them) and whenever the file changes (a wizard or another console)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.cluster import maintenance
from console.cluster.observations import MaintenanceObserved, Observation
from console.config import load_inventory_text
from console.monitor.maintenance_watch import watch_maintenance
from console.monitor.runner import Monitor

INVENTORY = (
    "[cluster]\nname = 'prod'\n[[nodes]]\nname = 'node1'\nhost = '127.0.0.1'\nssh_port = 9\n"
    "catalina_base = '/x'\n[[nodes]]\nname = 'node2'\nhost = '127.0.0.2'\nssh_port = 9\n"
    "catalina_base = '/x'\n"
)


async def test_the_watch_observes_at_once_and_on_every_change(tmp_path: Path) -> None:
    path = tmp_path / "maintenance.json"
    seen: list[Observation] = []
    changed = asyncio.Event()

    def observe(observation: Observation) -> None:
        seen.append(observation)
        changed.set()

    task = asyncio.create_task(watch_maintenance("prod", observe, path=path, interval=0.01))
    try:
        await asyncio.wait_for(changed.wait(), 10)
        assert seen == [MaintenanceObserved((), (), seen[0].at)]  # type: ignore[union-attr]
        changed.clear()
        maintenance.mark("prod", "node2", "kernel update", "ops", path=path)
        await asyncio.wait_for(changed.wait(), 10)
        last = seen[-1]
        assert isinstance(last, MaintenanceObserved)
        assert [(m.node, m.reason) for m in last.marks] == [("node2", "kernel update")]
        changed.clear()
        until = datetime.now(UTC) + timedelta(hours=1)
        maintenance.acknowledge("prod", "ssh-down@node1", until, "ops", path=path)
        await asyncio.wait_for(changed.wait(), 10)
        last = seen[-1]
        assert isinstance(last, MaintenanceObserved)
        assert [a.problem_key for a in last.acknowledgements] == ["ssh-down@node1"]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_monitor_knows_the_marks_as_soon_as_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(maintenance.STATE_ENV, str(tmp_path))
    maintenance.mark("prod", "node2", "disk swap", "ops")
    inventory = load_inventory_text(INVENTORY, tmp_path / "cluster.toml")
    monitor = Monitor(inventory)
    await monitor.start()
    try:
        mark = monitor.state.node("node2").maintenance
        assert mark is not None and mark.reason == "disk swap"
        assert monitor.state.node("node1").maintenance is None
    finally:
        await monitor.stop()
