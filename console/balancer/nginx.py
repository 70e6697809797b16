"""NGINX (open source) behind the one balancer client protocol (console.balancer.clients).

The upstreams are read with `nginx -T` on the inventory node `host` (over its SSH session);
changes edit the include file the console owns (`include`), run `nginx -t`, reload gracefully
and read back (probes.balancer.nginx_client). A planned change carries the exact line before and
after,
so `apply` writes exactly what was planned, or nothing when the line changed meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from console.balancer.clients import BalancerClient, OwnSessions, PlannedChange, pool_of
from console.config.model import BalancerConfig, Inventory
from probes.balancer.haproxy_client import CommandRunner
from probes.balancer.httpd_client import WorkerChange
from probes.balancer.model import BalancerChangeNotApplied, BalancerError, BalancerPage, Worker
from probes.balancer.nginx_client import NginxHost, NginxReader, find, to_worker
from probes.balancer.nginx_conf import NginxConf
from probes.balancer.nginx_writer import IncludeEdit, NginxWriter

STEPS = ["write the include file", "nginx -t", "nginx -s reload", "nginx -T (read back)"]


def nginx_down(change: WorkerChange) -> bool:
    """NGINX OSS has one switch per server, `down`: drain or disabled on -> down; drain or
    disabled off (and neither on) -> serving. Anything else cannot be expressed."""
    others = (change.standby, change.stopped, change.ignore_errors, change.factor, change.lbset)
    if any(value is not None for value in others):
        raise BalancerError(
            f"NGINX cannot apply {change.describe()}: the console only marks a server down "
            "or not (drain, disabled, or both off)"
        )
    if change.drain or change.disabled:
        return True
    if change.drain is False or change.disabled is False:
        return False
    raise BalancerError("nothing to change")


class NginxBalancer:
    """NGINX OSS: `nginx -T` to read, the owned include file + `nginx -t` + reload to change."""

    def __init__(
        self,
        config: BalancerConfig,
        reader: NginxReader,
        *,
        writable: bool,
        closers: tuple[Callable[[], Any], ...] = (),
    ) -> None:
        self.config = config
        self.writable = writable
        self.reader = reader
        self._closers = closers
        self.steps: list[str] = []
        """What the last change did, step by step (for the audit and the tests)."""

    @property
    def description(self) -> str:
        return self.reader.host.description

    def _writing(self) -> NginxWriter:
        if not self.writable:
            raise BalancerError(
                f"balancer {self.config.name} is open read-only here (watch mode or the "
                "monitor): nothing was sent"
            )
        if self.config.include is None:
            raise BalancerError(
                f"balancer {self.config.name} has no `include` (the file the console owns): "
                "NGINX can only be read"
            )
        return NginxWriter(self.reader, self.config.include)

    async def read(self) -> BalancerPage:
        return await self.reader.read()

    async def _fresh(self, pool: str | None) -> tuple[NginxConf, str]:
        conf = await self.reader.host.dump()
        page = BalancerPage(self.description, ())
        if pool is None and self.config.balancer is None and len(conf.upstreams) == 1:
            return conf, conf.upstreams[0].name
        return conf, pool_of(page, self.config, pool)

    def _planned(
        self,
        conf: NginxConf,
        upstream: str,
        worker: str,
        what: str,
        edit: IncludeEdit,
        before: Worker | None,
    ) -> PlannedChange:
        request = {
            "transport": self.description,
            "include": edit.include,
            "line": edit.line,
            "before": edit.before,
            "after": edit.after,
            "steps": STEPS,
        }
        return PlannedChange(
            self.config.name,
            upstream,
            worker,
            what,
            request,
            before.to_json() if before is not None else None,
            note="NGINX open source cannot drain: `down` sends the server no request at all; "
            "its sessions move to the other servers",
            extra={"previous": conf.files.get(edit.include, "")},
        )

    async def plan(self, pool: str | None, worker: str, change: WorkerChange) -> PlannedChange:
        down = nginx_down(change)
        writer = self._writing()
        conf, upstream = await self._fresh(pool)
        _, server = find(conf, upstream, worker, self.description)
        edit = writer.plan_down(conf, upstream, server.address, down)
        return self._planned(
            conf, upstream, server.address, change.describe(), edit, to_worker(server, None)
        )

    def _edit(self, planned: PlannedChange) -> IncludeEdit:
        request = planned.request
        line = request.get("line")
        return IncludeEdit(
            str(request["include"]),
            int(line) if line is not None else None,
            request.get("before"),
            request.get("after"),
        )

    async def _commit(self, planned: PlannedChange) -> NginxConf:
        writer = self._writing()
        edit = self._edit(planned)
        self.steps = []
        if edit.line is not None and edit.before == edit.after:
            self.steps.append("nothing to write: the server already shows it")
            return await self.reader.host.dump()
        return await writer.commit(edit, planned.extra["previous"], self.steps.append)

    async def _worker(self, conf: NginxConf, upstream: str, address: str) -> Worker:
        page = await self.reader.page(conf)
        found = page.balancer(upstream)
        seen = found.worker(address) if found is not None else None
        if seen is None:
            raise BalancerChangeNotApplied(
                f"{self.description}: {address} is gone from upstream {upstream} after the change"
            )
        return seen

    async def apply(self, planned: PlannedChange, change: WorkerChange) -> Worker:
        down = nginx_down(change)
        conf = await self._commit(planned)
        seen = await self._worker(conf, planned.pool, planned.worker)
        if bool(seen.disabled) != down:
            raise BalancerChangeNotApplied(
                f"{self.description} does not show {planned.worker} "
                f"{'down' if down else 'serving'} after the reload"
            )
        return seen

    async def plan_add(
        self, pool: str | None, name: str, address: str, route: str | None = None
    ) -> PlannedChange:
        """`address` is ADDR:PORT (a URL's scheme is dropped); `name` only names it."""
        writer = self._writing()
        conf, upstream = await self._fresh(pool)
        edit = writer.plan_add(conf, upstream, address)
        bare = address.split("://", 1)[-1].rstrip("/")
        return self._planned(conf, upstream, bare, "add worker", edit, None)

    async def add_worker(self, planned: PlannedChange) -> Worker:
        conf = await self._commit(planned)
        return await self._worker(conf, planned.pool, planned.worker)

    async def plan_remove(self, pool: str | None, worker: str) -> PlannedChange:
        writer = self._writing()
        conf, upstream = await self._fresh(pool)
        _, server = find(conf, upstream, worker, self.description)
        edit = writer.plan_remove(conf, upstream, server.address)
        return self._planned(
            conf, upstream, server.address, "remove worker", edit, to_worker(server, None)
        )

    async def remove_worker(self, planned: PlannedChange) -> Worker | None:
        conf = await self._commit(planned)
        found = conf.upstream(planned.pool)
        if found is not None and found.server(planned.worker) is not None:
            raise BalancerChangeNotApplied(
                f"{self.description} still shows {planned.worker} in upstream {planned.pool}"
            )
        return None

    async def aclose(self) -> None:
        await self.reader.aclose()
        for close in self._closers:
            await close()


def open_nginx(
    config: BalancerConfig,
    inventory: Inventory,
    *,
    writable: bool,
    runner_for: Callable[[str], CommandRunner] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> BalancerClient:
    """The client of an `nginx` (over the SSH session of its `host`) or `nginx-plus` balancer."""
    if config.kind == "nginx-plus":
        from console.balancer.nginx_plus import open_nginx_plus

        return open_nginx_plus(config, writable=writable, transport=transport)
    node = config.host
    if node is None or node not in {n.name for n in inventory.nodes}:
        raise BalancerError(
            f"balancer {config.name}: its host {node!r} is not a node of the inventory"
        )
    closers: tuple[Callable[[], Any], ...] = ()
    if runner_for is None:
        own = OwnSessions(inventory)
        runner_for, closers = own.runner_for, (own.aclose,)
    host = NginxHost(runner_for(node), node=node, conf=config.conf)
    reader = NginxReader(host, stub_status_url=config.url)
    return NginxBalancer(config, reader, writable=writable, closers=closers)
