"""An event as the cluster state keeps it: which node logged it, when it was read and when it
happened by its own (zone-corrected) timestamp, and the timeline that orders them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from console.cluster.observations import EventObserved
from probes.logs.model import LogEvent

ZONE_STEP = 900.0
"""Time zones differ by multiples of 15 minutes: a node's log stamps are shifted by the
multiple of this nearest to how far its live events' stamps lag when they are read."""


def log_time(text: str | None) -> float | None:
    """A log's ISO 8601 timestamp as seconds since the epoch, or None when it is not one.

    Log stamps carry no zone: they are read as this machine's local time; a node logging in
    another zone is corrected by `NodeView.zone_offset` once one of its events is read live.
    """
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.astimezone()
        return moment.timestamp()
    except (ValueError, OverflowError, OSError):
        return None


@dataclass(frozen=True, slots=True)
class NodeEvent:
    """An event and the node whose log it came from."""

    node: str
    event: LogEvent
    at: float
    """When the console read it (a history event: when the history was read)."""
    backlog: bool = False
    logged: float | None = None
    """When it happened, by its own timestamp (never later than `at`); None without one."""

    @property
    def when(self) -> float:
        """When it happened: its own time, else when it was read."""
        return self.logged if self.logged is not None else self.at


def node_event(observation: EventObserved, zone_offset: float = 0.0) -> NodeEvent:
    """The event of an observation, with its own time (its stamp shifted by the node's zone
    offset, and never later than when it was read)."""
    logged = log_time(observation.event.time)
    if logged is not None:
        logged = min(logged + zone_offset, observation.at)
    return NodeEvent(
        observation.node, observation.event, observation.at, observation.backlog, logged
    )


def timeline(events: Sequence[NodeEvent]) -> list[NodeEvent]:
    """Events ordered by their own time, oldest first; events of the same time keep the order
    they were read in (a node's two events logged in the same millisecond stay in log order)."""
    return sorted(events, key=_when)


def _when(record: NodeEvent) -> float:
    return record.when
