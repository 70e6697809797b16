"""Event latency on the sandbox: a membership line written on a node until it is in the state.

A real sandbox (its own directory, loopback 127.0.7.x) and the real monitor: SSH, the remote
follow loop, the scanner and the reducer. Lines are appended to node2's catalina.out one at a
time; the time from the write to the state holding the event is recorded. Reference in the same
run: the SSH round trip of a no-op command on the same connection (the floor under any remote
read).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from typing import Any

from console.cluster.state import ClusterState
from console.config import load_inventory
from console.monitor.runner import Monitor, MonitorOptions, first_round_done
from console.sandbox import manager
from console.sandbox.layout import SandboxLayout

NET = "127.0.7"
LINE = (
    "22-Nov-2026 11:59:01.358 INFO [StaticMembership-memberAdded] "
    "org.apache.catalina.ha.tcp.SimpleTcpCluster.memberAdded Replication member added:"
    "[org.apache.catalina.tribes.membership.StaticMember[tcp://{{127, 0, 9, {d}}}:{port},"
    "{{127, 0, 9, {d}}},{port}, alive=37, securePort=-1, UDP Port=-1, "
    "id={{0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2 }}, payload={{}}, command={{}}, domain={{}}]]\n"
)


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


async def _measure(layout: SandboxLayout, samples: int, gap: float) -> dict[str, Any]:
    inventory = load_inventory(layout.inventory)
    arrivals: dict[str, float] = {}

    def listener(state: ClusterState) -> None:
        if state.events:
            member = state.events[-1].event.member
            if member and member.startswith("127.0.9."):
                arrivals.setdefault(member, time.perf_counter())

    monitor = Monitor(inventory, MonitorOptions(read_only=True), on_change=listener)
    async with monitor:
        await monitor.wait_for(lambda s: first_round_done(s, inventory), 60)
        watch = monitor.watches[1]
        floor = []
        for _ in range(20):
            began = time.perf_counter()
            await watch.session.exec("true", timeout=10)
            floor.append((time.perf_counter() - began) * 1000)
        target = layout.nodes[1].catalina_out
        written: dict[str, float] = {}
        with target.open("a", encoding="utf-8") as log:
            for index in range(samples):
                port = 10000 + index
                member = f"127.0.9.{1 + index % 250}:{port}"
                log.write(LINE.format(d=1 + index % 250, port=port))
                log.flush()
                written[member] = time.perf_counter()
                await asyncio.sleep(gap)
        deadline = time.monotonic() + 10
        while len(arrivals) < samples and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    latencies = [(arrivals[m] - t) * 1000 for m, t in written.items() if m in arrivals]
    return {
        "samples": samples,
        "received": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(_percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1),
        "reference_ssh_roundtrip_p50_ms": round(statistics.median(floor), 2),
        "poll_interval_ms": MonitorOptions().poll_interval * 1000,
    }


def run(samples: int = 200, gap: float = 0.03) -> dict[str, Any]:
    """Bring up a sandbox, measure, bring it down; the JSON-ready result."""
    saved = {
        key: os.environ.get(key)
        for key in ("CLUSTERCONSOLE_SANDBOX_DIR", "CLUSTERCONSOLE_SANDBOX_NET")
    }
    with tempfile.TemporaryDirectory(prefix="cc-bench-latency-") as root:
        os.environ["CLUSTERCONSOLE_SANDBOX_DIR"] = root
        os.environ["CLUSTERCONSOLE_SANDBOX_NET"] = NET
        try:
            layout = manager.up(3, report=lambda _line: None)
            figures = asyncio.run(_measure(layout, samples, gap))
        finally:
            manager.down(report=lambda _line: None)
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    return {
        "name": "event_latency",
        **figures,
        "target": "p99 <= 250 ms from write to state",
        "met": figures["received"] == samples and figures["p99_ms"] <= 250,
    }
