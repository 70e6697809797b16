"""The inventories the unit and view tests share (no network: addresses that nothing answers
on), as text to extend and as a loaded `Inventory`: one builder, and the three-node cluster most
tests use."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from console.config import load_inventory_text
from console.config_model import Inventory

NAMES = ("node1", "node2", "node3")
ADDRESS = {"node1": "10.0.0.1", "node2": "10.0.0.2", "node3": "10.0.0.20"}
"""node3's address is not node1's and node2's pattern, so a test can tell the nodes apart by it."""
BALANCER_URL = "http://10.0.0.100/balancer-manager"


def nodes_text(
    addresses: Mapping[str, str],
    *,
    cluster: str,
    balancer_url: str,
    header: str = "",
    extra: str = "",
) -> str:
    """An inventory: one node per name (route = name, /opt/tomcat, an /app/ URL on port 8080)
    behind one httpd balancer; ``header`` follows the cluster's name (a colour, say), ``extra``
    ends the file (a [database] section, say)."""
    nodes = "".join(
        f'\n[[nodes]]\nname = "{name}"\nhost = "{address}"\njvm_route = "{name}"\n'
        f'catalina_base = "/opt/tomcat"\nhttp = "http://{address}:8080/app/"\n'
        for name, address in addresses.items()
    )
    balancer = f'\n[[balancers]]\nname = "httpd"\nkind = "apache"\nurl = "{balancer_url}"\n'
    return f'[cluster]\nname = "{cluster}"\n{header}{nodes}{balancer}{extra}'


def three_nodes_text(cluster: str = "prod", *, extra: str = "") -> str:
    """The three-node cluster (`NAMES` at `ADDRESS`), then ``extra``."""
    return nodes_text(ADDRESS, cluster=cluster, balancer_url=BALANCER_URL, extra=extra)


def three_nodes(tmp_path: Path, cluster: str = "prod", *, extra: str = "") -> Inventory:
    """`three_nodes_text` loaded, as if from ``tmp_path/cluster.toml``."""
    return load_inventory_text(three_nodes_text(cluster, extra=extra), tmp_path / "cluster.toml")
