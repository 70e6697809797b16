"""httpd's balancer-manager behind the one balancer client protocol."""

from __future__ import annotations

import httpx

from console.balancer.base import HTTP_TIMEOUT, PlannedChange, auth, pool_of, read_only
from console.config.model import BalancerConfig
from probes.balancer.httpd_client import BalancerReader, BalancerWriter, WorkerChange
from probes.balancer.model import (
    BalancerError,
    BalancerPage,
    Worker,
)
from probes.tls import client_ssl


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
            raise read_only(self.config)
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
