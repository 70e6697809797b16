"""The monitor: starts every probe, feeds what they see into the one cluster state.

One task group per node (SSH session, log followers, process, shared directory and database
reach checks) and one poll per balancer, for the database and for the nodes' direct HTTP. A
probe's failure becomes an observation, never an exception: one node's trouble never stops or
delays another's. Read-only mode (watch) never constructs anything that can change the cluster.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any

import httpx

from console.cluster.observations import HttpObserved, Observation
from console.cluster.state import ClusterState
from console.cluster.topology import NodeSpec, specs_for
from console.config.model import Inventory
from console.license.poll import license_page, license_poll
from console.monitor.maintenance_watch import maintenance_observation, watch_maintenance
from console.monitor.metrics_poll import metrics_poll, reads_manager
from console.monitor.node_watch import LogTap, NodeWatch
from console.monitor.options import MonitorOptions as MonitorOptions
from console.monitor.polls import balancer_poll, database_poll
from console.monitor.tasks import Pacer, cancel_and_wait, keep_running
from probes.http import check as http_check

log = logging.getLogger(__name__)

StateListener = Callable[[ClusterState], None]
CLOSE_PATIENCE = 15.0
"""Seconds `stop` waits for the SSH sessions and the HTTP client to close before leaving them."""


class Monitor:
    """Runs the probes of one inventory and keeps the current `ClusterState`."""

    def __init__(
        self,
        inventory: Inventory,
        options: MonitorOptions | None = None,
        *,
        specs: tuple[NodeSpec, ...] | None = None,
        on_change: StateListener | None = None,
    ) -> None:
        self.inventory = inventory
        self.options = options or MonitorOptions()
        self.specs = specs if specs is not None else specs_for(inventory)
        self._state = ClusterState.initial(inventory, self.specs)
        self._listeners: list[StateListener] = [on_change] if on_change else []
        self._changed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._watches: list[NodeWatch] = []
        self._http: httpx.AsyncClient | None = None
        self.pacer = Pacer()
        """The pauses of every poll; `reprobe` ends them all at once."""

    @property
    def state(self) -> ClusterState:
        return self._state

    @property
    def watches(self) -> tuple[NodeWatch, ...]:
        return tuple(self._watches)

    def subscribe(self, listener: StateListener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: StateListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _watch(self, node: str) -> NodeWatch:
        for watch in self._watches:
            if watch.node.name == node:
                return watch
        raise KeyError(node)

    def tap_log(self, node: str, tap: LogTap) -> Callable[[], None]:
        """Call ``tap(log, data)`` with every chunk read from ``node``'s logs; returns an undo.

        KeyError if the monitor has no such node (or has not been started).
        """
        watch = self._watch(node)
        watch.taps.append(tap)

        def untap() -> None:
            if tap in watch.taps:
                watch.taps.remove(tap)

        return untap

    def recent_log(self, node: str) -> dict[str, bytes]:
        """The latest bytes (at most RECENT_BYTES) of each of ``node``'s logs, by log name."""
        try:
            watch = self._watch(node)
        except KeyError:
            return {}
        return {name: bytes(data) for name, data in watch.recent.items()}

    def observe(self, observation: Observation) -> None:
        """Apply one observation and tell whoever listens; listener errors are logged."""
        new = self._state.apply(observation)
        if new is self._state:
            return
        self._state = new
        self._changed.set()
        for listener in self._listeners:
            try:
                listener(new)
            except Exception:
                log.exception("state listener failed")

    async def wait_for(
        self, predicate: Callable[[ClusterState], bool], timeout: float
    ) -> ClusterState:
        """Wait until ``predicate(state)`` holds; TimeoutError after ``timeout`` seconds."""
        async with asyncio.timeout(timeout):
            while not predicate(self._state):
                self._changed.clear()
                await self._changed.wait()
        return self._state

    def reprobe(self) -> None:
        """Probe everything again now (the `r` key): every poll asleep between two reads runs at
        once, and every SSH session waiting to reconnect tries now."""
        self.pacer.wake()
        for watch in self._watches:
            watch.session.retry_now()

    def _spawn(self, probe: Callable[[], Coroutine[Any, Any, None]], name: str) -> None:
        self._tasks.append(asyncio.create_task(keep_running(probe, name), name=name))

    async def start(self) -> None:
        """Start every probe; returns at once (probes report through observations)."""
        options = self.options
        cluster = self.inventory.cluster.name
        self.observe(maintenance_observation(cluster))  # before any probe answers
        self._spawn(partial(watch_maintenance, cluster, self.observe), "maintenance")
        limit = asyncio.Semaphore(options.connect_limit)
        for node in self.inventory.nodes:
            watch = NodeWatch(self.inventory, node, options, self.observe, limit, self.pacer)
            self._watches.append(watch)
            self._spawn(watch.run, f"node:{node.name}")
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(5.0, connect=3.0), follow_redirects=False, verify=True
        )
        count = len(self.inventory.nodes)
        for index, node in enumerate(self.inventory.nodes):
            if node.http:
                self._spawn(partial(self._http_poll, node.name, node.http), f"http:{node.name}")
            self._spawn(
                partial(
                    metrics_poll,
                    self.inventory,
                    node,
                    self.observe,
                    self.pacer,
                    lambda: self._state,
                    partial(self._run_on, node.name),
                    deadline=options.probe_deadline,
                    interval=options.metrics_interval,
                    phase=index / count,
                ),
                f"metrics:{node.name}",
            )
        for node in self.inventory.nodes:
            url = license_page(self.inventory, node)
            if url is not None:
                self._spawn(
                    partial(
                        license_poll,
                        self.inventory,
                        node,
                        url,
                        self.observe,
                        self.pacer,
                        self._http,
                        interval=options.http_interval,
                    ),
                    f"license:{node.name}",
                )
        for balancer in self.inventory.balancers:
            self._spawn(
                partial(
                    balancer_poll,
                    balancer,
                    self.inventory,
                    self._watches,
                    options,
                    self.observe,
                    self.pacer,
                ),
                f"balancer:{balancer.name}",
            )
        if self.inventory.database is not None:
            self._spawn(
                partial(database_poll, self.inventory.database, options, self.observe, self.pacer),
                "database",
            )

    async def _run_on(self, node: str, command: str, timeout: float) -> bytes:
        """Run a read-only command on the node over its SSH session; its stdout."""
        result = await self._watch(node).session.exec(command, timeout=timeout)
        return result.stdout

    async def _http_poll(self, node: str, url: str) -> None:
        assert self._http is not None
        while True:  # at the normal interval after a failure too (see console.monitor.polls)
            result = await http_check(self._http, url, deadline=self.options.probe_deadline)
            self.observe(HttpObserved(node, result, time.time()))
            await self.pacer.sleep(self.options.http_interval)

    async def stop(self) -> None:
        """Stop every probe and close every connection."""
        await cancel_and_wait(self._tasks)
        self._tasks.clear()
        closing = [asyncio.ensure_future(watch.close()) for watch in self._watches]
        if self._http is not None:
            closing.append(asyncio.ensure_future(self._http.aclose()))
        done, late = await asyncio.wait(closing, timeout=CLOSE_PATIENCE) if closing else ((), ())
        for future in done:
            if not future.cancelled():
                future.exception()  # a connection that failed to close: nothing more to do
        if late:
            await cancel_and_wait(list(late), patience=1.0)

    async def __aenter__(self) -> Monitor:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def first_round_done(state: ClusterState, inventory: Inventory) -> bool:
    """Has every probe reported at least once (or found its node unreachable)?"""
    for view, node in zip(state.nodes, inventory.nodes, strict=True):
        if view.ssh == "connecting":
            return False
        if node.http and view.http is None:
            return False
        if view.license is None and license_page(inventory, node) is not None:
            return False  # `status` and the wizards see a changed license key on their first look
        if reads_manager(inventory, node) and (
            view.metrics is None or len(view.metrics.history) < 2
        ):
            return False  # two reads: the rates need them (the second comes 1 s after the first)
        if view.ssh != "up":
            continue
        if view.tomcat == "unknown":
            return False
        if len(view.backlogs_read) < len(node.logs):
            return False
        if state.shared_dir is not None and view.shared_dir is None:
            return False
        if state.database is not None and view.database_reach is None:
            return False
    if any(view.reachable is None for view in state.balancers):
        return False
    return state.database is None or state.database.health is not None
