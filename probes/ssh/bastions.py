"""One shared connection per ProxyJump host, for every node behind it."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from dataclasses import dataclass, field

import asyncssh

from probes.ssh.connect import connect_options, handshake_client
from probes.ssh.handshake import BastionError, classify
from probes.ssh.prompt import within
from probes.ssh.target import SshTarget


def _split_jump(hop: str) -> tuple[str | None, str, int | None]:
    """``user@host:port`` (``[v6]:port``) -> (user, host, port)."""
    user, _, rest = hop.rpartition("@")
    if rest.startswith("["):
        host, _, tail = rest[1:].partition("]")
        port = tail[1:] if tail.startswith(":") else ""
    elif rest.count(":") == 1:
        host, _, port = rest.partition(":")
    else:
        host, port = rest, ""
    return user or None, host, int(port) if port.isdigit() else None


@dataclass(eq=False)
class Bastions:
    """One shared connection per ProxyJump host, for every node behind it.

    asyncssh on its own opens a connection to the jump host for every node connect (and every
    reconnect); here the nodes share one, opened on first use, verified against known_hosts like
    a node, and closed when the last session using it closes.
    """

    connects: int = 0
    """Connections opened to jump hosts (a test's proof of the sharing)."""
    _conns: dict[tuple[object, ...], asyncssh.SSHClientConnection] = field(default_factory=dict)
    _locks: dict[tuple[object, ...], asyncio.Lock] = field(default_factory=dict)
    _users: int = 0

    def acquire(self) -> None:
        self._users += 1

    async def release(self) -> None:
        self._users -= 1
        if self._users <= 0:
            self._users = 0
            conns, self._conns = list(self._conns.values()), {}
            for conn in conns:
                conn.close()
            for conn in conns:
                with contextlib.suppress(Exception):
                    await conn.wait_closed()

    async def tunnel(self, jump: str, target: SshTarget) -> asyncssh.SSHClientConnection:
        """The connection to the last host of ``jump`` (``a,b``: b reached through a)."""
        via: asyncssh.SSHClientConnection | None = None
        for hop in (part.strip() for part in jump.split(",")):
            if hop:
                via = await self._hop(hop, via, target)
        if via is None:
            raise BastionError("down", f"ProxyJump {jump!r} names no host")
        return via

    async def _hop(
        self, hop: str, via: asyncssh.SSHClientConnection | None, target: SshTarget
    ) -> asyncssh.SSHClientConnection:
        user, host, port = _split_jump(hop)
        key = (hop, id(via), target.ssh_config, target.known_hosts, target.client_keys)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            conn = self._conns.get(key)
            if conn is not None and not conn.is_closed():
                return conn
            jump = SshTarget(
                node=f"jump host {hop}",
                host=host,
                port=port,
                username=user,
                client_keys=target.client_keys,
                ssh_config=target.ssh_config,
                accept_new=target.accept_new,
                connect_timeout=target.connect_timeout,
                keepalive_interval=target.keepalive_interval,
                keepalive_count_max=target.keepalive_count_max,
            )
            try:
                config = jump.config()
            except (OSError, ValueError) as exc:
                raise BastionError("down", f"jump host {hop}: ssh config: {exc}") from None
            client = handshake_client(jump, config, jump.node)
            if target.known_hosts:  # the inventory's file names the jump host too, maybe
                client.files = (*client.files, target.known_hosts)
            options = connect_options(jump, config, client)
            if via is not None:
                options["tunnel"] = via
            try:
                conn = await within(
                    asyncssh.connect(host, port if port else (), **options), jump.connect_timeout
                )
            except Exception as exc:
                state, reason = classify(exc, jump, client)
                raise BastionError(state, f"jump host {hop}: {reason}") from None
            self.connects += 1
            self._conns[key] = conn
            return conn


_BASTIONS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Bastions] = (
    weakref.WeakKeyDictionary()
)


def bastions() -> Bastions:
    """The running loop's shared jump host connections."""
    loop = asyncio.get_running_loop()
    found = _BASTIONS.get(loop)
    if found is None:
        found = _BASTIONS[loop] = Bastions()
    return found
