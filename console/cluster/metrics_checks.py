"""Cross-checks on the nodes' figures: heap nearly full, request threads all busy, errors above
the inventory's threshold, and a node whose session count is far from its peers' although
DeltaManager copies every session to every node (its sessions are not replicated).

Pure functions of a `ClusterState`, like `console.cluster.crosschecks` (which turns what they yield
into
problems). A node's figures count only while they are fresh (read within `STALE_AFTER` reads of
the snapshot's clock) and its Tomcat is not known to be stopped.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from typing import Literal

from console.cluster.metrics import MetricsPoint, NodeMetrics
from console.cluster.state import ClusterState, NodeView

HEAP_RATIO = 0.9
"""A heap fuller than this share of its maximum, on two reads in a row, is a problem (one read
may catch garbage not collected yet)."""
SESSION_SHARE = 0.2
SESSION_SLACK = 5
"""A node's active sessions may differ from its peers' median by this share of it or by this many
sessions, whichever is larger, before they are "not replicated" (sessions expire and replicate a
moment apart)."""
STALE_AFTER = 60.0
"""Seconds: older figures are not checked (the node's figures stopped coming)."""

Found = tuple[Literal["critical", "warning"], str, str, str]
"""severity, code, node, text."""


def _fresh(state: ClusterState, view: NodeView) -> NodeMetrics | None:
    metrics = view.metrics
    if metrics is None or view.tomcat == "stopped" or view.maintenance is not None:
        return None
    if state.clock - metrics.at > STALE_AFTER:
        return None
    return metrics


def _mib(value: int) -> str:
    return f"{value / (1 << 20):.0f} MiB"


def _heap_full(point: MetricsPoint) -> bool:
    ratio = point.heap_ratio
    return ratio is not None and ratio > HEAP_RATIO


def metrics_problems(state: ClusterState) -> Iterator[Found]:
    """Every problem the nodes' figures show."""
    fresh = [(view, metrics) for view in state.nodes if (metrics := _fresh(state, view))]
    for view, metrics in fresh:
        point = metrics.point
        recent = metrics.history[-2:]
        if len(recent) == 2 and all(_heap_full(p) for p in recent):
            used, most = point.heap_used_bytes or 0, point.heap_max_bytes or 1
            yield (
                "warning",
                "heap-high",
                view.name,
                f"{view.name}'s heap is {used / most:.0%} full ({_mib(used)} of {_mib(most)}) "
                "on two reads in a row: it may soon spend its time collecting garbage or fail "
                "with OutOfMemoryError.",
            )
        busy, most_threads = point.threads_busy, point.threads_max
        if busy is not None and most_threads and busy >= most_threads:
            yield (
                "critical",
                "threads-exhausted",
                view.name,
                f"{view.name} has all {most_threads} request threads busy: new requests wait "
                "in the queue or are refused.",
            )
        limit = metrics.max_errors_per_s
        if point.errors_per_s is not None and point.errors_per_s > limit:
            yield (
                "warning",
                "error-rate",
                view.name,
                f"{view.name} answers {point.errors_per_s:.1f} errors/s (status 5xx in its "
                f"access log; the limit is {limit:g}/s).",
            )
    yield from _sessions(fresh)


def _sessions(fresh: list[tuple[NodeView, NodeMetrics]]) -> Iterator[Found]:
    """A node whose replicated application's active sessions are far from its peers'."""
    counts: dict[str, dict[str, int]] = {}
    for view, metrics in fresh:
        for app in metrics.apps:
            if app.manager == "DeltaManager" and app.active is not None:
                counts.setdefault(app.context, {})[view.name] = app.active
    for context, by_node in sorted(counts.items()):
        if len(by_node) < 2:
            continue
        median = statistics.median(by_node.values())
        for name, active in sorted(by_node.items()):
            if abs(active - median) <= max(SESSION_SLACK, SESSION_SHARE * median):
                continue
            yield (
                "warning",
                "sessions-not-replicated",
                name,
                f"{name} holds {active} sessions of {context}, the nodes {median:g} (median): "
                "DeltaManager copies every session to every node, so its sessions are not being "
                "replicated (users it serves lose their session if it fails).",
            )
