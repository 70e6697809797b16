"""The frevvo variant (issue 20): httpd over AJP, unloadDelay 40000, a JGroups channel.

One 2-node frevvo sandbox for this module (tests/sandbox/variants.py), brought up and down
around it:

- `status` healthy through the ajp:// BalancerMembers of balancer-manager;
- JGroups views are real log lines of the app's channel, its members under JGroups' default
  names (`vm-5408`: the one machine's name and a random number, drawn again at every start), and
  the console's monitor turns the view changes into events when node2 stops (a view without it)
  and starts (a view with it), telling the members apart by each node's GMS banner;
- `--wizard drain` then `--wizard rejoin` of node2 under the sandbox's sticky load: 0 failed
  requests, 0 counter breaks; the drain read unloadDelay 40000 from the app's context and gave
  the stop 40 s plus its margin.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from console.cluster.state import ClusterState, NodeEvent
from console.cluster.topology import default_name_host, member_node
from console.config import load_inventory
from console.monitor.runner import Monitor, MonitorOptions
from console.sandbox import tomcat
from console.sandbox.layout import JGROUPS_PORT, SandboxLayout
from tests.bench.drain_proof import Scenario, drain_rejoin_under_load, restore
from tests.bench.rolling_restart import RollingRun, rolling_restart_under_load

from .helpers import log_since, log_size, wait_for
from .test_drain_under_load import check_audit, check_cycle, check_load
from .variants import (
    check_rolling_restart,
    console,
    start_stopped_nodes,
    up_again_changes_nothing,
    variant_sandbox,
)

pytestmark = [pytest.mark.sandbox, pytest.mark.disruptive]

TOMCAT_WAITING = "Waiting for [1] instance(s) to be deallocated for Servlet [jsp]"
"""What Tomcat logs while a stopping context waits unloadDelay for a request in flight."""
_VIEW = re.compile(
    r"viewAccepted Received new cluster view for channel sandbox: \[[^|]+\|\d+\] \(\d+\) "
    r"\[(?P<members>[^\]]*)\]$"
)
_BANNER = re.compile(r"^GMS: address=(?P<name>\S+), cluster=sandbox, physical address=(?P<at>\S+)$")


@pytest.fixture(scope="module")
def frevvo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxLayout]:
    with variant_sandbox("frevvo", tmp_path_factory.mktemp("frevvo")) as layout:
        yield layout


def test_httpd_talks_ajp_and_the_app_waits_40_s(frevvo: SandboxLayout) -> None:
    inventory = tomllib.loads(frevvo.inventory.read_text())
    assert inventory["cluster"]["profile"] == "frevvo"
    assert inventory["balancers"][0]["kind"] == "apache"
    for node in frevvo.nodes:
        context = node.base / "webapps" / "app" / "META-INF" / "context.xml"
        assert 'unloadDelay="40000"' in context.read_text()
        assert f'"ajp://{node.address}:8009"' in frevvo.httpd_conf.read_text()

    def healthy() -> dict[str, object] | None:
        code, out, _ = console(frevvo, "status", "--json", "--sandbox")
        document = json.loads(out)
        return document if code == 0 and not document["problems"] else None

    status = wait_for(healthy, 90, "`status` to find no problem on the frevvo sandbox", 1.0)
    (balancer,) = status["balancers"]  # type: ignore[index]
    workers = balancer["balancers"][0]["workers"]
    assert [w["url"].split(":")[0] for w in workers] == ["ajp", "ajp"]
    assert all(w["usable"] and w["busy"] is not None for w in workers), workers
    for node in status["nodes"]:  # type: ignore[index]
        assert (node["ssh"], node["tomcat"], node["http"]["status"]) == ("up", "running", 200)


def test_up_again_changes_nothing(frevvo: SandboxLayout) -> None:
    """The listener is compiled once and the jar copied once: a second `up` leaves the app."""
    up_again_changes_nothing(frevvo)
    for node in frevvo.nodes:
        web_inf = node.base / "webapps" / "app" / "WEB-INF"
        assert (web_inf / "classes" / "sandbox" / "SandboxJGroups.class").is_file()
        assert (web_inf / "lib" / "jgroups.jar").is_file()


def test_every_node_logs_its_default_name_and_the_view_with_both(frevvo: SandboxLayout) -> None:
    """Each node's channel has a default name (`host-N`, the machine's name for all of them),
    printed in GMS's banner with the node's own address; each node's last view has both names."""
    names = {}
    for node in frevvo.nodes:
        banners = [
            b for line in log_since(node.catalina_out).splitlines() if (b := _BANNER.match(line))
        ]
        assert banners, f"{node.name} logged no GMS banner"
        assert banners[-1]["at"] == f"{node.address}:{JGROUPS_PORT}", banners[-1].group(0)
        names[node.name] = banners[-1]["name"]
        assert default_name_host(names[node.name]) is not None, names
    assert len(set(names.values())) == 2, names
    for node in frevvo.nodes:
        text = log_since(node.catalina_out).splitlines()
        views = [v for line in text if (v := _VIEW.search(line))]
        assert views, f"{node.name} logged no JGroups view"
        assert set(views[-1]["members"].split(", ")) == set(names.values()), views[-1].group(0)


def _views(state: ClusterState, observer: str, since: float) -> list[NodeEvent]:
    return [
        record
        for record in state.events
        if record.node == observer
        and record.event.source == "jgroups"
        and record.event.kind == "membership"
        and record.at >= since
    ]


def _nodes_in_views(state: ClusterState, since: float) -> list[frozenset[str | None]]:
    """node1's views since `since`, each as the nodes its members name (None: not told apart)."""
    specs = state.specs
    return [
        frozenset(member_node(member, specs) for member in record.event.members)
        for record in _views(state, "node1", since)
    ]


async def _watch_node2_leave_and_come_back(layout: SandboxLayout) -> list[frozenset[str | None]]:
    """With the monitor running, stop node2 and start it again; node1's JGroups views that the
    monitor turned into events in that time, as the nodes their members name."""
    alone, both = frozenset({"node1"}), frozenset({"node1", "node2"})
    inventory = load_inventory(layout.inventory)
    options = MonitorOptions(read_only=True)
    async with Monitor(inventory, options) as monitor:
        await monitor.wait_for(lambda s: s.node("node1").tomcat == "running", 60)
        began = time.time()
        await asyncio.to_thread(tomcat.stop, layout.node(2))
        state = await monitor.wait_for(lambda s: alone in _nodes_in_views(s, began), 60)
        await asyncio.to_thread(tomcat.start, layout.node(2))
        # node2's new default name is told by its own banner, read from node2's log
        state = await monitor.wait_for(
            lambda s: {alone, both} <= set(_nodes_in_views(s, began)), 60
        )
    return _nodes_in_views(state, began)


def test_jgroups_view_changes_are_events_when_a_node_stops_and_starts(
    frevvo: SandboxLayout,
) -> None:
    try:
        seen = asyncio.run(_watch_node2_leave_and_come_back(frevvo))
    finally:
        start_stopped_nodes(frevvo)
    alone, both = frozenset({"node1"}), frozenset({"node1", "node2"})
    # node2 left (a view of node1 alone), then came back (a view of both), in that order.
    assert seen.index(alone) < len(seen) - 1 - seen[::-1].index(both), seen


def _slow_request(url: str) -> str:
    """GET `url` (a request that stays in flight for minutes): how it ended."""
    try:
        response = httpx.get(url, timeout=httpx.Timeout(300.0, connect=5.0))
    except httpx.HTTPError as error:
        return f"cut: {error!r}"
    return f"HTTP {response.status_code}: {response.text.strip()}"


def test_drain_waits_out_the_40_s_unload_delay_and_loses_nothing(
    frevvo: SandboxLayout, tmp_path: Path
) -> None:
    """A request held in flight on node2 (straight to the node, as a long form submission
    would be) makes Tomcat wait its whole unloadDelay when the drain stops it: the drain waits
    those 40 s (it gives the stop unloadDelay plus a margin, and kills nothing), and the sticky
    load through the balancer loses nothing meanwhile."""
    audit_log = tmp_path / "audit.jsonl"
    node2 = frevvo.node(2)
    offset = log_size(node2.catalina_out)

    async def scenario() -> tuple[Scenario, str]:
        slow = asyncio.create_task(
            asyncio.to_thread(_slow_request, f"{node2.http_url}/app/slow.jsp?ms=120000")
        )
        try:
            # The warm-up of the load (every client answered 3 times) comes before the drain,
            # so the slow request is in flight on node2 well before the stop.
            run = await drain_rejoin_under_load(frevvo, ["node2"], audit_log=audit_log)
            return run, await slow
        finally:
            await restore(frevvo)
            if not slow.done():
                slow.cancel()

    run, slow = asyncio.run(scenario())
    assert len(run.cycles) == 1
    cycle = run.cycles[0]
    check_cycle(cycle)
    check_load(run)
    check_audit(audit_log, run)
    texts = [str(event.get("text")) for event in cycle.drain.events]
    assert any("unloadDelay of /app on node2: 40000 ms" in text for text in texts), texts
    assert any("unloadDelay plus margin: 70 s" in text for text in texts), texts
    # Tomcat waited for the request in flight, for the whole unloadDelay, then stopped anyway:
    # the request was cut, and the drain's stop step lasted at least those 40 s.
    assert TOMCAT_WAITING in log_since(node2.catalina_out, offset)
    assert slow.startswith("cut:"), slow
    (stop,) = [step for step in cycle.drain.steps if step.name == "stop"]
    assert stop.outcome == "done" and stop.duration_s >= 40.0, stop


def test_rolling_restart_under_load(frevvo: SandboxLayout, tmp_path: Path) -> None:
    """`--wizard rolling-restart` of both nodes through httpd over AJP: each node's drain reads
    the app's unloadDelay 40000 and gives its stop that long plus a margin."""
    audit_log = tmp_path / "audit.jsonl"

    async def scenario() -> RollingRun:
        try:
            return await rolling_restart_under_load(frevvo, audit_log=audit_log)
        finally:
            await restore(frevvo)

    result = asyncio.run(scenario())
    check_rolling_restart(result, audit_log, frevvo)
    assert result.run is not None
    texts = [str(event.get("text")) for event in result.run.events]
    for node in ("node1", "node2"):
        assert any(f"unloadDelay of /app on {node}: 40000 ms" in text for text in texts), texts
