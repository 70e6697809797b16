"""The parts every balancer client shares: the planned change, the client protocol, the
credentials, the pool to act on, the read-only refusal, and SSH sessions of its own."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol

from console.config.model import BalancerConfig, ConfigError, Inventory
from probes.balancer.haproxy_client import (
    CommandRunner,
)
from probes.balancer.httpd_client import WorkerChange
from probes.balancer.model import (
    BALANCER_PREFIX,
    BalancerError,
    BalancerPage,
    Worker,
    describe_names,
)
from probes.ssh.connection import NodeSession, SshCommandError
from probes.tls import netrc_auth

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


def read_only(config: BalancerConfig) -> BalancerError:
    return BalancerError(
        f"balancer {config.name} is open read-only here (watch mode or the monitor): "
        "nothing was sent"
    )


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
