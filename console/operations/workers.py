"""Audited, read-back changes to balancer workers: httpd balancer-manager and HAProxy.

Every change is planned from a fresh read (the exact request), written to the audit log before
it is sent, applied, read back, and its outcome written after. Watch mode never constructs
`WorkerActions`: nothing else in the console can change a balancer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from console.audit import AuditLog
from console.config_model import BalancerConfig, ConfigError, Inventory
from probes.balancer import (
    BALANCER_PREFIX,
    BalancerError,
    BalancerPage,
    Worker,
    describe_names,
)
from probes.balancer_client import BalancerReader, BalancerWriter, WorkerChange
from probes.haproxy import to_worker
from probes.haproxy_client import (
    CommandRunner,
    HaproxyReader,
    HaproxySocket,
    HaproxyStatsPage,
    HaproxyWriter,
    RemoteHaproxySocket,
    State,
)

HTTP_TIMEOUT = 10.0
"""Seconds each balancer-manager request may take (connect, read, write)."""


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
    """`WorkerChange.describe()`: ``drain on``, ``disabled off, drain off`` ..."""
    request: dict[str, Any]
    """method/url/headers/form/body for httpd; transport and command for HAProxy."""
    before: dict[str, Any] | None = None
    """The worker as the fresh read showed it (`Worker.to_json()`), before the change."""

    def to_json(self) -> dict[str, Any]:
        return {
            "balancer": self.balancer,
            "pool": self.pool,
            "worker": self.worker,
            "change": self.change,
            "request": self.request,
        }


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


def _auth(config: BalancerConfig) -> tuple[str, str] | None:
    """Basic-auth credentials from the inventory's Secret (read now, never logged)."""
    if config.username is None:
        return None
    try:
        password = config.password.reveal() if config.password else ""
    except ConfigError as exc:
        raise BalancerError(f"balancer {config.name}: {exc}") from None
    return config.username, password


def _pool_of(page: BalancerPage, config: BalancerConfig, pool: str | None) -> str:
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


class _Apache:
    """One balancer-manager: one long-lived HTTP client, one writer."""

    def __init__(self, config: BalancerConfig, transport: httpx.AsyncBaseTransport | None) -> None:
        assert config.url is not None
        self.reader = BalancerReader(
            config.url, auth=_auth(config), timeout=HTTP_TIMEOUT, transport=transport
        )
        self.writer = BalancerWriter(self.reader)

    async def aclose(self) -> None:
        await self.reader.aclose()


class _Haproxy:
    """One HAProxy runtime API (a local or remote stats socket); a stats page only reads."""

    def __init__(self, reader: HaproxyReader, closer: HaproxyStatsPage | None) -> None:
        self.reader = reader
        self.writer = HaproxyWriter(reader)
        self._closer = closer

    async def aclose(self) -> None:
        if self._closer is not None:
            await self._closer.aclose()


class WorkerActions:
    """Audited, read-back changes to balancer workers (apache balancer-manager and HAProxy).
    Never constructed in watch mode."""

    def __init__(
        self,
        inventory: Inventory,
        audit: AuditLog,
        *,
        haproxy_runner_for: Callable[[str], CommandRunner] | None = None,
        http_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.inventory = inventory
        self.audit = audit
        self._runner_for = haproxy_runner_for
        self._transport = http_transport
        self._clients: dict[str, _Apache | _Haproxy] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def config(self, balancer: str) -> BalancerConfig:
        """The inventory entry called ``balancer``; BalancerError naming those that exist."""
        for config in self.inventory.balancers:
            if config.name == balancer:
                return config
        names = [config.name for config in self.inventory.balancers]
        raise BalancerError(
            f"the inventory has no balancer {balancer!r}; it has: {describe_names(names)}"
        )

    def _client(self, balancer: str) -> _Apache | _Haproxy:
        found = self._clients.get(balancer)
        if found is not None:
            return found
        config = self.config(balancer)
        client: _Apache | _Haproxy
        if config.kind == "apache":
            if not config.url:
                raise BalancerError(f"balancer {balancer} has no balancer-manager URL")
            client = _Apache(config, self._transport)
        elif config.socket is not None and config.socket.node is None:
            client = _Haproxy(HaproxyReader(HaproxySocket(config.socket.path)), None)
        elif config.socket is not None and config.socket.node is not None:
            node = config.socket.node
            if self._runner_for is None:
                raise BalancerError(
                    f"balancer {balancer}: its stats socket is on {node}, and no SSH session "
                    "to that node is available"
                )
            remote = RemoteHaproxySocket(self._runner_for(node), config.socket.path, node=node)
            client = _Haproxy(HaproxyReader(remote), None)
        elif config.url:
            page = HaproxyStatsPage(config.url, auth=_auth(config), transport=self._transport)
            client = _Haproxy(HaproxyReader(page), page)
        else:
            raise BalancerError(f"balancer {balancer} has no URL or socket")
        self._clients[balancer] = client
        return client

    async def read(self, balancer: str) -> BalancerPage:
        """A fresh read of the balancer (every pool), through the actions' own connection."""
        client = self._client(balancer)
        if isinstance(client, _Apache):
            return await client.reader.read()
        return await client.reader.read_page()

    async def plan(
        self, balancer: str, worker: str, change: WorkerChange, *, pool: str | None = None
    ) -> PlannedChange:
        """Read the balancer fresh and return the exact request `set_worker` would send."""
        client = self._client(balancer)
        config = self.config(balancer)
        if isinstance(client, _Apache):
            page = await client.reader.read()
            name = _pool_of(page, config, pool)
            request = client.writer.request_for(page, name, worker, change)
            target = dict(request.form)["w"]
            found_pool = page.balancer(name)
            current = found_pool.worker(target) if found_pool is not None else None
            before = current.to_json() if current is not None else None
            return PlannedChange(
                balancer, name, target, change.describe(), request.to_json(), before
            )
        state = haproxy_state(change)
        page = await client.reader.read_page()
        name = _pool_of(page, config, pool)
        found = page.balancer(name)
        if found is None:
            names = [b.name for b in page.balancers]
            raise BalancerError(
                f"{page.url} has no backend {name!r}; it has: {describe_names(names)}"
            )
        member = found.worker(worker)
        if member is None or member.route is None:
            known = [w.route or w.url for w in found.workers]
            raise BalancerError(
                f"backend {name} at {page.url} has no server named exactly {worker!r}; "
                f"it has: {describe_names(known)}"
            )
        command = client.writer.command_for(name, member.route, state)
        if isinstance(client.reader.transport, HaproxyStatsPage):
            raise BalancerError(
                f"{client.reader.transport.description} is read-only: configure the stats "
                f"socket of balancer {balancer} to change servers"
            )
        sent = {"transport": client.reader.transport.description, "command": command}
        return PlannedChange(
            balancer, name, member.route, change.describe(), sent, member.to_json()
        )

    async def set_worker(
        self,
        balancer: str,
        worker: str,
        change: WorkerChange,
        *,
        pool: str | None = None,
        node: str | None = None,
        wizard: str | None = None,
        step: str = "worker-change",
    ) -> Worker:
        """Plan, audit (before), apply, read back, audit (after); the worker as now shown.

        Raises BalancerError (incl. BalancerChangeNotApplied) or AuditError; in every case
        the audit log says what was asked and what happened.
        """
        _, seen = await self.change_worker(
            balancer, worker, change, pool=pool, node=node, wizard=wizard, step=step
        )
        return seen

    async def change_worker(
        self,
        balancer: str,
        worker: str,
        change: WorkerChange,
        *,
        pool: str | None = None,
        node: str | None = None,
        wizard: str | None = None,
        step: str = "worker-change",
    ) -> tuple[PlannedChange, Worker]:
        """`set_worker`, also returning the change as it was sent (for progress reports)."""
        lock = self._locks.setdefault(balancer, asyncio.Lock())
        async with lock:
            planned = await self.plan(balancer, worker, change, pool=pool)
            request = {**planned.request, "balancer": balancer, "pool": planned.pool}
            request["worker"] = planned.worker
            request["change"] = planned.change
            entry = self.audit.begin(
                node=node,
                step=step,
                request=request,
                wizard=wizard,
                state_before={"worker": planned.before},
            )
            try:
                seen = await self._apply(balancer, planned, change)
            except BalancerError as exc:
                entry.failed(str(exc))
                raise
            except BaseException as exc:  # cancelled or a bug: still closed in the log
                entry.failed(f"interrupted ({type(exc).__name__}); outcome unknown")
                raise
            entry.done({"worker": seen.to_json()})
            return planned, seen

    async def _apply(self, balancer: str, planned: PlannedChange, change: WorkerChange) -> Worker:
        client = self._client(balancer)
        if isinstance(client, _Apache):
            return await client.writer.apply(planned.pool, planned.worker, change)
        row = await client.writer.set_state(planned.pool, planned.worker, haproxy_state(change))
        return to_worker(row)

    async def aclose(self) -> None:
        """Close every connection; the actions can be used again afterwards (they reopen)."""
        clients, self._clients = list(self._clients.values()), {}
        await asyncio.gather(*(client.aclose() for client in clients), return_exceptions=True)
