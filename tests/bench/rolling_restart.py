"""The proof of issue 12: `clusterconsole --wizard rolling-restart --yes --json` under sticky
load loses nothing.

The sandbox's sticky load (console.sandbox.load: 20 clients, each with its own cookie jar, one
request in flight each, asked for 130 requests/s) runs through the balancer while the wizard
restarts every node in turn as a subprocess, exactly as a runbook would run it. Figures: the
requests, the achieved rate, failures and session-counter breaks, and each node's restart
duration (from the wizard's own progress events: the first to the last event of that node's
steps), with the time each node's steps waited.

The scenario is shared with tests/sandbox/test_rolling_restart.py, which asserts on it.

Run alone: `.venv/bin/python -m tests.bench.run --only rolling_restart --out bench-results`
(starts its own sandbox on 127.0.8.x and always stops it).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.sandbox.layout import SandboxLayout
from console.sandbox.load import LoadGenerator
from tests.bench.drain_proof import (
    CLIENTS,
    MIN_RATE,
    RATE,
    REQUEST_TIMEOUT,
    LoadedWizardRun,
    WizardRun,
    _wait_warm,
    audit_pairs,
    restore,
    run_wizard,
    warm_nodes,
)

BENCH_NET = "127.0.8"
WIZARD = "rolling-restart"
PER_NODE_TIMEOUT = 300.0


@dataclass(frozen=True, slots=True)
class NodeTiming:
    node: str
    duration_s: float
    waited_s: float
    steps: int

    def to_json(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "duration_s": round(self.duration_s, 1),
            "waited_s": round(self.waited_s, 1),
            "steps": self.steps,
        }


def node_timings(run: WizardRun) -> list[NodeTiming]:
    """Each node's part of the run: from its first step's start to its last step's end."""
    found: dict[str, list[float]] = {}
    steps: dict[str, set[str]] = {}
    for event in run.events:
        node, at = event.get("node"), event.get("time")
        step = str(event.get("step") or "")
        if not isinstance(at, int | float) or "/" not in step or not isinstance(node, str):
            continue
        found.setdefault(node, []).append(float(at))
        steps.setdefault(node, set()).add(step)
    waited: dict[str, float] = {}
    for timing in run.steps:
        node = timing.name.split("/", 1)[0]
        waited[node] = waited.get(node, 0.0) + timing.waited_s
    return [
        NodeTiming(node, max(times) - min(times), waited.get(node, 0.0), len(steps[node]))
        for node, times in found.items()
    ]


@dataclass(slots=True)
class RollingRun(LoadedWizardRun):
    nodes: tuple[str, ...] = ()
    clients_before: dict[str, tuple[int, ...]] | None = None
    """For each node, the clients whose session lived there before the run."""

    def figures(self) -> dict[str, Any]:
        assert self.run is not None
        return {
            **self.load_figures(),
            "per_node": [timing.to_json() for timing in node_timings(self.run)],
            "clients_on_each_node_before": {
                node: len(indexes) for node, indexes in (self.clients_before or {}).items()
            },
        }


async def rolling_restart_under_load(
    layout: SandboxLayout,
    nodes: Sequence[str] | None = None,
    *,
    audit_log: Path,
    clients: int = CLIENTS,
    rate: float = RATE,
) -> RollingRun:
    """Start the load, run the wizard over `nodes` (default every node), stop the load. The
    cluster is not restored here: callers use `restore()` in a finally."""
    chosen = tuple(nodes or [node.name for node in layout.nodes])
    routes = tuple(node.jvm_route for node in layout.nodes)
    result = RollingRun(nodes=chosen)
    await warm_nodes(layout)
    load = LoadGenerator(layout.app_url, clients, rate, REQUEST_TIMEOUT, routes=routes)
    await load.start()
    try:
        result.warm = await _wait_warm(load)
        start = load.snapshot()
        result.clients_before = {
            node.name: start.clients_on(node.jvm_route) for node in layout.nodes
        }
        result.run = await run_wizard(
            WIZARD,
            "",
            nodes=chosen,
            inventory=layout.inventory,
            audit_log=audit_log,
            timeout=PER_NODE_TIMEOUT * len(chosen),
        )
    finally:
        result.report = await load.stop()
    return result


def run(net: str = BENCH_NET) -> dict[str, Any]:
    """Bring up a sandbox on `net`, restart every node under load; always bring it down."""
    from console.sandbox import manager

    keys = ("CLUSTERCONSOLE_SANDBOX_DIR", "CLUSTERCONSOLE_SANDBOX_NET")
    saved = {key: os.environ.get(key) for key in keys}
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="cc-bench-rolling-") as root:
        os.environ["CLUSTERCONSOLE_SANDBOX_DIR"] = root
        os.environ["CLUSTERCONSOLE_SANDBOX_NET"] = net
        try:
            layout = manager.up(3, report=lines.append)
            audit = Path(root) / "audit.jsonl"

            async def scenario() -> tuple[RollingRun, list[str]]:
                try:
                    result = await rolling_restart_under_load(layout, audit_log=audit)
                finally:
                    restored = await restore(layout)
                return result, restored

            began = time.monotonic()
            result, restored = asyncio.run(scenario())
            total = time.monotonic() - began
            pairs, unpaired, failed = (
                audit_pairs(audit) if audit.exists() else ({}, ["no audit log"], [])
            )
        finally:
            manager.down(report=lines.append)
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    return {
        "name": "rolling_restart",
        "clients": CLIENTS,
        "target_rate": RATE,
        **result.figures(),
        "audit": {"changes": len(pairs), "unpaired": unpaired, "not_ok": failed},
        "restored": restored,
        "total_s": round(total, 1),
        "target": (
            f"--wizard rolling-restart of every node under >= {CLIENTS} sticky clients at >= "
            f"{MIN_RATE:g} req/s: 0 failed requests, 0 counter breaks, exit 0, every change "
            "audited before/after"
        ),
        "met": result.ok() and not unpaired and not failed,
    }
