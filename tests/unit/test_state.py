"""The cluster state reducer and its cross-checks, fed recorded observations (no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cluster.crosschecks import Problem, problems
from console.cluster.membership import matrix, partitions, serving_nodes
from console.cluster.observations import (
    BacklogScanned,
    BalancerObserved,
    DatabaseObserved,
    DatabaseReachObserved,
    EventObserved,
    ProcessObserved,
    SharedDirObserved,
    SshObserved,
)
from console.cluster.state import EVENTS_KEPT, ClusterState, replay
from console.cluster.topology import specs_for
from console.config import load_inventory_text
from console.config.model import Inventory
from probes.balancer.model import Balancer, BalancerPage, make_worker
from probes.database import DatabaseHealth
from probes.files import SharedDirHealth
from probes.process import TomcatProcess
from probes.reach import Reach
from tests.inventories import ADDRESS as ADDRESS
from tests.inventories import NAMES as NAMES
from tests.inventories import event as event
from tests.inventories import healthy_nodes as healthy_nodes
from tests.inventories import joined as joined
from tests.inventories import left as left
from tests.inventories import three_nodes_text

INVENTORY = three_nodes_text()


@pytest.fixture
def inventory(three_node_inventory: Inventory) -> Inventory:
    return three_node_inventory


def initial(inventory: Inventory) -> ClusterState:
    return ClusterState.initial(inventory, specs_for(inventory, resolve_names=False))


def page(*workers: tuple[str, str, str], elected: int = 10) -> BalancerPage:
    """A balancer page: (node, route, status text) per worker."""
    return BalancerPage(
        "http://10.0.0.100/balancer-manager",
        (
            Balancer(
                "cluster",
                "nonce-1",
                tuple(
                    make_worker(
                        f"http://{ADDRESS[node]}:8080",
                        route=route,
                        status=status,
                        elected=elected,
                        busy=0,
                    )
                    for node, route, status in workers
                ),
            ),
        ),
    )


HEALTHY_PAGE = page(
    ("node1", "node1", "Init Ok "), ("node2", "node2", "Init Ok "), ("node3", "node3", "Init Ok ")
)


def codes(found: tuple[Problem, ...]) -> list[tuple[str, str | None]]:
    return [(problem.code, problem.node) for problem in found]


def settled(state: ClusterState, at: float = 100.0) -> ClusterState:
    """The state once time has moved on (any observation moves the state's clock)."""
    return state.apply(SshObserved("node1", "up", None, at))


def test_a_healthy_cluster_has_no_problems(inventory: Inventory) -> None:
    state = replay(
        initial(inventory), [*healthy_nodes(), BalancerObserved("httpd", HEALTHY_PAGE, None, 1.0)]
    )
    assert problems(state) == ()
    assert partitions(state) == [frozenset(NAMES)]
    assert serving_nodes(state) == frozenset(NAMES)
    assert all(all(row.values()) for row in matrix(state).values())


def test_apply_never_changes_the_old_snapshot(inventory: Inventory) -> None:
    before = initial(inventory)
    after = before.apply(SshObserved("node1", "up", None, 1.0))
    assert before.node("node1").ssh == "connecting"
    assert after.node("node1").ssh == "up"
    assert after.version == before.version + 1


def test_observations_about_unknown_nodes_are_ignored(inventory: Inventory) -> None:
    state = initial(inventory)
    assert state.apply(SshObserved("node9", "up", None, 1.0)) is state
    assert state.apply(BalancerObserved("nginx", None, "x", 1.0)) is state


def test_member_left_then_joined_tracks_what_each_node_sees(inventory: Inventory) -> None:
    state = replay(initial(inventory), healthy_nodes())
    state = state.apply(left("node1", "node3"))
    assert state.node("node1").sees(state.specs) == {"node2"}
    state = state.apply(joined("node1", "node3"))
    assert state.node("node1").sees(state.specs) == {"node2", "node3"}


def test_exact_address_matching_never_confuses_10_0_0_2_with_10_0_0_20(
    inventory: Inventory,
) -> None:
    state = replay(initial(inventory), healthy_nodes())
    state = state.apply(left("node1", "node2"))
    assert state.node("node1").sees(state.specs) == {"node3"}


def test_a_node_the_balancer_serves_but_peers_do_not_see_is_not_replicated(
    inventory: Inventory,
) -> None:
    state = replay(
        initial(inventory), [*healthy_nodes(), BalancerObserved("httpd", HEALTHY_PAGE, None, 1.0)]
    )
    state = replay(state, [left("node1", "node3"), left("node2", "node3")])
    found = problems(settled(state))
    assert ("not-replicated", "node3") in codes(found)
    text = next(p.text for p in found if p.code == "not-replicated")
    assert "node1, node2" in text and "not replicated" in text


def test_two_groups_that_do_not_see_each_other_are_a_split_brain(inventory: Inventory) -> None:
    state = replay(initial(inventory), healthy_nodes())
    state = replay(
        state,
        [
            left("node1", "node3"),
            left("node2", "node3"),
            left("node3", "node1"),
            left("node3", "node2"),
        ],
    )
    assert partitions(state) == [frozenset({"node1", "node2"}), frozenset({"node3"})]
    found = problems(settled(state))
    assert found[0].code == "split-brain"
    assert found[0].severity == "critical"
    assert "{node1, node2} | {node3}" in found[0].text


def test_a_stopped_node_is_not_counted_against_its_peers(inventory: Inventory) -> None:
    state = replay(initial(inventory), healthy_nodes())
    state = state.apply(ProcessObserved("node3", TomcatProcess("stopped"), 3.0))
    state = replay(state, [left("node1", "node3", "graceful"), left("node2", "node3", "graceful")])
    assert codes(problems(state)) == [("tomcat-stopped", "node3")]


def test_membership_unknown_until_the_log_told_it(inventory: Inventory) -> None:
    observations = [o for o in healthy_nodes() if not isinstance(o, BacklogScanned)]
    state = replay(initial(inventory), observations)
    assert matrix(state)["node1"]["node2"] is None
    state = state.apply(BacklogScanned("node1", "catalina.out", True, 1.0))
    assert matrix(state)["node1"]["node2"] is True


def test_a_membership_view_replaces_what_the_node_saw(inventory: Inventory) -> None:
    state = replay(initial(inventory), healthy_nodes())
    view = event("membership", members=("10.0.0.1:5701", "10.0.0.2:5701"))
    state = state.apply(EventObserved("node1", "wso2carbon.log", view, 3.0))
    assert state.node("node1").members_seen == {"10.0.0.2:5701"}


def test_route_mismatch_is_critical(inventory: Inventory) -> None:
    wrong = page(
        ("node1", "node1", "Init Ok "),
        ("node2", "node02", "Init Ok "),
        ("node3", "node3", "Init Ok "),
    )
    state = replay(
        initial(inventory), [*healthy_nodes(), BalancerObserved("httpd", wrong, None, 1.0)]
    )
    found = problems(state)
    assert codes(found) == [("route-mismatch", "node2")]
    assert "'node02'" in found[0].text and "sticky" in found[0].text


def test_a_draining_worker_still_elected_is_reported(inventory: Inventory) -> None:
    first = page(
        ("node1", "node1", "Init Ok "),
        ("node2", "node2", "Init Drn Ok "),
        ("node3", "node3", "Init Ok "),
        elected=10,
    )
    second = page(
        ("node1", "node1", "Init Ok "),
        ("node2", "node2", "Init Drn Ok "),
        ("node3", "node3", "Init Ok "),
        elected=14,
    )
    state = replay(
        initial(inventory), [*healthy_nodes(), BalancerObserved("httpd", first, None, 1.0)]
    )
    assert problems(state) == ()
    state = state.apply(BalancerObserved("httpd", second, None, 3.0))
    found = problems(state)
    assert ("drain-still-elected", "node2") in codes(found)
    assert state.balancer("httpd").interval == pytest.approx(2.0)


def test_a_running_node_missing_from_the_balancer(inventory: Inventory) -> None:
    two = page(("node1", "node1", "Init Ok "), ("node2", "node2", "Init Ok "))
    state = replay(
        initial(inventory), [*healthy_nodes(), BalancerObserved("httpd", two, None, 1.0)]
    )
    assert codes(problems(state)) == [("not-in-balancer", "node3")]


def test_no_usable_worker_and_unreachable_balancer(inventory: Inventory) -> None:
    dead = page(
        ("node1", "node1", "Init Err "),
        ("node2", "node2", "Init Dis "),
        ("node3", "node3", "Init Stop "),
    )
    state = replay(
        initial(inventory), [*healthy_nodes(), BalancerObserved("httpd", dead, None, 1.0)]
    )
    assert ("no-usable-worker", None) in codes(problems(state))
    state = state.apply(BalancerObserved("httpd", None, "connection refused", 2.0))
    found = problems(state)
    assert ("balancer-unreachable", None) in codes(found)
    assert "connection refused" in found[0].text
    assert state.balancer("httpd").page is dead  # the last good read is kept


def test_ssh_failures_are_critical_with_their_reason(inventory: Inventory) -> None:
    state = replay(
        initial(inventory),
        [
            SshObserved("node1", "host-key-mismatch", "key changed", 1.0),
            SshObserved("node2", "auth-failed", "permission denied", 1.0),
            SshObserved("node3", "down", "connection refused", 1.0),
        ],
    )
    found = problems(state)
    assert codes(found) == [("ssh-host-key", "node1"), ("ssh-auth", "node2"), ("ssh-down", "node3")]
    assert "known_hosts" in found[0].text and "key changed" in found[0].text


def test_database_and_shared_dir_trouble(inventory: Inventory) -> None:
    state = replay(
        initial(inventory),
        [
            *healthy_nodes(),
            SharedDirObserved(
                "node2", SharedDirHealth(False, reason="the directory is not writable"), 1.0
            ),
            DatabaseReachObserved("node3", Reach(False, "connection refused"), 1.0),
        ],
    )
    assert codes(problems(state)) == [("shared-dir", "node2"), ("node-database", "node3")]


def test_database_grants_missing_is_a_warning(tmp_path: Path) -> None:
    text = (
        INVENTORY + '\n[database]\nurl = "mysql://joget@10.0.0.50:3306/jwdb"\npassword_env = "X"\n'
    )
    inventory = load_inventory_text(text, tmp_path / "cluster.toml")
    health = DatabaseHealth(True, ms=1.0, grants_ok=False, missing_grants=frozenset({"TRIGGER"}))
    state = replay(initial(inventory), [*healthy_nodes(), DatabaseObserved(health, 1.0)])
    found = problems(state)
    assert codes(found) == [("database-grants", None)]
    assert "TRIGGER" in found[0].text
    down = DatabaseHealth(False, error="Can't connect to MySQL server (error 2003)")
    found = problems(state.apply(DatabaseObserved(down, 2.0)))
    assert found[0].code == "database-unreachable" and found[0].severity == "critical"


def test_events_are_a_bounded_ring(inventory: Inventory) -> None:
    state = initial(inventory)
    for _ in range(EVENTS_KEPT + 50):
        state = state.apply(joined("node1", "node2"))
    assert len(state.events) == EVENTS_KEPT
    assert state.node("node1").last_event is state.events[-1]


def test_a_stopped_node_the_balancer_still_counts_usable(inventory: Inventory) -> None:
    state = replay(
        initial(inventory),
        [*healthy_nodes(), BalancerObserved("httpd", HEALTHY_PAGE, None, 1.0)],
    )
    state = state.apply(ProcessObserved("node3", TomcatProcess("stopped"), 3.0))
    found = problems(state)
    assert ("worker-to-stopped-node", "node3") in codes(found)
    assert "Disable or drain" in next(p.text for p in found if p.code == "worker-to-stopped-node")
    stopped = page(
        ("node1", "node1", "Init Ok "),
        ("node2", "node2", "Init Ok "),
        ("node3", "node3", "Init Dis "),
    )
    state = state.apply(BalancerObserved("httpd", stopped, None, 4.0))
    assert codes(problems(state)) == [("tomcat-stopped", "node3")]
