"""`run_doctor`: gather facts from every node, balancer, the database and the license pages at
once, under one overall deadline, then run every registered check on them.

Read-only on the cluster, but for two small files per node it removes again: the shared
directory check's probe file (probes/files.py) and the marker each node leaves there for the
others to look for. With `read_only` (watch mode) not even those.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import shlex
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import httpx

from console.balancer.clients import open_balancer
from console.cluster.topology import resolve
from console.config.errors import ConfigError
from console.config.model import BalancerConfig, Inventory, Node
from console.doctor import checks_data, checks_host, checks_tomcat, checks_wso2  # noqa: F401
from console.doctor.facts import (
    BalancerFacts,
    ClusterFacts,
    LicenseFacts,
    NodeFacts,
    joget_files,
    node_facts,
    paths_for,
)
from console.doctor.model import CheckResult, DoctorReport, Verdict, registry
from console.license.memory import memory_file as memory_file
from console.license.memory import remember, remembered
from console.monitor.node_watch import ssh_target
from console.monitor.polls import database_target, only
from probes import database as database_probe
from probes.balancer.haproxy_client import CommandRunner
from probes.balancer.model import BalancerError
from probes.doctor.remote import (
    RawNode,
    files_command,
    gather_command,
    marker_prefix,
    parse_seen,
    seen_command,
    split,
)
from probes.ssh.connection import NodeSession, SshCommandError, SshStatus

T = TypeVar("T")
log = logging.getLogger(__name__)

EXTRA_TIME = 10.0
"""Seconds allowed beyond the SSH connect timeout for the whole run."""
_STATUS = re.compile(r'id="status"[^>]*>([^<]+)<')
_SYSTEM_KEY = re.compile(r'id="system-key"[^>]*>([^<]+)<')


async def _bounded(coro: Awaitable[T], seconds: float) -> T:
    async with asyncio.timeout(max(0.1, seconds)):
        return await coro


def _setter(event: asyncio.Event) -> Callable[[SshStatus], None]:
    def on_status(status: SshStatus) -> None:
        del status
        event.set()

    return on_status


class _Gatherer:
    def __init__(self, inventory: Inventory, deadline: float, *, read_only: bool) -> None:
        self.inventory = inventory
        self.deadline = deadline
        self.read_only = read_only
        self.token = secrets.token_hex(8)
        self.sessions: dict[str, NodeSession] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self.answered: dict[str, asyncio.Event] = {}
        limit = asyncio.Semaphore(16)
        for node in inventory.nodes:
            answered = self.answered[node.name] = asyncio.Event()
            session = NodeSession(
                ssh_target(inventory, node),
                connect_limit=limit,
                on_status=_setter(answered),
            )
            self.sessions[node.name] = session
            self.tasks.append(asyncio.create_task(session.run()))

    def left(self) -> float:
        return self.deadline - time.monotonic()

    async def connected(self, node: str) -> None:
        """Wait for the first connect attempt's outcome: a node that cannot be reached is said
        so at once (one attempt is enough for a diagnosis), not at the overall deadline."""
        session = self.sessions[node]
        await self.answered[node].wait()
        status = session.status
        if status.state != "up":
            why = f"{status.state}: {status.reason}" if status.reason else status.state
            raise SshCommandError(f"SSH {why}")

    async def exec(self, node: str, command: str) -> bytes:
        await self.connected(node)
        session = self.sessions[node]
        result = await session.exec(command, timeout=max(0.5, self.left()))
        return result.stdout

    async def node(self, node: Node) -> NodeFacts:
        addresses = await asyncio.to_thread(resolve, node.host)
        shared = self.inventory.shared_dir.path if self.inventory.shared_dir else None
        paths = list(paths_for(self.inventory, node).values())
        number = [n.name for n in self.inventory.nodes].index(node.name) + 1
        command = gather_command(
            paths,
            node.catalina_base,
            shared,
            node.name,
            marker=(self.token, number),
            write=not self.read_only,
        )
        try:
            out, clock = await asyncio.gather(self.exec(node.name, command), self.clock(node.name))
            raw = split(out)
            facts = node_facts(self.inventory, node, raw, addresses)
            if self.inventory.profile.name == "joget":
                home, current = joget_files(node, facts.jvm_args)
                more = split(
                    await self.exec(
                        node.name, files_command([current], [(home, "app_datasource-*.properties")])
                    )
                )
                raw = RawNode({**raw.files, **more.files}, raw.sections)
                facts = node_facts(self.inventory, node, raw, addresses)
            if clock is not None:
                facts.clock_offset, facts.clock_error = clock
            return facts
        except SshCommandError as exc:
            return NodeFacts(node.name, node.host, addresses, error=str(exc))
        except Exception as exc:  # what a node sends must never crash the doctor
            log.exception("doctor: reading %s failed", node.name)
            reason = f"its answer could not be understood ({type(exc).__name__})"
            return NodeFacts(node.name, node.host, addresses, error=reason)

    async def clock(self, node: str) -> tuple[float, float] | None:
        """(seconds the node's clock is ahead of ours, +- this): half the round trip."""
        await self.connected(node)  # the connect is not part of the round trip
        began = time.time()
        out = await self.exec(node, "date +%s.%N")
        ended = time.time()
        try:
            remote = float(out.decode("ascii", "replace").strip())
        except ValueError:
            return None
        return remote - (began + ended) / 2, (ended - began) / 2

    async def shared_rounds(self, facts: list[NodeFacts]) -> None:
        """Which markers each node sees, then each writer removes its own (both concurrent)."""
        config = self.inventory.shared_dir
        readers = [n for n in facts if n.reachable]
        if config is None or not any(n.shared_wrote for n in facts) or len(readers) < 2:
            return
        names = {number: node.name for number, node in enumerate(self.inventory.nodes, 1)}
        numbers = {name: number for number, name in names.items()}

        async def look(node: NodeFacts) -> None:
            with contextlib.suppress(SshCommandError):
                out = await self.exec(node.name, seen_command(config.path, self.token))
                seen = {names[n] for n in parse_seen(out) if n in names}
                node.shared_seen = frozenset(seen - {node.name})

        async def remove(node: NodeFacts) -> None:
            path = marker_prefix(config.path, self.token) + str(numbers[node.name])
            with contextlib.suppress(SshCommandError):
                await self.exec(node.name, f"rm -f {shlex.quote(path)}")

        try:
            await asyncio.gather(*(look(n) for n in readers))
        finally:
            await asyncio.gather(*(remove(n) for n in facts if n.shared_wrote))

    async def close(self) -> None:
        await asyncio.gather(
            *(session.close() for session in self.sessions.values()), return_exceptions=True
        )
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def _socket_runner(gatherer: _Gatherer, node: str) -> CommandRunner:
    """`socat` on the node of a stats socket, through the doctor's own session to it."""

    async def run(command: str, *, input: bytes, timeout: float) -> bytes:
        session = gatherer.sessions.get(node)
        if session is None:
            raise BalancerError(f"no SSH session to {node}, where the stats socket is")
        try:
            result = await session.exec(command, timeout=timeout, input=input)
        except SshCommandError as exc:
            raise BalancerError(str(exc)) from None
        return result.stdout

    return run


async def _balancer(config: BalancerConfig, gatherer: _Gatherer) -> BalancerFacts:
    deadline = max(1.0, gatherer.left())
    try:
        client = open_balancer(
            config,
            gatherer.inventory,
            writable=False,
            runner_for=lambda node: _socket_runner(gatherer, node),
            deadline=deadline,
        )
        try:
            page = await client.read()
        finally:
            await client.aclose()
        return BalancerFacts(config.name, only(page, config.balancer))
    except (BalancerError, ConfigError) as exc:
        return BalancerFacts(config.name, None, str(exc))
    except Exception as exc:  # a page no parser foresaw
        log.exception("doctor: reading balancer %s failed", config.name)
        return BalancerFacts(config.name, None, f"unexpected answer ({type(exc).__name__})")


def _in_thread(work: Callable[[], T]) -> asyncio.Future[T]:
    """Blocking work in a daemon thread: one that never returns does not hold the exit."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(value: T) -> None:
        if not future.done():
            future.set_result(value)

    def fail(exc: BaseException) -> None:
        if not future.done():
            future.set_exception(exc)

    def run() -> None:
        try:
            value = work()
        except Exception as exc:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(fail, exc)
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(deliver, value)

    threading.Thread(target=run, name="doctor database", daemon=True).start()
    return future


async def _database(inventory: Inventory) -> database_probe.DatabaseHealth | None:
    if inventory.database is None:
        return None
    try:
        target = database_target(inventory.database)
    except ConfigError as exc:
        return database_probe.DatabaseHealth(reachable=False, error=str(exc).splitlines()[0])
    try:
        return await _in_thread(lambda: database_probe.check(target))
    except Exception as exc:  # the probe reports trouble as health; this is a bug's last net
        return database_probe.DatabaseHealth(reachable=False, error=type(exc).__name__)


def license_url(node: Node, page: str) -> str | None:
    if not node.http:
        return None
    parts = urlsplit(node.http)
    return f"{parts.scheme}://{parts.netloc}/{page.lstrip('/')}"


async def _license(client: httpx.AsyncClient, url: str) -> LicenseFacts:
    try:
        response = await client.get(url)
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        return LicenseFacts(url, error=type(exc).__name__)
    if response.status_code != 200:
        return LicenseFacts(url, error=f"HTTP {response.status_code}")
    text = response.text[:200_000]
    status, key = _STATUS.search(text), _SYSTEM_KEY.search(text)
    return LicenseFacts(
        url,
        status=status[1].strip().lower() if status else None,
        system_key=key[1].strip() if key else None,
    )


async def _licenses(inventory: Inventory, gatherer: _Gatherer) -> dict[str, LicenseFacts]:
    page = inventory.license.page
    if inventory.license.kind == "none" or not page:
        return {}
    urls = {n.name: url for n in inventory.nodes if (url := license_url(n, page))}
    timeout = httpx.Timeout(max(1.0, min(5.0, gatherer.left())))
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
        results = await asyncio.gather(*(_license(client, url) for url in urls.values()))
    return dict(zip(urls, results, strict=True))


def _remembered(inventory: Inventory, memory: Path | None) -> dict[str, str]:
    return {} if memory is None else remembered(inventory.cluster.name, memory)


def _remember(inventory: Inventory, memory: Path | None, nodes: list[NodeFacts]) -> None:
    if memory is None:
        return
    activated = {
        n.name: n.license.system_key
        for n in nodes
        if n.license and n.license.status == "activated" and n.license.system_key
    }
    with contextlib.suppress(OSError):
        remember(inventory.cluster.name, activated, memory)


async def gather(
    inventory: Inventory,
    *,
    timeout: float | None = None,
    memory: Path | None = None,
    read_only: bool = False,
) -> ClusterFacts:
    """Every fact the checks read, gathered concurrently; what did not answer in time is an
    error on that node (never silence)."""
    limit = timeout if timeout is not None else inventory.ssh.connect_timeout + EXTRA_TIME
    gatherer = _Gatherer(inventory, time.monotonic() + limit, read_only=read_only)
    try:

        async def node(n: Node) -> NodeFacts:
            try:
                return await _bounded(gatherer.node(n), gatherer.left())
            except TimeoutError:
                return NodeFacts(
                    n.name, n.host, frozenset({n.host}), error=f"no answer within {limit:g} s"
                )

        async def rest() -> tuple[list[BalancerFacts], database_probe.DatabaseHealth | None]:
            balancers = asyncio.gather(*(_balancer(b, gatherer) for b in inventory.balancers))
            try:
                lbs, db = await _bounded(
                    asyncio.gather(balancers, _database(inventory)), gatherer.left()
                )
            except TimeoutError:
                lbs = [
                    BalancerFacts(b.name, None, f"no answer within {limit:g} s")
                    for b in inventory.balancers
                ]
                db = database_probe.DatabaseHealth(
                    reachable=False, error=f"no answer within {limit:g} s"
                )
            return list(lbs), db

        nodes, (balancers, database), licenses = await asyncio.gather(
            asyncio.gather(*(node(n) for n in inventory.nodes)),
            rest(),
            _licenses(inventory, gatherer),
        )
        nodes = list(nodes)
        for facts in nodes:
            facts.license = licenses.get(facts.name)
        with contextlib.suppress(TimeoutError):
            await _bounded(gatherer.shared_rounds(nodes), gatherer.left())
        cluster = ClusterFacts(
            inventory,
            nodes,
            balancers,
            database,
            remembered_keys=_remembered(inventory, memory),
        )
        _remember(inventory, memory, nodes)
        return cluster
    finally:
        await gatherer.close()


def run_checks(facts: ClusterFacts) -> tuple[CheckResult, ...]:
    """Every registered check on `facts`; a check that fails itself is `unknown`, not a crash."""
    results = []
    for entry in registry():
        try:
            found: Verdict = entry.function(facts)
        except Exception as exc:  # a check's own bug must not hide the others' results
            results.append(
                CheckResult(entry, "unknown", (), f"the check failed ({type(exc).__name__})")
            )
            continue
        if found.findings:
            results.append(CheckResult(entry, "fail", found.findings, found.unknown))
        elif found.skipped:
            results.append(CheckResult(entry, "skipped", (), found.skipped))
        elif found.unknown:
            results.append(CheckResult(entry, "unknown", (), found.unknown))
        else:
            results.append(CheckResult(entry, "pass", ()))
    return tuple(results)


async def run_doctor(
    inventory: Inventory,
    *,
    timeout: float | None = None,
    memory: Path | None = None,
    read_only: bool = False,
) -> DoctorReport:
    """Gather and check; the report lists every check with its outcome. `read_only` (watch
    mode) writes nothing on the nodes: the shared directory's permissions only, no marker."""
    began = time.monotonic()
    facts = await gather(inventory, timeout=timeout, memory=memory, read_only=read_only)
    results = run_checks(facts)
    notes = tuple(f"{n.name}: {n.error}" for n in facts.nodes if n.error)
    return DoctorReport(inventory.cluster.name, results, time.monotonic() - began, notes)
