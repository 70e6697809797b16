"""NGINX Plus (its REST API) behind the one balancer client protocol (console.balancer.clients).

Not tried against a live NGINX Plus: see probes.balancer.nginx_plus. Drain is the API's own `drain`
(only requests bound to the server still reach it), disabled is `down`.
"""

from __future__ import annotations

from typing import Any

import httpx

from console.balancer.clients import BalancerClient, PlannedChange, auth, pool_of
from console.config.model import BalancerConfig
from probes.balancer.httpd_client import WorkerChange
from probes.balancer.model import BalancerError, BalancerPage, Worker
from probes.balancer.nginx_plus import NginxPlusApi
from probes.tls import client_ssl


def plus_body(change: WorkerChange) -> dict[str, Any]:
    """The PATCH body for a change: drain and down are the API's own switches."""
    others = (change.standby, change.stopped, change.ignore_errors, change.lbset)
    if any(value is not None for value in others):
        raise BalancerError(
            f"NGINX Plus cannot apply {change.describe()} through the console: drain, "
            "disabled (down) and factor (weight) only"
        )
    body: dict[str, Any] = {}
    if change.drain is not None:
        body["drain"] = change.drain
    if change.disabled is not None:
        body["down"] = change.disabled
    if change.factor is not None:
        if change.factor != int(change.factor) or not 1 <= change.factor <= 1000:
            raise BalancerError(f"NGINX Plus weights are whole numbers, not {change.factor:g}")
        body["weight"] = int(change.factor)
    if not body:
        raise BalancerError("nothing to change")
    return body


class NginxPlusBalancer:
    """NGINX Plus: the upstreams API to read, PATCH to change, both read back."""

    def __init__(self, config: BalancerConfig, api: NginxPlusApi, *, writable: bool) -> None:
        self.config = config
        self.api = api
        self.writable = writable

    @property
    def description(self) -> str:
        return self.api.description

    def _check_writable(self) -> None:
        if not self.writable:
            raise BalancerError(
                f"balancer {self.config.name} is open read-only here (watch mode or the "
                "monitor): nothing was sent"
            )

    async def read(self) -> BalancerPage:
        return await self.api.read()

    async def plan(self, pool: str | None, worker: str, change: WorkerChange) -> PlannedChange:
        self._check_writable()
        body = plus_body(change)
        page = await self.api.read()
        name = pool_of(page, self.config, pool)
        found = page.balancer(name)
        member = found.worker(worker) if found is not None else None
        if member is None:
            raise BalancerError(f"upstream {name} at {self.description} has no server {worker!r}")
        ident, _ = await self.api.server_id(name, member.url)
        request = {
            "method": "PATCH",
            "url": f"{self.api.url}{self.api.servers_path(name)}/{ident}",
            "body": body,
        }
        return PlannedChange(
            self.config.name, name, member.url, change.describe(), request, member.to_json()
        )

    async def apply(self, planned: PlannedChange, change: WorkerChange) -> Worker:
        self._check_writable()
        await self.api.patch(planned.pool, planned.worker, plus_body(change))
        page = await self.api.read()
        found = page.balancer(planned.pool)
        seen = found.worker(planned.worker) if found is not None else None
        if seen is None:
            raise BalancerError(f"{planned.worker} is gone from {self.description}")
        return seen

    async def plan_add(
        self, pool: str | None, name: str, address: str, route: str | None = None
    ) -> PlannedChange:
        raise BalancerError(
            f"{self.description}: adding a server is not offered for NGINX Plus (not tried "
            "against a live one); POST it to the API or add it to the configuration"
        )

    async def add_worker(self, planned: PlannedChange) -> Worker:
        raise BalancerError("adding a server is not offered for NGINX Plus")

    async def plan_remove(self, pool: str | None, worker: str) -> PlannedChange:
        raise BalancerError(
            f"{self.description}: removing a server is not offered for NGINX Plus (not tried "
            "against a live one); drain and disable it instead"
        )

    async def remove_worker(self, planned: PlannedChange) -> Worker | None:
        raise BalancerError("removing a server is not offered for NGINX Plus")

    async def aclose(self) -> None:
        await self.api.aclose()


def open_nginx_plus(
    config: BalancerConfig,
    *,
    writable: bool,
    transport: httpx.AsyncBaseTransport | None = None,
) -> BalancerClient:
    if not config.url:
        raise BalancerError(f"balancer {config.name} has no NGINX Plus API URL")
    api = NginxPlusApi(
        config.url, auth=auth(config), transport=transport, verify=client_ssl(config.ca_file)
    )
    return NginxPlusBalancer(config, api, writable=writable)
