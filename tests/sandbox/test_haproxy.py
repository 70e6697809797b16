"""The HAProxy client against a real haproxy (Debian 12: 2.6) started for this module only.

haproxy listens on $CLUSTERCONSOLE_TEST_NET.1:8100 with three servers on .11-.13:8080 and no
health checks; the test drains, puts in maintenance and readies servers through the admin
socket, reading each change back. Only the pid haproxy wrote is ever signalled.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.audit import AuditLog, read_entries
from console.config import load_inventory_text
from console.monitor.runner import Monitor, MonitorOptions
from console.operations.workers import WorkerActions
from console.sandbox.layout import SandboxLayout
from probes.balancer.haproxy_client import (
    HaproxyReader,
    HaproxySocket,
    HaproxyStatsPage,
    HaproxyWriter,
    RemoteHaproxySocket,
)
from probes.balancer.httpd_client import WorkerChange
from probes.balancer.model import BalancerError

from .conftest import TEST_NET
from .helpers import wait_for

pytestmark = pytest.mark.sandbox

HAPROXY = "/usr/sbin/haproxy"
NET = TEST_NET
CONFIG = """\
global
    stats socket {socket} mode 600 level admin
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend web
    bind {net}.1:8100
    default_backend app
frontend stats
    bind {net}.1:8101
    stats enable
    stats uri /stats
backend app
    balance roundrobin
    server node1 {net}.11:8080
    server node2 {net}.12:8080 weight 2
    server node3 {net}.13:8080
"""


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie nobody reaped counts as gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, IndexError):
        return False
    return fields[0] != "Z"


def _answers(path: Path) -> bool:
    """Whether the stats socket accepts a connection."""
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX) as probe:
        probe.settimeout(0.5)
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


@pytest.fixture(scope="module")
def stats_socket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if not Path(HAPROXY).exists():
        pytest.fail(
            f"the HAProxy tests need Debian's haproxy ({HAPROXY} is missing): "
            "apt-get install haproxy",
            pytrace=False,
        )
    root = tmp_path_factory.mktemp("haproxy")
    path, config, pid_file = root / "admin.sock", root / "haproxy.cfg", root / "haproxy.pid"
    config.write_text(CONFIG.format(socket=path, net=NET))
    started = subprocess.run(
        [HAPROXY, "-f", str(config), "-D", "-p", str(pid_file)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert started.returncode == 0, f"haproxy did not start: {started.stderr.strip()}"
    pid = wait_for(
        lambda: int(pid_file.read_text().split()[0]) if pid_file.exists() else None,
        10,
        "haproxy to write its pid file",
    )
    try:
        assert str(config) in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
        wait_for(lambda: _answers(path), 10, "haproxy's stats socket to accept connections")
        yield path
    finally:
        if _alive(pid) and str(config) in Path(f"/proc/{pid}/cmdline").read_text(
            "utf-8", "replace"
        ):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


async def test_read_drain_maint_ready_read_back(stats_socket: Path) -> None:
    reader = HaproxyReader(HaproxySocket(stats_socket))
    page = await reader.read_page()
    (app,) = page.balancers
    assert app.name == "app"
    assert [(w.url, w.route, w.status, w.usable) for w in app.workers] == [
        (f"{NET}.{11 + index}:8080", f"node{1 + index}", "no check", True) for index in range(3)
    ]
    assert [w.factor for w in app.workers] == [1.0, 2.0, 1.0]

    writer = HaproxyWriter(reader)
    try:
        drained = await writer.set_state("app", "node2", "drain")
        assert drained.status == "DRAIN"
        maint = await writer.set_state("app", "node3", "maint")
        assert maint.status == "MAINT"
        workers = {w.route: w for w in (await reader.read_page()).balancers[0].workers}
        assert (workers["node2"].draining, workers["node2"].usable) == (True, True)
        assert (workers["node3"].disabled, workers["node3"].usable) == (True, False)
        assert workers["node1"].status == "no check"
    finally:
        for name in ("node2", "node3"):
            await writer.set_state("app", name, "ready")
    statuses = [w.status for w in (await reader.read_page()).balancers[0].workers]
    assert statuses == ["no check"] * 3


async def test_unknown_servers_and_refused_commands(stats_socket: Path) -> None:
    reader = HaproxyReader(HaproxySocket(stats_socket))
    writer = HaproxyWriter(reader)
    with pytest.raises(BalancerError, match="no server named exactly 'node'"):
        await writer.set_state("app", "node", "drain")
    with pytest.raises(BalancerError, match="no backend 'web'"):
        await writer.set_state("web", "node1", "drain")
    answer = await reader.transport.send("set server app/nodeX state maint")
    assert "No such server" in answer


async def test_socat_command_of_the_remote_transport_works(stats_socket: Path) -> None:
    """The exact `socat` line the SSH layer will run, run here by a local shell."""

    async def local(command: str, *, input: bytes, timeout: float) -> bytes:
        process = await asyncio.create_subprocess_shell(
            command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await asyncio.wait_for(process.communicate(input), timeout)
        return out

    reader = HaproxyReader(RemoteHaproxySocket(local, str(stats_socket), node="localhost"))
    rows = await reader.read()
    assert [row.svname for row in rows if row.pxname == "app"] == [
        "node1",
        "node2",
        "node3",
        "BACKEND",
    ]


async def test_the_http_stats_page_reads_the_same_servers_and_cannot_write(
    stats_socket: Path,
) -> None:
    page_transport = HaproxyStatsPage(f"http://{NET}.1:8101/stats")
    try:
        over_http = await HaproxyReader(page_transport).read_page()
        over_socket = await HaproxyReader(HaproxySocket(stats_socket)).read_page()
        app_http, app_socket = over_http.balancer("app"), over_socket.balancer("app")
        assert app_http is not None and app_socket is not None
        assert [w.route for w in app_http.workers] == [w.route for w in app_socket.workers]
        assert [w.factor for w in app_http.workers] == [1.0, 2.0, 1.0]
        with pytest.raises(BalancerError, match="read-only"):
            await page_transport.send("set server app/node1 state drain")
    finally:
        await page_transport.aclose()


async def test_the_monitor_reads_haproxy_on_a_node_through_ssh(
    stats_socket: Path, sandbox: SandboxLayout
) -> None:
    """`socket = "node1:PATH"`: the monitor runs socat on node1 over its verified SSH session."""
    text = sandbox.inventory.read_text() + (
        f'\n[[balancers]]\nname = "lb"\nkind = "haproxy"\nsocket = "node1:{stats_socket}"\n'
    )
    inventory = load_inventory_text(text, sandbox.inventory)
    options = MonitorOptions(read_only=True, balancer_interval=0.5)
    async with Monitor(inventory, options) as monitor:
        state = await monitor.wait_for(lambda s: s.balancer("lb").reachable is not None, 60)
    view = state.balancer("lb")
    assert view.reachable, view.error
    assert view.page is not None
    app = view.page.balancer("app")
    assert app is not None
    assert [w.route for w in app.workers] == ["node1", "node2", "node3"]
    assert "on node1" in view.page.url


async def test_worker_actions_change_haproxy_audited_and_read_back(
    stats_socket: Path, sandbox: SandboxLayout, tmp_path: Path
) -> None:
    """What the wizards and the balancer view use on HAProxy: each change planned from a fresh
    read, audited before and after, applied over the admin socket and read back."""
    text = sandbox.inventory.read_text() + (
        f'\n[[balancers]]\nname = "lb"\nkind = "haproxy"\nsocket = "{stats_socket}"\n'
    )
    inventory = load_inventory_text(text, sandbox.inventory)
    audit = AuditLog(tmp_path / "audit.jsonl", "interactive", "sandbox")
    actions = WorkerActions(inventory, audit)
    try:
        planned = await actions.plan("lb", "node2", WorkerChange(drain=True), pool="app")
        assert planned.request["command"] == "set server app/node2 state drain"
        drained = await actions.set_worker(
            "lb", "node2", WorkerChange(drain=True), pool="app", node="node2"
        )
        assert drained.draining and not drained.disabled
        down = await actions.set_worker(
            "lb", "node2", WorkerChange(disabled=True), pool="app", node="node2"
        )
        assert down.disabled
        ready = await actions.set_worker(
            "lb", "node2", WorkerChange(drain=False, disabled=False), pool="app", node="node2"
        )
        assert not ready.draining and not ready.disabled
        with pytest.raises(BalancerError, match="cannot apply"):  # HAProxy has no load factor
            await actions.set_worker("lb", "node2", WorkerChange(factor=3), pool="app")
        page = await actions.read("lb")
    finally:
        await actions.aclose()
    app = page.balancer("app")
    assert app is not None
    assert [(w.route, w.draining, w.disabled) for w in app.workers] == [
        ("node1", False, False),
        ("node2", False, False),
        ("node3", False, False),
    ]
    entries = read_entries(audit.path)
    before = [e for e in entries if e["phase"] == "before"]
    after = [e for e in entries if e["phase"] == "after"]
    assert [e["request"]["command"] for e in before] == [
        "set server app/node2 state drain",
        "set server app/node2 state maint",
        "set server app/node2 state ready",
    ]  # the refused factor change was never sent, so it is not in the log
    assert [e["id"] for e in after] == [e["id"] for e in before]
    assert all(e["result"]["ok"] for e in after)


async def test_worker_actions_change_haproxy_on_a_node_through_its_sshd(
    stats_socket: Path, sandbox: SandboxLayout, tmp_path: Path
) -> None:
    """`socket = "node1:PATH"`: the worker actions as the app and the wizards build them (no
    runner given) reach the admin socket by `socat` over node1's sshd, and every change is read
    back: drain, ready, then a server added at runtime (add + enable) and deleted again. Every
    change failed before ("no SSH session to that node is available")."""
    text = sandbox.inventory.read_text() + (
        f'\n[[balancers]]\nname = "lb"\nkind = "haproxy"\nsocket = "node1:{stats_socket}"\n'
    )
    inventory = load_inventory_text(text, sandbox.inventory)
    audit = AuditLog(tmp_path / "audit.jsonl", "interactive", "sandbox")
    actions = WorkerActions(inventory, audit)
    try:
        planned = await actions.plan("lb", "node2", WorkerChange(drain=True), pool="app")
        assert planned.request["transport"].endswith(f"{stats_socket} on node1")
        drained = await actions.set_worker("lb", "node2", WorkerChange(drain=True), pool="app")
        assert drained.draining and not drained.disabled
        ready = await actions.set_worker(
            "lb", "node2", WorkerChange(drain=False, disabled=False), pool="app"
        )
        assert not ready.draining and not ready.disabled
        added_plan, added = await actions.add_worker("lb", "node4", f"{NET}.14:8080", pool="app")
        assert added_plan.request["commands"] == [
            f"add server app/node4 {NET}.14:8080",
            "enable server app/node4",
        ]
        assert (added.route, added.url, added.disabled) == ("node4", f"{NET}.14:8080", False)
        _, gone = await actions.remove_worker("lb", "node4", pool="app")
        assert gone is None
        page = await actions.read("lb")
    finally:
        await actions.aclose()
    app = page.balancer("app")
    assert app is not None
    assert [(w.route, w.draining, w.disabled) for w in app.workers] == [
        ("node1", False, False),
        ("node2", False, False),
        ("node3", False, False),
    ]
    entries = read_entries(audit.path)
    assert [(e["phase"], e["step"]) for e in entries] == [
        (phase, step)
        for step in ("worker-change", "worker-change", "worker-add", "worker-remove")
        for phase in ("before", "after")
    ]
    assert all(e["result"]["ok"] for e in entries if e["phase"] == "after")


async def test_doctor_reads_haproxy_on_a_node_through_its_sshd(
    stats_socket: Path, sandbox: SandboxLayout, tmp_path: Path
) -> None:
    """The doctor reads every balancer through the one factory: a socket on a node is read over
    the doctor's own SSH session to it (it said "not read by the doctor" before)."""
    from console.doctor.run import gather

    text = sandbox.inventory.read_text() + (
        f'\n[[balancers]]\nname = "lb"\nkind = "haproxy"\nsocket = "node1:{stats_socket}"\n'
    )
    inventory = load_inventory_text(text, sandbox.inventory)
    facts = await gather(inventory, memory=tmp_path / "memory.json", read_only=True)
    lb = next(b for b in facts.balancers if b.name == "lb")
    assert lb.error is None and lb.page is not None
    app = lb.page.balancer("app")
    assert app is not None and [w.route for w in app.workers] == ["node1", "node2", "node3"]
