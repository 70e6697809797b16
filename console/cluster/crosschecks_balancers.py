"""Cross-checks of the balancers against the nodes: unreachable balancers, workers in error,
routes that name no node, running nodes that no balancer sends users to."""

from __future__ import annotations

from collections.abc import Iterator

from console.cluster.problem import Problem
from console.cluster.rates import elected_before
from console.cluster.state import BalancerView, ClusterState, NodeView
from console.cluster.topology import worker_node
from probes.balancer.model import Worker


def _running(view: NodeView) -> bool:
    return view.tomcat == "running"


def _workers(view: BalancerView) -> list[tuple[str, Worker]]:
    if view.page is None:
        return []
    return [
        (balancer.name, worker) for balancer in view.page.balancers for worker in balancer.workers
    ]


def balancer_problems(state: ClusterState) -> Iterator[Problem]:
    specs = state.specs
    by_name = {view.name: view for view in state.nodes}
    for view in state.balancers:
        if view.reachable is False:
            yield Problem(
                "critical",
                "balancer-unreachable",
                None,
                f"balancer {view.name} cannot be read: {view.error or 'no answer'}.",
                subject=view.name,
            )
            continue
        if view.page is None:
            continue
        for balancer in view.page.balancers:
            if balancer.workers and not any(worker.usable for worker in balancer.workers):
                yield Problem(
                    "critical",
                    "no-usable-worker",
                    None,
                    f"balancer {view.name} ({balancer.name}) has no usable worker: "
                    "every request fails.",
                    subject=f"{view.name}/{balancer.name}",
                )
        for balancer_name, worker in _workers(view):
            node_name = worker_node(worker, specs)
            node = by_name.get(node_name) if node_name else None
            if node is None:
                continue
            route = node.spec.jvm_route
            if route and worker.route is not None and worker.route != route:
                yield Problem(
                    "critical",
                    "route-mismatch",
                    node.name,
                    f"{node.name}'s jvmRoute is {route!r} but balancer {view.name} routes "
                    f"{worker.url} as {worker.route!r}: sticky sessions will not stick.",
                )
            if worker.draining:
                before = elected_before(view, balancer_name, worker.url)
                if before is not None and worker.elected is not None and worker.elected > before:
                    yield Problem(
                        "warning",
                        "drain-still-elected",
                        node.name,
                        f"{node.name} is draining on {view.name} but was still elected "
                        f"{worker.elected - before} time(s) since the last read: users with "
                        "sessions on it are still there (or the balancer ignores the drain).",
                    )
            if worker.usable and not worker.disabled and node.tomcat == "stopped":
                yield Problem(
                    "warning",
                    "worker-to-stopped-node",
                    node.name,
                    f"{view.name} still counts {node.name} usable ({worker.status}) although its "
                    "Tomcat is stopped: the next user sent there gets an error or a retry. "
                    "Disable or drain the worker while the node is down.",
                )
            if worker.usable is False and not worker.disabled and node.http and node.http.ok:
                yield Problem(
                    "warning",
                    "worker-error",
                    node.name,
                    f"{view.name} marks {node.name} unusable ({worker.status}) although it "
                    "answers directly: it gets no traffic until the balancer retries it.",
                )


def absent_from_balancers(state: ClusterState) -> Iterator[Problem]:
    read = [view for view in state.balancers if view.page is not None]
    if not read:
        return
    present = {
        name
        for view in read
        for _, worker in _workers(view)
        if (name := worker_node(worker, state.specs)) is not None
    }
    for view in state.nodes:
        if _running(view) and view.name not in present and view.maintenance is None:
            yield Problem(
                "warning",
                "not-in-balancer",
                view.name,
                f"{view.name} is up but no balancer has a worker for it: it gets no users.",
            )
