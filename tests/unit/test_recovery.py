"""How soon a fault and its recovery show: the schedule every poll follows, `r` (re-probe now),
SSH reconnect delays, and a listener that refuses new connections while a session lives."""

from __future__ import annotations

import asyncio
import getpass
import random
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncssh
import pytest

from console.cluster.observations import BalancerObserved, HttpObserved, Observation
from console.config import load_inventory_text
from console.monitor import polls
from console.monitor.node_watch import listener_interval
from console.monitor.polls import balancer_poll, database_poll
from console.monitor.runner import Monitor, MonitorOptions
from console.monitor.tasks import Pacer
from probes.balancer.model import BalancerError, BalancerPage
from probes.ssh.connection import (
    CREDENTIAL_BACKOFF,
    NETWORK_BACKOFF,
    Backoff,
    NodeSession,
    SshStatus,
    SshTarget,
)
from probes.ssh.listener import listener_trouble
from probes.tail.follow import RESTART_BACKOFF

NORMAL_INTERVAL = 2.0  # MonitorOptions' balancer and HTTP interval


async def until(condition: Callable[[], object], what: str, limit: float = 20.0) -> None:
    """Wait on a condition (the limit only turns a hang into a failure, it is not measured)."""
    async with asyncio.timeout(limit):
        while not condition():
            await asyncio.sleep(0.01)
    assert condition(), what


# -- the schedule -------------------------------------------------------------------------------


async def test_a_failing_database_is_asked_again_at_its_normal_interval(tmp_path: Path) -> None:
    # It was 5, 10, 20, 30 s after failures: httpd back up took 17-22 s to show. (The balancer's
    # schedule is proven below, with the balancer coming back.)
    inventory = load_inventory_text(
        "[cluster]\nname = 't'\n[[nodes]]\nname = 'n1'\nhost = '127.0.0.1'\n"
        "catalina_base = '/x'\n[database]\nurl = 'mysql://app@127.0.0.1:9/appdb'\n"
        "password_env = 'NOPE_NOT_SET'\n",
        tmp_path / "cluster.toml",
    )
    assert inventory.database is not None
    seen: list[Observation] = []
    pacer = RecordingPacer()
    options = MonitorOptions(database_interval=4.0)
    poll = asyncio.create_task(database_poll(inventory.database, options, seen.append, pacer))
    try:
        await until(lambda: len(pacer.pauses) >= 5, "five failed checks")
    finally:
        poll.cancel()
        await asyncio.gather(poll, return_exceptions=True)
    assert not any(o.health.reachable for o in seen)
    assert pacer.pauses[:5] == [4.0] * 5


def test_the_default_intervals_show_a_fault_within_5_s() -> None:
    options = MonitorOptions()
    assert options.http_interval <= NORMAL_INTERVAL
    assert options.balancer_interval <= NORMAL_INTERVAL
    assert options.process_interval < 5
    assert options.database_interval < 5  # the database, and each node's reach to it
    assert options.listener_interval < 5


def test_the_listener_check_stays_within_5_s_up_to_200_nodes_and_bounded_beyond() -> None:
    assert listener_interval(4.0, 3) == 4.0
    assert listener_interval(4.0, 200) == 4.0
    assert listener_interval(4.0, 500) == 10.0  # 50 checks a second across the fleet at most
    assert listener_interval(0, 3) is None  # 0 switches it off


def test_ssh_reconnects_within_one_normal_interval_after_a_network_failure() -> None:
    rng = random.Random(7)
    delays = [NETWORK_BACKOFF.delay(attempt, rng) for attempt in range(40) for _ in range(50)]
    assert max(delays) <= NORMAL_INTERVAL  # it was up to 28.5 s
    assert min(delays) > 0
    # A refused login or an unverifiable host key is only fixed by an edit: retried slowly.
    assert CREDENTIAL_BACKOFF.delay(10, rng) >= 20
    # A log follower whose remote loop failed on a live connection: back within 5 s.
    assert max(RESTART_BACKOFF.delay(attempt, rng) for attempt in range(40)) <= 5


class RecordingPacer(Pacer):
    """A fake clock: records each pause and returns at once."""

    def __init__(self) -> None:
        super().__init__()
        self.pauses: list[float] = []

    async def sleep(self, seconds: float) -> bool:
        self.pauses.append(seconds)
        await asyncio.sleep(0)
        return False


async def test_a_balancer_that_comes_back_is_read_one_interval_after_the_last_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers: list[BalancerPage | None] = [None] * 6 + [
        BalancerPage(url="http://lb/balancer-manager", balancers=())
    ] * 3

    class FakeReader:
        def __init__(self, *args: object, **kwargs: object) -> None:
            pass

        async def read(self) -> BalancerPage:
            answer = (
                answers.pop(0)
                if answers
                else BalancerPage(url="http://lb/balancer-manager", balancers=())
            )
            if answer is None:
                raise BalancerError("connection refused")
            return answer

        async def aclose(self) -> None:
            pass

    monkeypatch.setattr(polls, "open_balancer", lambda *args, **kwargs: FakeReader())
    inventory = load_inventory_text(
        "[cluster]\nname = 't'\n[[nodes]]\nname = 'n1'\nhost = '127.0.0.1'\n"
        "catalina_base = '/x'\n[[balancers]]\nname = 'lb'\nkind = 'apache'\n"
        "url = 'http://127.0.0.1:9/balancer-manager'\n",
        tmp_path / "cluster.toml",
    )
    seen: list[Observation] = []
    pacer = RecordingPacer()
    poll = asyncio.create_task(
        balancer_poll(inventory.balancers[0], inventory, [], MonitorOptions(), seen.append, pacer)
    )
    try:
        await until(lambda: len(seen) >= 9, "nine reads")
    finally:
        poll.cancel()
        await asyncio.gather(poll, return_exceptions=True)
    reads = [o for o in seen if isinstance(o, BalancerObserved)]
    assert [o.page is not None for o in reads[:9]] == [False] * 6 + [True] * 3
    # Every pause, after a failure or not, is the normal interval: the first read after the
    # balancer came back is at most one interval after it did.
    assert pacer.pauses[:9] == [NORMAL_INTERVAL] * 9


# -- `r`: re-probe now --------------------------------------------------------------------------


async def test_pacer_wake_ends_every_pause_at_once_and_only_those() -> None:
    pacer = Pacer()
    sleepers = [asyncio.create_task(pacer.sleep(3600)) for _ in range(5)]
    await asyncio.sleep(0)
    pacer.wake()
    assert await asyncio.wait_for(asyncio.gather(*sleepers), 10) == [True] * 5
    assert await pacer.sleep(0.01) is False  # a later pause is a normal one


async def test_r_reprobes_a_node_s_url_at_once(tmp_path: Path) -> None:
    hits: list[int] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        hits.append(1)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    (tmp_path / "known_hosts").write_text("")
    inventory = load_inventory_text(
        "[cluster]\nname = 't'\n[ssh]\nknown_hosts = 'known_hosts'\n"
        "[[nodes]]\nname = 'n1'\nhost = '127.0.0.1'\nssh_port = 9\ncatalina_base = '/x'\n"
        f"http = 'http://127.0.0.1:{port}/app/'\n",
        tmp_path / "cluster.toml",
    )
    seen: list[Observation] = []
    # Intervals of an hour: only `reprobe` can bring a second read within the test.
    options = MonitorOptions(http_interval=3600, process_interval=3600, database_interval=3600)
    monitor = Monitor(inventory, options)
    monitor.subscribe(lambda _: None)
    original = monitor.observe

    def observe(observation: Observation) -> None:
        seen.append(observation)
        original(observation)

    monitor.observe = observe  # type: ignore[method-assign]
    await monitor.start()
    try:

        def http() -> list[HttpObserved]:
            return [o for o in seen if isinstance(o, HttpObserved)]

        await until(lambda: len(http()) == 1, "the first read of the node's URL")
        monitor.reprobe()
        await until(lambda: len(http()) == 2, "a second read right after `r`")
        assert all(o.check.ok for o in http())
    finally:
        await monitor.stop()
        server.close()
        await server.wait_closed()


async def test_retry_now_ends_an_ssh_reconnect_pause(tmp_path: Path) -> None:
    (tmp_path / "known_hosts").write_text("")
    target = SshTarget("n1", "127.0.0.1", port=9, known_hosts=str(tmp_path / "known_hosts"))
    slow = Backoff(initial=3600, cap=3600)
    session = NodeSession(target, backoff=slow)
    attempts: list[int] = []
    connect = session._connect

    async def counted(*args: object) -> asyncssh.SSHClientConnection:
        attempts.append(1)
        return await connect(*args)  # type: ignore[arg-type]

    session._connect = counted  # type: ignore[method-assign]
    task = asyncio.create_task(session.run())
    try:
        await until(lambda: session.status.state == "down", "the refused connect")
        assert len(attempts) == 1
        session.retry_now()
        await until(lambda: len(attempts) == 2, "a second connect right after retry_now")
    finally:
        await session.close()
        await asyncio.wait_for(task, 10)


# -- the SSH listener -----------------------------------------------------------------------------


async def _server(
    handle: Callable[[asyncio.StreamReader, asyncio.StreamWriter], object],
) -> tuple[asyncio.Server, int]:
    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await handle(reader, writer)  # type: ignore[misc]

    server = await asyncio.start_server(run, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_listener_trouble_tells_a_live_sshd_from_every_kind_of_dead_one() -> None:
    async def banner(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
        await writer.drain()
        writer.close()

    async def hangs_up(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()  # what sshd does past MaxStartups

    async def silent(reader: asyncio.StreamReader, _: asyncio.StreamWriter) -> None:
        await reader.read()

    async def web(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\n" * 10)
        await writer.drain()
        writer.close()

    servers = [await _server(handler) for handler in (banner, hangs_up, silent, web)]
    try:
        ports = [port for _, port in servers]
        assert await listener_trouble("127.0.0.1", ports[0]) is None
        assert await listener_trouble("127.0.0.1", ports[1]) == (
            "the SSH port closed new connections without a banner"
        )
        assert await listener_trouble("127.0.0.1", ports[2], timeout=0.3) == (
            "no SSH banner within 0.3 s"
        )
        assert await listener_trouble("127.0.0.1", ports[3]) == (
            "the SSH port does not answer like an SSH server"
        )
        assert await listener_trouble("127.0.0.1", 9) == "connection refused"
    finally:
        for server, _ in servers:
            server.close()


class _Server(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True  # keys are checked by asyncssh against authorized_client_keys


@pytest.fixture
async def sshd(tmp_path: Path) -> AsyncIterator[tuple[asyncssh.SSHAcceptor, SshTarget]]:
    """An in-process SSH server that accepts one generated key, and the target to reach it."""
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    (tmp_path / "id").write_bytes(client_key.export_private_key())
    (tmp_path / "authorized").write_bytes(client_key.export_public_key())
    acceptor = await asyncssh.listen(
        "127.0.0.1",
        0,
        server_factory=_Server,
        server_host_keys=[host_key],
        authorized_client_keys=str(tmp_path / "authorized"),
        process_factory=lambda process: process.exit(0),
    )
    port = acceptor.sockets[0].getsockname()[1]
    public = host_key.export_public_key().decode().split()[:2]
    (tmp_path / "known_hosts").write_text(f"[127.0.0.1]:{port} {' '.join(public)}\n")
    target = SshTarget(
        "n1",
        "127.0.0.1",
        port=port,
        username=getpass.getuser(),
        client_keys=(str(tmp_path / "id"),),
        known_hosts=str(tmp_path / "known_hosts"),
        listener_interval=0.05,
    )
    try:
        yield acceptor, target
    finally:
        acceptor.close()


async def test_a_listener_that_refuses_new_connections_is_down_while_the_session_lives(
    sshd: tuple[asyncssh.SSHAcceptor, SshTarget],
) -> None:
    acceptor, target = sshd
    statuses: list[SshStatus] = []
    session = NodeSession(target, on_status=statuses.append)
    task = asyncio.create_task(session.run())
    try:
        await until(lambda: session.status.state == "up", "the session to come up")
        conn = await session.connection()
        acceptor.close()  # the listener goes; the established connection stays (as with sshd)
        await until(lambda: session.status.state == "down", "the dead listener to show")
        assert session.status.reason == ("connection refused (the open session still works)"), (
            session.status
        )
        assert not conn.is_closed()
        assert await session.connection() is conn  # commands still go through it
        result = await session.exec("true", timeout=10)
        assert result.exit_status == 0
    finally:
        await session.close()
        await asyncio.wait_for(task, 10)
    assert [s.state for s in statuses][:2] == ["up", "down"]
