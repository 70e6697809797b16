"""JGroups default member names (`host-N`, what a channel given no name is called) matched to
inventory nodes by the host name in them, when exactly one node has that host name.

The lines are real: `jgroups212_fd_sock_verify_suspect_views.log` is Debian 12's JGroups 2.12.2
logging through Tomcat's formatter (tests/unit/data/logs/README.md); both of its JVMs ran on one
machine called `vm`, so its names are `vm-5408` and `vm-34711`. For two machines the same lines
are read with those names as two machines would have given them (`tc1-5408`, `tc2-34711`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cluster.membership import matrix, partitions
from console.cluster.observations import EventObserved
from console.cluster.state import ClusterState, replay
from console.cluster.topology import NodeSpec, default_name_host, member_node, short_name, specs_for
from console.config import load_inventory_text
from probes.logs.model import LogEvent
from probes.logs.scanner import scan_file
from tests.inventories import BALANCER_URL, healthy_nodes, nodes_text

DATA = Path(__file__).parent / "data" / "logs"
RECORDED = DATA / "jgroups212_fd_sock_verify_suspect_views.log"
HOSTS = {"node1": "tc1.example.org", "node2": "tc2.example.org", "node3": "10.0.0.20"}


def _specs(hosts: dict[str, str] = HOSTS) -> tuple[NodeSpec, ...]:
    text = nodes_text(hosts, cluster="prod", balancer_url=BALANCER_URL)
    return specs_for(load_inventory_text(text, Path("cluster.toml")), resolve_names=False)


def _two_machines(tmp_path: Path) -> list[LogEvent]:
    """The recorded log of the first peer, its names as on machines tc1 and tc2."""
    text = RECORDED.read_text(encoding="utf-8")
    log = tmp_path / "catalina.out"
    log.write_text(text.replace("vm-5408", "tc1-5408").replace("vm-34711", "tc2-34711"))
    return list(scan_file(log))


def test_the_default_name_is_the_host_name_a_dash_and_a_number_up_to_65534() -> None:
    assert default_name_host("vm-5408") == "vm"
    assert default_name_host("tc1-1") == "tc1"
    assert default_name_host("TC1-65534") == "tc1"
    # a host name with dashes (a Kubernetes pod): the number is after the last one
    assert default_name_host("keycloak-0-12345") == "keycloak-0"
    # JGroups 2.x before 2.12 kept the whole host name
    assert default_name_host("tc1.example.org-77") == "tc1.example.org"
    for other in ("vm-65535", "vm-0", "vm-012", "vm", "vm-", "-5408", "localhost-5408",
                  "10.0.0.1:7800", "a b-12", "vm-5408x"):  # fmt: skip
        assert default_name_host(other) is None, other
    # JGroups' Util.shortName: to the first dot, unless the name starts with a digit
    assert short_name("tc1.example.org") == "tc1"
    assert short_name("10.0.0.1") == "10.0.0.1"
    assert short_name(".hidden") == ".hidden"


def test_a_default_name_names_the_one_node_on_that_machine() -> None:
    specs = _specs()
    assert member_node("tc1-5408", specs) == "node1"
    assert member_node("tc2-34711", specs) == "node2"
    assert member_node("tc1.example.org-77", specs) == "node1"  # 2.x before 2.12
    assert member_node("TC2-9", specs) == "node2"
    # a machine whose name starts with a digit keeps it whole: here, node3's address
    assert member_node("10.0.0.20-4411", specs) == "node3"
    assert member_node("10.0.0.2-4411", specs) is None  # exact, never a prefix
    # no node on that machine, a name that is no default name, a number out of range
    for unknown in ("tc3-5408", "tc1-65535", "tc1", "localhost-4", "tc1x-5408"):
        assert member_node(unknown, specs) is None, unknown
    # addresses still match as before
    assert member_node("10.0.0.20:4000", specs) == "node3"


def test_nodes_sharing_a_machine_name_are_never_guessed_from_it() -> None:
    """The recorded log's two JVMs ran on one machine, `vm`: either name could be either node."""
    specs = (
        NodeSpec("node1", "127.0.14.61", frozenset({"127.0.14.61", "vm"})),
        NodeSpec("node2", "127.0.14.62", frozenset({"127.0.14.62", "vm.example.org"})),
    )
    assert member_node("vm-5408", specs) is None
    assert member_node("vm-34711", specs) is None
    assert member_node("127.0.14.62:7850", specs) == "node2"


def test_the_recorded_views_give_each_node_its_peer_by_machine_name(tmp_path: Path) -> None:
    events = _two_machines(tmp_path)
    views = [e for e in events if e.kind == "membership"]
    assert views[1].members == ("tc1-5408", "tc2-34711")
    inventory = load_inventory_text(
        nodes_text(HOSTS, cluster="prod", balancer_url=BALANCER_URL), Path("cluster.toml")
    )
    specs = specs_for(inventory, resolve_names=False)
    state = replay(ClusterState.initial(inventory, specs), healthy_nodes(("node1", "node2")))
    # node1's log: its own channel alone, then the view with tc2's member
    state = state.apply(EventObserved("node1", "catalina.out", views[0], 3.0))
    assert state.node("node1").members_seen == frozenset()  # its own name is itself
    state = state.apply(EventObserved("node1", "catalina.out", views[1], 4.0))
    assert state.node("node1").members_seen == {"tc2-34711"}
    assert state.node("node1").sees(state.specs) == {"node2"}
    assert matrix(state)["node1"]["node2"] is True
    assert partitions(state)[0] >= {"node1", "node2"}
    # the peer was killed: FD_SOCK's suspicion, then a view without it
    (gone,) = [e for e in events if e.kind == "member-left"]
    assert gone.member == "tc2-34711"
    state = state.apply(EventObserved("node1", "catalina.out", gone, 5.0))
    assert state.node("node1").sees(state.specs) == frozenset()
    state = state.apply(EventObserved("node1", "catalina.out", views[-1], 6.0))
    assert state.node("node1").members_seen == frozenset()
    assert matrix(state)["node1"]["node2"] is False


@pytest.mark.parametrize(
    "line",
    [
        # the sandbox app's line (sandbox/SandboxJGroups.java) had its channel been given no name
        "06-Dec-2026 12:52:45.120 INFO [main] sandbox.SandboxJGroups.viewAccepted Received new "
        "cluster view for channel sandbox: [tc1-9398|1] (2) [tc1-9398, tc2-10771]",
        # JGroups' own tutorial line (`** view: ` + View.toString()), as 2.12.2 printed it here
        "06-Dec-2026 12:52:45.121 INFO [main] Peer$1.viewAccepted ** view: [tc1-9398|1] "
        "[tc1-9398, tc2-10771]",
    ],
)
def test_a_view_line_with_default_names_names_both_nodes(tmp_path: Path, line: str) -> None:
    log = tmp_path / "catalina.out"
    log.write_text(line + "\n")
    (view,) = scan_file(log)
    specs = _specs()
    assert [member_node(member, specs) for member in view.members] == ["node1", "node2"]
