"""The 5xx rate read from each sandbox node's real access log (Tomcat's AccessLogValve, tailed
over SSH): a page answering 500 moves errors/s on the node that served it; 404s move only the
4xx figure (Tomcat's own error count, >= 400, moves with them); ordinary requests move neither."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from console.cluster.crosschecks import problems
from console.cluster.metrics import NodeMetrics
from console.cluster.state import ClusterState
from console.config import load_inventory
from console.monitor.runner import Monitor
from console.sandbox.layout import SandboxLayout

from .test_metrics import OPTIONS, _hammer, _metrics, _wait

pytestmark = pytest.mark.sandbox

FLUSH = 11.0
"""AccessLogValve buffers its lines (buffered="true" by default) and writes them when its buffer
fills or on the engine's background thread (backgroundProcessorDelay, 10 s): a line shows in
the file up to ~10 s after its request. Lines of an earlier test are all written this long
after this test's monitor starts."""


def _since(metrics: NodeMetrics | None, start: float, name: str) -> list[float]:
    """Every known value of figure `name` read after `start` (the whole history, not only the
    latest: a wait may skip states)."""
    if metrics is None:
        return []
    return [float(v) for p in metrics.history if p.at > start and (v := p.figure(name)) is not None]


async def test_5xx_move_errors_404s_only_the_4xx_figure_ordinary_requests_neither(
    sandbox: SandboxLayout,
) -> None:
    inventory = load_inventory(sandbox.inventory)
    node1, node2, node3 = sandbox.nodes[0], sandbox.nodes[1], sandbox.nodes[2]
    names = (node1.name, node2.name, node3.name)
    async with Monitor(inventory, OPTIONS) as monitor:
        began = time.time()
        # earlier requests' lines (another test's 401s, say) are flushed and read by then
        await _wait(
            monitor,
            lambda s: all(
                (m := _metrics(s, n)) is not None
                and m.point.errors_per_s is not None
                and m.at > began + FLUSH
                for n in names
            ),
            "a 5xx rate from the access log on every node, read after a flush",
        )
        start = time.time()
        stop = threading.Event()
        urls = (node1.http_url + "/app/", node3.http_url + "/app/no-such-page")
        senders = [asyncio.create_task(asyncio.to_thread(_hammer, u, stop)) for u in urls]

        def busy(s: ClusterState) -> bool:
            first, third = _metrics(s, node1.name), _metrics(s, node3.name)
            return (
                first is not None
                and (first.point.requests_per_s or 0) > 20
                and third is not None
                and (third.point.errors_4xx_per_s or 0) > 5
                and len(_since(third, start, "errors_4xx_per_s")) >= 2
            )

        try:
            state = await _wait(monitor, busy, "requests on node1 and 404s on node3")
        finally:
            stop.set()
            sent = [await task for task in senders]
        assert min(sent) > 20
        first, third = _metrics(state, node1.name), _metrics(state, node3.name)
        assert first is not None and third is not None
        # ordinary requests: no 5xx, no 4xx; 404s: 4xx only (Tomcat's own count sees them)
        assert (
            _since(first, start, "errors_per_s") and max(_since(first, start, "errors_per_s")) == 0
        )
        assert max(_since(first, start, "errors_4xx_per_s")) == 0
        assert max(_since(third, start, "errors_per_s")) == 0
        assert max(_since(third, start, "errors_4xx_5xx_per_s")) > 5
        assert third.access is not None and third.access.file is not None
        today = time.strftime("%Y-%m-%d")
        assert third.access.file.startswith("logs/localhost_access_log.")
        assert third.access.file.endswith(".txt") and today in third.access.file

        # a page answering 500 on node2 moves node2's errors/s, and only node2's
        start = time.time()
        stop = threading.Event()
        sender = asyncio.create_task(
            asyncio.to_thread(_hammer, node2.http_url + "/app/error.jsp", stop)
        )

        def failing(s: ClusterState) -> bool:
            metrics = _metrics(s, node2.name)
            return (
                metrics is not None and metrics.at > start and (metrics.point.errors_per_s or 0) > 5
            )

        try:
            state = await _wait(monitor, failing, "errors/s above 5 on node2")
        finally:
            stop.set()
            assert await sender > 5
        second = _metrics(state, node2.name)
        assert second is not None and second.point.errors_per_s is not None
        assert max(_since(second, start, "errors_4xx_per_s")) == 0
        for other in (node1.name, node3.name):
            assert max(_since(_metrics(state, other), start, "errors_per_s"), default=0.0) == 0
        # the cross-check (above [metrics] max_errors_per_s, 1/s here) names node2 alone
        found = [p for p in problems(state) if p.code == "error-rate"]
        assert [p.node for p in found] == [node2.name]
        assert "(status 5xx in its access log" in found[0].text
