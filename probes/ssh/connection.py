"""One SSH connection per node, kept up forever, with precise failure states and bounded commands.

Hosts are reached the way OpenSSH would: the client config (``~/.ssh/config``, then
``/etc/ssh/ssh_config``) gives an alias its HostName, Port, User, identities, known_hosts files and
ProxyJump; the inventory's port, user, key and known_hosts win only where it sets them. Nodes
behind one ProxyJump host share one connection to it (`Bastions`).

Host keys are always verified against known_hosts, whatever StrictHostKeyChecking says: a mismatch
is reported, never bypassed; an unknown host is accepted only when asked (`accept_new`, or
``StrictHostKeyChecking accept-new``). Nothing here logs a key, a passphrase or a command line
(commands may carry secrets).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass

import asyncssh

from probes.ssh.bastions import Bastions as Bastions
from probes.ssh.bastions import bastions
from probes.ssh.config import HostConfig
from probes.ssh.connect import connect_options, handshake_client
from probes.ssh.handshake import (
    BastionError,
    HandshakeClient,
    classify,
    lost_reason,
)
from probes.ssh.handshake import (
    SshState as SshState,
)
from probes.ssh.listener import LISTENER_TIMEOUT, listener_trouble, listener_trouble_via
from probes.ssh.prompt import within
from probes.ssh.target import (
    KEEPALIVE_COUNT_MAX as KEEPALIVE_COUNT_MAX,
)
from probes.ssh.target import (
    KEEPALIVE_INTERVAL as KEEPALIVE_INTERVAL,
)
from probes.ssh.target import (
    LISTENER_INTERVAL as LISTENER_INTERVAL,
)
from probes.ssh.target import (
    SshTarget as SshTarget,
)

LISTENER_RETRY = 1.0
"""While the listener refuses, it is asked again this often, so its return shows within ~1 s."""
# How long one connect may hold a slot of the shared connect semaphore. The semaphore spreads the
# CPU cost of many handshakes; a node that does not answer keeps connecting, but outside the slot,
# so it never holds up the others for its whole connect_timeout.
SLOT_BUDGET = 1.0


@dataclass(frozen=True, slots=True)
class SshStatus:
    """What is known about a node's SSH connection; `reason` is a plain sentence or None."""

    node: str
    state: SshState
    reason: str | None
    at: float
    peer: str | None = None
    """The address the connection reached (a direct one, not through a jump host): what logs
    and balancers may name the node by, whatever alias the inventory uses."""


@dataclass(frozen=True, slots=True)
class CommandResult:
    """A finished remote command; exit_status is None when it died of a signal."""

    exit_status: int | None
    stdout: bytes
    stderr: bytes


class SshCommandError(Exception):
    """A command could not run to its end: the node, the command's program and why."""


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential delays between reconnects, jittered so a fleet does not retry in step."""

    initial: float = 1.0
    cap: float = 30.0
    factor: float = 2.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if not (0 < self.initial <= self.cap and self.factor >= 1 and 0 <= self.jitter < 1):
            raise ValueError(f"invalid backoff {self!r}")

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number `attempt` (0-based): min(cap, initial*factor^n)
        spread by +-jitter, and never more than cap (the cap is what recovery time promises)."""
        base = self.initial
        for _ in range(max(0, attempt)):
            base *= self.factor
            if base >= self.cap:
                break
        base = min(base, self.cap)
        spread = (rng or random).uniform(-self.jitter, self.jitter)
        return min(self.cap, base * (1 + spread))


NETWORK_BACKOFF = Backoff(initial=0.5, cap=2.0)
"""Between reconnects after a refused, unreachable or timed-out node: a node back up is
connected again within 2 s (one normal poll interval). Failing connects cost the node nothing."""
CREDENTIAL_BACKOFF = Backoff(initial=5.0, cap=30.0)
"""After a refused login or a host key that cannot be verified: only an edit fixes those, and
repeated failed logins fill the node's auth log (and may get this machine banned)."""
SLOW_STATES: frozenset[SshState] = frozenset(
    {"auth-failed", "host-key-mismatch", "host-key-unknown"}
)


def _program(command: str) -> str:
    """The command's first word only: the rest may hold secrets and must not reach a message."""
    words = command.split()
    return (words[0][:40] + " ...") if words else "(empty command)"


def bounded(command: str, timeout: float) -> str:
    """`command` under sh, killed on the node itself a second after `timeout`.

    Closing the channel does not stop a remote command, and sshd refuses signal requests in some
    setups ("session signalling requires privilege separation"); coreutils `timeout` kills the
    command's whole process group whatever happens to the connection.
    """
    return f"timeout -k 1 {math.ceil(timeout) + 1} sh -c {shlex.quote(command)}"


class NodeSession:
    """One asyncssh connection to one node, kept up forever with capped exponential backoff."""

    def __init__(
        self,
        target: SshTarget,
        *,
        on_status: Callable[[SshStatus], None] | None = None,
        backoff: Backoff = NETWORK_BACKOFF,
        credential_backoff: Backoff = CREDENTIAL_BACKOFF,
        connect_limit: asyncio.Semaphore | None = None,
        jump_hosts: Bastions | None = None,
    ) -> None:
        self.target = target
        self._bastions = jump_hosts
        self.config: HostConfig | None = None
        """The client config's view of the host, read at each connect."""
        self._on_status = on_status
        self._backoff = backoff
        self._credential_backoff = credential_backoff
        self._limit = connect_limit
        self._status = SshStatus(target.node, "connecting", None, time.time())
        self._conn: asyncssh.SSHClientConnection | None = None
        self._closing = False
        self._nudge = asyncio.Event()  # ends a pause: close() or retry_now()
        self._changed = asyncio.Event()
        self._attempt: asyncio.Future[asyncssh.SSHClientConnection] | None = None
        self._rng = random.Random()

    @property
    def status(self) -> SshStatus:
        return self._status

    def _set(self, state: SshState, reason: str | None, peer: str | None = None) -> None:
        peer = peer or self._status.peer
        if (state, reason, peer) != (self._status.state, self._status.reason, self._status.peer):
            self._status = SshStatus(self.target.node, state, reason, time.time(), peer)
            if self._on_status is not None:
                self._on_status(self._status)
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def _open(
        self, config: HostConfig, options: dict[str, object]
    ) -> asyncssh.SSHClientConnection:
        if config.proxy_jump:
            pool = self._bastions if self._bastions is not None else bastions()
            options["tunnel"] = await pool.tunnel(config.proxy_jump, self.target)
        port = self.target.port
        return await within(
            asyncssh.connect(self.target.host, port if port else (), **options),
            self.target.connect_timeout,
        )

    async def _connect(
        self, client: HandshakeClient, config: HostConfig
    ) -> asyncssh.SSHClientConnection:
        """One connect, holding a slot of the shared semaphore for at most SLOT_BUDGET seconds."""
        options = connect_options(self.target, config, client)
        self._attempt = asyncio.ensure_future(self._open(config, options))
        try:
            if self._limit is not None:
                async with self._limit:
                    await asyncio.wait({self._attempt}, timeout=SLOT_BUDGET)
            return await self._attempt
        finally:
            if not self._attempt.done():
                self._attempt.cancel()
            self._attempt = None

    async def _pause(self, seconds: float) -> None:
        """Wait ``seconds``, less if the session is closed or `retry_now` is called."""
        self._nudge.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._nudge.wait(), seconds)

    def retry_now(self) -> None:
        """Reconnect now if waiting to (and check the listener now if connected): the
        operator's re-probe. A connect under way is not disturbed."""
        self._nudge.set()

    async def _watch_listener(self, interval: float) -> None:
        """While connected: every ``interval`` s, does the SSH port still take new connections?

        A listener that does not (sshd killed, MaxStartups full, a firewall change) makes the
        node "down" with that reason although the open connection still carries commands:
        nothing could reconnect, and a new `status` already says down.
        """
        while not self._closing:
            refusing = self._status.state != "up"
            await self._pause(min(interval, LISTENER_RETRY) if refusing else interval)
            if self._closing:
                return
            timeout = min(LISTENER_TIMEOUT, self.target.connect_timeout)
            config = self.config
            host, port = (config.hostname, config.port) if config else (self.target.host, 22)
            if config is not None and config.proxy_jump:
                trouble = await self._listener_via_jump(config.proxy_jump, host, port, timeout)
            else:
                trouble = await listener_trouble(host, port, timeout)
            if self._conn is None:
                return
            if trouble is None:
                self._set("up", None)
            else:
                self._set("down", f"{trouble} (the open session still works)")

    async def _listener_via_jump(
        self, jump: str, host: str, port: int, timeout: float
    ) -> str | None:
        """The node's SSH port asked from the jump host (a direct-tcpip channel over the shared
        jump connection): from here it cannot be reached at all."""
        pool = self._bastions if self._bastions is not None else bastions()
        try:
            async with asyncio.timeout(timeout):
                via = await pool.tunnel(jump, self.target)
        except BastionError as exc:
            return exc.reason
        except TimeoutError:
            return f"jump host {jump}: no answer within {timeout:g} s"
        trouble = await listener_trouble_via(via, host, port, timeout)
        return None if trouble is None else f"{trouble}, seen from jump host {jump}"

    async def run(self) -> None:
        """Connect, wait for the connection to end, reconnect; until close(). Never raises for
        network trouble: failures become statuses."""
        pool = self._bastions
        if pool is None:
            pool = self._bastions = bastions()
        pool.acquire()
        try:
            await self._run()
        finally:
            await pool.release()

    async def _run(self) -> None:
        failures = 0
        while not self._closing:
            if failures:
                slow = self._status.state in SLOW_STATES
                backoff = self._credential_backoff if slow else self._backoff
                await self._pause(backoff.delay(failures - 1, self._rng))
                if self._closing:
                    break
            try:
                config = self.config = self.target.config()
            except (OSError, ValueError) as exc:
                self._set("down", f"cannot read the ssh client config: {exc}")
                failures += 1
                continue
            client = handshake_client(self.target, config, self.target.node)
            try:
                conn = await self._connect(client, config)
            except asyncio.CancelledError:
                if self._closing:
                    break
                raise
            except Exception as exc:  # every failure is a state, whatever asyncssh raised
                self._set(*classify(exc, self.target, client))
                failures += 1
                continue
            if self._closing:
                conn.close()
                break
            self._conn = conn
            self._set("up", None, None if config.proxy_jump else _peer(conn))
            up_since = time.monotonic()
            interval = self.target.listener_interval  # through the jump host when there is one
            watcher = asyncio.create_task(self._watch_listener(interval)) if interval else None
            try:
                await conn.wait_closed()
            finally:
                self._conn = None
                if watcher is not None:
                    watcher.cancel()
                    await asyncio.gather(watcher, return_exceptions=True)
            if self._closing:
                break
            self._set(*lost_reason(client.lost, self.target))
            # A connection that lived long was healthy: retry at once. One that died young
            # (a node that accepts then drops) keeps backing off.
            failures = 0 if time.monotonic() - up_since >= self._backoff.cap else failures + 1
        self._set("down", "session closed")

    async def connection(self) -> asyncssh.SSHClientConnection:
        """The live connection, waiting until it is up; SshCommandError once closed."""
        while True:
            if self._closing:
                raise SshCommandError(f"{self.target.node}: the SSH session is closed")
            conn = self._conn  # usable even while the listener refuses new connections
            if conn is not None and not conn.is_closed():
                return conn
            await self._changed.wait()

    async def exec(
        self, command: str, *, timeout: float, input: bytes | None = None
    ) -> CommandResult:
        """Run `command` (POSIX sh) within `timeout` seconds, waiting for the connection included;
        a command still running then is killed and its channel closed."""
        node, program = self.target.node, _program(command)
        deadline = asyncio.get_running_loop().time() + timeout
        try:
            async with asyncio.timeout_at(deadline):
                conn = await self.connection()
        except TimeoutError:
            status = self._status
            why = f"{status.state}: {status.reason}" if status.reason else status.state
            raise SshCommandError(
                f"{node}: `{program}` not run: no connection within {timeout:g} s ({why})"
            ) from None
        process: asyncssh.SSHClientProcess[bytes] | None = None
        try:
            async with asyncio.timeout_at(deadline):
                process = await conn.create_process(bounded(command, timeout), encoding=None)
                if input:
                    process.stdin.write(input)
                process.stdin.write_eof()
                stdout, stderr = await process.communicate()
        except TimeoutError:
            if process is not None:
                _kill(process)
            raise SshCommandError(
                f"{node}: `{program}` timed out after {timeout:g} s and was killed"
            ) from None
        except (asyncssh.Error, OSError) as exc:
            if process is not None:
                process.close()
            reason = getattr(exc, "reason", "") or str(exc) or type(exc).__name__
            raise SshCommandError(f"{node}: `{program}` failed: disconnected ({reason})") from None
        code = process.exit_status  # -1 when asyncssh got an exit signal instead
        return CommandResult(code if code is None or code >= 0 else None, stdout, stderr)

    async def close(self) -> None:
        """Stop reconnecting and close the connection; waits until it is closed."""
        self._closing = True
        self._nudge.set()
        if self._attempt is not None:
            self._attempt.cancel()
        conn = self._conn
        self._set(self._status.state, self._status.reason)  # wake connection() waiters
        if conn is not None:
            conn.close()
            await conn.wait_closed()


def _peer(conn: asyncssh.SSHClientConnection) -> str | None:
    peer = conn.get_extra_info("peername")
    return str(peer[0]).lower() if isinstance(peer, tuple) and peer else None


def _kill(process: asyncssh.SSHClientProcess[bytes]) -> None:
    """Ask sshd to SIGKILL the command (OpenSSH >= 7.9 honours it), then close the channel."""
    with contextlib.suppress(Exception):
        process.send_signal("KILL")
    process.close()
