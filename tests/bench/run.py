"""Benchmarks (not tests): figures written as JSON, summarised in BENCHMARKS.md.

Run with `make bench` (or `python -m tests.bench.run --out DIR`). Each benchmark measures a
reference in the same run, because these machines are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any


def _timed(func: Any) -> tuple[float, Any]:
    began = time.perf_counter()
    result = func()
    return time.perf_counter() - began, result


def bench_sandbox(net: str = "127.0.3") -> dict[str, Any]:
    """Cold `sandbox up` of 3 nodes, a second (idempotent) `up`, and `down`.

    Reference: one bare JVM start (`java -version`) in the same run, the floor under each
    Tomcat node's start.
    """
    from console.sandbox import manager

    with tempfile.TemporaryDirectory(prefix="cc-bench-sandbox-") as root:
        os.environ["CLUSTERCONSOLE_SANDBOX_DIR"] = root
        os.environ["CLUSTERCONSOLE_SANDBOX_NET"] = net
        lines: list[str] = []
        try:
            cold, _ = _timed(lambda: manager.up(3, report=lines.append))
            warm, _ = _timed(lambda: manager.up(3, report=lines.append))
        finally:
            down, _ = _timed(lambda: manager.down(report=lines.append))
    node_starts = [
        float(match.group(1))
        for line in lines
        if (match := re.search(r"tomcat: started .* in ([0-9.]+) s", line))
    ]
    jvm, _ = _timed(lambda: subprocess.run(["java", "-version"], capture_output=True, check=True))
    return {
        "name": "sandbox",
        "nodes": 3,
        "cold_up_s": round(cold, 2),
        "warm_up_s": round(warm, 3),
        "down_s": round(down, 2),
        "tomcat_node_start_s": node_starts,
        "reference_jvm_start_s": round(jvm, 3),
        "target": "up under 60 s once packages are installed",
        "met": cold < 60,
    }


def _events_scan() -> dict[str, Any]:
    from tests.bench import events_scan

    return events_scan.run()


def _scan_cpu() -> dict[str, Any]:
    from tests.bench import scan_cpu

    return scan_cpu.run()


def _ssh_fanout() -> dict[str, Any]:
    from tests.bench import ssh_fanout

    return ssh_fanout.run()


def _ssh_burst() -> dict[str, Any]:
    from tests.bench import ssh_burst

    return ssh_burst.run()


def _event_latency() -> dict[str, Any]:
    from tests.bench import event_latency

    return event_latency.run()


BENCHMARKS = {
    "sandbox": bench_sandbox,
    "events_scan": _events_scan,
    "scan_cpu": _scan_cpu,
    "ssh_fanout": _ssh_fanout,
    "ssh_burst": _ssh_burst,
    "event_latency": _event_latency,
    "drain_proof": lambda: __import__("tests.bench.drain_proof", fromlist=["run"]).run(),
    "rolling_restart": lambda: __import__("tests.bench.rolling_restart", fromlist=["r"]).run(),
    "dashboard": lambda: __import__("tests.bench.dashboard", fromlist=["run"]).run(),
    "first_frame": lambda: __import__("tests.bench.first_frame", fromlist=["x"]).run(),
    "metrics": lambda: __import__("tests.bench.metrics", fromlist=["run"]).run(),
    "deploy_sync": lambda: __import__("tests.bench.deploy_sync", fromlist=["run"]).run(),
    "add_node": lambda: __import__("tests.bench.add_node", fromlist=["run"]).run(),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="bench-results", help="directory for the JSON results")
    parser.add_argument(
        "--only", action="append", choices=sorted(BENCHMARKS), help="run only these (repeatable)"
    )
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = [BENCHMARKS[name]() for name in (args.only or BENCHMARKS)]
    machine = {"python": platform.python_version(), "cpus": os.cpu_count()}
    for result in results:
        path = out / f"{result['name']}.json"
        path.write_text(json.dumps({**result, "machine": machine}, indent=2) + "\n")
        print(f"{path}: {json.dumps(result)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
