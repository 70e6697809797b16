"""Polls of the shared parts: each balancer and the database, re-armed after each answer.

A poll never overlaps itself; after a failure it keeps trying at its normal interval (so a
recovery shows within one interval), each failure becomes an observation with its reason, and
the monitor's `Pacer` cuts every pause short on `r`. Only readers are built here: nothing in this
module can change a balancer or the database.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from console.config_model import BalancerConfig, ConfigError, DatabaseConfig, Inventory
from console.observations import BalancerObserved, DatabaseObserved, Observation
from console.tasks import Pacer
from probes import database as database_probe
from probes.balancer import BalancerError, BalancerPage
from probes.balancer_client import BalancerReader
from probes.haproxy_client import (
    HaproxyReader,
    HaproxySocket,
    HaproxyStatsPage,
    RemoteHaproxySocket,
)
from probes.ssh import SshCommandError

if TYPE_CHECKING:
    from console.monitor import MonitorOptions
    from console.node_watch import NodeWatch

Observe = Callable[[Observation], None]
log = logging.getLogger(__name__)


def backoff(base: float, failures: int) -> float:
    """The next poll's delay after ``failures`` failed polls in a row: never longer than the
    normal interval, so a recovery shows within one interval (it backed off to 30 s, and httpd
    back up took 17-22 s to show). Polls never overlap, so a server that hangs each read is
    asked no faster than its deadline allows; a failed read costs nothing worth sparing.
    (``failures`` stays in the signature: the schedule is the monitor's to compute, in one
    place, and tests assert on it.)"""
    return base


def only(page: BalancerPage, name: str | None) -> BalancerPage:
    """The page restricted to the balancer the inventory manages (all when None)."""
    if name is None:
        return page
    return replace(page, balancers=tuple(b for b in page.balancers if b.name == name))


def _auth(config: BalancerConfig) -> tuple[str, str] | None:
    if config.username is None:
        return None
    return config.username, config.password.reveal() if config.password else ""


class _SshRunner:
    """Runs a command on a node through its SSH session (for a stats socket living there)."""

    def __init__(self, watch: NodeWatch) -> None:
        self._watch = watch

    async def __call__(self, command: str, *, input: bytes, timeout: float) -> bytes:
        try:
            await self._watch.session.connection()
            result = await self._watch.session.exec(command, timeout=timeout, input=input)
        except SshCommandError as exc:
            raise BalancerError(str(exc)) from None
        return result.stdout


async def balancer_poll(
    config: BalancerConfig,
    inventory: Inventory,
    watches: Sequence[NodeWatch],
    options: MonitorOptions,
    observe: Observe,
    pacer: Pacer | None = None,
) -> None:
    """Read one balancer forever, every ``balancer_interval`` seconds."""
    pace = pacer or Pacer()
    failures = 0
    try:
        reader: BalancerReader | HaproxyReader
        if config.kind == "apache" and config.url:
            reader = BalancerReader(config.url, auth=_auth(config), timeout=5.0)
        elif config.socket is not None and config.socket.node is None:
            reader = HaproxyReader(HaproxySocket(config.socket.path))
        elif config.socket is not None and (host := config.socket.node) is not None:
            watch = next(w for w in watches if w.node.name == host)
            remote = RemoteHaproxySocket(_SshRunner(watch), config.socket.path, node=host)
            reader = HaproxyReader(remote)
        elif config.url:
            reader = HaproxyReader(HaproxyStatsPage(config.url, auth=_auth(config)))
        else:
            observe(BalancerObserved(config.name, None, "no URL or socket to read", time.time()))
            return
    except (ConfigError, BalancerError, StopIteration) as exc:
        observe(BalancerObserved(config.name, None, str(exc), time.time()))
        return
    try:
        while True:
            try:
                if isinstance(reader, BalancerReader):
                    page = only(await reader.read(), config.balancer)
                else:
                    page = only(await reader.read_page(), config.balancer)
            except BalancerError as exc:
                failures += 1
                observe(BalancerObserved(config.name, None, str(exc), time.time()))
            except Exception as exc:  # a page no parser foresaw: say so, keep polling
                failures += 1
                reason = f"unexpected answer ({type(exc).__name__}); see the console's log"
                log.exception("balancer %s: reading failed", config.name)
                observe(BalancerObserved(config.name, None, reason, time.time()))
            else:
                failures = 0
                observe(BalancerObserved(config.name, page, None, time.time()))
            await pace.sleep(backoff(options.balancer_interval, failures))
    finally:
        if isinstance(reader, BalancerReader):
            await reader.aclose()
        elif isinstance(reader.transport, HaproxyStatsPage):
            await reader.transport.aclose()


def database_target(config: DatabaseConfig) -> database_probe.DatabaseTarget:
    """The probe's target; ConfigError when the password's variable or file is missing."""
    return database_probe.DatabaseTarget(
        host=config.host,
        port=config.port,
        user=config.user,
        database=config.database,
        password=config.password.reveal() if config.password else None,
        required_grants=config.required_grants,
    )


async def database_poll(
    config: DatabaseConfig, options: MonitorOptions, observe: Observe, pacer: Pacer | None = None
) -> None:
    """Check the database forever from a worker thread (pymysql blocks)."""
    pace = pacer or Pacer()
    failures = 0
    while True:
        try:
            target = database_target(config)
        except ConfigError as exc:
            health = database_probe.DatabaseHealth(reachable=False, error=str(exc), at=time.time())
        else:
            health = await asyncio.to_thread(database_probe.check, target)
        observe(DatabaseObserved(health, time.time()))
        failures = 0 if health.reachable else failures + 1
        await pace.sleep(backoff(options.database_interval, failures))
