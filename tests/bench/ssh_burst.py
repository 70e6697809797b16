"""Burst throughput of one followed log: the simulator streams N MB as fast as we take it.

Measured: lines/s through LogFollower (chunk-based session and the frame parser) feeding
`probes.logs.scanner.EventScanner` when it exists, and through the follower alone; also lines per
second of this process's CPU (SSH, framing and scanning together), which a loaded machine
disturbs less than the wall clock. Reference in
the same run, on the same connection: the same bytes read with asyncssh's line reader
(`async for line in process.stdout`), the way most asyncssh code reads a remote log.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from probes.ssh.connection import NodeSession, SshTarget
from probes.tail.follow import LogFollower, TailData, TailReset
from tests.bench import ssh_fanout
from tests.bench.ssh_fanout import LOG, cpu_seconds, make_consumer, simulator

TARGET_LINES_PER_S = 1_000_000
ADDR, BASE_PORT = "127.0.6.201", 31000
"""Its own address and port: the fan-out benchmark's fleet (127.0.6.200:30000-) may be up."""


def _session(directory: Path) -> NodeSession:
    target = SshTarget(
        node="burst",
        host=ADDR,
        port=BASE_PORT,
        username="bench",
        client_keys=(str(directory / "id_client"),),
        known_hosts=str(directory / "known_hosts"),
    )
    return NodeSession(target)


async def _follow(session: NodeSession, total: int, scan: bool) -> tuple[float, int, float, str]:
    """Seconds, lines, CPU seconds and consumer for one follower to receive `total` bytes."""
    received = [0]
    done = asyncio.Event()
    if scan:
        consume, counts, how = make_consumer()
    else:
        counts, how = [0, 0], "lines counted with bytes.count"

        def consume(item: TailData | TailReset) -> None:
            if isinstance(item, TailData):
                counts[0] += item.data.count(b"\n")

    def on_chunk(item: TailData | TailReset) -> None:
        consume(item)
        if isinstance(item, TailData):
            received[0] += len(item.data)
            if received[0] >= total:
                done.set()

    follower = LogFollower(session, LOG, on_chunk=on_chunk)
    began, cpu = time.perf_counter(), time.process_time()
    task = asyncio.create_task(follower.run())
    try:
        await asyncio.wait_for(done.wait(), 300)
        return time.perf_counter() - began, counts[0], time.process_time() - cpu, how
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _line_reader(session: NodeSession) -> tuple[float, int]:
    conn = await session.connection()
    began = time.perf_counter()
    process = await conn.create_process("burst-cat", encoding=None)
    lines = 0
    async for _ in process.stdout:
        lines += 1
    return time.perf_counter() - began, lines


def per_s(lines: int, seconds: float) -> int:
    return round(lines / seconds)


async def _measure(directory: Path, total: int, sim_pid: int) -> dict[str, Any]:
    session = _session(directory)
    runner = asyncio.create_task(session.run())
    try:
        await asyncio.wait_for(session.connection(), 30)
        sim_cpu = cpu_seconds(sim_pid)
        scan_s, scan_lines, scan_cpu, how = await _follow(session, total, scan=True)
        sim_cpu = cpu_seconds(sim_pid) - sim_cpu
        bare_s, bare_lines, _, _ = await _follow(session, total, scan=False)
        ref_s, ref_lines = await _line_reader(session)
    finally:
        await session.close()
        await asyncio.gather(runner, return_exceptions=True)
    return {
        "lines": scan_lines,
        "lines_per_s": per_s(scan_lines, scan_s),
        "lines_per_cpu_s": per_s(scan_lines, scan_cpu),
        "mb_per_s": round(total / scan_s / (1 << 20), 1),
        "cpu_pct_one_core": round(scan_cpu / scan_s * 100, 1),
        "consumer": how,
        "reference_simulator_cpu_pct_one_core": round(sim_cpu / scan_s * 100, 1),
        "follower_only_lines_per_s": per_s(bare_lines, bare_s),
        "reference_line_reader_lines_per_s": per_s(ref_lines, ref_s),
        "reference_lines": ref_lines,
    }


def run(mb: int = 200) -> dict[str, Any]:
    """Stream `mb` MB through one follower (and the reference reader), for two line mixes.

    `busy`: an ordinary busy node (the events benchmark's catalina.out: few errors, rare cluster
    lines). `storm`: an error storm (a stack trace in one record of a hundred). Ingest is the
    follower alone (SSH, framing, line accounting); the scanner's event parsing comes on top.
    """
    mixes: dict[str, dict[str, Any]] = {}
    fleet = ssh_fanout.ADDR, ssh_fanout.BASE_PORT
    ssh_fanout.ADDR, ssh_fanout.BASE_PORT = ADDR, BASE_PORT  # where simulator() listens
    try:
        for mix in ("busy", "storm"):
            with tempfile.TemporaryDirectory(prefix="cc-bench-burst-") as root:
                directory = Path(root)
                with simulator(directory, 1, burst_mb=mb, mix=mix) as sim:
                    mixes[mix] = asyncio.run(_measure(directory, mb << 20, sim.pid))
    finally:
        ssh_fanout.ADDR, ssh_fanout.BASE_PORT = fleet
    ingest = min(figures["follower_only_lines_per_s"] for figures in mixes.values())
    return {
        "name": "ssh_burst",
        "mb": mb,
        "ingest_lines_per_s": ingest,
        "busy_with_events_lines_per_s": mixes["busy"]["lines_per_s"],
        "storm_with_events_lines_per_s": mixes["storm"]["lines_per_s"],
        "mixes": mixes,
        "targets": {"ingest_lines_per_s": TARGET_LINES_PER_S},
        "met": ingest >= TARGET_LINES_PER_S,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 200), indent=2))
