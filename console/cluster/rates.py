"""Elections per second: how fast a balancer hands requests to a worker.

httpd's Elected (HAProxy's lbtot) counts since the balancer started, or since a load factor was
posted; a rate compares a worker's count with the same worker's count in the previous read of the
same pool (a backend URL may sit in several pools). A count that went down (the balancer
restarted, a factor re-posted) gives no rate for that read: never a negative one, never a false
zero. While the balancer cannot be read there is no rate at all (the kept page is stale).
"""

from __future__ import annotations

from collections.abc import Mapping

from console.cluster.state import BalancerView
from probes.balancer.model import Worker

PoolWorker = tuple[str, str]
"""A worker in one read: its pool's name and its URL."""


def elected_before(view: BalancerView, pool: str, url: str) -> int | None:
    """The worker's Elected in the previous read of `pool`, if it was there with a count."""
    if view.previous is None:
        return None
    before = view.previous.balancer(pool)
    old = before.worker(url) if before is not None else None
    return old.elected if old is not None else None


def previous_elected(view: BalancerView) -> dict[PoolWorker, int]:
    """Every worker's Elected in the previous read, by pool and URL: computed once per read by
    callers that draw hundreds of workers (the first worker of a URL in a pool, as
    `Balancer.worker` finds it)."""
    found: dict[PoolWorker, int] = {}
    if view.previous is None:
        return found
    for balancer in view.previous.balancers:
        seen: set[str] = set()
        for worker in balancer.workers:
            if worker.url in seen:
                continue
            seen.add(worker.url)
            if worker.elected is not None:
                found[(balancer.name, worker.url)] = worker.elected
    return found


def elected_rate(
    view: BalancerView,
    pool: str,
    worker: Worker,
    previous: Mapping[PoolWorker, int] | None = None,
) -> float | None:
    """Elections per second since the previous read, or None when that cannot be told.

    `previous` is `previous_elected(view)` when the caller has it. None while the balancer
    cannot be read (`view.stale`): the last page's rate is history, not a live figure."""
    if view.stale or view.previous is None or not view.interval or worker.elected is None:
        return None
    if previous is not None:
        before = previous.get((pool, worker.url))
    else:
        before = elected_before(view, pool, worker.url)
    if before is None or worker.elected < before:
        return None
    return (worker.elected - before) / view.interval
