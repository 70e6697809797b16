"""`status` tells a script what the screen shows: why a node's membership is unknown, which
node is in maintenance, the notices and the acknowledged problems (none of which is an alarm)."""

from __future__ import annotations

from datetime import UTC, datetime

from console.cluster.crosschecks import problems
from console.cluster.maintenance import Acknowledgement, MaintenanceMark
from console.cluster.observations import (
    BacklogScanned,
    BalancerObserved,
    LogHistoryLost,
    MaintenanceObserved,
    ProcessObserved,
    SshObserved,
)
from console.cluster.state import replay
from console.commands.status import render_table, to_json
from console.config.model import Inventory
from probes.process import TomcatProcess
from tests.unit.test_state import inventory  # noqa: F401  (the fixture)
from tests.unit.test_state_hardening import DRAINED, healthy, settled


def test_status_json_says_why_membership_is_unknown_and_lists_it_as_a_notice(
    inventory: Inventory,  # noqa: F811
) -> None:
    state = healthy(inventory)
    state = state.apply(LogHistoryLost("node1", "catalina.out", "truncated", False, 200.0))
    state = settled(state.apply(BacklogScanned("node1", "catalina.out", False, 200.0)), 300.0)
    found = problems(state)
    document = to_json(state, found)
    node1 = next(node for node in document["nodes"] if node["name"] == "node1")
    assert node1["membership_known"] is False
    assert "truncated" in node1["membership_unknown_reason"]
    assert document["problems"] == []
    assert [notice["code"] for notice in document["notices"]] == ["membership-unknown"]
    assert "notices:" in render_table(state, found)


def test_status_shows_maintenance_and_acknowledged_problems_without_alarm(
    inventory: Inventory,  # noqa: F811
) -> None:
    since = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
    mark = MaintenanceMark("node3", "kernel update", "ops", since)
    state = replay(
        healthy(inventory),
        [
            BalancerObserved("httpd", DRAINED, None, 150.0),
            MaintenanceObserved((mark,), (), 150.0),
            ProcessObserved("node3", TomcatProcess("stopped"), 200.0),
            SshObserved("node3", "down", "connection refused", 201.0),
        ],
    )
    document = to_json(state, problems(state))
    node3 = next(node for node in document["nodes"] if node["name"] == "node3")
    assert node3["maintenance"]["reason"] == "kernel update"
    assert node3["maintenance"]["operator"] == "ops"
    assert document["problems"] == []

    stopped = healthy(inventory).apply(ProcessObserved("node2", TomcatProcess("stopped"), 200.0))
    problem = next(p for p in problems(stopped) if p.code == "tomcat-stopped")
    until = datetime.fromtimestamp(10_000.0, UTC)
    ack = Acknowledgement(problem.key, until, "ops", since, "known, vendor ticket")
    acked = stopped.apply(MaintenanceObserved((), (ack,), 210.0))
    found = problems(acked)
    document = to_json(acked, found)
    assert all(p["code"] != "tomcat-stopped" for p in document["problems"])
    [entry] = [p for p in document["acknowledged"] if p["code"] == "tomcat-stopped"]
    assert entry["node"] == "node2" and entry["acknowledgement"]["operator"] == "ops"
    text = render_table(acked, found)
    assert "acknowledged:" in text and "by ops" in text
