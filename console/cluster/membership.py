"""Membership as the logs tell it: the observer x member matrix, partitions, serving nodes."""

from __future__ import annotations

from console.cluster.state import ClusterState
from console.cluster.topology import worker_node


def matrix(state: ClusterState) -> dict[str, dict[str, bool | None]]:
    """For each observer node, whether its log says it sees each other node.

    None means unknown: the observer's Tomcat is not known to run, or its log has not told the
    whole membership yet.
    """
    specs = state.specs
    names = [view.name for view in state.nodes]
    rows: dict[str, dict[str, bool | None]] = {}
    for view in state.nodes:
        known = view.tomcat == "running" and view.membership_known
        sees = view.sees(specs) if known else frozenset()
        rows[view.name] = {
            other: (other in sees if known else None) for other in names if other != view.name
        }
    return rows


def partitions(state: ClusterState) -> list[frozenset[str]]:
    """Groups of running nodes with known membership that see each other (either way).

    More than one group is a split brain: sessions are replicated only inside a group.
    """
    specs = state.specs
    known = {
        view.name: view.sees(specs)
        for view in state.nodes
        if view.tomcat == "running" and view.membership_known
    }
    groups: list[frozenset[str]] = []
    unvisited = set(known)
    while unvisited:
        start = min(unvisited)
        group, frontier = {start}, [start]
        while frontier:
            current = frontier.pop()
            linked = {n for n in known if current in known[n] or n in known[current]}
            fresh = (linked & unvisited) - group
            group |= fresh
            frontier.extend(fresh)
        unvisited -= group
        groups.append(frozenset(group))
    return sorted(groups, key=lambda group: (-len(group), sorted(group)))


def serving_nodes(state: ClusterState) -> frozenset[str]:
    """Nodes that some balancer sends users to: a usable worker that is not disabled."""
    specs = state.specs
    found: set[str] = set()
    for view in state.balancers:
        if view.page is None:
            continue
        for balancer in view.page.balancers:
            for worker in balancer.workers:
                if worker.usable and not worker.disabled:
                    name = worker_node(worker, specs)
                    if name is not None:
                        found.add(name)
    return frozenset(found)


def in_rotation(state: ClusterState) -> frozenset[str]:
    """Nodes some balancer (as last read) keeps in rotation: a worker the operator has not
    taken out (not disabled, stopped, draining or standby), usable or in error.

    A node in rotation whose Tomcat is down went down without being drained.
    """
    specs = state.specs
    found: set[str] = set()
    for view in state.balancers:
        if view.page is None:
            continue
        for balancer in view.page.balancers:
            for worker in balancer.workers:
                if worker.disabled or worker.draining or worker.standby or "Stop" in worker.flags:
                    continue
                name = worker_node(worker, specs)
                if name is not None:
                    found.add(name)
    return frozenset(found)


def replication_gaps(
    state: ClusterState, observers: list[str], targets: list[str]
) -> tuple[list[str], list[str]]:
    """Which observers do not see which targets, and which cannot be told.

    Returns (missing, unknown): ``"node1 does not see node2"`` where node1's log says so, and
    ``"node1's membership is unknown (catalina.out truncated at 03:00:01)"`` where node1's view
    is unknown (its log's history was lost, or not read yet): unknown is not absent.
    """
    rows = matrix(state)
    missing: list[str] = []
    unknown: list[str] = []
    for observer in observers:
        row = rows.get(observer, {})
        cells = [row.get(target) for target in targets if target != observer]
        if any(cell is None for cell in cells):
            reason = state.node(observer).membership_unknown_reason
            unknown.append(
                f"{observer}'s membership is unknown" + (f" ({reason})" if reason else "")
            )
        missing += [
            f"{observer} does not see {target}"
            for target in targets
            if target != observer and row.get(target) is False
        ]
    return missing, unknown
