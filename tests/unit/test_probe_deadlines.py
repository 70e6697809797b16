"""Every probe has an overall deadline: a server that sends its headers and then trickles a byte
now and then (never tripping a per-read timeout) ends as "no answer within N s", never as a
read that hangs, a `None` or a healthy `status`."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from console import exitcodes
from console.cluster.observations import BalancerObserved, DatabaseObserved, Observation
from console.commands import balancer as balancer_command
from console.commands import status as status_command
from console.config import Inventory, load_inventory_text
from console.monitor import polls
from console.monitor.runner import MonitorOptions
from probes.balancer.haproxy_client import HaproxyStatsPage, RemoteHaproxySocket
from probes.balancer.httpd_client import BalancerReader
from probes.balancer.model import BalancerError
from probes.http import check

TRICKLE_EVERY = 0.3
"""Seconds between two bytes: far below every per-read timeout (5 s)."""
DEADLINE = 1.0
GUARD = 30.0
"""A test that waits this long has found a probe without a deadline (it would hang for ever)."""


async def _trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Headers of a 100000-byte answer, then one byte every TRICKLE_EVERY seconds."""
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
    while True:
        writer.write(b"<")
        await writer.drain()
        await asyncio.sleep(TRICKLE_EVERY)


async def _trickle_mysql(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A MySQL packet header announcing a 64 KiB greeting, then one byte at a time."""
    writer.write(b"\xff\xff\x00\x00")
    while True:
        writer.write(b"\x0a")
        await writer.drain()
        await asyncio.sleep(TRICKLE_EVERY)


@contextlib.asynccontextmanager
async def trickling_server(
    handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]] = _trickle,
) -> AsyncIterator[str]:
    """A server on 127.0.0.1 whose every answer trickles for ever; yields `http://HOST:PORT`."""
    clients: set[asyncio.Task[None] | None] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        clients.add(asyncio.current_task())
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, asyncio.CancelledError):
            await handler(reader, writer)
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        for task in clients:
            if task is not None:
                task.cancel()
        await asyncio.gather(*(task for task in clients if task is not None))


@pytest.fixture
def trickling_thread() -> Iterator[str]:
    """The same server in its own thread and loop (for commands that run their own loop)."""
    ready: list[tuple[str, asyncio.AbstractEventLoop, asyncio.Event]] = []
    started = threading.Event()

    async def main() -> None:
        finish = asyncio.Event()
        async with trickling_server() as url:
            ready.append((url, asyncio.get_running_loop(), finish))
            started.set()
            await finish.wait()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert started.wait(10)
    url, loop, finish = ready[0]
    try:
        yield url
    finally:
        loop.call_soon_threadsafe(finish.set)
        thread.join(10)


async def test_a_nodes_url_that_trickles_fails_with_the_deadline() -> None:
    async with trickling_server() as url, httpx.AsyncClient(timeout=5.0) as client:
        result = await asyncio.wait_for(check(client, url + "/app/", deadline=DEADLINE), GUARD)
    assert (result.status, result.ms, result.ok) == (None, None, False)
    assert result.error == "no answer within 1 s"


async def test_a_balancer_manager_that_trickles_fails_with_the_deadline() -> None:
    async with trickling_server() as url:
        reader = BalancerReader(url + "/balancer-manager", timeout=5.0, deadline=DEADLINE)
        try:
            with pytest.raises(BalancerError, match="no answer within 1 s"):
                await asyncio.wait_for(reader.read(), GUARD)
        finally:
            await reader.aclose()


async def test_a_haproxy_stats_page_that_trickles_fails_with_the_deadline() -> None:
    async with trickling_server() as url:
        page = HaproxyStatsPage(url + "/stats", timeout=5.0, deadline=DEADLINE)
        try:
            with pytest.raises(BalancerError, match="no answer within 1 s"):
                await asyncio.wait_for(page.send("show stat"), GUARD)
        finally:
            await page.aclose()


def _inventory(tmp_path: Path, body: str) -> Inventory:
    return load_inventory_text(
        "[cluster]\nname = 't'\n[ssh]\nconnect_timeout = 2.0\n" + body, tmp_path / "cluster.toml"
    )


async def test_the_live_poll_of_a_trickling_balancer_observes_the_deadline(tmp_path: Path) -> None:
    """What the console's state needs to mark the rows it shows as stale."""
    async with trickling_server() as url:
        inventory = _inventory(
            tmp_path,
            "[[nodes]]\nname = 'n1'\nhost = '127.0.0.1'\ncatalina_base = '/x'\n"
            f"[[balancers]]\nname = 'lb'\nkind = 'apache'\nurl = '{url}/balancer-manager'\n",
        )
        seen: list[Observation] = []
        done = asyncio.Event()

        def observe(observation: Observation) -> None:
            seen.append(observation)
            done.set()

        options = MonitorOptions(balancer_interval=0.01, probe_deadline=DEADLINE)
        poll = asyncio.create_task(
            polls.balancer_poll(inventory.balancers[0], inventory, [], options, observe)
        )
        try:
            await asyncio.wait_for(done.wait(), GUARD)
        finally:
            poll.cancel()
            await asyncio.gather(poll, return_exceptions=True)
    observation = seen[0]
    assert isinstance(observation, BalancerObserved)
    assert observation.page is None
    assert observation.error is not None and "no answer within 1 s" in observation.error


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_database_that_trickles_is_observed_unreachable_with_the_deadline(
    tmp_path: Path,
) -> None:
    """pymysql's timeouts are per read too; the poll bounds the whole check."""
    async with trickling_server(_trickle_mysql) as url:
        port = url.rpartition(":")[2]
        inventory = _inventory(
            tmp_path,
            "[[nodes]]\nname = 'n1'\nhost = '127.0.0.1'\ncatalina_base = '/x'\n"
            f"[database]\nurl = 'mysql://app@127.0.0.1:{port}/app'\n",
        )
        assert inventory.database is not None
        seen: list[Observation] = []
        done = asyncio.Event()

        def observe(observation: Observation) -> None:
            seen.append(observation)
            done.set()

        options = MonitorOptions(probe_deadline=0.5)
        poll = asyncio.create_task(polls.database_poll(inventory.database, options, observe))
        try:
            await asyncio.wait_for(done.wait(), GUARD)
        finally:
            poll.cancel()
            await asyncio.gather(poll, return_exceptions=True)
    observation = seen[0]
    assert isinstance(observation, DatabaseObserved)
    assert observation.health.reachable is False
    assert observation.health.error == "no answer within 1.5 s"


def test_balancer_command_on_a_trickling_server_ends_with_exit_1(trickling_thread: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    result: list[int] = []
    url = trickling_thread + "/balancer-manager"
    worker = threading.Thread(
        target=lambda: result.append(
            balancer_command.run(url, as_json=False, out=out, err=err, deadline=DEADLINE)
        ),
        daemon=True,
    )
    worker.start()
    worker.join(GUARD)
    assert result == [exitcodes.PROBLEMS], "`balancer URL` hung on a trickling server"
    assert out.getvalue() == ""
    assert err.getvalue() == (
        f"clusterconsole: balancer: cannot read the balancer-manager at {url}: "
        "no answer within 1 s\n"
    )


def _status(inventory: Inventory, **limits: float) -> tuple[int, dict[str, Any]]:
    out = io.StringIO()
    result: list[int] = []
    worker = threading.Thread(
        target=lambda: result.append(
            status_command.run(inventory, as_json=True, out=out, **limits)
        ),
        daemon=True,
    )
    worker.start()
    worker.join(GUARD * 2)
    assert result, "`status` hung"
    return result[0], json.loads(out.getvalue())


def _status_inventory(tmp_path: Path, url: str) -> Inventory:
    return _inventory(
        tmp_path,
        f"[[nodes]]\nname = 'n1'\nhost = '127.0.0.1'\nssh_port = {_closed_port()}\n"
        f"catalina_base = '/x'\nhttp = '{url}/app/'\n"
        f"[[balancers]]\nname = 'lb'\nkind = 'apache'\nurl = '{url}/balancer-manager'\n",
    )


def test_status_with_trickling_servers_reports_each_deadline_and_exits_1(
    trickling_thread: str, tmp_path: Path
) -> None:
    inventory = _status_inventory(tmp_path, trickling_thread)
    code, report = _status(inventory, probe_deadline=DEADLINE)
    assert code == exitcodes.PROBLEMS
    (node,) = report["nodes"]
    assert node["http"] == {"status": None, "ms": None, "error": "no answer within 1 s"}
    (balancer,) = report["balancers"]
    assert balancer["reachable"] is False
    assert "no answer within 1 s" in balancer["error"]
    codes = {problem["code"] for problem in report["problems"]}
    assert {"http-failing", "balancer-unreachable"} <= codes


def test_status_records_what_did_not_answer_by_its_own_deadline(
    trickling_thread: str, tmp_path: Path
) -> None:
    """Probes slower than `status` itself: never `"error": null` or `"http": null`."""
    inventory = _status_inventory(tmp_path, trickling_thread)
    code, report = _status(inventory, timeout=1.5, probe_deadline=60.0)
    assert code == exitcodes.PROBLEMS
    (node,) = report["nodes"]
    assert node["http"]["error"] == "no answer within 1.5 s"
    (balancer,) = report["balancers"]
    assert (balancer["reachable"], balancer["error"]) == (False, "no answer within 1.5 s")
    codes = {problem["code"] for problem in report["problems"]}
    assert {"http-failing", "balancer-unreachable"} <= codes


async def test_a_remote_stats_socket_whose_node_never_answers_fails_with_the_deadline() -> None:
    """The SSH runner waited for the node's connection with no bound while SSH was down."""

    async def never(command: str, *, input: bytes, timeout: float) -> bytes:
        await asyncio.Event().wait()
        return b""

    remote = RemoteHaproxySocket(never, "/run/haproxy/admin.sock", node="lb1", deadline=DEADLINE)
    with pytest.raises(BalancerError, match="on lb1: no answer within 1 s"):
        await asyncio.wait_for(remote.send("show stat"), GUARD)


async def _endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A 200 whose body never ends, sent as fast as the client reads it."""
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nConnection: close\r\n\r\n")
    block = b"x" * 65536
    while True:
        writer.write(block)
        await writer.drain()


async def test_a_node_url_that_never_ends_is_answered_from_its_first_mebibyte() -> None:
    """The status is known at once; the rest of an endless page is not read into memory."""
    async with trickling_server(_endless) as url, httpx.AsyncClient(timeout=5.0) as client:
        result = await asyncio.wait_for(check(client, url + "/app/", deadline=GUARD), GUARD)
    assert (result.status, result.error, result.ok) == (200, None, True)


async def test_a_haproxy_stats_page_that_never_ends_is_refused_past_16_mib() -> None:
    async with trickling_server(_endless) as url:
        page = HaproxyStatsPage(url + "/stats", timeout=5.0, deadline=GUARD)
        try:
            with pytest.raises(BalancerError, match="answered more than 16 MiB; not read"):
                await asyncio.wait_for(page.send("show stat"), GUARD)
        finally:
            await page.aclose()
