"""One client per inventory balancer, whatever its kind: the one way the console reads and
changes a balancer.

`open_balancer(config, ...)` is the only place that looks at a balancer's kind. The monitor's
polls, the worker actions (balancer view and wizards) and `doctor` all get a `BalancerClient`:

- ``read()``: the whole page (every pool, its settings and workers);
- ``plan(pool, worker, change)`` and ``apply(planned, change)``: the exact request a change
  sends, planned from a fresh read, then sent and read back (``apply`` returns the worker as the
  balancer now shows it, or raises `BalancerChangeNotApplied`);
- ``plan_add`` / ``add_worker`` and ``plan_remove`` / ``remove_worker``: a worker added or
  removed at runtime, read back. httpd adds a worker only into the room its `growth` parameter
  leaves, and disabled; it cannot delete one at runtime, so removing one disables it and says
  that the configuration must change. HAProxy (2.4+) adds a server with `add server` and
  `enable server` and deletes it with `del server` once in maintenance;
- ``aclose()``.

A client opened with ``writable=False`` (the monitor's, watch mode's) refuses every change
before anything is sent. A HAProxy stats socket on a node (``socket = "node1:/run/..."``) is
reached by running `socat` there through the `runner_for(node)` the caller gives; without one,
the client opens an SSH session of its own to that node (and closes it in ``aclose``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from console.balancer.base import (
    HTTP_TIMEOUT,
    SOCKET_COMMAND_TIMEOUT,
    BalancerClient,
    OwnSessions,
    PlannedChange,
    auth,
    pool_of,
)
from console.balancer.haproxy import HaproxyBalancer, haproxy_state
from console.balancer.httpd import HttpdBalancer
from console.config.model import BalancerConfig, Inventory
from probes.balancer.haproxy_client import (
    CommandRunner,
    HaproxyReader,
    HaproxySocket,
    HaproxyStatsPage,
    RemoteHaproxySocket,
)
from probes.balancer.model import (
    BalancerError,
)
from probes.tls import client_ssl


def open_balancer(
    config: BalancerConfig,
    inventory: Inventory,
    *,
    writable: bool,
    runner_for: Callable[[str], CommandRunner] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    deadline: float | None = None,
    timeout: float = HTTP_TIMEOUT,
) -> BalancerClient:
    """The client for one inventory balancer; BalancerError when it cannot be reached at all
    (no URL or socket, a password that cannot be read, a socket on an unknown node)."""
    if config.kind == "apache":
        return HttpdBalancer(
            config, writable=writable, transport=transport, timeout=timeout, deadline=deadline
        )
    if config.kind in ("nginx", "nginx-plus"):
        from console.balancer.nginx import open_nginx  # it builds on this module's parts

        return open_nginx(
            config, inventory, writable=writable, runner_for=runner_for, transport=transport
        )
    socket = config.socket
    if socket is not None and socket.node is None:
        extra = {"timeout": deadline} if deadline is not None else {}
        return HaproxyBalancer(
            config, HaproxyReader(HaproxySocket(socket.path, **extra)), writable=writable
        )
    if socket is not None and socket.node is not None:
        node = socket.node
        if node not in {n.name for n in inventory.nodes}:
            raise BalancerError(
                f"balancer {config.name}: its stats socket is on {node!r}, which is not a node "
                "of the inventory"
            )
        closers: tuple[Callable[[], Any], ...] = ()
        limit = max(deadline or 0.0, 2 * SOCKET_COMMAND_TIMEOUT)
        if runner_for is None:
            own = OwnSessions(inventory)
            runner_for, closers = own.runner_for, (own.aclose,)
            limit += inventory.ssh.connect_timeout + 1.0
        remote = RemoteHaproxySocket(
            runner_for(node),
            socket.path,
            node=node,
            timeout=SOCKET_COMMAND_TIMEOUT,
            deadline=limit,
        )
        return HaproxyBalancer(config, HaproxyReader(remote), writable=writable, closers=closers)
    if config.url:
        extra_page = {"deadline": deadline} if deadline is not None else {}
        page = HaproxyStatsPage(
            config.url,
            auth=auth(config),
            transport=transport,
            verify=client_ssl(config.ca_file),
            **extra_page,
        )
        return HaproxyBalancer(
            config, HaproxyReader(page), writable=writable, closers=(page.aclose,)
        )
    raise BalancerError(f"balancer {config.name} has no URL or socket")


__all__ = [
    "HTTP_TIMEOUT",
    "SOCKET_COMMAND_TIMEOUT",
    "BalancerClient",
    "HaproxyBalancer",
    "HttpdBalancer",
    "OwnSessions",
    "PlannedChange",
    "auth",
    "haproxy_state",
    "open_balancer",
    "pool_of",
]
