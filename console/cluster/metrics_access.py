"""A node's 5xx and 4xx rates from its access log (`probes.metrics.access_tail`).

Tomcat counts every answer of status 400 or more as an error and keeps no count of 5xx alone,
so the error rate (`errors_per_s`) is read from the node's access log: the 5xx lines written
since the previous read, over the seconds since then (the same window as the other rates, one
read per `[metrics] interval`). Without an access log the rate is unknown and says why; Tomcat's
own count (>= 400) stays as `errors_4xx_5xx_per_s`.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from console.cluster.evolve import evolve
from probes.metrics.access_tail import AccessRead

if TYPE_CHECKING:
    from console.cluster.metrics import NodeMetrics

NOT_READ = "the access log is not read (no SSH to the node yet)"
FIRST = "a rate needs two reads of the access log (the first was just made)"


@dataclass(frozen=True, slots=True)
class AccessRates:
    """5xx and 4xx answers a second, or why each is unknown."""

    errors_per_s: float | None
    errors_4xx_per_s: float | None
    missing: str | None


def access_rates(access: AccessRead | None, since: float | None, at: float) -> AccessRates:
    """The rates of one read of the access log, made at `at`, counting since `since`."""
    if access is None:
        return AccessRates(None, None, NOT_READ)
    if access.missing is not None:
        return AccessRates(None, None, f"access log: {access.missing}")
    counts = access.counts
    if counts is None or since is None:
        return AccessRates(None, None, FIRST)
    seconds = at - since
    if seconds <= 0:
        return AccessRates(None, None, "the access log's reads came out of order")
    return AccessRates(counts.status_5xx / seconds, counts.status_4xx / seconds, None)


def access_json(access: AccessRead | None) -> dict[str, object] | None:
    """The ``access_log`` object of a node's ``metrics`` in `status --json`: the file read and
    the lines of its latest read (requests, 4xx, 5xx, unreadable)."""
    if access is None:
        return None
    counts = access.counts
    return {
        "file": access.file,
        "rotated": access.rotated,
        "requests": counts.requests if counts is not None else None,
        "status_4xx": counts.status_4xx if counts is not None else None,
        "status_5xx": counts.status_5xx if counts is not None else None,
        "unreadable_lines": counts.unreadable if counts is not None else None,
        "missing": access.missing,
    }


def with_access(
    metrics: NodeMetrics, access: AccessRead | None, since: float | None
) -> NodeMetrics:
    """The node's figures with its 5xx and 4xx rates from this read of its access log."""
    rates = access_rates(access, since, metrics.at)
    missing = dict(metrics.missing)
    for name in ("errors_per_s", "errors_4xx_per_s"):
        missing.pop(name, None)
        if rates.missing is not None:
            missing[name] = rates.missing
    point = evolve(
        metrics.point, errors_per_s=rates.errors_per_s, errors_4xx_per_s=rates.errors_4xx_per_s
    )
    history = (*metrics.history[:-1], point)
    return evolve(
        metrics, point=point, missing=MappingProxyType(missing), history=history, access=access
    )
