"""Drift in the interactive console: the `deploy --check` pass (console.deploy.drift) run at
start and then at most every `INTERVAL` seconds or on demand, never on every poll, and its
result as problems for the dashboard's panel: ``deploy-drift``, one per node whose deployed
files differ from the source (or cannot be compared), naming the node and the paths.

Not run in watch mode: a pass takes the cluster's deploy lock (a lock file on the source node)
and pulls the source into the staging copy, and watch mode changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from console.cluster.crosschecks import Problem
from console.config.model import Inventory
from console.deploy import drift
from console.deploy.drift import DriftReport, NodeDrift

log = logging.getLogger(__name__)

INTERVAL = 600.0
"""Seconds between two passes when nobody asks for one (a pass pulls the source and runs one
checksum dry run per target: cheap, but not for every poll)."""
SHOWN = 3
"""Paths named per node in a problem's text."""

Checker = Callable[[Inventory], Awaitable[DriftReport]]


async def _check(inventory: Inventory) -> DriftReport:
    """`drift.check`, looked up when called (tests replace it)."""
    return await drift.check(inventory)


def as_problem(node: NodeDrift, source: str) -> Problem | None:
    """A node that differs from the source (or cannot be compared) as a warning; None if in
    step."""
    if node.status == "in-step":
        return None
    if node.status == "differs" and node.summary is not None:
        s = node.summary
        paths = [*s.added, *s.changed, *s.deleted]
        named = ", ".join(paths[:SHOWN]) + (
            f" and {len(paths) - SHOWN} more" if len(paths) > SHOWN else ""
        )
        text = (
            f"{node.node}'s deployed files differ from the source {source}: "
            f"{len(s.added)} missing, {len(s.changed)} different, {len(s.deleted)} not in the "
            f"source ({named}); a deploy sync brings it back in step"
        )
    else:
        text = f"{node.node}'s deployed files cannot be compared with the source: {node.error}"
    return Problem("warning", "deploy-drift", node.node, text)


class DriftSchedule:
    """Runs the drift pass at start, every `interval` seconds, and when `request` is called."""

    def __init__(
        self, inventory: Inventory, *, interval: float = INTERVAL, checker: Checker | None = None
    ) -> None:
        self.inventory = inventory
        self.interval = interval
        self._checker = checker or _check
        self.report: DriftReport | None = None
        """The last pass that compared the nodes (a pass refused by a running sync keeps it)."""
        self.error: str | None = None
        """Why the last pass compared nothing (a sync holds the lock, the source is gone)."""
        self.checked_at: float | None = None
        self.version = 0
        self._wake = asyncio.Event()
        self._listeners: list[Callable[[], None]] = []

    @property
    def problems(self) -> tuple[Problem, ...]:
        if self.report is None:
            return ()
        found = (as_problem(node, self.report.source) for node in self.report.nodes)
        return tuple(problem for problem in found if problem is not None)

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def request(self) -> None:
        """Compare again now (or right after the pass in progress)."""
        self._wake.set()

    def _changed(self) -> None:
        self.version += 1
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:  # a view's bug must not stop the schedule
                log.exception("drift listener failed")

    async def run_once(self) -> None:
        try:
            report = await self._checker(self.inventory)
        except Exception as exc:  # remote trouble is in the report; this is our own failure
            log.exception("the drift check failed")
            self.error = f"the drift check could not run ({type(exc).__name__})"
        else:
            if report.error is None:
                self.report, self.error = report, None
            else:
                self.error = report.error
            self.checked_at = time.time()
        self._changed()

    async def run(self) -> None:
        """Forever (until cancelled): a pass, then wait for the interval or a request."""
        while True:
            self._wake.clear()
            await self.run_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)


__all__ = ["INTERVAL", "DriftSchedule", "as_problem"]
