"""How long `clusterconsole doctor` takes on a running sandbox (target: under 5 s for 3 nodes).

Runs the doctor N times on the sandbox of $CLUSTERCONSOLE_SANDBOX_DIR / _NET (start one with
`clusterconsole sandbox up`), with the floor measured in the same run: one SSH connect and one
command on every node at once, which every doctor run pays before reading anything.

    .venv/bin/python -m tests.bench.doctor_run [RUNS]
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from console.config import load_inventory
from console.doctor.run import run_doctor
from console.monitor.node_watch import ssh_target
from console.sandbox.layout import current_layout
from probes.ssh.connection import NodeSession


async def _floor(inventory: Any) -> float:
    sessions = [NodeSession(ssh_target(inventory, node)) for node in inventory.nodes]
    tasks = [asyncio.create_task(session.run()) for session in sessions]
    began = time.perf_counter()
    try:
        await asyncio.gather(*(s.exec("true", timeout=30) for s in sessions))
        return time.perf_counter() - began
    finally:
        await asyncio.gather(*(s.close() for s in sessions))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def run(runs: int = 5) -> dict[str, Any]:
    inventory = load_inventory(current_layout().inventory)
    seconds, findings = [], []
    with tempfile.TemporaryDirectory() as memory:
        for _ in range(runs):
            report = asyncio.run(run_doctor(inventory, memory=Path(memory) / "keys.json"))
            seconds.append(round(report.seconds, 2))
            findings.append(len(report.findings))
    floor = asyncio.run(_floor(inventory))
    median = statistics.median(seconds)
    return {
        "name": "doctor_run",
        "nodes": len(inventory.nodes),
        "runs_s": seconds,
        "median_s": median,
        "findings": findings,
        "reference_ssh_connect_and_command_s": round(floor, 2),
        "target": "a doctor run on a 3-node sandbox under 5 s",
        "met": median < 5,
    }


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 5)))
