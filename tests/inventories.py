"""The inventories the unit and view tests share (no network: addresses that nothing answers
on), as text to extend and as a loaded `Inventory`: one builder, and the three-node cluster most
tests use, with the observations of it (log events, a healthy cluster)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from console.cluster.observations import (
    BacklogScanned,
    EventObserved,
    HttpObserved,
    Observation,
    ProcessObserved,
    SshObserved,
)
from console.config import load_inventory_text
from console.config.model import Inventory
from probes.http import HttpCheck
from probes.logs.model import LogEvent
from probes.process import TomcatProcess

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


def event(kind: str, member: str | None = None, *, text: str = "", **extra: Any) -> LogEvent:
    """A Tomcat log event of `kind` (about `member`, ``ADDR:PORT``), read from line 1."""
    return LogEvent(
        kind=kind,  # type: ignore[arg-type]
        source="tomcat",
        line=1,
        offset=0,
        time=None,
        member=member,
        text=text,
        **extra,
    )


def joined(observer: str, member: str, at: float = 1.0, text: str = "") -> EventObserved:
    """`observer` logged `member` joining its cluster."""
    ev = event("member-joined", f"{ADDRESS[member]}:4000", text=text)
    return EventObserved(observer, "catalina.out", ev, at)


def left(
    observer: str, member: str, detail: str = "crash", *, at: float = 2.0, text: str = ""
) -> EventObserved:
    """`observer` logged `member` leaving (`detail`: crash, graceful, shutdown)."""
    ev = event("member-left", f"{ADDRESS[member]}:4000", text=text, detail=detail)
    return EventObserved(observer, "catalina.out", ev, at)


def healthy_nodes(names: Sequence[str] = NAMES) -> list[Observation]:
    """Every node up, running, answering, its whole log read, seeing every other node."""
    out: list[Observation] = []
    for name in names:
        out += [
            SshObserved(name, "up", None, 1.0),
            ProcessObserved(name, TomcatProcess("running", 100), 1.0),
            HttpObserved(name, HttpCheck(f"http://{ADDRESS[name]}:8080/app/", 200, 3.0), 1.0),
            BacklogScanned(name, "catalina.out", True, 1.0),
        ]
        out += [joined(name, other) for other in names if other != name]
    return out
