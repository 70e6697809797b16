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

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from console.config.model import BalancerConfig, ConfigError, Inventory
from probes.balancer.haproxy import to_worker
from probes.balancer.haproxy_client import (
    CommandRunner,
    HaproxyReader,
    HaproxySocket,
    HaproxyStatsPage,
    HaproxyWriter,
    RemoteHaproxySocket,
    State,
)
from probes.balancer.httpd_client import BalancerReader, BalancerWriter, WorkerChange
from probes.balancer.model import (
    BALANCER_PREFIX,
    BalancerError,
    BalancerPage,
    Worker,
    describe_names,
)
from probes.ssh.connection import NodeSession, SshCommandError
from probes.tls import client_ssl, netrc_auth

HTTP_TIMEOUT = 10.0
"""Seconds each balancer-manager request may take (connect, read, write)."""
SOCKET_COMMAND_TIMEOUT = 5.0
"""Seconds `socat` may run on a node to ask HAProxy's stats socket."""


@dataclass(frozen=True, slots=True)
class PlannedChange:
    """A change as it would be sent: the exact request, never a password."""

    balancer: str
    """The inventory ``[[balancers]]`` name."""
    pool: str
    """The httpd balancer (without ``balancer://``) or the HAProxy backend."""
    worker: str
    """The worker URL (httpd) or server name (HAProxy) exactly as the balancer shows it."""
    change: str
    """`WorkerChange.describe()`: ``drain on``, ``disabled off, drain off`` ...; ``add worker``
    and ``remove worker`` for the runtime additions and removals."""
    request: dict[str, Any]
    """method/url/headers/form/body for httpd; transport and command(s) for HAProxy."""
    before: dict[str, Any] | None = None
    """The worker as the fresh read showed it (`Worker.to_json()`), before the change."""
    note: str | None = None
    """What the operator must know beyond the request (e.g. httpd cannot delete a worker)."""
    extra: dict[str, str] = field(default_factory=dict)
    """What the action needs beyond the request (address, route) for an addition."""

    def to_json(self) -> dict[str, Any]:
        shown = {
            "balancer": self.balancer,
            "pool": self.pool,
            "worker": self.worker,
            "change": self.change,
            "request": self.request,
        }
        if self.note:
            shown["note"] = self.note
        return shown


class BalancerClient(Protocol):
    """What the console does with a balancer, whatever its kind."""

    config: BalancerConfig
    writable: bool

    @property
    def description(self) -> str: ...

    async def read(self) -> BalancerPage: ...

    async def plan(self, pool: str | None, worker: str, change: WorkerChange) -> PlannedChange: ...

    async def apply(self, planned: PlannedChange, change: WorkerChange) -> Worker: ...

    async def plan_add(
        self, pool: str | None, name: str, address: str, route: str | None = None
    ) -> PlannedChange: ...

    async def add_worker(self, planned: PlannedChange) -> Worker: ...

    async def plan_remove(self, pool: str | None, worker: str) -> PlannedChange: ...

    async def remove_worker(self, planned: PlannedChange) -> Worker | None: ...

    async def aclose(self) -> None: ...


def haproxy_state(change: WorkerChange) -> State:
    """HAProxy has one admin state per server: drain -> drain, disabled -> maint, both off ->
    ready. Anything else (factor, standby, ...) cannot be expressed and raises BalancerError."""
    others = (change.standby, change.stopped, change.ignore_errors, change.factor, change.lbset)
    if any(value is not None for value in others):
        raise BalancerError(
            f"HAProxy cannot apply {change.describe()}: its runtime API only sets a server "
            "ready, drain or maint (drain, disabled, or both off)"
        )
    if change.disabled:
        return "maint"
    if change.drain:
        return "drain"
    if change.drain is False and change.disabled is False:
        return "ready"
    raise BalancerError(
        f"HAProxy cannot apply {change.describe()} on its own: a server is ready, drain or "
        "maint; ask for drain off and disabled off together to make it ready"
    )


def auth(config: BalancerConfig) -> tuple[str, str] | None:
    """Basic-auth credentials from the inventory's Secret (read now, never logged); without a
    username there, the login ~/.netrc (or $NETRC) has for the URL's host, like curl -n."""
    if config.username is None:
        return netrc_auth(config.url) if config.url else None
    try:
        password = config.password.reveal() if config.password else ""
    except ConfigError as exc:
        raise BalancerError(f"balancer {config.name}: {exc}") from None
    return config.username, password


def pool_of(page: BalancerPage, config: BalancerConfig, pool: str | None) -> str:
    """The balancer/backend to act on: asked, else the inventory's, else the page's only one."""
    name = pool or config.balancer
    if name:
        return name[len(BALANCER_PREFIX) :] if name.startswith(BALANCER_PREFIX) else name
    names = [balancer.name for balancer in page.balancers]
    if len(names) == 1:
        return names[0]
    raise BalancerError(
        f"{page.url} has {len(names)} balancers ({describe_names(names)}); say which one "
        f"(the `balancer` field of [[balancers]] {config.name!r} in the inventory)"
    )


def _read_only(config: BalancerConfig) -> BalancerError:
    return BalancerError(
        f"balancer {config.name} is open read-only here (watch mode or the monitor): "
        "nothing was sent"
    )


class HttpdBalancer:
    """httpd's balancer-manager: one long-lived HTTP client; changes are form POSTs."""

    def __init__(
        self,
        config: BalancerConfig,
        *,
        writable: bool,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = HTTP_TIMEOUT,
        deadline: float | None = None,
    ) -> None:
        if not config.url:
            raise BalancerError(f"balancer {config.name} has no balancer-manager URL")
        self.config = config
        self.writable = writable
        extra = {"deadline": deadline} if deadline is not None else {}
        self.reader = BalancerReader(
            config.url,
            auth=auth(config),
            timeout=timeout,
            transport=transport,
            verify=client_ssl(config.ca_file),
            **extra,
        )
        self.writer = BalancerWriter(self.reader) if writable else None
        """The one thing that changes this balancer (None when opened read-only)."""

    @property
    def description(self) -> str:
        return f"the balancer-manager at {self.reader.url}"

    def _writing(self) -> BalancerWriter:
        if self.writer is None:
            raise _read_only(self.config)
        return self.writer

    async def read(self) -> BalancerPage:
        return await self.reader.read()

    async def plan(self, pool: str | None, worker: str, change: WorkerChange) -> PlannedChange:
        writer = self._writing()
        page = await self.reader.read()
        name = pool_of(page, self.config, pool)
        request = writer.request_for(page, name, worker, change)
        target = dict(request.form)["w"]
        found = page.balancer(name)
        current = found.worker(target) if found is not None else None
        return PlannedChange(
            self.config.name,
            name,
            target,
            change.describe(),
            request.to_json(),
            current.to_json() if current is not None else None,
        )

    async def apply(self, planned: PlannedChange, change: WorkerChange) -> Worker:
        return await self._writing().apply(planned.pool, planned.worker, change)

    async def plan_add(
        self, pool: str | None, name: str, address: str, route: str | None = None
    ) -> PlannedChange:
        """`address` is the worker URL (http://10.0.0.4:8080); `name` is only for the words."""
        writer = self._writing()
        page = await self.reader.read()
        target = pool_of(page, self.config, pool)
        request = writer.add_request(page, target, address)
        return PlannedChange(
            self.config.name,
            target,
            address,
            "add worker",
            request.to_json(),
            None,
            note="httpd starts a worker added at runtime disabled"
            + (f"; its route is then set to {route}" if route else ""),
            extra={"route": route} if route else {},
        )

    async def add_worker(self, planned: PlannedChange) -> Worker:
        route = planned.extra.get("route")
        return await self._writing().add_worker(planned.pool, planned.worker, route)

    async def plan_remove(self, pool: str | None, worker: str) -> PlannedChange:
        planned = await self.plan(pool, worker, WorkerChange(disabled=True))
        return PlannedChange(
            planned.balancer,
            planned.pool,
            planned.worker,
            "remove worker",
            planned.request,
            planned.before,
            note=(
                "httpd cannot delete a worker at runtime: it is disabled (no request goes "
                "there); remove its BalancerMember from the httpd configuration and restart "
                "httpd to delete it"
            ),
        )

    async def remove_worker(self, planned: PlannedChange) -> Worker | None:
        return await self.apply(planned, WorkerChange(disabled=True))

    async def aclose(self) -> None:
        await self.reader.aclose()


class HaproxyBalancer:
    """HAProxy's runtime API through a stats socket (local or on a node), or its stats page
    (which only reads)."""

    def __init__(
        self,
        config: BalancerConfig,
        reader: HaproxyReader,
        *,
        writable: bool,
        closers: tuple[Callable[[], Any], ...] = (),
    ) -> None:
        self.config = config
        self.writable = writable
        self.reader = reader
        self._writer = HaproxyWriter(reader)
        self._closers = closers

    @property
    def description(self) -> str:
        return self.reader.transport.description

    def _writing(self) -> HaproxyWriter:
        if not self.writable:
            raise _read_only(self.config)
        if isinstance(self.reader.transport, HaproxyStatsPage):
            raise BalancerError(
                f"{self.reader.transport.description} is read-only: configure the stats "
                f"socket of balancer {self.config.name} to change servers"
            )
        return self._writer

    async def read(self) -> BalancerPage:
        return await self.reader.read_page()

    async def _backend(self, pool: str | None) -> tuple[BalancerPage, str]:
        page = await self.reader.read_page()
        name = pool_of(page, self.config, pool)
        if page.balancer(name) is None:
            names = [b.name for b in page.balancers]
            raise BalancerError(
                f"{page.url} has no backend {name!r}; it has: {describe_names(names)}"
            )
        return page, name

    async def plan(self, pool: str | None, worker: str, change: WorkerChange) -> PlannedChange:
        state = haproxy_state(change)
        writer = self._writing()
        page, name = await self._backend(pool)
        found = page.balancer(name)
        member = found.worker(worker) if found is not None else None
        if found is None or member is None or member.route is None:
            known = [w.route or w.url for w in found.workers] if found is not None else []
            raise BalancerError(
                f"backend {name} at {page.url} has no server named exactly {worker!r}; "
                f"it has: {describe_names(known)}"
            )
        command = writer.command_for(name, member.route, state)
        sent = {"transport": self.description, "command": command}
        return PlannedChange(
            self.config.name, name, member.route, change.describe(), sent, member.to_json()
        )

    async def apply(self, planned: PlannedChange, change: WorkerChange) -> Worker:
        row = await self._writing().set_state(planned.pool, planned.worker, haproxy_state(change))
        return to_worker(row)

    async def plan_add(
        self, pool: str | None, name: str, address: str, route: str | None = None
    ) -> PlannedChange:
        """`name` is the server name; `address` is ADDR:PORT (a URL's scheme is dropped)."""
        writer = self._writing()
        _, backend = await self._backend(pool)
        bare = address.split("://", 1)[-1].rstrip("/")
        commands = writer.add_commands(backend, name, bare)
        sent = {"transport": self.description, "commands": commands}
        return PlannedChange(
            self.config.name, backend, name, "add worker", sent, None, extra={"address": bare}
        )

    async def add_worker(self, planned: PlannedChange) -> Worker:
        address = planned.extra["address"]
        row = await self._writing().add_server(planned.pool, planned.worker, address)
        return to_worker(row)

    async def plan_remove(self, pool: str | None, worker: str) -> PlannedChange:
        planned = await self.plan(pool, worker, WorkerChange(disabled=True))
        commands = self._writing().remove_commands(planned.pool, planned.worker)
        sent = {"transport": self.description, "commands": commands}
        return PlannedChange(
            planned.balancer, planned.pool, planned.worker, "remove worker", sent, planned.before
        )

    async def remove_worker(self, planned: PlannedChange) -> Worker | None:
        await self._writing().remove_server(planned.pool, planned.worker)
        return None

    async def aclose(self) -> None:
        for close in self._closers:
            await close()


class OwnSessions:
    """SSH sessions of the client's own to the nodes holding a stats socket (opened on first
    use, closed by `aclose`): the runner used when the caller has none."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self._sessions: dict[str, tuple[NodeSession, asyncio.Task[None]]] = {}

    def runner_for(self, node: str) -> CommandRunner:
        async def run(command: str, *, input: bytes, timeout: float) -> bytes:
            session = self._session(node)
            try:
                # the first command waits for the connection on its own clock: a handshake on
                # a busy machine must not eat the command's few seconds
                async with asyncio.timeout(self.inventory.ssh.connect_timeout + 1.0):
                    await session.connection()
                result = await session.exec(command, timeout=timeout, input=input)
            except TimeoutError:
                status = session.status
                why = f" ({status.state}: {status.reason})" if status.reason else ""
                raise BalancerError(f"{node}: no SSH connection{why}") from None
            except SshCommandError as exc:
                raise BalancerError(str(exc)) from None
            return result.stdout

        return run

    def _session(self, node: str) -> NodeSession:
        found = self._sessions.get(node)
        if found is None:
            from console.monitor.node_watch import ssh_target

            try:
                target = ssh_target(self.inventory, self.inventory.node(node))
            except KeyError:
                raise BalancerError(f"there is no node {node!r} in the inventory") from None
            session = NodeSession(target)
            found = (session, asyncio.create_task(session.run(), name=f"balancer ssh {node}"))
            self._sessions[node] = found
        return found[0]

    async def aclose(self) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        for session, task in sessions:
            await session.close()
            task.cancel()
        await asyncio.gather(*(task for _, task in sessions), return_exceptions=True)


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
