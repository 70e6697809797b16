"""Recorded observations of a small cluster, for app and snapshot tests (no network).

`healthy()` is a 3-node cluster as the sandbox shows it once everything answered; `trouble()`
adds what a bad day looks like (a node down, a worker in error, a member gone); `hostile()`
puts markup and escape sequences where remote text goes.
"""

from __future__ import annotations

from pathlib import Path

from console.cluster.observations import (
    BacklogScanned,
    BalancerObserved,
    DatabaseObserved,
    EventObserved,
    HttpObserved,
    Observation,
    ProcessObserved,
    SshObserved,
)
from console.config import load_inventory_text
from console.config.model import Inventory
from probes.balancer.model import Balancer, BalancerPage, make_worker
from probes.database import DatabaseHealth
from probes.http import HttpCheck
from probes.logs.model import LogEvent
from probes.process import TomcatProcess
from tests.inventories import nodes_text

T0 = 1_795_000_000.0
"""A fixed epoch for every observation (2026-11-18)."""


def inventory_text(nodes: int = 3, *, name: str = "recorded", color: str | None = None) -> str:
    return nodes_text(
        {f"node{index}": f"127.0.9.{10 + index}" for index in range(1, nodes + 1)},
        cluster=name,
        balancer_url="http://127.0.9.1:8000/balancer-manager",
        header=f'color = "{color}"\n' if color else "",
        extra='\n[database]\nurl = "mysql://joget@127.0.9.10:3306/jwdb"\n'
        'password_env = "NOPE_NOT_USED"\n',
    )


def inventory(
    tmp_path: Path, nodes: int = 3, *, name: str = "recorded", color: str | None = None
) -> Inventory:
    path = tmp_path / "cluster.toml"
    text = inventory_text(nodes, name=name, color=color)
    path.write_text(text)
    return load_inventory_text(text, path)


def member(index: int) -> str:
    return f"127.0.9.{10 + index}:4000"


def joined(node: int, other: int, at: float, *, backlog: bool = True) -> EventObserved:
    event = LogEvent(
        "member-joined",
        "tomcat",
        line=10 + other,
        offset=0,
        time=f"2026-11-18T08:0{other}:0{node}.000",
        member=member(other),
        text=f"Replication member added:[tcp://{{127, 0, 9, {10 + other}}}:4000]",
    )
    return EventObserved(f"node{node}", "catalina.out", event, at, backlog=backlog)


def page(
    elected: tuple[int, ...], statuses: tuple[str, ...], busy: tuple[int, ...] = (0, 0, 0)
) -> BalancerPage:
    workers = tuple(
        make_worker(
            f"http://127.0.9.{11 + i}:8080",
            route=f"node{i + 1}",
            status=status,
            elected=count,
            busy=b,
            factor=1.0,
        )
        for i, (count, status, b) in enumerate(zip(elected, statuses, busy, strict=True))
    )
    return BalancerPage(
        "http://127.0.9.1:8000/balancer-manager", (Balancer("cluster", "n", workers),)
    )


def healthy(nodes: int = 3) -> list[Observation]:
    found: list[Observation] = []
    for index in range(1, nodes + 1):
        name = f"node{index}"
        found += [
            SshObserved(name, "up", None, T0),
            ProcessObserved(name, TomcatProcess("running", 1000 + index), T0),
            HttpObserved(
                name, HttpCheck(f"http://127.0.9.{10 + index}:8080/app/", 200, 3.0 + index), T0
            ),
        ]
        for other in range(1, nodes + 1):
            if other != index:
                found.append(joined(index, other, T0))
        found.append(BacklogScanned(name, "catalina.out", True, T0))
    ok = tuple("Init Ok" for _ in range(3))
    found.append(BalancerObserved("httpd", page((10, 12, 9), ok), None, T0))
    found.append(BalancerObserved("httpd", page((30, 32, 19), ok, (1, 0, 2)), None, T0 + 2))
    found.append(
        DatabaseObserved(
            DatabaseHealth(True, ms=0.4, version="10.11.6-MariaDB", grants_ok=True), T0
        )
    )
    return found


def trouble() -> list[Observation]:
    """node3's Tomcat stopped (after a member-left on node1), its worker in error."""
    left = LogEvent(
        "member-left",
        "tomcat",
        line=99,
        offset=0,
        time="2026-11-18T08:10:00.000",
        member=member(3),
        text="Received member disappeared",
    )
    return [
        EventObserved("node1", "catalina.out", left, T0 + 10),
        ProcessObserved("node3", TomcatProcess("stopped"), T0 + 10),
        HttpObserved(
            "node3",
            HttpCheck("http://127.0.9.13:8080/app/", None, None, "connection refused"),
            T0 + 10,
        ),
        BalancerObserved(
            "httpd", page((40, 45, 19), ("Init Ok", "Init Ok", "Init Err")), None, T0 + 12
        ),
    ]


HOSTILE = "[bold red]pwn[/] [/ [0] \x1b[31mred\x1b[0m \x07bell [link=x]y[/link]"


def hostile() -> list[Observation]:
    """Markup and escape sequences in every place remote text reaches the screen."""
    event = LogEvent(
        "error",
        "tomcat",
        line=1,
        offset=0,
        time="2026-11-18T08:11:00.000",
        member=None,
        text=HOSTILE,
        detail=HOSTILE,
    )
    return [
        SshObserved("node2", "down", HOSTILE, T0 + 20),
        HttpObserved("node1", HttpCheck("http://x/", None, None, HOSTILE), T0 + 20),
        EventObserved("node1", "catalina.out", event, T0 + 20),
        BalancerObserved("httpd", None, HOSTILE, T0 + 20),
    ]
