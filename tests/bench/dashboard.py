"""Dashboard cost: 500 nodes fed synthetic observations every second, headless; and the time
from process start to the first dashboard frame on the sandbox (in tmux).

Reference measured in the same run: applying the same observations to the state without any
view (the reducer's share), so the figure for the view is the difference.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

NODES = 500
SECONDS = 10
ROOT = Path(__file__).resolve().parents[2]


def _inventory(tmp: Path, nodes: int) -> Any:
    from console.config import load_inventory_text

    lines = ['[cluster]\nname = "bench"\n']
    for index in range(nodes):
        a, b = divmod(index, 250)
        lines.append(
            f'[[nodes]]\nname = "node{index}"\nhost = "10.9.{a}.{b + 1}"\n'
            f'catalina_base = "/opt/tomcat"\nhttp = "http://10.9.{a}.{b + 1}:8080/app/"\n'
            f'jvm_route = "r{index}"\n'
        )
    lines.append('[[balancers]]\nname = "httpd"\nkind = "apache"\nurl = "http://10.9.9.9/bm"\n')
    text = "\n".join(lines)
    path = tmp / "cluster.toml"
    path.write_text(text)
    return load_inventory_text(text, path)


def _batch(second: int, nodes: int) -> list[Any]:
    from console.observations import BalancerObserved, HttpObserved, ProcessObserved, SshObserved
    from probes.balancer import Balancer, BalancerPage, make_worker
    from probes.http import HttpCheck
    from probes.process import TomcatProcess

    now = 1_795_000_000.0 + second
    found: list[Any] = []
    rng = random.Random(second)
    for index in range(nodes):
        name = f"node{index}"
        a, b = divmod(index, 250)
        url = f"http://10.9.{a}.{b + 1}:8080/app/"
        if second == 0:
            found.append(SshObserved(name, "up", None, now))
            found.append(ProcessObserved(name, TomcatProcess("running", 100 + index), now))
        found.append(HttpObserved(name, HttpCheck(url, 200, rng.uniform(1, 30)), now))
    workers = tuple(
        make_worker(
            f"http://10.9.{i // 250}.{i % 250 + 1}:8080",
            route=f"r{i}",
            status="Init Ok",
            elected=second * 10 + i % 7 * second,
            busy=rng.randint(0, 3),
        )
        for i in range(nodes)
    )
    page = BalancerPage("http://10.9.9.9/bm", (Balancer("cluster", "n", workers),))
    found.append(BalancerObserved("httpd", page, None, now))
    return found


async def _measure(nodes: int, seconds: int) -> dict[str, Any]:
    from console.app import ClusterConsoleApp
    from console.state import ClusterState

    with tempfile.TemporaryDirectory(prefix="cc-bench-dash-") as tmp:
        inventory = _inventory(Path(tmp), nodes)
        batches = [_batch(second, nodes) for second in range(seconds + 1)]

        # Reference: the reducer alone, same observations.
        state = ClusterState.initial(inventory)
        began = time.process_time()
        for batch in batches:
            for observation in batch:
                state = state.apply(observation)
        reducer_s = time.process_time() - began

        app = ClusterConsoleApp(inventory, monitor=False, reload=False)
        async with app.run_test(size=(200, 55)) as pilot:
            for observation in batches[0]:
                app.apply(observation)
            app.deliver_now()
            await pilot.pause()
            per_batch: list[float] = []
            cpu_began, wall_began = time.process_time(), time.perf_counter()
            for batch in batches[1:]:
                tick = time.perf_counter()
                for observation in batch:
                    app.apply(observation)
                app.deliver_now()
                await pilot.pause()  # the refresh that follows
                per_batch.append((time.perf_counter() - tick) * 1000)
                await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - tick)))
            cpu = time.process_time() - cpu_began
            wall = time.perf_counter() - wall_began
    return {
        "cpu_percent_of_one_core": round(100 * cpu / wall, 1),
        "ms_per_batch_median": round(statistics.median(per_batch), 1),
        "ms_per_batch_max": round(max(per_batch), 1),
        "reference_reducer_ms_per_batch": round(reducer_s * 1000 / len(batches), 1),
    }


def run() -> dict[str, Any]:
    result = asyncio.run(_measure(NODES, SECONDS))
    met = result["cpu_percent_of_one_core"] <= 10 and result["ms_per_batch_median"] <= 100
    return {
        "name": "dashboard",
        "nodes": NODES,
        "seconds": SECONDS,
        **result,
        "target": "<= 10% of one core and <= 100 ms per update batch",
        "met": met,
    }


def _tmux_first_frame(env: dict[str, str], names: list[str]) -> float:
    session = f"cc-bench-ff-{os.getpid()}"
    exports = " ".join(f"{key}={value}" for key, value in env.items())
    console = ROOT / ".venv" / "bin" / "clusterconsole"
    began = time.perf_counter()
    subprocess.run(
        [
            "tmux",
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            "160",
            "-y",
            "45",
            f"env {exports} {console} --sandbox",
        ],
        check=True,
    )
    try:
        deadline = began + 30
        while time.perf_counter() < deadline:
            shown = subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
            ).stdout
            if all(name in shown for name in names) and "problems" in shown:
                return time.perf_counter() - began
            time.sleep(0.01)
        raise RuntimeError("no dashboard frame within 30 s")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def run_first_frame(net: str = "127.0.4") -> dict[str, Any]:
    """Time from starting `clusterconsole --sandbox` to its first dashboard frame (in tmux)."""
    from console.sandbox import manager

    with tempfile.TemporaryDirectory(prefix="cc-bench-ff-") as root:
        os.environ["CLUSTERCONSOLE_SANDBOX_DIR"] = root
        os.environ["CLUSTERCONSOLE_SANDBOX_NET"] = net
        env = {
            "CLUSTERCONSOLE_SANDBOX_DIR": root,
            "CLUSTERCONSOLE_SANDBOX_NET": net,
            "CLUSTERCONSOLE_AUDIT_LOG": os.devnull,
            "TERM": "xterm-256color",
        }
        try:
            layout = manager.up(3, report=lambda line: None)
            names = [node.name for node in layout.nodes]
            times = [_tmux_first_frame(env, names) for _ in range(5)]
        finally:
            manager.down(report=lambda line: None)
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import textual.app"], check=True)
    reference = time.perf_counter() - began
    first = statistics.median(times)
    return {
        "name": "first_frame",
        "runs_s": [round(t, 3) for t in times],
        "median_s": round(first, 3),
        "reference_python_import_textual_s": round(reference, 3),
        "target": "<= 0.6 s from start to the first dashboard frame",
        "met": first <= 0.6,
    }
