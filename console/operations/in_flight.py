"""How many requests a node's Tomcat is serving now, by its own count: the check a wait makes
when a balancer's Busy count stays up with nothing routed to the node.

httpd 2.4 counts a worker's Busy with a plain `busy++` at the request's start and a `busy--` in
its pool's cleanup, shared by every thread and process without atomic operations (httpd's trunk
made them atomic in r1912245, 2023): two requests ending at once can lose a decrement and the
worker shows Busy 1 for ever, with Elected not moving. A wait for Busy 0 then never ends. The
node itself knows better: the manager's status page counts each connector's threads serving a
request (`currentThreadsBusy`), one of them the thread answering that page.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.config.model import Inventory, Node
from console.monitor.metrics_poll import manager_credentials, manager_url, why_not_configured
from probes.metrics.tomcat_manager import read_manager

DEADLINE = 5.0
"""Seconds the status page may take."""


@dataclass(frozen=True, slots=True)
class InFlight:
    """Requests the node serves, not counting the read that asked; None with the reason when the
    node could not be asked."""

    requests: int | None
    reason: str = ""

    def describe(self) -> str:
        if self.requests is None:
            return f"unknown ({self.reason})"
        return f"{self.requests} by Tomcat's count"


def count_in_flight(busy_threads: list[int | None]) -> int | None:
    """The requests in flight from each connector's busy threads, less the one answering the
    status page; None when no connector gives the figure. Connectors sharing one executor each
    give the executor's count: counted twice, the wait stays on the safe side."""
    known = [busy for busy in busy_threads if busy is not None]
    if not known:
        return None
    return max(sum(known) - 1, 0)


async def tomcat_in_flight(inventory: Inventory, node: Node) -> InFlight:
    """Ask the node's manager (status page only) how many requests it serves; never raises."""
    reason = why_not_configured(inventory, node)
    base = manager_url(node)
    if reason is not None or base is None:
        return InFlight(None, reason or "no manager URL")
    credentials = manager_credentials(inventory)
    if isinstance(credentials, str):
        return InFlight(None, credentials)
    sample = await read_manager(base, credentials, deadline=DEADLINE, sessions=False)
    if sample.status is None:
        return InFlight(None, sample.status_error or "the status page gave no figures")
    requests = count_in_flight([c.threads_busy for c in sample.status.connectors])
    if requests is None:
        return InFlight(None, "the status page gives no connector's busy threads")
    return InFlight(requests)
