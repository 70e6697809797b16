"""The wso2 variant (issue 20): NGINX open source in front (an `upstream` with
`hash $cookie_JSESSIONID consistent`), Tribes replication, wso2carbon.log in WSO2's layout.

One 2-node wso2 sandbox for this module (tests/sandbox/variants.py), brought up and down around
it: `status` healthy, read through the `nginx` balancer entry of the variant's own inventory
(`nginx -T` over node1's SSH, stub_status totals); a failed `nginx -t` changes nothing and says
why; then `--wizard drain` and `--wizard rejoin` of node2 under the sandbox's sticky load with
0 failed requests and 0 counter breaks, every change audited; and `--wizard rolling-restart` of
both nodes under the same load on the same sandbox.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from console.balancer.clients import open_balancer
from console.config import load_inventory
from console.sandbox import manager, nginx
from console.sandbox.layout import SandboxLayout
from probes.balancer.httpd_client import WorkerChange
from probes.balancer.model import BalancerChangeNotApplied
from tests.bench.drain_proof import (
    MIN_RATE,
    Scenario,
    audit_pairs,
    drain_rejoin_under_load,
    warm_nodes,
)
from tests.bench.rolling_restart import RollingRun, node_timings, rolling_restart_under_load

from .helpers import app_get, new_user, wait_for
from .test_drain_under_load import check_audit, check_cycle, check_load
from .variants import console, start_stopped_nodes, up_again_changes_nothing, variant_sandbox

pytestmark = [pytest.mark.sandbox, pytest.mark.disruptive]


@pytest.fixture(scope="module")
def wso2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxLayout]:
    with variant_sandbox("wso2", tmp_path_factory.mktemp("wso2")) as layout:
        # each node's first hit compiles the JSP, slower than a request may take on a busy
        # machine: no part of any proof here
        asyncio.run(warm_nodes(layout))
        yield layout


def _servers_up(layout: SandboxLayout) -> None:
    """Every server back in the upstream (no `down`), nginx reloaded (tidying after a test)."""
    for broken in (layout.nginx_dir / "conf.d").glob("*.conf"):
        broken.unlink()
    if layout.nginx_include.read_text() != nginx.server_lines(layout):
        layout.nginx_include.write_text(nginx.server_lines(layout))
        command = [nginx.NGINX, "-c", str(layout.nginx_conf), "-s", "reload"]
        subprocess.run(command, check=True, timeout=30)


def test_inventory_names_nginx_with_its_host_and_include(wso2: SandboxLayout) -> None:
    code, out, err = console(wso2, "sandbox", "status", "--json")
    assert code == 0, (out, err)
    document = json.loads(out)
    assert document["variant"] == "wso2"
    kinds = {row["name"]: row["kind"] for row in document["components"]}
    assert kinds["nginx"] == "balancer" and "httpd" not in kinds
    inventory = tomllib.loads(wso2.inventory.read_text())
    assert inventory["cluster"]["profile"] == "wso2"
    (balancer,) = inventory["balancers"]
    assert (balancer["kind"], balancer["host"]) == ("nginx", "node1")
    assert balancer["include"] == str(wso2.nginx_include)
    assert balancer["url"].endswith(":8001/nginx_status")
    up_again_changes_nothing(wso2)


def test_sessions_stick_by_the_cookie_hash(wso2: SandboxLayout) -> None:
    """A new session (its first request sent round robin) goes on counting from its second
    request on one node, the one the hash of its JSESSIONID picks (replication is synchronous in
    this variant, so that node already holds it); both nodes get sessions."""
    homes = set()
    for _ in range(8):
        with new_user() as client:
            first = app_get(client, wso2.app_url)
            home = app_get(client, wso2.app_url)
            assert (home.session, home.count) == (first.session, 2)
            for expected in range(3, 6):
                reply = app_get(client, wso2.app_url)
                assert (reply.node, reply.session, reply.count) == (
                    home.node,
                    first.session,
                    expected,
                )
            homes.add(home.node)
    assert homes == {node.jvm_route for node in wso2.nodes}


def test_status_is_healthy_with_nginx_read_and_the_wso2_log(wso2: SandboxLayout) -> None:
    seen: list[str] = []

    def healthy() -> dict[str, Any] | None:
        code, out, _ = console(wso2, "status", "--json", "--sandbox")
        document = json.loads(out)
        seen[:] = [problem["text"] for problem in document["problems"]]
        # rates need two reads with figures: under load a status run's first manager read may
        # come back empty, and the next run is asked
        missing = [n["metrics"]["missing"] for n in document["nodes"] if n["metrics"]["missing"]]
        seen.extend(f"metrics missing: {m}" for m in missing)
        return document if code == 0 and not document["problems"] and not missing else None

    try:
        status = wait_for(healthy, 240, "`status` to find no problem on the wso2 sandbox", 2.0)
    except AssertionError as error:
        raise AssertionError(f"{error}; the last problems: {seen}") from None
    nodes = {node["name"]: node for node in status["nodes"]}
    for node in nodes.values():
        assert (node["ssh"], node["tomcat"], node["http"]["status"]) == ("up", "running", 200)
        assert node["membership_known"] is True and len(node["members_seen"]) == 1
        metrics = node["metrics"]
        assert metrics["source"] == "manager" and metrics["missing"] == {}, metrics
    (balancer,) = status["balancers"]
    assert (balancer["kind"], balancer["reachable"]) == ("nginx", True), balancer
    totals = balancer["totals"]
    assert set(totals) >= {"active", "accepts", "handled", "requests"} and totals["requests"] > 0
    (pool,) = balancer["balancers"]
    assert pool["name"] == "cluster"
    assert sorted(w["url"] for w in pool["workers"]) == [f"{n.address}:8080" for n in wso2.nodes]
    for worker in pool["workers"]:
        assert (worker["status"], worker["usable"], worker["disabled"]) == ("up", True, False)
    # the wso2 profile's log: every node writes wso2carbon.log in WSO2 Carbon's layout
    for node in wso2.nodes:
        lines = (node.base / "repository" / "logs" / "wso2carbon.log").read_text().splitlines()
        assert lines and all(line.startswith("TID: [-1234] [] [") for line in lines[:20])


def test_a_failed_nginx_t_changes_nothing_and_says_why(wso2: SandboxLayout) -> None:
    inventory = load_inventory(wso2.inventory)

    async def attempt() -> str:
        client = open_balancer(inventory.balancers[0], inventory, writable=True)
        try:
            planned = await client.plan(
                None, f"{wso2.nodes[1].address}:8080", WorkerChange(drain=True)
            )
            # an operator's snippet breaks the configuration between the plan and the change
            (wso2.nginx_dir / "conf.d" / "broken.conf").write_text("upstream broken { server; }\n")
            with pytest.raises(BalancerChangeNotApplied) as caught:
                await client.apply(planned, WorkerChange(drain=True))
            return str(caught.value)
        finally:
            await client.aclose()

    before = wso2.nginx_include.read_text()
    try:
        message = asyncio.run(attempt())
        assert "`nginx -t` refused the configuration" in message, message
        assert "broken.conf:1" in message and "nothing changed" in message, message
        assert wso2.nginx_include.read_text() == before
        # nginx kept running on its configuration: both nodes still get new sessions
        wait_for(lambda: _new_session_on(wso2, "node2"), 30, "nginx to send a new session to node2")
    finally:
        _servers_up(wso2)


def test_drain_and_rejoin_node2_under_load(wso2: SandboxLayout, tmp_path: Path) -> None:
    audit_log = tmp_path / "audit.jsonl"

    async def scenario() -> Scenario:
        try:
            return await drain_rejoin_under_load(wso2, ["node2"], audit_log=audit_log)
        finally:
            await asyncio.to_thread(start_stopped_nodes, wso2)

    try:
        run = asyncio.run(scenario())
        assert len(run.cycles) == 1
        check_cycle(run.cycles[0])
        check_load(run)
        check_audit(audit_log, run)
        # the include file is back as it was, and NGINX sends new sessions to node2 again
        assert wso2.nginx_include.read_text() == nginx.server_lines(wso2)
        wait_for(lambda: _new_session_on(wso2, "node2"), 30, "nginx to send a session to node2")
    finally:
        _servers_up(wso2)


def test_rolling_restart_under_load(wso2: SandboxLayout, tmp_path: Path) -> None:
    """`--wizard rolling-restart` of both nodes through NGINX, on this module's sandbox."""
    audit_log = tmp_path / "audit.jsonl"

    async def scenario() -> RollingRun:
        try:
            return await rolling_restart_under_load(wso2, audit_log=audit_log)
        finally:
            await asyncio.to_thread(start_stopped_nodes, wso2)

    try:
        result = asyncio.run(scenario())
        run, report = result.run, result.report
        assert run is not None and report is not None
        assert (run.finished or {}).get("status") == "done", run.describe()
        figures = report.to_json()
        assert report.failures == 0, figures["failure_samples"]
        assert report.breaks == 0, figures["break_samples"]
        assert [t.node for t in node_timings(run)] == ["node1", "node2"]
        pairs, unpaired, failed = audit_pairs(audit_log)
        assert not unpaired and not failed, (unpaired, failed)
        steps = {(p["before"].get("node"), p["before"].get("step")) for p in pairs.values()}
        assert ("node2", "node2/stop") in steps and ("node2", "node2/start") in steps, steps
        assert wso2.nginx_include.read_text() == nginx.server_lines(wso2)
        # last: a loaded machine slows the load, which then proves less, not that requests failed
        assert result.rate >= MIN_RATE, f"the load reached only {result.rate:.1f} requests/s"
    finally:
        _servers_up(wso2)


def _new_session_on(layout: SandboxLayout, route: str) -> bool:
    with httpx.Client(timeout=10) as client:
        for _ in range(6):
            client.cookies.clear()
            if app_get(client, layout.app_url).node == route:
                return True
    return False


def test_sandbox_down_stops_nginx_and_every_node(wso2: SandboxLayout) -> None:
    """Last in this module: `sandbox down` stops the variant's servers, NGINX included."""
    code, out, err = console(wso2, "sandbox", "down")
    assert code == 0, (out, err)
    assert "nginx: stopped" in out, out
    assert [row.name for row in manager.status(wso2) if row.running] == []
