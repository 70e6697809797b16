"""Fan-out to a simulated fleet: 500 NodeSessions and LogFollowers in one process.

The fleet is `tests.bench.sim_ssh` in another process (its CPU is not ours). Measured here: the
time until every session is up (connect semaphore of 32), then over 20 s of steady following at
10 lines/s per node the CPU of this process (% of one core) and its RSS. Every chunk goes through
`probes.logs.scanner.EventScanner` when that module exists; otherwise lines are only counted.
Reference in the same run: 20 more seconds with the scanner switched off (the follower's own
cost) and the simulator's CPU.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from probes.ssh.connection import NodeSession, SshStatus, SshTarget
from probes.tail.follow import LogFollower, TailData, TailReset

ADDR = "127.0.6.200"
BASE_PORT = 30000
LOG = "/opt/tomcat/logs/catalina.out"
TARGETS = {"connect_all_s": 3.0, "cpu_pct_one_core": 60.0, "rss_mb": 150.0}


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def simulator(
    directory: Path, nodes: int, *, lines_per_s: float = 10, burst_mb: float = 0, mix: str = "storm"
) -> Iterator[subprocess.Popen[str]]:
    """Run the simulated fleet in another process until the block ends."""
    command = [
        sys.executable, "-m", "tests.bench.sim_ssh", "--nodes", str(nodes),
        "--base-port", str(BASE_PORT), "--addr", ADDR, "--lines-per-s", str(lines_per_s),
        "--burst-mb", str(burst_mb), "--dir", str(directory), "--mix", mix,
    ]  # fmt: skip
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        command, cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline().strip()
        if ready != "READY":
            raise RuntimeError(f"the SSH simulator did not start (said {ready!r})")
        yield process
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def make_consumer(
    scanning: list[bool] | None = None,
) -> tuple[Callable[[TailData | TailReset], None], list[int], str]:
    """A chunk consumer feeding the event scanner when it exists (and `scanning[0]` holds);
    counts lines either way."""
    counts = [0, 0]  # lines, events
    scanning = scanning if scanning is not None else [True]
    try:
        from probes.logs.scanner import EventScanner  # written by another engineer
    except ImportError:
        scanner = None
        how = "lines counted with bytes.count (probes.logs.scanner not available)"
    else:
        scanner = EventScanner()
        how = "EventScanner.feed on every chunk"

    def consume(item: TailData | TailReset) -> None:
        if isinstance(item, TailData):
            counts[0] += item.data.count(b"\n")
            if scanner is not None and scanning[0]:
                counts[1] += len(scanner.feed(item.data))

    return consume, counts, how


async def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.01)


async def _steady(
    counters: list[list[int]], sim_pid: int, seconds: float
) -> tuple[int, float, float, float]:
    """Lines, wall seconds, our CPU % and the simulator's CPU % over `seconds` of following."""
    lines_before = sum(c[0] for c in counters)
    cpu0, sim0, wall0 = time.process_time(), cpu_seconds(sim_pid), time.perf_counter()
    await asyncio.sleep(seconds)
    wall = time.perf_counter() - wall0
    cpu = (time.process_time() - cpu0) / wall * 100
    sim_cpu = (cpu_seconds(sim_pid) - sim0) / wall * 100
    return sum(c[0] for c in counters) - lines_before, wall, cpu, sim_cpu


async def _measure(
    directory: Path, nodes: int, sim_pid: int, steady_s: float, poll_interval: float
) -> dict[str, Any]:
    limit = asyncio.Semaphore(32)
    up: set[str] = set()

    def on_status(status: SshStatus) -> None:
        if status.state == "up":
            up.add(status.node)

    sessions, followers, counters, how, scanning = [], [], [], "", [True]
    for index in range(nodes):
        target = SshTarget(
            node=f"sim{index}",
            host=ADDR,
            port=BASE_PORT + index,
            username="bench",
            client_keys=(str(directory / "id_client"),),
            known_hosts=str(directory / "known_hosts"),
        )
        session = NodeSession(target, on_status=on_status, connect_limit=limit)
        consume, counts, how = make_consumer(scanning)
        sessions.append(session)
        counters.append(counts)
        followers.append(LogFollower(session, LOG, on_chunk=consume, poll_interval=poll_interval))
    began = time.perf_counter()
    tasks = [asyncio.create_task(s.run()) for s in sessions]
    tasks += [asyncio.create_task(f.run()) for f in followers]
    try:
        await _wait(lambda: len(up) == nodes, 60, "every session to be up")
        connect_all = time.perf_counter() - began
        await _wait(lambda: all(f.position is not None for f in followers), 30, "every follower")
        await asyncio.sleep(2)  # settle: first frames, allocator warm-up
        lines, wall, cpu, sim_cpu = await _steady(counters, sim_pid, steady_s)
        rss = rss_mb()
        scanning[0] = False  # reference: the same fleet, the follower alone
        _, _, bare_cpu, _ = await _steady(counters, sim_pid, steady_s)
    finally:
        await asyncio.gather(*(s.close() for s in sessions))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "connect_all_s": round(connect_all, 2),
        "cpu_pct_one_core": round(cpu, 1),
        "rss_mb": round(rss, 1),
        "lines_received": lines,
        "lines_per_s": round(lines / wall),
        "events_found": sum(c[1] for c in counters),
        "consumer": how,
        "steady_s": round(wall, 1),
        "reference_follower_only_cpu_pct_one_core": round(bare_cpu, 1),
        "reference_simulator_cpu_pct_one_core": round(sim_cpu, 1),
    }


def run(nodes: int = 500, steady_s: float = 20.0, poll_interval: float = 0.1) -> dict[str, Any]:
    """Connect to `nodes` simulated nodes, follow one log on each, and measure this process.

    The simulated remote loop polls every `poll_interval` seconds like the real one, so a longer
    interval means fewer, larger frames (less per-packet and per-feed cost, more latency)."""
    with tempfile.TemporaryDirectory(prefix="cc-bench-fanout-") as root:
        directory = Path(root)
        with simulator(directory, nodes) as sim:
            figures = asyncio.run(_measure(directory, nodes, sim.pid, steady_s, poll_interval))
    met = all(figures[key] <= limit for key, limit in TARGETS.items())
    return {
        "name": "ssh_fanout",
        "nodes": nodes,
        "poll_interval_s": poll_interval,
        **figures,
        "targets": TARGETS,
        "met": met,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 500), indent=2))
