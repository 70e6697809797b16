"""The cluster state: one immutable snapshot, one reducer that applies observations to it.

`ClusterState.apply` returns a new snapshot and never mutates the old one, so screens, the
status command and wizards can hold a snapshot as long as they like. What it derives (problems,
the membership matrix) lives in `console.crosschecks` and `console.membership`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from console.config_model import Inventory
from console.observations import (
    BacklogScanned,
    BalancerObserved,
    DatabaseObserved,
    DatabaseReachObserved,
    EventObserved,
    HttpObserved,
    LogTrouble,
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


@dataclass(frozen=True, slots=True)
class NodeEvent:
    """An event and the node whose log it came from."""

    node: str
    event: LogEvent
    at: float
    backlog: bool = False


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
    last_event: NodeEvent | None = None
    shared_dir: SharedDirHealth | None = None
    database_reach: Reach | None = None
    log_trouble: str | None = None
    backlogs_read: frozenset[str] = frozenset()
    """Logs whose history has been read (so the membership they tell is in)."""
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
    previous: BalancerPage | None = None
    interval: float | None = None
    """Seconds between the previous read and this one."""
    at: float = 0.0


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
        match observation:
            case BalancerObserved():
                return self._balancer(observation)
            case DatabaseObserved() if self.database is not None:
                return replace(
                    self,
                    database=replace(self.database, health=observation.health),
                    version=self.version + 1,
                )
            case EventObserved():
                return self._event(observation)
            case _:
                return self._node_fact(observation)

    def _with_node(self, view: NodeView, **extra: object) -> ClusterState:
        index = self._index[view.name]
        nodes = (*self.nodes[:index], view, *self.nodes[index + 1 :])
        return replace(self, nodes=nodes, version=self.version + 1, **extra)  # type: ignore[arg-type]

    def _node_fact(self, observation: Observation) -> ClusterState:
        name = getattr(observation, "node", None)
        if name is None or name not in self._index:
            return self
        view = self.node(name)
        at = float(getattr(observation, "at", 0.0))
        match observation:
            case SshObserved(state=state, reason=reason):
                view = replace(view, ssh=state, ssh_reason=reason)
                if state != "up" and view.tomcat != "unknown":
                    view = replace(view, tomcat="unknown", tomcat_pid=None)
            case ProcessObserved(process=process):
                view = replace(view, tomcat=process.state, tomcat_pid=process.pid)
                if process.state == "stopped":
                    view = replace(view, members_seen=frozenset(), membership_known=True)
            case HttpObserved(check=check):
                view = replace(view, http=check)
            case SharedDirObserved(health=health):
                view = replace(view, shared_dir=health)
            case DatabaseReachObserved(reach=reach):
                view = replace(view, database_reach=reach)
            case BacklogScanned(log=log, complete=complete):
                view = replace(
                    view,
                    membership_known=view.membership_known or complete,
                    backlogs_read=view.backlogs_read | {log},
                )
            case LogTrouble(what=what):
                view = replace(view, log_trouble=what)
            case _:
                return self
        return self._with_node(replace(view, updated=at))

    def _event(self, observation: EventObserved) -> ClusterState:
        if observation.node not in self._index:
            return self
        view = self.node(observation.node)
        record = NodeEvent(observation.node, observation.event, observation.at, observation.backlog)
        view = replace(_membership_change(view, observation.event), last_event=record)
        events = (*self.events[-(EVENTS_KEPT - 1) :], record)
        return self._with_node(replace(view, updated=observation.at), events=events)

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
                views[index] = replace(
                    view,
                    reachable=True,
                    error=None,
                    page=observation.page,
                    previous=view.page,
                    interval=observation.at - view.at if view.page is not None else None,
                    at=observation.at,
                )
            return replace(self, balancers=tuple(views), version=self.version + 1)
        return self


def _is_self(view: NodeView, member: str) -> bool:
    host, _ = split_host_port(member)
    return host in view.spec.addresses


def _membership_change(view: NodeView, event: LogEvent) -> NodeView:
    """The node after one log event changed what it sees."""
    seen = view.members_seen
    if event.kind == "member-joined" and event.member and not _is_self(view, event.member):
        return replace(view, members_seen=seen | {event.member})
    if event.kind == "member-left" and event.member:
        return replace(view, members_seen=seen - {event.member})
    if event.kind == "membership":
        others = frozenset(m for m in event.members if not _is_self(view, m))
        return replace(view, members_seen=others, membership_known=True)
    if event.kind == "server-stopping" or (
        event.kind == "session-sync" and event.detail == "skipped"
    ):
        return replace(view, members_seen=frozenset(), membership_known=True)
    return view


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
    "replay",
]
