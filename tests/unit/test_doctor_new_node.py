"""The add-node preflight's answers: the node proposed from a reference node, and the answers
refused before any host is asked (a duplicate name, route or address)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from console.config import load_inventory_text
from console.config.model import Inventory
from console.doctor.new_host import compare, parse
from console.doctor.new_node import answer_findings, preflight_new_node, propose_node

CLUSTER = """\
[cluster]
name = "prod"

[ssh]
user = "tomcat"

[[nodes]]
name = "app1"
host = "10.0.0.11"
ssh_port = 2200
catalina_base = "/srv/tomcat/app1"
logs = ["logs/catalina.out", "journal:tomcat10"]
http = "http://10.0.0.11:8080/jw"
start = "{catalina_base}/bin/startup.sh"

[[nodes]]
name = "app2"
host = "10.0.0.12"
jvm_route = "r2"
catalina_base = "/srv/tomcat/app2"
http = "http://10.0.0.12:8080/jw"
"""


@pytest.fixture
def inventory(tmp_path: Path) -> Inventory:
    return load_inventory_text(CLUSTER, tmp_path / "cluster.toml")


def test_a_new_node_follows_the_reference_nodes_pattern(inventory: Inventory) -> None:
    node = propose_node(inventory, "app3", "10.0.0.13")
    assert node.jvm_route == "app3"
    assert node.catalina_base == "/srv/tomcat/app3"
    assert node.http == "http://10.0.0.13:8080/jw"
    assert node.ssh_port == 2200 and node.ssh_user == "tomcat"
    assert [str(s) for s in node.logs] == ["/srv/tomcat/app3/logs/catalina.out", "journal:tomcat10"]
    assert node.start == "/srv/tomcat/app3/bin/startup.sh"
    from_app2 = propose_node(inventory, "app3", "10.0.0.13", reference="app2", jvm_route="r3")
    assert from_app2.ssh_port is None and from_app2.jvm_route == "r3"
    with pytest.raises(ValueError, match="app9"):
        propose_node(inventory, "app3", "10.0.0.13", reference="app9")


def test_answers_with_a_name_route_or_address_already_taken_are_refused(
    inventory: Inventory,
) -> None:
    assert answer_findings(inventory, propose_node(inventory, "app3", "10.0.0.13")) == []
    texts = [f.text for f in answer_findings(inventory, propose_node(inventory, "app2", "h"))]
    assert texts == ["a node named app2 is already in the inventory"]
    route = propose_node(inventory, "app3", "10.0.0.13", jvm_route="r2")
    assert [f.text for f in answer_findings(inventory, route)] == [
        "the jvmRoute r2 is already app2's"
    ]
    same_place = propose_node(inventory, "app3", "10.0.0.12", reference="app2", jvm_route="r3")
    found = answer_findings(inventory, same_place)
    assert [f.check for f in found] == ["node-host"] and found[0].severity == "critical"


def test_a_duplicate_name_is_refused_without_asking_any_host(inventory: Inventory) -> None:
    result = asyncio.run(preflight_new_node(inventory, propose_node(inventory, "app1", "h")))
    assert not result.ok and result.report is None
    assert [f.check for f in result.refusals] == ["node-name"]


def test_the_new_host_against_the_reference_node(inventory: Inventory) -> None:
    reference = inventory.nodes[0]
    node = propose_node(inventory, "app3", "10.0.0.13")
    ref = parse(
        b'home=/opt/tomcat\njava=openjdk version "17.0.15" 2025-04-15\ntomcat=10.1.60.0\n'
        b"port=8005\nport=8080\nport=4000\nport=4000\n"
    )
    assert (ref.home, ref.java, ref.tomcat, ref.ports) == (
        "/opt/tomcat",
        "17.0.15",
        "10.1.60.0",
        {8005, 8080, 4000},
    )
    same = parse(
        b'java=openjdk version "17.0.15" 2025-04-15\ntomcat=10.1.60.0\n'
        b"listen=127.0.0.1:4000\nlisten=10.0.0.99:8080\nlisten=0.0.0.0:22\n"
    )
    assert compare(node, reference, ref, same, {"10.0.0.13"}) == []  # others' addresses
    other = parse(
        b'java=openjdk version "11.0.2"\nlisten=0.0.0.0:8005\nlisten=[::]:9999\nbase=\nentry=conf\n'
    )
    found = {f.check: f.text for f in compare(node, reference, ref, other, {"10.0.0.13"})}
    assert found == {
        "java-version": "app3: Java 11.0.2, app1 runs Java 17.0.15",
        "tomcat-version": "app3: Tomcat is not installed at /opt/tomcat",
        "port-free": "app3: port 8005 is already taken on 0.0.0.0",
        "catalina-base-empty": "app3: /srv/tomcat/app3 already holds files (conf)",
    }
