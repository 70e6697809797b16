"""The balancer-manager client against the sandbox's real httpd 2.4: read, XML, drain, factor.

Every test that changes a worker puts the balancer back in a `finally`, so the other sandbox
tests always see three healthy members.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from console.audit import AuditLog
from console.config import load_inventory
from console.operations.workers import WorkerActions
from console.sandbox import httpd
from console.sandbox.layout import HTTP_PORT, SandboxLayout
from probes.balancer.httpd_client import BalancerReader, BalancerWriter, WorkerChange
from probes.balancer.model import BalancerChangeNotApplied, BalancerError, BalancerPage, Worker

from .helpers import app_get, log_since, log_size, new_user, wait_for

pytestmark = pytest.mark.sandbox

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
STABLE: tuple[str, ...] = (
    "url",
    "route",
    "redirect",
    "factor",
    "lbset",
    "status",
    "flags",
    "usable",
)
STABLE += ("draining", "disabled", "standby")
HEALTHY = WorkerChange(drain=False, disabled=False, standby=False, stopped=False)


def member(page: BalancerPage, key: str) -> Worker:
    cluster = page.balancer("cluster")
    assert cluster is not None, page
    found = cluster.worker(key)
    assert found is not None, cluster
    return found


async def restore(sandbox: SandboxLayout) -> None:
    """Every worker back to Init Ok, factor 1, set 0 (what httpd.conf configures)."""
    async with BalancerReader(sandbox.balancer_url) as reader:
        writer = BalancerWriter(reader)
        for node in sandbox.nodes:
            seen = member(await reader.read(), node.http_url)
            if seen.status != "Init Ok" or seen.factor != 1.0 or seen.lbset != 0:
                await writer.apply("cluster", node.http_url, HEALTHY)
                await writer.apply("cluster", node.http_url, WorkerChange(factor=1, lbset=0))
        page = await reader.read()
    assert [member(page, node.http_url).status for node in sandbox.nodes] == ["Init Ok"] * 3


async def test_reads_the_real_page(sandbox: SandboxLayout) -> None:
    async with BalancerReader(sandbox.balancer_url) as reader:
        page = await reader.read()
    assert page.url == sandbox.balancer_url
    assert page.server_version is not None and page.server_version.startswith("Apache/2.4")
    (cluster,) = page.balancers
    assert cluster.name == "cluster"
    assert cluster.nonce is not None and UUID.match(cluster.nonce)
    assert [(w.url, w.route) for w in cluster.workers] == [
        (f"http://{node.address}:{HTTP_PORT}", node.jvm_route) for node in sandbox.nodes
    ]
    for worker in cluster.workers:
        assert {"Init", "Ok"} <= set(worker.flags), worker
        assert worker.usable is True and worker.busy is not None and worker.load is not None


async def test_xml_view_matches_the_page(sandbox: SandboxLayout) -> None:
    async with BalancerReader(sandbox.balancer_url) as reader:
        page = await reader.read()
        view = await reader.read_xml()
    assert [(b.name, b.nonce) for b in view.balancers] == [
        (b.name, b.nonce) for b in page.balancers
    ]
    for left, right in zip(page.balancers[0].workers, view.balancers[0].workers, strict=True):
        for name in STABLE:
            assert getattr(left, name) == getattr(right, name), (left.url, name)


async def test_drain_then_undrain_reads_back(sandbox: SandboxLayout) -> None:
    node = sandbox.node(2)
    try:
        async with BalancerReader(sandbox.balancer_url) as reader:
            writer = BalancerWriter(reader)
            drained = await writer.apply("cluster", node.jvm_route, WorkerChange(drain=True))
            assert drained.url == node.http_url
            assert (drained.status, drained.draining, drained.usable) == ("Init Drn Ok", True, True)
            assert member(await reader.read_xml(), node.http_url).draining is True

            served: Counter[str] = Counter()
            for _ in range(6):
                with new_user() as client:  # new sessions: none may go to the draining node
                    served[app_get(client, sandbox.app_url).node] += 1
            assert served[node.jvm_route] == 0, served

            back = await writer.apply("cluster", node.http_url, WorkerChange(drain=False))
            assert (back.status, back.draining) == ("Init Ok", False)
            assert member(await reader.read(), node.http_url).status == "Init Ok"
    finally:
        await restore(sandbox)


async def test_factor_is_set_and_restored(sandbox: SandboxLayout) -> None:
    node = sandbox.node(1)
    try:
        async with BalancerReader(sandbox.balancer_url) as reader:
            writer = BalancerWriter(reader)
            before = member(await reader.read(), node.http_url)
            changed = await writer.apply("cluster", node.http_url, WorkerChange(factor=2.5))
            assert changed.factor == 2.5
            assert member(await reader.read_xml(), node.http_url).factor == 2.5
            assert before.factor is not None
            again = await writer.apply("cluster", node.http_url, WorkerChange(factor=before.factor))
            assert again.factor == before.factor
    finally:
        await restore(sandbox)


async def test_a_wrong_referer_is_ignored_by_httpd_and_detected(sandbox: SandboxLayout) -> None:
    node = sandbox.node(3)
    error_log = sandbox.httpd_dir / "logs" / "error.log"
    offset = log_size(error_log)
    try:
        async with BalancerReader(sandbox.balancer_url) as reader:
            before = member(await reader.read(), node.http_url)
            writer = BalancerWriter(reader, referer="http://evil.example/balancer-manager")
            with pytest.raises(BalancerChangeNotApplied) as caught:
                await writer.apply("cluster", node.http_url, WorkerChange(drain=True, factor=3))
            message = str(caught.value)
            assert "drain: asked on, seen off" in message and "factor: asked 3, seen 1" in message
            after = member(await reader.read(), node.http_url)
        assert (after.status, after.factor, after.draining) == (before.status, before.factor, False)
        wait_for(
            lambda: (
                "evil.example" in log_since(error_log, offset)
                and "AH10187" in log_since(error_log, offset)
            ),
            5,
            "httpd to log that it ignored the cross-site edit (AH10187)",
        )
    finally:
        await restore(sandbox)


async def test_workers_are_matched_exactly(sandbox: SandboxLayout) -> None:
    node = sandbox.node(1)
    async with BalancerReader(sandbox.balancer_url) as reader:
        writer = BalancerWriter(reader)
        for near in (node.address, f"http://{node.address}", "node", node.http_url + "0"):
            with pytest.raises(BalancerError, match="has no worker whose URL or route is exactly"):
                await writer.apply("cluster", near, WorkerChange(drain=True))
        with pytest.raises(BalancerError, match="no balancer 'clusterx'; it has: cluster"):
            await writer.apply("clusterx", node.jvm_route, WorkerChange(drain=True))
        page = await reader.read()
    assert [w.status for w in page.balancers[0].workers] == ["Init Ok"] * 3


async def test_a_dry_run_changes_nothing(sandbox: SandboxLayout) -> None:
    async with BalancerReader(sandbox.balancer_url) as reader:
        page = await reader.read()
        request = BalancerWriter(reader).request_for(
            page, "cluster", "node2", WorkerChange(drain=True)
        )
        again = await reader.read()
    assert dict(request.form)["nonce"] == page.balancers[0].nonce
    assert dict(request.headers)["Referer"] == sandbox.balancer_url
    assert [w.status for w in again.balancers[0].workers] == ["Init Ok"] * 3


@pytest.mark.disruptive
async def test_a_worker_added_at_runtime_lands_in_the_growth_room_disabled(
    sandbox: SandboxLayout, tmp_path: Path
) -> None:
    """The sandbox's balancer has `growth` room: balancer-manager's b_nwrkr adds a worker
    (disabled, as httpd starts every added worker) with its route, read back; the settings show
    one more member used. httpd cannot delete it at runtime: the removal disables it and says
    so; a graceful restart (no BalancerPersist) gives the balancer its configured members
    back."""
    inventory = load_inventory(sandbox.inventory)
    audit = AuditLog(tmp_path / "audit.jsonl", "interactive", "sandbox")
    actions = WorkerActions(inventory, audit)
    name = inventory.balancers[0].name
    address = f"http://{sandbox.net}.19:{HTTP_PORT}"
    try:
        before = (await actions.read(name)).balancer("cluster")
        assert before is not None and before.settings is not None
        settings = before.settings
        assert (settings.sticky_session, settings.lbmethod) == (
            "JSESSIONID|jsessionid",
            "byrequests",
        )
        assert settings.path == "/app/" and settings.members_used == 3
        assert settings.free_slots is not None and settings.free_slots >= 1
        _, worker = await actions.add_worker(name, "node9", address, route="node9")
        assert (worker.url, worker.route, worker.disabled) == (address, "node9", True)
        after = (await actions.read(name)).balancer("cluster")
        assert after is not None and after.settings is not None
        assert after.settings.members_used == 4
        planned, kept = await actions.remove_worker(name, address)
        assert planned.note is not None and "cannot delete a worker at runtime" in planned.note
        assert kept is not None and kept.disabled
    finally:
        await actions.aclose()
        pid = httpd.running_pid(sandbox)
        assert pid is not None
        os.kill(pid, signal.SIGUSR1)  # apachectl -k graceful

        async def configured_only() -> bool:
            try:
                async with BalancerReader(sandbox.balancer_url) as reader:
                    cluster = (await reader.read()).balancer("cluster")
            except BalancerError:
                return False
            routes = [w.route for w in cluster.workers] if cluster is not None else []
            return routes == [node.jvm_route for node in sandbox.nodes]

        deadline = time.monotonic() + 30
        while not await configured_only():
            assert time.monotonic() < deadline, "httpd did not come back with its members only"
            await asyncio.sleep(0.2)
