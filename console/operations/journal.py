"""What the monitor observes, followed by a wizard through a subscription.

The state keeps only the most recent events of the whole cluster (a ring): a burst of error
events on one node can push out the `member left` a wizard waits for before the wizard looks.
A journal subscribes to the monitor when the run begins and keeps every event record applied
from then on (and those the state held at that moment), so a wait never misses one.
"""

from __future__ import annotations

from console.cluster.state import ClusterState, NodeEvent
from console.monitor.runner import Monitor

LIMIT = 100_000
"""Records kept at most (a run of hours on a chatty cluster stays bounded; the oldest go)."""


class EventJournal:
    """Every event record the monitor applied since the journal was opened, oldest first."""

    def __init__(self, monitor: Monitor) -> None:
        self._monitor = monitor
        self.records: list[NodeEvent] = list(monitor.state.events)
        self._last: NodeEvent | None = self.records[-1] if self.records else None
        monitor.subscribe(self._on_state)

    def _on_state(self, state: ClusterState) -> None:
        events = state.events
        if not events or events[-1] is self._last:
            return
        fresh: list[NodeEvent] = []
        for record in reversed(events):
            if record is self._last:
                break
            fresh.append(record)
        fresh.reverse()
        self.records.extend(fresh)
        self._last = events[-1]
        if len(self.records) > LIMIT:
            del self.records[: len(self.records) - LIMIT]

    def close(self) -> None:
        self._monitor.unsubscribe(self._on_state)
