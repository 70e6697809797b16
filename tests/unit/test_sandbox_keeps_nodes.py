"""`sandbox up` rewrites its cluster.toml but keeps the nodes the add-node wizard wrote there;
the sandbox's own nodes are always its own (a removed one comes back with its Tomcat)."""

from __future__ import annotations

from pathlib import Path

from console.balancer.conf import BEGIN, END, Member, add_member
from console.config import load_inventory_text
from console.config.edit import remove_node, with_node_text
from console.sandbox import httpd
from console.sandbox.inventory import inventory_text, kept_inventory
from console.sandbox.layout import SandboxLayout

NODE4 = {
    "name": "node4",
    "host": "127.0.5.14",
    "jvm_route": "node4",
    "catalina_base": "/srv/node4",
    "http": "http://127.0.5.14:8080/app/",
}


def _layout(tmp_path: Path) -> SandboxLayout:
    layout = SandboxLayout(tmp_path, 3, "127.0.5")
    layout.secrets.mkdir(parents=True)
    for secret in (layout.db_password_file, layout.manager_password_file):
        secret.write_text("pw\n")
        secret.chmod(0o600)
    return layout


def test_a_node_added_by_the_wizard_stays(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    fresh = inventory_text(layout)
    assert kept_inventory(layout, None) == fresh
    assert kept_inventory(layout, fresh) == fresh
    wizard_made = with_node_text(fresh, NODE4, 3)
    kept = kept_inventory(layout, wizard_made)
    assert kept == wizard_made
    nodes = load_inventory_text(kept, layout.inventory).nodes
    assert [node.name for node in nodes] == ["node1", "node2", "node3", "node4"]
    assert nodes[3].catalina_base == "/srv/node4"


def test_the_sandboxs_own_nodes_come_back_and_bad_text_is_replaced(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    fresh = inventory_text(layout)
    layout.inventory.write_text(fresh)
    remove_node(layout.inventory, "node3")  # what remove-node leaves
    assert kept_inventory(layout, layout.inventory.read_text()) == fresh
    assert kept_inventory(layout, "not [ toml") == fresh


def test_httpd_conf_keeps_the_members_the_wizard_persisted(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    layout.httpd_dir.mkdir(parents=True)
    text = (
        '<Proxy "balancer://cluster">\n'
        '  BalancerMember "http://127.0.5.11:8080" route=node1 retry=5 ttl=10\n'
        '  BalancerMember "http://127.0.5.13:8080" route=node3 retry=5 ttl=10\n'
        "  ProxySet growth=4\n</Proxy>\n"
    )
    member = Member("node4", "http://127.0.5.14:8080")
    with_node4, _ = add_member(text, "apache", "cluster", member)
    layout.httpd_conf.write_text(with_node4)
    kept = httpd._kept_members(layout)
    assert kept.splitlines()[1:] == [
        f"  {BEGIN}",
        '  BalancerMember "http://127.0.5.14:8080" route=node4 retry=5 ttl=10',
        f"  {END}",
    ]
    layout.httpd_conf.write_text(text)
    assert httpd._kept_members(layout) == ""
