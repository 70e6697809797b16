"""Nodes' figures at scale: 500 simulated Tomcat managers polled every 5 s, and the dashboard at
1 Hz with those figures flowing in.

1. Polling: a server in another process answers, for 500 nodes (``/nodeN/manager/...``), the
   status page and the JMX proxy as Tomcat 10.1 does (the recorded sandbox pages, counters moving
   with time). The console's own poll (`console.monitor.metrics_poll.metrics_poll`: httpx, both
   pages,
   parsing, the reducer) runs for every node in this process for `POLL_WINDOWS` windows of
   `POLL_SECONDS`; measured: this process's CPU share of one core (the windows' median, each
   window's share beside it) and its RSS. Reference in the same run: the same number of
   GETs of a tiny page with the same client (the HTTP client's share).
2. Dashboard: `tests.bench.dashboard`'s 500-node run at 1 Hz (HTTP checks and a 500-worker
   balancer page each second) plus one `MetricsObserved` per node every 5 s (100 a second), so
   the figures, their history and the cross-checks on them are in every batch. Reference in the
   same run: the same dashboard run without the figures.
3. Access log: every simulated node also answers the access-log read of each poll (the
   framed output of `probes.metrics.access_tail`'s script: the lines written since the
   previous read, 10 a second with one 500 in ten), so polling includes counting them; the
   same poll with no access log to read is run after it as the same-run reference. Measured
   apart in the same run: the parse cost per line (lines per CPU-second) of a mixed block of
   sandbox, common and combined lines, straight (`count_lines`) and through the read's framing
   and the line-joining parser (`parse_output`).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import resource
import socket
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

NODES = 500
INTERVAL = 5.0
POLL_SECONDS = 30.0
POLL_WINDOWS = 3
"""The poll is measured over this many consecutive windows of POLL_SECONDS; the figure is their
median (a 30 s window moved by up to 4 points of a core on this 2-core VM with nothing else
changing), each window's figure is reported beside it."""
DASHBOARD_SECONDS = 20
DATA = Path(__file__).resolve().parents[1] / "unit" / "data" / "tomcat_manager"


def _status_page(node: int, now: float) -> bytes:
    requests = int(now * 10) + node
    page = (DATA / "status-tomcat10.1.xml").read_text()
    page = page.replace('requestCount="2"', f'requestCount="{requests}"')
    page = page.replace('processingTime="736"', f'processingTime="{requests * 4}"')
    page = page.replace('errorCount="1"', f'errorCount="{requests // 100}"')
    return page.encode()


def address(index: int) -> str:
    """Node `index`'s own loopback address (each node is a host of its own, as in a cluster)."""
    a, b = divmod(index, 250)
    return f"127.70.{a}.{b + 1}"


def _serve(port_pipe: Any, nodes: int) -> None:
    """The managers: one asyncio server listening on every node's address, keep-alive."""
    jmx = (DATA / "jmxproxy-managers-tomcat10.1.txt").read_bytes()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1].decode()
                a, b = writer.get_extra_info("sockname")[0].split(".")[2:]
                node = int(a) * 250 + int(b) - 1
                if "/status" in path:
                    body = _status_page(node, time.time())
                elif "/jmxproxy" in path:
                    body = jmx
                else:
                    body = b"ok"
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError, IndexError):
            writer.close()

    async def main() -> None:
        with socket.socket() as probe:
            probe.bind((address(0), 0))
            port = probe.getsockname()[1]
        hosts = [address(index) for index in range(nodes)]
        server = await asyncio.start_server(handle, hosts, port, backlog=1024)
        port_pipe.send(port)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def _inventory(tmp: Path, port: int, nodes: int) -> Any:
    from console.config import load_inventory_text

    secret = tmp / "pw"
    secret.write_text("bench\n")
    secret.chmod(0o600)
    lines = ['[cluster]\nname = "bench"\n']
    for index in range(nodes):
        a, b = divmod(index, 250)
        lines.append(
            f'[[nodes]]\nname = "node{index}"\nhost = "10.9.{a}.{b + 1}"\n'
            f'catalina_base = "/opt/tomcat"\nhttp = "http://10.9.{a}.{b + 1}:8080/app/"\n'
            f'manager_url = "http://{address(index)}:{port}/manager"\n'
        )
    lines.append(f'[metrics]\nmanager_user = "console"\npassword_file = "{secret}"\n')
    text = "\n".join(lines)
    path = tmp / "cluster.toml"
    path.write_text(text)
    return load_inventory_text(text, path)


ACCESS_FILE = "logs/localhost_access_log.2026-12-06.txt"
ACCESS_FIGURES = ("errors_per_s", "errors_4xx_per_s")
_OK = b'10.0.0.9 - - [06/Dec/2026:14:00:01 +0000] "GET /app/ HTTP/1.1" 200 31 4\n'
_FAIL = b'10.0.0.9 - - [06/Dec/2026:14:00:01 +0000] "GET /app/error.jsp HTTP/1.1" 500 30 2\n'
_COMBINED = (
    b'10.0.0.9 - - [06/Dec/2026:14:00:01 +0000] "GET /app/a.css HTTP/1.1" 404 - '
    b'"https://example.test/app/" "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Firefox/128.0"\n'
)


class AccessLogNodes:
    """What each simulated node's access-log read answers: 10 lines a second since its
    previous read (one 500 in ten), framed as the remote script frames them."""

    def __init__(self) -> None:
        self.last: dict[int, float] = {}
        self.offset: dict[int, int] = {}
        self.lines = 0
        self._blocks: dict[int, bytes] = {}  # by line count: the simulator's own cost stays low

    async def run(self, node: int, command: str, timeout: float) -> bytes:
        if "clusterconsole-access" not in command:
            raise RuntimeError("the simulated node only answers the access-log read")
        now = time.monotonic()
        before = self.last.get(node)
        self.last[node] = now
        if before is None:
            return f"O 1 0 {ACCESS_FILE}\n".encode()
        count = max(1, round((now - before) * 10))
        block = self._blocks.get(count)
        if block is None:
            block = b"".join(_FAIL if i % 10 == 9 else _OK for i in range(count))
            self._blocks[count] = block
        start = self.offset.get(node, 0)
        self.offset[node] = start + len(block)
        self.lines += count
        return f"D 1 {start} {len(block)} {ACCESS_FILE}\n".encode() + block


def _parse_cost(lines: int = 300_000, rounds: int = 5) -> dict[str, Any]:
    """Lines per CPU-second of the access log's counting, straight and through a read."""
    from probes.metrics.access_log import count_lines
    from probes.metrics.access_tail import TailState, parse_output

    pattern = [_OK] * 6 + [_COMBINED] * 3 + [_FAIL]
    block = b"".join(pattern[i % len(pattern)] for i in range(lines))
    cpu = time.process_time()
    for _ in range(rounds):
        counts = count_lines(block)
    straight = time.process_time() - cpu
    assert counts.requests == lines and counts.status_5xx == lines // 10
    framed = f"D 1 0 {len(block)} {ACCESS_FILE}\n".encode() + block
    cpu = time.process_time()
    for _ in range(rounds):
        state = TailState(ACCESS_FILE, 1, 0)
        read = parse_output(framed, state)
    through = time.process_time() - cpu
    assert read.counts is not None and read.counts.status_4xx == 3 * lines // 10
    return {
        "lines": lines * rounds,
        "bytes_per_line": round(len(block) / lines, 1),
        "lines_per_cpu_second": round(lines * rounds / straight),
        "lines_per_cpu_second_through_a_read": round(lines * rounds / through),
    }


def _rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _poll(
    port: int, nodes: int, seconds: float, *, access_log: bool, windows: int = POLL_WINDOWS
) -> dict[str, Any]:
    import httpx

    from console.cluster.observations import Observation, SshObserved
    from console.cluster.state import ClusterState
    from console.monitor.metrics_poll import metrics_poll
    from console.monitor.tasks import Pacer

    with tempfile.TemporaryDirectory(prefix="cc-bench-metrics-") as tmp:
        inventory = _inventory(Path(tmp), port, nodes)
        holder = [ClusterState.initial(inventory)]
        for node in inventory.nodes:  # SSH up: the access log is read on every poll
            holder[0] = holder[0].apply(SshObserved(node.name, "up", None, time.time()))
        access = AccessLogNodes()
        reads = [0]

        def observe(observation: Observation) -> None:
            holder[0] = holder[0].apply(observation)
            reads[0] += 1

        pacer = Pacer()
        tasks = [
            asyncio.create_task(
                metrics_poll(
                    inventory,
                    node,
                    observe,
                    pacer,
                    lambda: holder[0],
                    partial(access.run, index) if access_log else None,
                    deadline=5.0,
                    interval=INTERVAL,
                    phase=index / nodes,
                )
            )
            for index, node in enumerate(inventory.nodes)
        ]
        # the first two reads of every node come at once (the start); then each node reads at
        # its own phase of the interval: the steady state is measured after both
        await asyncio.sleep(2 * INTERVAL + 2)
        first_reads, first_lines = reads[0], access.lines
        shares: list[float] = []
        began = time.perf_counter()
        for _ in range(windows):
            cpu, wall = time.process_time(), time.perf_counter()
            await asyncio.sleep(seconds)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            shares.append(100 * cpu / wall)
        wall = time.perf_counter() - began
        steady = reads[0] - first_reads
        lines = access.lines - first_lines
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        rss = _rss_mb()
        state = holder[0]
        known = sum(
            1
            for view in state.nodes
            if view.metrics is not None
            and view.metrics.point.requests_per_s is not None
            and (view.metrics.point.errors_per_s is not None or not access_log)
        )
        failed = sum(
            1
            for view in state.nodes
            if view.metrics is not None
            and set(view.metrics.missing) - (set() if access_log else {*ACCESS_FIGURES})
        )
        # Reference: the same pages read as often with httpx (what it would cost with it).
        timeout = httpx.Timeout(5.0, connect=3.0)
        async with httpx.AsyncClient(timeout=timeout) as client:
            ref_cpu = time.process_time()
            for start in range(0, steady, 25):
                batch = range(start, min(steady, start + 25))
                await asyncio.gather(
                    *(
                        client.get(f"http://{address(i % nodes)}:{port}/manager/{page}")
                        for i in batch
                        for page in ("status?XML=true", "jmxproxy/?qry=x")
                    )
                )
            ref_cpu = time.process_time() - ref_cpu
    return {
        "reads_per_s": round(steady / wall, 1),
        "access_log_lines_per_s": round(lines / wall, 1),
        "cpu_percent_of_one_core": round(statistics.median(shares), 1),
        "cpu_percent_per_window": [round(share, 1) for share in shares],
        "window_s": seconds,
        "rss_mb": round(rss, 1),
        "nodes_with_rates": known,
        "nodes_with_a_missing_figure": failed,
        "reference_httpx_cpu_percent": round(100 * ref_cpu / wall, 1),
    }


def _dashboard(nodes: int, seconds: int) -> dict[str, Any]:
    from console.cluster.observations import MetricsObserved
    from probes.metrics.access_log import AccessCounts
    from probes.metrics.access_tail import AccessRead
    from probes.metrics.tomcat_manager import parse_jmx_sessions, parse_status
    from tests.bench import dashboard

    jmx = parse_jmx_sessions((DATA / "jmxproxy-managers-tomcat10.1.txt").read_text())
    original = dashboard._batch

    def batch(second: int, nodes: int) -> list[Any]:
        found = original(second, nodes)
        now = 1_795_000_000.0 + second
        from probes.metrics.tomcat_manager import ManagerSample

        for index in range(nodes):
            if index % int(INTERVAL) != second % int(INTERVAL):
                continue
            status = parse_status(_status_page(index, now))
            sample = ManagerSample(status, None, jmx, None, 3.0)
            access = AccessRead(AccessCounts(50, 0, 5, 0), None, ACCESS_FILE)
            since = now - INTERVAL
            found.append(
                MetricsObserved(f"node{index}", sample, None, now, None, 1.0, access, since)
            )
        return found

    dashboard._batch = batch
    try:
        return asyncio.run(dashboard._measure(nodes, seconds))
    finally:
        dashboard._batch = original


def run() -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    here, there = context.Pipe()
    server = context.Process(target=_serve, args=(there, NODES), daemon=True)
    server.start()
    try:
        port = int(here.recv())
        with socket.create_connection((address(NODES - 1), port), timeout=5):
            pass
        poll = asyncio.run(_poll(port, NODES, POLL_SECONDS, access_log=True))
        # Reference in the same run: the same poll with no access log to read (run=None)
        bare = asyncio.run(_poll(port, NODES, POLL_SECONDS, access_log=False))
    finally:
        server.terminate()
        server.join(5)
    dash = _dashboard(NODES, DASHBOARD_SECONDS)
    # Reference: the same dashboard run without the figures, in this run (the machine is noisy)
    from tests.bench import dashboard

    plain = asyncio.run(dashboard._measure(NODES, DASHBOARD_SECONDS))
    parse = _parse_cost()
    met = (
        poll["cpu_percent_of_one_core"] <= 10
        and dash["cpu_percent_of_one_core"] <= 10
        and dashboard.within_batch_target(dash)
        and poll["nodes_with_rates"] == NODES
    )
    return {
        "name": "metrics",
        "nodes": NODES,
        "interval_s": INTERVAL,
        "poll": poll,
        "reference_poll_without_access_log": bare,
        "dashboard": dash,
        "reference_dashboard_without_figures": plain,
        "access_log_parse": parse,
        "target": (
            "polling and dashboard each <= 10% of one core (the poll: median of its windows); "
            "<= 100 ms per dashboard batch (its CPU, and its wall time less the harness's idle "
            "floor)"
        ),
        "met": met,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
