"""The nodes' figures read from the real Tomcat manager on the sandbox: sessions created through
the balancer, a burst of requests, a page answering 500; a manager that refuses or is absent
gives its reason (and SSH's figures) while the rest keeps working."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from console.cluster.metrics import NodeMetrics
from console.cluster.state import ClusterState
from console.config import load_inventory
from console.monitor.runner import Monitor, MonitorOptions
from console.sandbox.layout import SandboxLayout

from .helpers import HTTP_TIMEOUT, app_get, new_user

pytestmark = pytest.mark.sandbox

# The node URL poll asks /app/ without a cookie, so each read makes a session on that node: it is
# read once at start and then left alone, or it would add its own sessions to the counts below.
OPTIONS = MonitorOptions(read_only=True, metrics_interval=1.0, http_interval=3600.0)
WAIT = 60.0
SESSIONS = 6


async def _wait(
    monitor: Monitor, predicate: Callable[[ClusterState], bool], what: str
) -> ClusterState:
    """`monitor.wait_for`, failing with every node's figures and reasons when it times out."""
    try:
        return await monitor.wait_for(predicate, WAIT)
    except TimeoutError:
        seen = {
            view.name: (
                view.ssh,
                view.tomcat,
                view.metrics and view.metrics.point,
                view.metrics and dict(view.metrics.missing),
                view.metrics and _app(view.metrics),
            )
            for view in monitor.state.nodes
        }
        raise AssertionError(f"no {what} within {WAIT:g} s: {seen}") from None


def _metrics(state: ClusterState, node: str) -> NodeMetrics | None:
    return state.node(node).metrics


def _app(metrics: NodeMetrics | None) -> tuple[int, int, int] | None:
    """/app's active sessions, sessions created here and received from peers."""
    if metrics is None:
        return None
    for app in metrics.apps:
        if app.context == "/app" and None not in (app.active, app.sent_created):
            return app.active or 0, app.sent_created or 0, app.received_created or 0
    return None


async def test_sessions_created_through_the_balancer_show_on_the_node_that_created_them(
    sandbox: SandboxLayout,
) -> None:
    inventory = load_inventory(sandbox.inventory)
    names = [node.name for node in sandbox.nodes]
    async with Monitor(inventory, OPTIONS) as monitor:

        def in_step(s: ClusterState) -> bool:
            """Every node's /app figures read, the same active count on all (a node that just
            started may still be receiving its peers' sessions)."""
            figures = [_app(_metrics(s, n)) for n in names]
            return all(figures) and len({f[0] for f in figures if f}) == 1

        # Each node's URL is read once at start, and that read makes a session: count it in
        # `before` by waiting for a figures read taken after every node's URL answered.
        await _wait(
            monitor, lambda s: all(s.node(n).http is not None for n in names), "every URL read"
        )
        urls_read = time.time()

        def settled(s: ClusterState) -> bool:
            figures = [_metrics(s, n) for n in names]
            fresh = all(m is not None and m.at > urls_read + 0.5 for m in figures)
            return fresh and in_step(s)

        state = await _wait(monitor, settled, "/app figures in step on every node")
        before = {name: _app(_metrics(state, name)) for name in names}

        def create() -> Counter[str]:
            made: Counter[str] = Counter()
            for _ in range(SESSIONS):
                with new_user() as client:
                    made[app_get(client, sandbox.app_url).node] += 1
            return made

        made = await asyncio.to_thread(create)
        assert sum(made.values()) == SESSIONS

        def risen(s: ClusterState) -> bool:
            for name in names:
                now, old = _app(_metrics(s, name)), before[name]
                if now is None or old is None:
                    return False
                mine = made.get(name, 0)
                # created here: exactly its own; received: the others' copies (DeltaManager)
                if now[1] - old[1] != mine or now[2] - old[2] != SESSIONS - mine:
                    return False
                if now[0] - old[0] != SESSIONS:  # every node holds every session
                    return False
            return True

        try:
            state = await monitor.wait_for(risen, WAIT)
        except TimeoutError:
            now = {name: _app(_metrics(monitor.state, name)) for name in names}
            missing = {
                name: dict(m.missing) if (m := _metrics(monitor.state, name)) else None
                for name in names
            }
            raise AssertionError(
                f"made {dict(made)}; before {before}; now {now}; {missing}"
            ) from None
        for name in names:
            metrics = _metrics(state, name)
            assert metrics is not None and metrics.source == "manager"
            assert metrics.point.heap_used_bytes and metrics.point.heap_max_bytes
            assert metrics.point.threads_max and metrics.point.threads_busy is not None


def _hammer(url: str, stop: threading.Event) -> int:
    """GET `url` as fast as one client can until `stop`; how many answers came back."""
    count = 0
    with httpx.Client(timeout=HTTP_TIMEOUT) as client:
        while not stop.is_set():
            client.get(url)
            count += 1
    return count


async def _moves(
    monitor: Monitor, url: str, node: str, figure: str, above: float
) -> tuple[float, int]:
    """Hit `url` until `node`'s `figure` is above `above`; the figure seen and requests sent."""
    stop = threading.Event()
    sent = asyncio.create_task(asyncio.to_thread(_hammer, url, stop))

    def seen(s: ClusterState) -> bool:
        metrics = _metrics(s, node)
        value = metrics.point.figure(figure) if metrics is not None else None
        return value is not None and value > above

    try:
        state = await _wait(monitor, seen, f"{figure} above {above:g} on {node}")
    finally:
        stop.set()
        count = await sent
    metrics = _metrics(state, node)
    assert metrics is not None
    value = metrics.point.figure(figure)
    assert value is not None
    return float(value), count


async def test_a_burst_moves_requests_and_a_500_page_moves_errors(sandbox: SandboxLayout) -> None:
    inventory = load_inventory(sandbox.inventory)
    node1, node2 = sandbox.nodes[0], sandbox.nodes[1]
    async with Monitor(inventory, OPTIONS) as monitor:
        await _wait(
            monitor,
            lambda s: all(
                (m := _metrics(s, n.name)) is not None and m.point.requests_per_s is not None
                for n in (node1, node2)
            ),
            "rates on node1 and node2",
        )
        quiet = _metrics(monitor.state, node1.name)
        assert quiet is not None and quiet.point.requests_per_s is not None
        rate, sent = await _moves(
            monitor, node1.http_url + "/app/", node1.name, "requests_per_s", 20.0
        )
        assert rate > 20.0 and sent > 20
        errors, sent = await _moves(
            monitor, node2.http_url + "/app/error.jsp", node2.name, "errors_per_s", 5.0
        )
        assert errors > 5.0
        latency = _metrics(monitor.state, node2.name)
        assert latency is not None and latency.point.latency_ms is not None


def _with(sandbox: SandboxLayout, tmp_path: Path, replace_text: tuple[str, str]) -> Path:
    text = sandbox.inventory.read_text().replace(*replace_text)
    path = sandbox.root / f"cluster-{tmp_path.name}.toml"  # secrets/ stays relative to it
    path.write_text(text)
    return path


async def test_wrong_password_and_missing_manager_give_reasons_and_ssh_figures(
    sandbox: SandboxLayout, tmp_path: Path
) -> None:
    node3 = sandbox.nodes[2]
    path = _with(
        sandbox,
        tmp_path,
        (
            f'http = "{node3.http_url}/app/"',
            f'http = "{node3.http_url}/app/"\nmanager_url = "{node3.http_url}/no-manager"',
        ),
    )
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-password\n")
    wrong.chmod(0o600)
    inventory = load_inventory(path)
    assert inventory.metrics.password is not None
    inventory = replace(
        inventory,
        metrics=replace(
            inventory.metrics, password=replace(inventory.metrics.password, file=wrong)
        ),
    )
    async with Monitor(inventory, OPTIONS) as monitor:

        def explained(s: ClusterState) -> bool:
            first, third = _metrics(s, "node1"), _metrics(s, "node3")
            return (
                first is not None
                and "401" in first.missing.get("sessions_active", "")
                and first.source == "ssh"
                and third is not None
                and third.source == "ssh"
                and third.point.heap_used_bytes is not None
            )

        state = await _wait(monitor, explained, "a 401 on node1 and SSH figures on node3")
        third = _metrics(state, "node3")
        assert third is not None and third.jvm is not None
        assert third.jvm.rss_bytes and third.jvm.cpu_seconds is not None
        assert third.point.heap_max_bytes == 256 << 20  # the sandbox's -Xmx256m, from jstat
        assert "no manager application on this node (404)" in third.missing["sessions_active"]
        first = _metrics(state, "node1")
        assert first is not None and first.point.sessions_active is None
        assert "refused the credentials (401) for the JMX proxy" in first.missing["sessions_active"]
        assert "(401)" in first.missing["requests_per_s"]  # and the heap came from jstat
        assert first.point.heap_used_bytes is not None
        # the rest keeps working
        assert all(view.http is not None and view.http.status == 200 for view in state.nodes)


def test_status_json_metrics_from_the_sandbox(sandbox: SandboxLayout) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "console", "status", "--sandbox", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=os.environ.copy(),
    )
    report = json.loads(result.stdout)
    for node in report["nodes"]:
        metrics = node["metrics"]
        assert metrics["missing"] == {}, metrics["missing"]
        assert metrics["sessions_active"] is not None
        assert 0 < metrics["heap_used_bytes"] < metrics["heap_max_bytes"]
        assert 0 < metrics["threads_busy"] <= metrics["threads_max"] == 200
        assert metrics["requests_per_s"] > 0  # its own reads of the status page count
        assert metrics["errors_per_s"] >= 0 and metrics["latency_ms"] >= 0
        assert "password" not in json.dumps(metrics)


async def test_tomcat_answers_the_two_pages_pipelined(sandbox: SandboxLayout) -> None:
    """The poll writes a read's two GETs at once on the connection kept from the previous read:
    Tomcat 10.1 answers both, in order, with every figure."""
    from console.sandbox.layout import MANAGER_USER
    from probes.http import BODY_LIMIT
    from probes.metrics.tomcat_manager import JMX_PATH, STATUS_PATH, ManagerReader

    node = sandbox.nodes[0]
    auth = (MANAGER_USER, sandbox.manager_password_file.read_text().strip())
    reader = ManagerReader(f"{node.http_url}/manager")
    try:
        first = await reader.read(auth)  # opens the connection and keeps it
        assert first.status is not None and first.sessions is not None, first
        assert reader.origin is not None
        targets = [reader.prefix + STATUS_PATH, reader.prefix + JMX_PATH]
        answers = await reader.origin.pipeline(targets, auth, BODY_LIMIT, 10.0)
        assert [type(answer).__name__ for answer in answers] == ["Timed", "Timed"], answers
        status, jmx = (answer.answer for answer in answers)  # type: ignore[union-attr]
        assert (status.status, jmx.status) == (200, 200)
        assert b"<status" in status.body and jmx.body.startswith(b"OK")
        second = await reader.read(auth)  # pipelined again, through the reader
        assert second.status is not None and second.sessions is not None, second
        assert second.status.connectors and second.status.heap_max
    finally:
        reader.close()
