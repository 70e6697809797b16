"""The drain wizard's wait on a node's own sessions (`console.cluster.metrics.own_sessions`).

Once the balancers send the node no request, its users' sessions live on: with DeltaManager a
peer holds a copy of each (nothing to wait for), but an application whose manager does not
replicate them loses them when the node stops. Where that figure exists, the wizard waits until
it is at a floor or stops falling (sessions expire at their own pace), with the figures shown,
and goes on with a warning at its timeout. Where it is unknown (no manager application) it says
so and waits on Busy alone, as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from console.cluster.metrics import NodeMetrics, own_sessions, own_sessions_settled
from console.cluster.state import ClusterState
from console.operations.context import NodeContext
from console.operations.engine import StepRun

SESSIONS_WAIT = 120.0
"""Seconds the wait on own sessions lasts at most (within the step's own timeout)."""
MARGIN = 2.0
"""Seconds left to the step after the wait, so the step itself never times out on it."""


async def wait_own_sessions(
    run: StepRun[NodeContext], *, floor: int = 0, limit: float = SESSIONS_WAIT
) -> None:
    """Wait until the node's own sessions are at `floor` or stop falling (or `limit` s)."""
    monitor = run.ctx.monitor
    name = run.ctx.node.name
    left = run.seconds_left()
    budget = limit if left is None else max(0.0, min(limit, left - MARGIN))
    began = time.monotonic()
    metrics = monitor.state.node(name).metrics
    if own_sessions(metrics) is None:
        why = "its figures are not read" if metrics is None else "the figure is not known"
        reason = next(iter(metrics.missing.values()), "") if metrics is not None else ""
        run.observed(
            f"{name}'s own sessions cannot be told ({why}{': ' + reason if reason else ''}); "
            "its Busy is 0"
        )
        return
    while True:
        metrics = monitor.state.node(name).metrics
        own = own_sessions(metrics)
        if own_sessions_settled(metrics, floor):
            if own:
                run.observed(f"{name} holds {own} sessions of its own, no longer falling")
            return
        waited = time.monotonic() - began
        if waited >= budget:
            run.warn(
                f"{name} still holds {own if own is not None else 'an unknown number of'} "
                f"sessions of its own after {waited:.0f} s (not replicated: they end with it)"
            )
            return
        total = metrics.point.sessions_active if metrics is not None else None
        run.waiting(
            f"{name}'s own sessions to reach {floor} or stop falling",
            {"own_sessions": own, "sessions_active": total, "seconds": round(waited, 1)},
        )
        try:
            await monitor.wait_for(_changed(name, metrics), max(0.1, min(5.0, budget - waited)))
        except TimeoutError:
            continue


def _changed(name: str, seen: NodeMetrics | None) -> Callable[[ClusterState], bool]:
    """A predicate: the node's figures were read again since `seen`."""

    def changed(state: ClusterState) -> bool:
        return state.node(name).metrics is not seen

    return changed
