"""JGroups default member names (`host-N`, what a channel given no name is called) matched to
inventory nodes by the host name in them, when exactly one node has that host name.

The lines are real: `jgroups212_fd_sock_verify_suspect_views.log` is Debian 12's JGroups 2.12.2
logging through Tomcat's formatter (tests/unit/data/logs/README.md); both of its JVMs ran on one
machine called `vm`, so its names are `vm-5408` and `vm-34711`. For two machines the same lines
are read with those names as two machines would have given them (`tc1-5408`, `tc2-34711`). On
one machine the names say nothing of the node; GMS's banner, which each node's own log holds
(`GMS: address=vm-5408, cluster=demo, physical address=127.0.14.61:7850`), does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cluster.membership import matrix, partitions
from console.cluster.observations import EventObserved
from console.cluster.state import ClusterState, replay
from console.cluster.topology import NodeSpec, default_name_host, member_node, short_name, specs_for
from console.config import load_inventory_text
from probes.logs.jgroups import own_name
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


def _one_machine_state() -> ClusterState:
    """Two nodes on one machine (`vm`), named by their addresses, as the recorded log's JVMs."""
    hosts = {"node1": "127.0.14.61", "node2": "127.0.14.62"}
    inventory = load_inventory_text(
        nodes_text(hosts, cluster="demo", balancer_url=BALANCER_URL), Path("cluster.toml")
    )
    specs = tuple(
        NodeSpec(spec.name, spec.host, spec.addresses | {"vm"}, spec.jvm_route, spec.http_port)
        for spec in specs_for(inventory, resolve_names=False)
    )
    return ClusterState.initial(inventory, specs)


def _banner(name: str, physical: str) -> LogEvent:
    """GMS's banner line as 2.12.2 printed it, read as an event."""
    draft = own_name(f"GMS: address={name}, cluster=demo, physical address={physical}")
    assert draft is not None
    return LogEvent(draft.kind, draft.source, 10, 0, None, draft.member, detail=draft.detail)


def test_each_node_s_banner_tells_its_own_name_when_names_cannot(tmp_path: Path) -> None:
    events = list(scan_file(RECORDED))
    assert (events[0].kind, events[0].member, events[0].detail) == (
        "member-name",
        "vm-5408",
        "127.0.14.61:7850",
    )
    views = [e for e in events if e.kind == "membership"]
    state = replay(_one_machine_state(), healthy_nodes(("node1", "node2")))
    state = state.apply(EventObserved("node1", "catalina.out", views[1], 4.0))
    assert state.node("node1").sees(state.specs) == frozenset()  # `vm`: either node
    assert matrix(state)["node1"]["node2"] is False
    # node1's log (the recorded one) gave its banner; node2's log gives its own
    state = state.apply(EventObserved("node1", "catalina.out", events[0], 5.0))
    state = state.apply(
        EventObserved("node2", "catalina.out", _banner("vm-34711", "127.0.14.62:7850"), 5.0)
    )
    assert member_node("vm-34711", state.specs) == "node2"
    assert member_node("vm-5408", state.specs) == "node1"
    state = state.apply(EventObserved("node1", "catalina.out", views[1], 6.0))
    assert state.node("node1").members_seen == {"vm-34711"}  # its own name is itself
    assert state.node("node1").sees(state.specs) == {"node2"}
    assert matrix(state)["node1"]["node2"] is True
    # node2 restarted: a new channel, a new default name, told by its banner again
    state = state.apply(
        EventObserved("node2", "catalina.out", _banner("vm-901", "127.0.14.62:7850"), 7.0)
    )
    restarted = LogEvent("membership", "jgroups", 300, 0, None, None, ("vm-5408", "vm-901"))
    state = state.apply(EventObserved("node1", "catalina.out", restarted, 8.0))
    assert state.node("node1").sees(state.specs) == {"node2"}


def test_the_names_a_node_keeps_are_bounded_and_told_once() -> None:
    state = _one_machine_state()
    for number in range(1, 30):
        event = _banner(f"vm-{number}", "127.0.14.62:7850")
        state = state.apply(EventObserved("node2", "catalina.out", event, float(number)))
    again = state.apply(EventObserved("node2", "catalina.out", _banner("vm-29", "x:1"), 40.0))
    assert again.node("node2").spec is state.node("node2").spec
    names = state.node("node2").spec.member_names
    assert names == tuple(f"vm-{n}" for n in range(22, 30))
    assert member_node("vm-29", state.specs) == "node2"
    assert member_node("vm-1", state.specs) is None  # long forgotten, and `vm` is both nodes


def test_the_banner_is_read_from_every_version_s_line_and_nothing_else() -> None:
    for line, name, physical in (
        ("GMS: address=vm-5408, cluster=demo, physical address=127.0.14.61:7850", "vm-5408",
         "127.0.14.61:7850"),
        # Liferay's Cluster Link in a container (the host name has dashes), through docker logs
        ("liferay-portal-node-1_1  | GMS: address=liferay-portal-node-1-29833, cluster="
         "liferay-channel-control, physical address=172.19.0.5:43578",
         "liferay-portal-node-1-29833", "172.19.0.5:43578"),
        # WildFly's stdout logger; a name with spaces; a 3.x release with the address's size
        ("00:53:19,898 INFO  [stdout] (http-/192.168.1.2:8980-1) GMS: address=skoussou-PC-25220, "
         "cluster=RDS-DATAGRID-CLUSTER, physical address=192.168.1.2:55628", "skoussou-PC-25220",
         "192.168.1.2:55628"),
        ("GMS: address=Kylo - MUSSR186054-918-31345, cluster=kylo-modeshape-cluster, physical "
         "address=127.0.0.1:7800", "Kylo - MUSSR186054-918-31345", "127.0.0.1:7800"),
        ("GMS: address=MacBook-Pro-de-Carlos-56214 (240 bytes), cluster=Jenkins, physical "
         "address=192.168.0.12:52905", "MacBook-Pro-de-Carlos-56214", "192.168.0.12:52905"),
        ("GMS: address=tc1, cluster=x", "tc1", None),  # a transport without physical address
    ):  # fmt: skip
        draft = own_name(line)
        assert draft is not None, line
        assert (draft.member, draft.detail) == (name, physical), line
    assert default_name_host("liferay-portal-node-1-29833") == "liferay-portal-node-1"
    for other in ("GMS: address=, cluster=x, physical address=1.2.3.4:1",
                  "the GMS: address= field of the config", "address=vm-1, cluster=x"):  # fmt: skip
        assert own_name(other) is None, other
