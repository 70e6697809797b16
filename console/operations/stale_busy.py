"""A strict wait's question when Busy will not fall: is the count stale, or are requests still
in flight? The node's Tomcat is asked (`console.operations.in_flight`)."""

from __future__ import annotations

from console.operations.context import NodeContext
from console.operations.engine import StepRun

STALE_AFTER = 10.0
"""Seconds a node's Busy may stay the same, above 0, with nothing routed to it, before the strict
wait asks the node's Tomcat whether it serves anything (`console.operations.in_flight`)."""
ASK_EVERY = 5.0
"""Seconds between two such questions."""


class StaleBusy:
    """Tells a stale Busy count from requests still in flight, by asking the node's Tomcat."""

    def __init__(self, run: StepRun[NodeContext]) -> None:
        self.run = run
        self.busy: dict[str, int | None] | None = None
        self.since: float | None = None
        self.asked_at = float("-inf")
        self.told_blind = False
        self.requests: int | None = None
        """Tomcat's last answer for the count standing now, shown with every read after it."""

    async def settled(
        self, busy: dict[str, int | None] | None, now: float, figures: dict[str, object]
    ) -> bool:
        """True when the node's Tomcat serves no request although the balancers' Busy (`busy`,
        None when not stuck: moving, 0, or requests still routed) has stayed the same for
        STALE_AFTER seconds; its answer goes into `figures`."""
        if busy is None or busy != self.busy:
            self.busy, self.since = busy, (now if busy is not None else None)
            self.requests = None
            return False
        if self.since is None or now - self.since < STALE_AFTER or now - self.asked_at < ASK_EVERY:
            figures["tomcat_in_flight"] = self.requests
            return False
        self.asked_at = now
        answer = await self.run.ctx.in_flight()
        self.requests = answer.requests
        figures["tomcat_in_flight"] = answer.requests
        name = self.run.ctx.node.name
        quiet_for = now - self.since
        held = f"Busy {figures['busy']} with no request routed to {name} for {quiet_for:.0f} s"
        if answer.requests == 0:
            self.run.observed(
                f"The balancers show {held}, and {name}'s Tomcat serves no request (its "
                "manager's count): the balancer's Busy count is stale (httpd 2.4 can lose a "
                "decrement), going on"
            )
            return True
        if answer.requests is None and not self.told_blind:
            self.told_blind = True
            self.run.observed(
                f"The balancers show {held}: the count may be stale (httpd 2.4 can lose a "
                f"decrement), but {name}'s Tomcat cannot be asked ({answer.reason}); waiting on"
            )
        return False
