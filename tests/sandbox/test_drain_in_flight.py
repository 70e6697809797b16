"""The drain's strict wait on the real sandbox when Busy will not fall: a request really in flight
through the balancer keeps the wait going (the node's Tomcat counts it), so it ends served, not
cut. The other half, httpd's stale count (a lost decrement, seen twice in CI), cannot be made on
demand; `tests/unit/test_wait_quiet.py` covers the wait's logic for it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from console import exitcodes
from console.config import load_inventory
from console.operations.in_flight import tomcat_in_flight
from console.sandbox import tomcat
from console.sandbox.layout import SandboxLayout
from probes.balancer.httpd_client import BalancerReader
from tests.sandbox.helpers import wait_for
from tests.sandbox.test_drain import cli, json_lines, restore, statuses

pytestmark = pytest.mark.sandbox
SLOW_MS = 50_000
"""Longer than the drained wait's patience (20 s) plus several questions to Tomcat (the first
after 10 s), shorter than httpd's proxy timeout (60 s)."""


@pytest.fixture
def cluster(sandbox: SandboxLayout, tmp_path: Path) -> Iterator[SandboxLayout]:
    restore(sandbox, tmp_path)
    try:
        yield sandbox
    finally:
        restore(sandbox, tmp_path)


def _slow_through_the_balancer(url: str) -> str:
    """A request the balancer sends to node2 (its route in the cookie) that stays in flight."""
    cookies = {"JSESSIONID": "in-flight-test.node2"}
    try:
        response = httpx.get(url, cookies=cookies, timeout=httpx.Timeout(SLOW_MS / 1000 + 60))
    except httpx.HTTPError as error:
        return f"cut: {error!r}"
    return f"HTTP {response.status_code}: {response.text.strip()}"


def _busy(layout: SandboxLayout) -> int | None:
    async def read() -> int | None:
        async with BalancerReader(layout.balancer_url) as reader:
            page = await reader.read()
        return next(w.busy for b in page.balancers for w in b.workers if w.route == "node2")

    return asyncio.run(read())


def test_a_request_in_flight_keeps_the_drain_waiting_and_ends_served(
    cluster: SandboxLayout, tmp_path: Path
) -> None:
    inventory = load_inventory(cluster.inventory)
    node = next(n for n in inventory.nodes if n.name == "node2")
    idle = asyncio.run(tomcat_in_flight(inventory, node))
    assert idle.requests == 0, idle  # the status read itself is not counted
    audit = tmp_path / "audit.jsonl"
    with ThreadPoolExecutor(1) as pool:
        slow: Future[str] = pool.submit(
            _slow_through_the_balancer, f"{cluster.app_url}slow.jsp?ms={SLOW_MS}"
        )
        wait_for(lambda: _busy(cluster) == 1 or None, 30, "the balancer to show node2 busy")
        serving = asyncio.run(tomcat_in_flight(inventory, node))
        assert serving.requests is not None and serving.requests >= 1, serving
        result = cli(cluster, audit, "--wizard", "drain", "--node", "node2", "--yes", "--json")
        answer = slow.result(timeout=SLOW_MS / 1000 + 60)
    events = json_lines(result.stdout)
    assert result.returncode == exitcodes.OK, result.stdout + result.stderr
    assert answer == f"HTTP 200: node=node2 slept={SLOW_MS}", answer  # served, not cut
    idle_waits = [
        cast(dict[str, Any], e["figures"])
        for e in events
        if e["event"] == "waiting" and e["step"] == "wait-idle"
    ]
    asked = [f["tomcat_in_flight"] for f in idle_waits if "tomcat_in_flight" in f]
    told = [str(e["text"]) for e in events if e["event"] in ("observed", "warning")]
    assert len(asked) >= 5 and all(count >= 1 for count in asked), (told, idle_waits[-3:])
    texts = [str(e["text"]) for e in events]
    assert not [text for text in texts if "stale" in text], texts
    assert idle_waits[-1]["busy"] == 0
    assert tomcat.running_pid(cluster.nodes[1]) is None
    assert statuses(cluster)["node2"] == "Init Drn Dis"
