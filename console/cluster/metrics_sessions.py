"""Sessions in a node's figures: those only it holds, over its history (what a drain waits on),
and the JMX proxy's counts set beside SSH's figures when the status page did not answer."""

from __future__ import annotations

import itertools
from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING

from probes.metrics.tomcat_manager import ManagerSample

if TYPE_CHECKING:
    from console.cluster.metrics import NodeMetrics


def own_sessions(metrics: NodeMetrics | None) -> int | None:
    """Sessions only this node holds (`MetricsPoint.sessions_own` of the latest read)."""
    return metrics.point.sessions_own if metrics is not None else None


def own_sessions_settled(metrics: NodeMetrics | None, floor: int = 0, reads: int = 3) -> bool:
    """True once the node's own sessions are at most `floor`, or stopped falling: the same or
    more on the last `reads` reads (its users' sessions expire at their own pace; a drain need
    not wait for the last one). False while unknown (the caller decides what unknown means)."""
    now = own_sessions(metrics)
    if metrics is None or now is None:
        return False
    if now <= floor:
        return True
    counts = [p.sessions_own for p in metrics.history[-reads:] if p.sessions_own is not None]
    if len(counts) < reads:
        return False
    return all(later >= earlier for earlier, later in itertools.pairwise(counts))


def with_sessions(metrics: NodeMetrics, sample: ManagerSample) -> NodeMetrics:
    """SSH's figures plus the sessions the JMX proxy gave (its status page did not answer), or
    the JMX proxy's own reason for not giving them."""
    apps = sample.sessions or ()
    counts = [app.active for app in apps]
    active = sum(c for c in counts if c is not None) if counts and None not in counts else None
    missing = dict(metrics.missing)
    if active is not None:
        missing.pop("sessions_active", None)
    elif sample.sessions_error is not None:
        missing["sessions_active"] = sample.sessions_error
    point = replace(metrics.point, sessions_active=active)
    history = (*metrics.history[:-1], point)
    return replace(
        metrics, point=point, missing=MappingProxyType(missing), history=history, apps=apps
    )
