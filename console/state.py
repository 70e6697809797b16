"""The cluster state: one immutable snapshot, one reducer that applies observations to it.

`ClusterState.apply` returns a new snapshot and never mutates the old one, so screens, the
status command and wizards can hold a snapshot as long as they like. What it derives (problems,
the membership matrix) lives in `console.crosschecks` and `console.membership`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType

from console import metrics as node_metrics
from console.config_model import Inventory
from console.maintenance import Acknowledgement, MaintenanceMark
from console.observations import (
    BacklogScanned,
    BalancerObserved,
    DatabaseObserved,
    DatabaseReachObserved,
    EventObserved,
    HttpObserved,
    LicenseObserved,
    LogHistoryLost,
    LogTrouble,
    MaintenanceObserved,
    MetricsObserved,
    Observation,
    ProcessObserved,
    SharedDirObserved,
    SshObserved,
)
from console.topology import NodeSpec, member_node, specs_for, split_host_port
from probes.balancer import BalancerPage
from probes.database import DatabaseHealth
from probes.files import SharedDirHealth
from probes.http import HttpCheck
from probes.logs.model import LogEvent
from probes.process import ProcessState
from probes.reach import Reach
from probes.ssh_state import SshState

EVENTS_KEPT = 1000
"""How many recent events the snapshot keeps across all nodes (a ring: oldest dropped)."""
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


def _zone_offset(view: NodeView, observation: EventObserved) -> float:
    """The node's zone offset, learned again from an event read live (read within a second or
    so of being logged: the lag is its zone's difference from ours, rounded to 15 minutes)."""
    if observation.backlog:
        return view.zone_offset
    stamp = log_time(observation.event.time)
    if stamp is None:
        return view.zone_offset
    return round((observation.at - stamp) / ZONE_STEP) * ZONE_STEP


def timeline(events: Sequence[NodeEvent]) -> list[NodeEvent]:
    """Events ordered by their own time, oldest first; events of the same time keep the order
    they were read in (a node's two events logged in the same millisecond stay in log order)."""
    return sorted(events, key=_when)


def _when(record: NodeEvent) -> float:
    return record.when


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


@dataclass(frozen=True, slots=True)
class ClusterState:
    """One immutable snapshot of the whole cluster."""

    cluster: str
    nodes: tuple[NodeView, ...]
    balancers: tuple[BalancerView, ...] = ()
    database: DatabaseView | None = None
    shared_dir: str | None = None
    events: tuple[NodeEvent, ...] = ()
    """Recent events of every node, oldest first (at most EVENTS_KEPT)."""
    version: int = 0
    """Incremented by every apply(); a cheap way for screens to skip unchanged snapshots."""
    clock: float = 0.0
    """The newest observation's time: "now" for checks that need one (settling, expiry), so
    they stay pure functions of the snapshot."""
    acknowledged: Mapping[str, Acknowledgement] = field(
        default_factory=lambda: MappingProxyType({})
    )
    """Problems an operator acknowledged, by problem key (expired ones are ignored by the
    checks, by `clock`)."""
    _index: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)
    _specs: tuple[NodeSpec, ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def initial(cls, inventory: Inventory, specs: Sequence[NodeSpec] | None = None) -> ClusterState:
        """The state before anything was observed: every node and balancer unknown."""
        specs = tuple(specs) if specs is not None else specs_for(inventory)
        return cls(
            cluster=inventory.cluster.name,
            nodes=tuple(NodeView(spec) for spec in specs),
            balancers=tuple(
                BalancerView(balancer.name, balancer.kind, balancer.url)
                for balancer in inventory.balancers
            ),
            database=DatabaseView(inventory.database.url) if inventory.database else None,
            shared_dir=inventory.shared_dir.path if inventory.shared_dir else None,
            _index=MappingProxyType({spec.name: i for i, spec in enumerate(specs)}),
            _specs=specs,
        )

    @property
    def specs(self) -> tuple[NodeSpec, ...]:
        """Every node's spec, in inventory order: the same tuple object for every snapshot of
        one inventory, so lookups keyed on it (`topology.index_for`) are built once."""
        if len(self._specs) == len(self.nodes):
            return self._specs
        return tuple(node.spec for node in self.nodes)

    def node(self, name: str) -> NodeView:
        """The node called ``name``; KeyError if the inventory has none."""
        return self.nodes[self._index[name]]

    def balancer(self, name: str) -> BalancerView:
        for view in self.balancers:
            if view.name == name:
                return view
        raise KeyError(name)

    def apply(self, observation: Observation) -> ClusterState:
        """A new snapshot with ``observation`` taken into account (unknown names are ignored)."""
        return self._apply(observation)

    def timeline(self) -> list[NodeEvent]:
        """The recent events by their own time, oldest first (`events` is in reading order)."""
        return timeline(self.events)

    def _apply(self, observation: Observation) -> ClusterState:
        match observation:
            case BalancerObserved():
                return self._balancer(observation)
            case DatabaseObserved() if self.database is not None:
                return replace(
                    self,
                    database=replace(self.database, health=observation.health),
                    version=self.version + 1,
                    clock=max(self.clock, observation.at),
                )
            case EventObserved():
                return self._event(observation)
            case MaintenanceObserved():
                return self._maintenance(observation)
            case _:
                return self._node_fact(observation)

    def _maintenance(self, observation: MaintenanceObserved) -> ClusterState:
        marks = {mark.node: mark for mark in observation.marks}
        nodes = tuple(
            view
            if view.maintenance == marks.get(view.name)
            else replace(view, maintenance=marks.get(view.name))
            for view in self.nodes
        )
        acknowledged = {ack.problem_key: ack for ack in observation.acknowledgements}
        if nodes == self.nodes and acknowledged == dict(self.acknowledged):
            return self
        return replace(
            self,
            nodes=nodes,
            acknowledged=MappingProxyType(acknowledged),
            version=self.version + 1,
            clock=max(self.clock, observation.at),
        )

    def _with_node(self, view: NodeView, at: float, **extra: object) -> ClusterState:
        index = self._index[view.name]
        nodes = (*self.nodes[:index], view, *self.nodes[index + 1 :])
        clock = max(self.clock, at)
        return replace(self, nodes=nodes, version=self.version + 1, clock=clock, **extra)  # type: ignore[arg-type]

    def _node_fact(self, observation: Observation) -> ClusterState:
        name = getattr(observation, "node", None)
        if name is None or name not in self._index:
            return self
        view = self.node(name)
        at = float(getattr(observation, "at", 0.0))
        match observation:
            case SshObserved(state=state, reason=reason, peer=peer):
                view = replace(view, ssh=state, ssh_reason=reason)
                if state != "up" and view.tomcat != "unknown":
                    view = replace(view, tomcat="unknown", tomcat_pid=None)
                if peer and peer not in view.spec.addresses:
                    # The address SSH reached is the node's, whatever its inventory alias
                    # resolved to: members and workers named by it are recognised.
                    spec = replace(view.spec, addresses=view.spec.addresses | {peer})
                    view = replace(view, spec=spec, updated=at)
                    specs = tuple(spec if s.name == spec.name else s for s in self.specs)
                    return self._with_node(view, at, _specs=specs)
            case ProcessObserved(process=process):
                started = view.tomcat == "stopped" and process.state == "running"
                stopped = view.tomcat == "running" and process.state == "stopped"
                view = replace(view, tomcat=process.state, tomcat_pid=process.pid)
                if started or stopped:
                    view = replace(view, membership_since=max(view.membership_since, at))
                if started and not view.start_logged:
                    # What the log told was the last run's (nobody, once stopped): this run's
                    # membership is unknown until its log shows the start.
                    moment = time.strftime("%H:%M:%S", time.localtime(at))
                    view = replace(
                        view,
                        membership_known=False,
                        membership_unknown_reason=(
                            f"Tomcat started at {moment}; its log has not shown the start yet"
                        ),
                        starting_since=at,
                    )
                if process.state == "stopped":
                    view = replace(
                        view,
                        members_seen=frozenset(),
                        membership_known=True,
                        membership_unknown_reason=None,
                        start_logged=False,
                        starting_since=None,
                    )
            case HttpObserved(check=check):
                view = replace(view, http=check)
            case LicenseObserved():
                view = replace(view, license=observation)
            case SharedDirObserved(health=health):
                view = replace(view, shared_dir=health)
            case DatabaseReachObserved(reach=reach):
                view = replace(view, database_reach=reach)
            case MetricsObserved():
                view = replace(view, metrics=node_metrics.apply(observation, view.metrics))
            case BacklogScanned(log=log, complete=complete):
                known = view.membership_known or complete
                reason = view.membership_unknown_reason
                if known:
                    reason = None
                elif reason is None:
                    why = view.log_trouble or "its history does not reach the server's start"
                    reason = f"{log}: {why}"
                view = replace(
                    view,
                    membership_known=known,
                    membership_unknown_reason=reason,
                    backlogs_read=view.backlogs_read | {log},
                )
            case LogTrouble(what=what):
                view = replace(view, log_trouble=what)
            case LogHistoryLost(log=log, reason=why):
                moment = time.strftime("%H:%M:%S", time.localtime(at))
                view = replace(
                    view,
                    membership_known=False,
                    membership_unknown_reason=f"{log} {why} at {moment}",
                )
            case _:
                return self
        return self._with_node(replace(view, updated=at), at)

    def _event(self, observation: EventObserved) -> ClusterState:
        if observation.node not in self._index:
            return self
        view = self.node(observation.node)
        offset = _zone_offset(view, observation)
        if offset != view.zone_offset:
            last = view.last_event
            if last is not None and last.logged is not None:
                logged = min(last.logged - view.zone_offset + offset, last.at)
                last = replace(last, logged=logged)
            view = replace(view, zone_offset=offset, last_event=last)
        record = node_event(observation, offset)
        # A live change counts from when it was read (a node's clock or zone may differ from
        # ours); one from the history, from its own time (old news is settled at once).
        changed = record.when if record.backlog else record.at
        view = _membership_change(view, observation.event, changed)
        last = view.last_event
        if last is None or record.when >= last.when:
            view = replace(view, last_event=record)
        events = (*self.events[-(EVENTS_KEPT - 1) :], record)
        return self._with_node(replace(view, updated=observation.at), observation.at, events=events)

    def _balancer(self, observation: BalancerObserved) -> ClusterState:
        views = list(self.balancers)
        for index, view in enumerate(views):
            if view.name != observation.balancer:
                continue
            if observation.page is None:
                views[index] = replace(
                    view, reachable=False, error=observation.error, at=observation.at
                )
            else:
                since = view.read_at if view.page is not None else None
                views[index] = replace(
                    view,
                    reachable=True,
                    error=None,
                    page=observation.page,
                    previous=view.page,
                    interval=observation.at - since if since is not None else None,
                    at=observation.at,
                    read_at=observation.at,
                )
            return replace(
                self,
                balancers=tuple(views),
                version=self.version + 1,
                clock=max(self.clock, observation.at),
            )
        return self


def _is_self(view: NodeView, member: str) -> bool:
    host, _ = split_host_port(member)
    return host in view.spec.addresses


def _membership_change(view: NodeView, event: LogEvent, when: float) -> NodeView:
    """The node after one log event (that happened at `when`) changed what it sees."""
    seen, known, start = view.members_seen, view.membership_known, view.start_logged
    if event.kind == "member-joined" and event.member and not _is_self(view, event.member):
        seen = seen | {event.member}
    elif event.kind == "member-left" and event.member:
        seen = seen - {event.member}
    elif event.kind == "membership":
        seen = frozenset(m for m in event.members if not _is_self(view, m))
        known = True
    elif event.kind == "server-started":
        known, start = True, True  # the whole run is in what the log told
    elif event.kind == "server-stopping":
        seen, known, start = frozenset(), True, False
    elif event.kind == "session-sync" and event.detail == "skipped":
        seen, known = frozenset(), True  # alone in its group as it starts
    else:
        return view
    starting = None if start else view.starting_since
    if seen == view.members_seen and known == view.membership_known:
        if start == view.start_logged and starting == view.starting_since:
            return view
        return replace(view, start_logged=start, starting_since=starting)
    return replace(
        view,
        members_seen=seen,
        membership_known=known,
        start_logged=start,
        starting_since=starting,
        membership_unknown_reason=None if known else view.membership_unknown_reason,
        membership_since=max(view.membership_since, when),
    )


def replay(state: ClusterState, observations: Sequence[Observation]) -> ClusterState:
    """Apply recorded observations in order (tests, replays)."""
    for observation in observations:
        state = state.apply(observation)
    return state


__all__ = [
    "EVENTS_KEPT",
    "BalancerView",
    "ClusterState",
    "DatabaseView",
    "NodeEvent",
    "NodeView",
    "log_time",
    "node_event",
    "replay",
    "timeline",
]
