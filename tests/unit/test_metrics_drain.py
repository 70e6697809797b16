"""The drain's wait on a node's own sessions: none to wait for with DeltaManager, a wait with
figures while they fall, a warning at the limit, and a plain word when the figure is unknown."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from console.cluster.observations import MetricsObserved
from console.config import load_inventory_text
from console.monitor.runner import Monitor
from console.operations.wizards.drain_sessions import wait_own_sessions
from probes.metrics.tomcat_manager import AppSessions, ManagerSample, ServerStatus


class FakeRun:
    def __init__(self, monitor: Monitor, node: str) -> None:
        self.ctx = SimpleNamespace(monitor=monitor, node=SimpleNamespace(name=node))
        self.events: list[tuple[str, str, dict[str, Any]]] = []

    def seconds_left(self) -> float | None:
        return None

    def waiting(self, what: str, figures: dict[str, Any] | None = None) -> None:
        self.events.append(("waiting", what, figures or {}))

    def warn(self, text: str) -> None:
        self.events.append(("warning", text, {}))

    def observed(self, text: str) -> None:
        self.events.append(("observed", text, {}))


def _monitor(tmp_path: Path) -> Monitor:
    text = (
        "[cluster]\nname = 'c'\n[[nodes]]\nname = 'n1'\nhost = '10.0.0.1'\ncatalina_base = '/t'\n"
    )
    return Monitor(load_inventory_text(text, tmp_path / "cluster.toml"))


def _sample(own: int, manager: str = "StandardManager") -> ManagerSample:
    apps = (AppSessions("/app", manager, own, 0, 0, 0, None, None),)
    return ManagerSample(ServerStatus(1, 2, ()), None, apps, None, 1.0)


async def test_replicated_sessions_are_nothing_to_wait_for(tmp_path: Path) -> None:
    monitor = _monitor(tmp_path)
    monitor.observe(MetricsObserved("n1", _sample(40, "DeltaManager"), None, 1.0))
    run = FakeRun(monitor, "n1")
    await asyncio.wait_for(wait_own_sessions(cast(Any, run)), 5)
    assert not [e for e in run.events if e[0] in ("waiting", "warning")]


async def test_waits_while_own_sessions_fall_then_goes_on(tmp_path: Path) -> None:
    monitor = _monitor(tmp_path)
    monitor.observe(MetricsObserved("n1", _sample(9), None, 1.0))
    run = FakeRun(monitor, "n1")
    task = asyncio.create_task(wait_own_sessions(cast(Any, run)))

    async def reported(own: int) -> None:
        while not any(e[0] == "waiting" and e[2]["own_sessions"] == own for e in run.events):
            await asyncio.sleep(0.01)

    await asyncio.wait_for(reported(9), 5)
    for at, own in ((2.0, 6), (3.0, 4)):
        monitor.observe(MetricsObserved("n1", _sample(own), None, at))
        await asyncio.wait_for(reported(own), 5)  # still falling: still waiting
        assert not task.done()
    for at in (4.0, 5.0):
        monitor.observe(MetricsObserved("n1", _sample(4), None, at))
    await asyncio.wait_for(task, 5)
    waits = [e[2]["own_sessions"] for e in run.events if e[0] == "waiting"]
    assert waits[0] == 9 and 6 in waits
    assert run.events[-1][:2] == ("observed", "n1 holds 4 sessions of its own, no longer falling")


async def test_a_warning_at_the_limit(tmp_path: Path) -> None:
    monitor = _monitor(tmp_path)
    monitor.observe(MetricsObserved("n1", _sample(9), None, 1.0))
    run = FakeRun(monitor, "n1")
    await asyncio.wait_for(wait_own_sessions(cast(Any, run), limit=0.3), 5)
    assert run.events[-1][0] == "warning"
    assert "still holds 9 sessions of its own" in run.events[-1][1]


async def test_unknown_figure_is_said_and_not_waited_on(tmp_path: Path) -> None:
    monitor = _monitor(tmp_path)
    why = "no manager application on this node (404)"
    monitor.observe(MetricsObserved("n1", None, None, 1.0, why))
    run = FakeRun(monitor, "n1")
    await asyncio.wait_for(wait_own_sessions(cast(Any, run)), 5)
    assert run.events == [
        (
            "observed",
            f"n1's own sessions cannot be told (the figure is not known: {why}); its Busy is 0",
            {},
        )
    ]
