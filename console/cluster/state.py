"""The cluster state: one immutable snapshot, one reducer that applies observations to it.

`ClusterState.apply` returns a new snapshot and never mutates the old one, so screens, the
status command and wizards can hold a snapshot as long as they like. What it derives (problems,
the membership matrix) lives in `console.cluster.crosschecks` and `console.cluster.membership`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from console.cluster import metrics as node_metrics
from console.cluster.evolve import evolve
from console.cluster.maintenance import Acknowledgement
from console.cluster.node_events import ZONE_STEP, NodeEvent, log_time, node_event, timeline
from console.cluster.observations import (
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
from console.cluster.snapshot_views import BalancerView, DatabaseView, NodeView
from console.cluster.topology import NodeSpec, member_node, specs_for, split_host_port
from console.config.model import Inventory
from probes.logs.model import LogEvent

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

EVENTS_KEPT = 1000
"""How many recent events the snapshot keeps across all nodes (a ring: oldest dropped)."""


def _zone_offset(view: NodeView, observation: EventObserved) -> float:
    """The node's zone offset, learned again from an event read live (read within a second or
    so of being logged: the lag is its zone's difference from ours, rounded to 15 minutes)."""
    if observation.backlog:
        return view.zone_offset
    stamp = log_time(observation.event.time)
    if stamp is None:
        return view.zone_offset
    return round((observation.at - stamp) / ZONE_STEP) * ZONE_STEP


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
                return evolve(
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
            else evolve(view, maintenance=marks.get(view.name))
            for view in self.nodes
        )
        acknowledged = {ack.problem_key: ack for ack in observation.acknowledgements}
        if nodes == self.nodes and acknowledged == dict(self.acknowledged):
            return self
        return evolve(
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
        return evolve(self, nodes=nodes, version=self.version + 1, clock=clock, **extra)

    def _node_fact(self, observation: Observation) -> ClusterState:
        name = getattr(observation, "node", None)
        if name is None or name not in self._index:
            return self
        view = self.node(name)
        at = float(getattr(observation, "at", 0.0))
        match observation:
            case SshObserved(state=state, reason=reason, peer=peer):
                view = evolve(view, ssh=state, ssh_reason=reason)
                if state != "up" and view.tomcat != "unknown":
                    view = evolve(view, tomcat="unknown", tomcat_pid=None)
                if peer and peer not in view.spec.addresses:
                    # The address SSH reached is the node's, whatever its inventory alias
                    # resolved to: members and workers named by it are recognised.
                    spec = replace(view.spec, addresses=view.spec.addresses | {peer})
                    view = evolve(view, spec=spec, updated=at)
                    specs = tuple(spec if s.name == spec.name else s for s in self.specs)
                    return self._with_node(view, at, _specs=specs)
            case ProcessObserved(process=process):
                started = view.tomcat == "stopped" and process.state == "running"
                stopped = view.tomcat == "running" and process.state == "stopped"
                view = evolve(view, tomcat=process.state, tomcat_pid=process.pid)
                if started or stopped:
                    view = evolve(view, membership_since=max(view.membership_since, at))
                if started and not view.start_logged:
                    # What the log told was the last run's (nobody, once stopped): this run's
                    # membership is unknown until its log shows the start.
                    moment = time.strftime("%H:%M:%S", time.localtime(at))
                    view = evolve(
                        view,
                        membership_known=False,
                        membership_unknown_reason=(
                            f"Tomcat started at {moment}; its log has not shown the start yet"
                        ),
                        starting_since=at,
                    )
                if process.state == "stopped":
                    view = evolve(
                        view,
                        members_seen=frozenset(),
                        membership_known=True,
                        membership_unknown_reason=None,
                        start_logged=False,
                        starting_since=None,
                    )
            case HttpObserved(check=check):  # every node every second: one copy, not two
                return self._with_node(evolve(view, http=check, updated=at), at)
            case LicenseObserved():
                view = evolve(view, license=observation)
            case SharedDirObserved(health=health):
                view = evolve(view, shared_dir=health)
            case DatabaseReachObserved(reach=reach):
                view = evolve(view, database_reach=reach)
            case MetricsObserved():
                metrics = node_metrics.apply(observation, view.metrics)
                return self._with_node(evolve(view, metrics=metrics, updated=at), at)
            case BacklogScanned(log=log, complete=complete):
                known = view.membership_known or complete
                reason = view.membership_unknown_reason
                if known:
                    reason = None
                elif reason is None:
                    why = view.log_trouble or "its history does not reach the server's start"
                    reason = f"{log}: {why}"
                view = evolve(
                    view,
                    membership_known=known,
                    membership_unknown_reason=reason,
                    backlogs_read=view.backlogs_read | {log},
                )
            case LogTrouble(what=what):
                view = evolve(view, log_trouble=what)
            case LogHistoryLost(log=log, reason=why):
                moment = time.strftime("%H:%M:%S", time.localtime(at))
                view = evolve(
                    view,
                    membership_known=False,
                    membership_unknown_reason=f"{log} {why} at {moment}",
                )
            case _:
                return self
        return self._with_node(evolve(view, updated=at), at)

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
            view = evolve(view, zone_offset=offset, last_event=last)
        record = node_event(observation, offset)
        specs: tuple[NodeSpec, ...] | None = None
        named = observation.event.member if observation.event.kind == "member-name" else None
        if named and (spec := view.spec.with_member_name(named)) is not view.spec:
            # The node's own log names its member (JGroups' GMS banner): views naming that
            # member name this node, on whatever machine it runs.
            view = evolve(view, spec=spec)
            specs = tuple(spec if s.name == spec.name else s for s in self.specs)
        # A live change counts from when it was read (a node's clock or zone may differ from
        # ours); one from the history, from its own time (old news is settled at once).
        changed = record.when if record.backlog else record.at
        view = _membership_change(view, observation.event, changed, specs or self.specs)
        last = view.last_event
        if last is None or record.when >= last.when:
            view = evolve(view, last_event=record)
        events = (*self.events[-(EVENTS_KEPT - 1) :], record)
        view = evolve(view, updated=observation.at)
        if specs is not None:
            return self._with_node(view, observation.at, events=events, _specs=specs)
        return self._with_node(view, observation.at, events=events)

    def _balancer(self, observation: BalancerObserved) -> ClusterState:
        views = list(self.balancers)
        for index, view in enumerate(views):
            if view.name != observation.balancer:
                continue
            if observation.page is None:
                views[index] = evolve(
                    view, reachable=False, error=observation.error, at=observation.at
                )
            else:
                since = view.read_at if view.page is not None else None
                views[index] = evolve(
                    view,
                    reachable=True,
                    error=None,
                    page=observation.page,
                    previous=view.page,
                    interval=observation.at - since if since is not None else None,
                    at=observation.at,
                    read_at=observation.at,
                )
            return evolve(
                self,
                balancers=tuple(views),
                version=self.version + 1,
                clock=max(self.clock, observation.at),
            )
        return self


def _is_self(view: NodeView, member: str, specs: Sequence[NodeSpec]) -> bool:
    """Whether `member` is the node itself: its address, or a name only it has (a JGroups
    default name `host-N` on a machine of its own)."""
    host, _ = split_host_port(member)
    return host in view.spec.addresses or member_node(member, specs) == view.name


def _membership_change(
    view: NodeView, event: LogEvent, when: float, specs: Sequence[NodeSpec]
) -> NodeView:
    """The node after one log event (that happened at `when`) changed what it sees."""
    seen, known, start = view.members_seen, view.membership_known, view.start_logged
    member = event.member
    if event.kind == "member-joined" and member and not _is_self(view, member, specs):
        seen = seen | {member}
    elif event.kind == "member-left" and member:
        seen = seen - {member}
    elif event.kind == "membership":
        seen = frozenset(m for m in event.members if not _is_self(view, m, specs))
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
        return evolve(view, start_logged=start, starting_since=starting)
    return evolve(
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
