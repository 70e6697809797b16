"""The parts of a cluster snapshot: what is known of each node, each balancer and the database,
each a frozen view the checks and the screens read."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from console.cluster import metrics as node_metrics
from console.cluster.maintenance import MaintenanceMark
from console.cluster.node_events import NodeEvent
from console.cluster.observations import (
    LicenseObserved,
)
from console.cluster.topology import NodeSpec, member_node
from probes.balancer.model import BalancerPage
from probes.database import DatabaseHealth
from probes.files import SharedDirHealth
from probes.http import HttpCheck
from probes.process import ProcessState
from probes.reach import Reach
from probes.ssh.state import SshState


@dataclass(frozen=True, slots=True)
class NodeView:
    """Everything known about one node."""

    spec: NodeSpec
    ssh: SshState = "connecting"
    ssh_reason: str | None = None
    tomcat: ProcessState = "unknown"
    tomcat_pid: int | None = None
    http: HttpCheck | None = None
    members_seen: frozenset[str] = frozenset()
    """Members (``host:port``) this node's log says it sees, itself excluded."""
    membership_known: bool = False
    """True once the log told the whole membership (a full view, a start, or all history)."""
    membership_unknown_reason: str | None = None
    """Why the membership is not known although the log was read (its history was lost, or
    does not reach the server's start); None when known or not read yet."""
    membership_since: float = 0.0
    """When what this node sees last changed (read live: when it was read; from the log's
    history: its own log time), or its Tomcat was seen to start or stop. Disagreements younger
    than the settling time are not problems."""
    last_event: NodeEvent | None = None
    """The node's newest event by its own time."""
    start_logged: bool = False
    """The log showed the current run's start (a server start since the last stop): the
    membership it told since then is this run's."""
    starting_since: float | None = None
    """When its Tomcat was seen to start, until its log shows the start (then None)."""
    zone_offset: float = 0.0
    """Seconds to add to this node's log stamps to read them in our time (its zone's difference
    from ours), learned from its events read live; 0 until then."""
    shared_dir: SharedDirHealth | None = None
    database_reach: Reach | None = None
    log_trouble: str | None = None
    backlogs_read: frozenset[str] = frozenset()
    """Logs whose history has been read (so the membership they tell is in)."""
    maintenance: MaintenanceMark | None = None
    """Set while an operator or a wizard has the node in maintenance (drained and stopped on
    purpose): its being down is no alarm."""
    metrics: node_metrics.NodeMetrics | None = None
    """Sessions, heap, threads, request and error rates with their history (None before the
    first read)."""
    license: LicenseObserved | None = None
    """The node's license page as last read (None: not read, or no license to check)."""
    updated: float = 0.0

    @property
    def name(self) -> str:
        return self.spec.name

    def sees(self, specs: Sequence[NodeSpec]) -> frozenset[str]:
        """Names of the inventory nodes among the members this node sees."""
        names = (member_node(member, specs) for member in self.members_seen)
        return frozenset(name for name in names if name is not None and name != self.name)


@dataclass(frozen=True, slots=True)
class BalancerView:
    """The last read of one balancer, and the one before (for rates and deltas)."""

    name: str
    kind: str
    url: str | None
    reachable: bool | None = None
    error: str | None = None
    page: BalancerPage | None = None
    """The last page read successfully (kept while the balancer cannot be read: see `stale`)."""
    previous: BalancerPage | None = None
    interval: float | None = None
    """Seconds between the previous successful read and the last one."""
    at: float = 0.0
    """When the balancer was last tried, successfully or not."""
    read_at: float | None = None
    """When `page` was read (the last successful read); None before the first."""

    @property
    def stale(self) -> bool:
        """True while the balancer cannot be read but an older page is kept: its rows describe
        the past (no live rates, no live state words)."""
        return self.reachable is False and self.page is not None

    def age(self, now: float | None = None) -> float | None:
        """Seconds since the last successful read, or None before the first."""
        if self.read_at is None:
            return None
        return max(0.0, (time.time() if now is None else now) - self.read_at)


@dataclass(frozen=True, slots=True)
class DatabaseView:
    """The shared database as last checked from this machine."""

    url: str
    health: DatabaseHealth | None = None
