"""Polls of the shared parts: each balancer and the database, re-armed after each answer.

A poll never overlaps itself; after a failure it keeps trying at its normal interval, not
backing off: a recovery shows within one interval (a backoff to 30 s made httpd back up take
17-22 s to show), a server that hangs each read is asked no faster than its deadline allows, and
a failed read costs nothing worth sparing (reconnecting SSH does back off:
`probes.ssh.connection.Backoff`).
Each failure becomes an observation with its reason, and the monitor's `Pacer` cuts every pause
short on `r`. Balancers are opened read-only here (`open_balancer(..., writable=False)` refuses
every change before sending it): nothing in this module can change a balancer or the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from console.balancer.clients import SOCKET_COMMAND_TIMEOUT, open_balancer
from console.cluster.observations import BalancerObserved, DatabaseObserved, Observation
from console.config.model import BalancerConfig, ConfigError, DatabaseConfig, Inventory
from console.monitor.options import MonitorOptions
from console.monitor.tasks import Pacer
from probes import database as database_probe
from probes.balancer.model import BalancerError, BalancerPage
from probes.http import no_answer
from probes.ssh.connection import SshCommandError

if TYPE_CHECKING:
    from console.monitor.node_watch import NodeWatch

Observe = Callable[[Observation], None]
log = logging.getLogger(__name__)


def only(page: BalancerPage, name: str | None) -> BalancerPage:
    """The page restricted to the balancer the inventory manages (all when None)."""
    if name is None:
        return page
    return replace(page, balancers=tuple(b for b in page.balancers if b.name == name))


class _SshRunner:
    """Runs a command on a node through its SSH session (for a stats socket living there)."""

    def __init__(self, watch: NodeWatch) -> None:
        self._watch = watch

    async def __call__(self, command: str, *, input: bytes, timeout: float) -> bytes:
        try:  # exec waits for the connection within `timeout` too: a node down never hangs it
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
    """Read one balancer forever, every ``balancer_interval`` seconds; a read that does not end
    within its deadline is observed as a failure ("no answer within N s"), so the state can
    mark what it showed before as stale."""
    pace = pacer or Pacer()
    backstop = 2 * max(options.probe_deadline, SOCKET_COMMAND_TIMEOUT) + 1.0
    try:
        client = open_balancer(
            config,
            inventory,
            writable=False,
            runner_for=partial(_runner_on, watches),
            deadline=options.probe_deadline,
            timeout=5.0,
        )
    except (ConfigError, BalancerError) as exc:
        observe(BalancerObserved(config.name, None, str(exc), time.time()))
        return
    await _connected(config, inventory, watches)
    try:
        while True:
            try:
                # The readers bound themselves; this is the backstop that makes a read that
                # somehow still hangs an observation ("no answer within N s") all the same.
                async with asyncio.timeout(backstop):
                    page = only(await client.read(), config.balancer)
            except TimeoutError:
                observe(BalancerObserved(config.name, None, no_answer(backstop), time.time()))
            except BalancerError as exc:
                observe(BalancerObserved(config.name, None, str(exc), time.time()))
            except Exception as exc:  # a page no parser foresaw: say so, keep polling
                reason = f"unexpected answer ({type(exc).__name__}); see the console's log"
                log.exception("balancer %s: reading failed", config.name)
                observe(BalancerObserved(config.name, None, reason, time.time()))
            else:
                observe(BalancerObserved(config.name, page, None, time.time()))
            await pace.sleep(options.balancer_interval)
    finally:
        await client.aclose()


async def _connected(
    config: BalancerConfig, inventory: Inventory, watches: Sequence[NodeWatch]
) -> None:
    """Before the first read of a stats socket on a node, wait (bounded) for the monitor's SSH
    session to that node: the read's few seconds must not go to the handshake (under load the
    first read then failed as "socat timed out after 5 s")."""
    host = config.socket.node if config.socket is not None else None
    watch = next((w for w in watches if w.node.name == host), None)
    if watch is None:
        return
    with contextlib.suppress(TimeoutError, SshCommandError):
        async with asyncio.timeout(inventory.ssh.connect_timeout + 1.0):
            await watch.session.connection()


def _runner_on(watches: Sequence[NodeWatch], node: str) -> _SshRunner:
    """The monitor's own SSH session to `node` runs the `socat` of a stats socket there."""
    watch = next((w for w in watches if w.node.name == node), None)
    if watch is None:
        raise BalancerError(f"no SSH session to {node}, where the stats socket is")
    return _SshRunner(watch)


def database_target(config: DatabaseConfig) -> database_probe.DatabaseTarget:
    """The probe's target; ConfigError when the password's variable or file is missing."""
    return database_probe.DatabaseTarget(
        host=config.host,
        port=config.port,
        user=config.user,
        database=config.database,
        password=config.password.reveal() if config.password else None,
        required_grants=config.required_grants,
        unix_socket=config.unix_socket,
        tls=config.tls,
        ssl_ca=config.ssl_ca,
    )


def _in_daemon_thread(
    check: Callable[[database_probe.DatabaseTarget], database_probe.DatabaseHealth],
    target: database_probe.DatabaseTarget,
) -> asyncio.Future[database_probe.DatabaseHealth]:
    """Run a blocking check in a daemon thread: one that never returns (a server trickling
    its answer) neither blocks the loop nor keeps the process from exiting, as the default
    executor's threads would."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[database_probe.DatabaseHealth] = loop.create_future()

    def deliver(health: database_probe.DatabaseHealth) -> None:
        if not future.done():
            future.set_result(health)

    def work() -> None:
        health = check(target)
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(deliver, health)

    threading.Thread(target=work, name="database check", daemon=True).start()
    return future


async def database_poll(
    config: DatabaseConfig, options: MonitorOptions, observe: Observe, pacer: Pacer | None = None
) -> None:
    """Check the database forever from a worker thread (pymysql blocks).

    A check that has not answered within its deadline is observed as unreachable ("no answer
    within N s"); while it still runs no second one is started."""
    pace = pacer or Pacer()
    deadline = options.probe_deadline + 1.0
    pending: asyncio.Future[database_probe.DatabaseHealth] | None = None
    while True:
        try:
            target = database_target(config)
        except ConfigError as exc:
            health = database_probe.DatabaseHealth(reachable=False, error=str(exc), at=time.time())
        else:
            if pending is None or pending.done():
                pending = _in_daemon_thread(database_probe.check, target)
            try:
                health = await asyncio.wait_for(asyncio.shield(pending), deadline)
            except TimeoutError:
                health = database_probe.DatabaseHealth(
                    reachable=False, error=no_answer(deadline), at=time.time()
                )
            else:
                pending = None
        observe(DatabaseObserved(health, time.time()))
        await pace.sleep(options.database_interval)
