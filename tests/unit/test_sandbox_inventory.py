"""The sandbox's cluster.toml is a valid inventory describing exactly the sandbox's pieces."""

from __future__ import annotations

from pathlib import Path

from console.config import load_inventory_text
from console.sandbox.inventory import inventory_text
from console.sandbox.layout import SandboxLayout


def test_sandbox_inventory_validates_and_describes_every_piece(tmp_path: Path) -> None:
    layout = SandboxLayout(tmp_path, 4, "127.0.5")
    layout.secrets.mkdir(parents=True)
    layout.db_password_file.write_text("pw\n")
    layout.db_password_file.chmod(0o600)
    layout.manager_password_file.write_text("pw\n")
    layout.manager_password_file.chmod(0o600)
    inventory = load_inventory_text(inventory_text(layout), layout.inventory)
    assert [n.name for n in inventory.nodes] == ["node1", "node2", "node3", "node4"]
    assert [n.host for n in inventory.nodes] == [f"127.0.5.{i}" for i in (11, 12, 13, 14)]
    assert [n.jvm_route for n in inventory.nodes] == ["node1", "node2", "node3", "node4"]
    node = inventory.nodes[1]
    assert node.ssh_port == 2222
    assert node.http == "http://127.0.5.12:8080/app/"
    assert node.logs[0].path == str(layout.node(2).base / "logs" / "catalina.out")
    assert node.start.endswith("sandbox-start.sh") and node.stop.endswith("sandbox-stop.sh")
    assert inventory.balancers[0].url == "http://127.0.5.1:8000/balancer-manager"
    assert inventory.database is not None
    assert "127.0.5.10:3306" in inventory.database.url
    assert inventory.shared_dir is not None and inventory.shared_dir.path == str(layout.shared)
    assert inventory.deploy is not None
    assert inventory.metrics.manager_user == "console"
    assert inventory.metrics.password is not None
    assert inventory.metrics.password.file == layout.manager_password_file


def test_node_addresses_follow_the_network(tmp_path: Path) -> None:
    layout = SandboxLayout(tmp_path, 2, "127.0.7")
    assert layout.balancer_address == "127.0.7.1"
    assert layout.database_address == "127.0.7.10"
    assert layout.node(2).unique_id == "{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2}"
