"""Audited, read-back changes to balancer workers: httpd balancer-manager and HAProxy, through
the one balancer client (`console.balancer.clients.open_balancer`) the monitor reads through too.

Every change is planned from a fresh read (the exact request), written to the audit log before
it is sent, applied, read back, and its outcome written after. Watch mode never constructs
`WorkerActions`: nothing else in the console can change a balancer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from console.audit import AuditLog
from console.balancer.clients import (
    BalancerClient,
    PlannedChange,
    haproxy_state,
    open_balancer,
)
from console.config.model import BalancerConfig, Inventory
from probes.balancer.haproxy_client import CommandRunner
from probes.balancer.httpd_client import WorkerChange
from probes.balancer.model import BalancerError, BalancerPage, Worker, describe_names


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
        self._clients: dict[str, BalancerClient] = {}
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

    def _client(self, balancer: str) -> BalancerClient:
        """The balancer's client (one per balancer, opened on first use): the same factory the
        monitor reads through. A stats socket on a node is reached over `haproxy_runner_for`
        when given, else over an SSH session of the client's own."""
        found = self._clients.get(balancer)
        if found is None:
            found = open_balancer(
                self.config(balancer),
                self.inventory,
                writable=True,
                runner_for=self._runner_for,
                transport=self._transport,
            )
            self._clients[balancer] = found
        return found

    async def read(self, balancer: str) -> BalancerPage:
        """A fresh read of the balancer (every pool), through the actions' own connection."""
        return await self._client(balancer).read()

    async def plan(
        self, balancer: str, worker: str, change: WorkerChange, *, pool: str | None = None
    ) -> PlannedChange:
        """Read the balancer fresh and return the exact request `set_worker` would send."""
        return await self._client(balancer).plan(pool, worker, change)

    async def plan_add(
        self,
        balancer: str,
        name: str,
        address: str,
        *,
        pool: str | None = None,
        route: str | None = None,
    ) -> PlannedChange:
        """The exact request(s) that would add a worker (`address`: a worker URL for httpd,
        ADDR:PORT or a URL for HAProxy; `name`: HAProxy's server name)."""
        return await self._client(balancer).plan_add(pool, name, address, route)

    async def plan_remove(
        self, balancer: str, worker: str, *, pool: str | None = None
    ) -> PlannedChange:
        """The exact request(s) that would remove a worker; `note` says what httpd cannot do."""
        return await self._client(balancer).plan_remove(pool, worker)

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

        async def plan(client: BalancerClient) -> PlannedChange:
            return await client.plan(pool, worker, change)

        async def act(client: BalancerClient, planned: PlannedChange) -> Worker | None:
            return await client.apply(planned, change)

        planned, seen = await self._audited(balancer, plan, act, node, wizard, step)
        assert seen is not None  # a changed worker is always read back
        return planned, seen

    async def add_worker(
        self,
        balancer: str,
        name: str,
        address: str,
        *,
        pool: str | None = None,
        route: str | None = None,
        node: str | None = None,
        wizard: str | None = None,
        step: str = "worker-add",
    ) -> tuple[PlannedChange, Worker]:
        """Plan, audit (before), add, read back, audit (after); the worker as now shown."""

        async def plan(client: BalancerClient) -> PlannedChange:
            return await client.plan_add(pool, name, address, route)

        async def act(client: BalancerClient, planned: PlannedChange) -> Worker | None:
            return await client.add_worker(planned)

        planned, seen = await self._audited(balancer, plan, act, node, wizard, step)
        assert seen is not None
        return planned, seen

    async def remove_worker(
        self,
        balancer: str,
        worker: str,
        *,
        pool: str | None = None,
        node: str | None = None,
        wizard: str | None = None,
        step: str = "worker-remove",
    ) -> tuple[PlannedChange, Worker | None]:
        """Plan, audit, remove, read back, audit. HAProxy deletes the server (None comes back);
        httpd cannot delete one at runtime: the worker is disabled and comes back, and
        `planned.note` says that the configuration must change."""

        async def plan(client: BalancerClient) -> PlannedChange:
            return await client.plan_remove(pool, worker)

        async def act(client: BalancerClient, planned: PlannedChange) -> Worker | None:
            return await client.remove_worker(planned)

        return await self._audited(balancer, plan, act, node, wizard, step)

    async def _audited(
        self,
        balancer: str,
        plan: Callable[[BalancerClient], Awaitable[PlannedChange]],
        act: Callable[[BalancerClient, PlannedChange], Awaitable[Worker | None]],
        node: str | None,
        wizard: str | None,
        step: str,
    ) -> tuple[PlannedChange, Worker | None]:
        lock = self._locks.setdefault(balancer, asyncio.Lock())
        async with lock:
            client = self._client(balancer)
            planned = await plan(client)
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
                seen = await act(client, planned)
            except BalancerError as exc:
                entry.failed(str(exc))
                raise
            except BaseException as exc:  # cancelled or a bug: still closed in the log
                entry.failed(f"interrupted ({type(exc).__name__}); outcome unknown")
                raise
            result: dict[str, Any] = {"worker": seen.to_json() if seen is not None else None}
            if planned.note:
                result["note"] = planned.note
            entry.done(result)
            return planned, seen

    async def aclose(self) -> None:
        """Close every connection; the actions can be used again afterwards (they reopen)."""
        clients, self._clients = list(self._clients.values()), {}
        await asyncio.gather(*(client.aclose() for client in clients), return_exceptions=True)


__all__ = ["PlannedChange", "WorkerActions", "haproxy_state"]
