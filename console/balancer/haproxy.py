"""HAProxy (its stats socket or stats page) behind the one balancer client protocol."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from console.balancer.base import PlannedChange, pool_of, read_only
from console.config.model import BalancerConfig
from probes.balancer.haproxy import to_worker
from probes.balancer.haproxy_client import (
    HaproxyReader,
    HaproxyStatsPage,
    HaproxyWriter,
    State,
)
from probes.balancer.httpd_client import WorkerChange
from probes.balancer.model import (
    BalancerError,
    BalancerPage,
    Worker,
    describe_names,
)


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
            raise read_only(self.config)
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
