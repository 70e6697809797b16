"""inventory_edit: a node added to or removed from a commented cluster.toml, every other line kept,
and every refusal leaves the file as it was."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import console.config.edit as inventory_edit
from console.config import load_inventory
from console.config.edit import InventoryEditError, add_node, remove_node

COMMENTED = """\
# Production cluster: three Tomcat nodes behind httpd.
# Owner: the platform team.

[cluster]
name = "prod"   # shown in the title bar
profile = "joget"

[ssh]
user = "tomcat"

# The first node also holds the deploy source.
[[nodes]]
name = "node1"
host = "10.0.0.1"
jvm_route = "node1"
catalina_base = "/opt/tomcat"
http = "http://10.0.0.1:8080/jw/"

[[nodes]]
name = "node2"
host = "10.0.0.2"   # rack B
jvm_route = "node2"
catalina_base = "/opt/tomcat"
http = "http://10.0.0.2:8080/jw/"

# node3 was added in March.
[[nodes]]
name = "node3"
host = "10.0.0.3"
jvm_route = "node3"
catalina_base = "/opt/tomcat"
http = "http://10.0.0.3:8080/jw/"

# httpd's balancer-manager, on the front host.
[[balancers]]
name = "httpd"
kind = "apache"
url = "http://10.0.0.100/balancer-manager"
balancer = "cluster"

[deploy]
source = "node1:webapps/"   # node1 is the reference
"""

NODE4 = {
    "name": "node4",
    "host": "10.0.0.4",
    "jvm_route": "node4",
    "catalina_base": "/opt/tomcat",
    "http": "http://10.0.0.4:8080/jw/",
    "logs": ["logs/catalina.out", 'logs/odd "quoted".log'],
}


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    path = tmp_path / "cluster.toml"
    path.write_text(COMMENTED)
    path.chmod(0o640)
    return path


def comments(text: str) -> list[str]:
    return [line for line in text.splitlines() if "#" in line]


def test_add_node_goes_after_the_last_node_and_keeps_every_other_line(inventory: Path) -> None:
    add_node(inventory, NODE4)
    text = inventory.read_text()
    loaded = load_inventory(inventory)
    assert [node.name for node in loaded.nodes] == ["node1", "node2", "node3", "node4"]
    assert loaded.nodes[3].jvm_route == "node4"
    assert [source.path for source in loaded.nodes[3].logs][-1].endswith('odd "quoted".log')
    # The new table sits between node3 and the balancer's comment, separated by blank lines.
    assert 'http = "http://10.0.0.3:8080/jw/"\n\n[[nodes]]\nname = "node4"' in text
    assert ".log\"]\n\n# httpd's balancer-manager, on the front host.\n[[balancers]]" in text
    # Every original line is still there, in order: only lines were inserted.
    new_lines = iter(text.splitlines())
    assert all(line in new_lines for line in COMMENTED.splitlines())
    assert comments(text) == comments(COMMENTED)
    assert stat.S_IMODE(inventory.stat().st_mode) == 0o640


def test_remove_node_cuts_its_table_and_its_own_comment_only(inventory: Path) -> None:
    remove_node(inventory, "node3")
    text = inventory.read_text()
    assert [node.name for node in load_inventory(inventory).nodes] == ["node1", "node2"]
    assert "node3" not in text
    assert "# node3 was added in March." not in text
    assert comments(text) == [line for line in comments(COMMENTED) if "node3" not in line]
    assert 'http = "http://10.0.0.2:8080/jw/"\n\n# httpd\'s balancer-manager' in text
    assert stat.S_IMODE(inventory.stat().st_mode) == 0o640


def test_remove_a_middle_node_keeps_the_next_nodes_comment(inventory: Path) -> None:
    remove_node(inventory, "node2")
    text = inventory.read_text()
    assert "# rack B" not in text
    assert '/jw/"\n\n# node3 was added in March.\n[[nodes]]\nname = "node3"' in text
    assert comments(text) == [line for line in comments(COMMENTED) if "rack B" not in line]


def test_add_then_remove_gives_back_the_same_file(inventory: Path) -> None:
    add_node(inventory, NODE4)
    remove_node(inventory, "node4")
    assert inventory.read_text() == COMMENTED


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({**NODE4, "name": "node2"}, "a node named 'node2' is already in the inventory"),
        ({**NODE4, "jvm_route": "node1"}, "jvm_route 'node1' is already used by node 'node1'"),
        ({**NODE4, "catalina_base": "opt/tomcat"}, "nodes[3].catalina_base"),
        ({**NODE4, "colour": "red"}, "nodes[3].colour: unknown field"),
        ({"name": "node4"}, "nodes[3].host: missing"),
    ],
)
def test_add_refusals_say_why_and_leave_the_file(
    inventory: Path, fields: dict[str, object], reason: str
) -> None:
    with pytest.raises(InventoryEditError, match=reason.replace("[", r"\[").replace("]", r"\]")):
        add_node(inventory, fields)
    assert inventory.read_text() == COMMENTED
    assert [p.name for p in inventory.parent.iterdir()] == ["cluster.toml"]


def test_remove_refusals_say_why_and_leave_the_file(inventory: Path) -> None:
    with pytest.raises(InventoryEditError, match=r"no node named 'node9' \(nodes: node1, node2"):
        remove_node(inventory, "node9")
    # deploy's source names node1: the result would not load, and the loader says where.
    with pytest.raises(InventoryEditError, match=r"after removing node node1.*deploy"):
        remove_node(inventory, "node1")
    assert inventory.read_text() == COMMENTED


def test_a_file_changed_meanwhile_is_not_overwritten(
    inventory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_read = inventory_edit._read
    calls = 0

    def read_then_someone_edits(path: Path) -> str:
        nonlocal calls
        calls += 1
        text = real_read(path)
        if calls == 1:
            path.write_text(text + "# edited by hand meanwhile\n")
        return text

    monkeypatch.setattr(inventory_edit, "_read", read_then_someone_edits)
    with pytest.raises(InventoryEditError, match="changed while the edit was prepared"):
        add_node(inventory, NODE4)
    assert inventory.read_text() == COMMENTED + "# edited by hand meanwhile\n"
    assert sorted(os.listdir(inventory.parent)) == ["cluster.toml"]
