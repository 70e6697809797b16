"""HAProxy's runtime API: one command over a local stats socket or `socat` on a node via SSH.

Reading is `show stat`; the one change is `set server B/S state ready|drain|maint`, always read
back, because HAProxy answers an empty line whether or not the state shows what was asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shlex
import ssl
from pathlib import Path
from typing import Literal, Protocol

import httpx

from probes.balancer.haproxy import HaproxyRow, parse_show_stat, to_page
from probes.balancer.model import (
    BalancerChangeNotApplied,
    BalancerError,
    BalancerPage,
    describe_names,
)
from probes.http import DEADLINE, network_reason, no_answer

ANSWER_LIMIT = 16 * 1024 * 1024
"""Bytes read at most from one answer (`show stat` of 10 000 servers is about 5 MiB)."""

State = Literal["ready", "drain", "maint"]
STATES: tuple[State, ...] = ("ready", "drain", "maint")

_NAME = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_ADDRESS = re.compile(r"^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]):[0-9]{1,5}$")
_SOCKET_PATH = re.compile(r"^/[A-Za-z0-9._/-]{1,200}$")
# srv_admin_state bits (HAProxy's SRV_ADMF_*): forced maintenance and forced drain.
_ADMIN_MAINT = 0x01
_ADMIN_DRAIN = 0x08


class CommandRunner(Protocol):
    """Runs a shell command on a node (the SSH layer) with `input` on its stdin."""

    async def __call__(self, command: str, *, input: bytes, timeout: float) -> bytes: ...


class HaproxyTransport(Protocol):
    """Sends one runtime API command and returns HAProxy's whole answer."""

    @property
    def description(self) -> str: ...

    async def send(self, command: str) -> str: ...


def _check_command(command: str) -> bytes:
    """One command line; a newline or `;` would smuggle in a second command."""
    if not command or any(ch in command for ch in "\r\n;") or not command.isprintable():
        raise BalancerError(f"refused to send {command!r} to HAProxy: not one plain command")
    return command.encode("ascii", "replace") + b"\n"


class HaproxySocket:
    """A local UNIX stats socket (`stats socket PATH level admin` in haproxy.cfg)."""

    def __init__(self, path: str | Path, *, timeout: float = 5.0) -> None:
        self.path = str(path)
        self.timeout = timeout

    @property
    def description(self) -> str:
        return f"HAProxy stats socket {self.path}"

    async def send(self, command: str) -> str:
        line = _check_command(command)
        try:
            return await asyncio.wait_for(self._exchange(line), self.timeout)
        except TimeoutError:
            raise BalancerError(
                f"{self.description} did not answer {command!r} within {self.timeout:g} s"
            ) from None
        except FileNotFoundError:
            raise BalancerError(f"{self.description} does not exist") from None
        except PermissionError:
            raise BalancerError(f"{self.description}: permission denied") from None
        except ConnectionRefusedError:
            raise BalancerError(
                f"{self.description}: connection refused (is HAProxy running?)"
            ) from None
        except OSError as error:
            reason = (error.strerror or type(error).__name__).lower()
            raise BalancerError(f"{self.description}: {reason}") from None

    async def _exchange(self, line: bytes) -> str:
        reader, writer = await asyncio.open_unix_connection(self.path, limit=1 << 20)
        try:
            writer.write(line)
            await writer.drain()
            chunks: list[bytes] = []
            size = 0
            while chunk := await reader.read(1 << 16):
                size += len(chunk)
                if size > ANSWER_LIMIT:
                    raise BalancerError(f"{self.description} answered more than 16 MiB; not read")
                chunks.append(chunk)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        return b"".join(chunks).decode("utf-8", "replace")


class HaproxyStatsPage:
    """HAProxy's HTTP stats page in CSV form (``stats uri``); it can only read ``show stat``."""

    def __init__(
        self,
        url: str,
        *,
        auth: tuple[str, str] | None = None,
        timeout: float = 5.0,
        deadline: float = DEADLINE,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.url = url if url.rstrip("/").endswith(";csv") else url.rstrip("/") + ";csv"
        self.deadline = deadline
        """Seconds the whole answer may take (a trickling server never trips `timeout`)."""
        self._client = httpx.AsyncClient(
            auth=auth,
            timeout=httpx.Timeout(timeout),
            # let idle connections go before the server closes them under a request
            limits=httpx.Limits(keepalive_expiry=2.0),
            transport=transport,
            verify=verify,
        )

    @property
    def description(self) -> str:
        return f"HAProxy stats page {self.url}"

    async def send(self, command: str) -> str:
        if command != "show stat":
            raise BalancerError(f"{self.description} is read-only: it cannot run {command!r}")
        try:
            async with (
                asyncio.timeout(self.deadline),
                self._client.stream("GET", self.url) as response,
            ):
                if response.status_code != 200:
                    raise BalancerError(f"{self.description} answered HTTP {response.status_code}")
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > ANSWER_LIMIT:  # stop reading: an endless answer must not fill memory
                        raise BalancerError(
                            f"{self.description} answered more than 16 MiB; not read"
                        )
                    chunks.append(chunk)
                encoding = response.encoding or "utf-8"
        except TimeoutError:
            raise BalancerError(f"{self.description}: {no_answer(self.deadline)}") from None
        except httpx.HTTPError as error:
            raise BalancerError(f"{self.description}: {network_reason(error)}") from None
        try:
            return b"".join(chunks).decode(encoding, "replace")
        except LookupError:  # a charset Python does not know
            return b"".join(chunks).decode("utf-8", "replace")

    async def aclose(self) -> None:
        await self._client.aclose()


class RemoteHaproxySocket:
    """The stats socket of a node, reached by running `socat` there through a CommandRunner."""

    def __init__(
        self,
        runner: CommandRunner,
        path: str,
        *,
        node: str = "node",
        timeout: float = 5.0,
        deadline: float | None = None,
    ) -> None:
        if not _SOCKET_PATH.match(path) or ".." in path:
            raise BalancerError(f"{path!r} is not a plain absolute path of a stats socket")
        self.runner = runner
        self.path = path
        self.node = node
        self.timeout = timeout
        self.deadline = deadline if deadline is not None else 2 * timeout
        """Seconds the whole exchange may take, waiting for the node's SSH connection included."""

    @property
    def description(self) -> str:
        return f"HAProxy stats socket {self.path} on {self.node}"

    @property
    def command(self) -> str:
        return f"socat stdio {shlex.quote('UNIX-CONNECT:' + self.path)}"

    async def send(self, command: str) -> str:
        line = _check_command(command)
        try:
            async with asyncio.timeout(self.deadline):
                answer = await self.runner(self.command, input=line, timeout=self.timeout)
        except TimeoutError:
            raise BalancerError(f"{self.description}: {no_answer(self.deadline)}") from None
        except BalancerError:
            raise
        except Exception as error:  # the SSH layer's own errors: reported, never a traceback
            detail = str(error) or type(error).__name__
            raise BalancerError(f"{self.description}: {detail}") from error
        if len(answer) > ANSWER_LIMIT:
            raise BalancerError(f"{self.description} answered more than 16 MiB; not read")
        return answer.decode("utf-8", "replace")


class HaproxyReader:
    """Reads `show stat` through one transport."""

    def __init__(self, transport: HaproxyTransport) -> None:
        self.transport = transport

    async def read(self) -> list[HaproxyRow]:
        answer = await self.transport.send("show stat")
        try:
            return parse_show_stat(answer)
        except BalancerError as error:
            raise BalancerError(f"{self.transport.description}: {error}") from None

    async def read_page(self) -> BalancerPage:
        """The backends and servers in the shared balancer model."""
        return to_page(await self.read(), self.transport.description)

    async def admin_states(self, backend: str) -> dict[str, int]:
        """srv_admin_state per server of `backend` (`show servers state`), for read-backs."""
        _check_name("backend", backend)
        answer = await self.transport.send(f"show servers state {backend}")
        names: list[str] | None = None
        states: dict[str, int] = {}
        for line in answer.splitlines():
            if line.startswith("#"):
                names = line[1:].split()
                continue
            cells = line.split()
            if names is None or len(cells) < len(names) // 2:
                continue
            row = dict(zip(names, cells, strict=False))
            try:
                states[row["srv_name"]] = int(row["srv_admin_state"])
            except (KeyError, ValueError):
                continue
        return states


def _check_name(kind: str, name: str) -> None:
    if not _NAME.match(name):
        raise BalancerError(f"{name!r} is not a valid HAProxy {kind} name")


def _find(rows: list[HaproxyRow], backend: str, server: str, where: str) -> HaproxyRow:
    """The server line whose backend and name are exactly these; else a sentence of what exists."""
    for row in rows:
        if row.is_server and row.pxname == backend and row.svname == server:
            return row
    backends = sorted({row.pxname for row in rows if row.is_server or row.svname == "BACKEND"})
    if backend not in backends:
        raise BalancerError(
            f"{where} has no backend {backend!r}; it has: {describe_names(backends)}"
        )
    servers = [row.svname for row in rows if row.is_server and row.pxname == backend]
    raise BalancerError(
        f"backend {backend} at {where} has no server named exactly {server!r}; "
        f"it has: {describe_names(servers)}"
    )


def _shows(state: State, status: str) -> bool:
    """Whether a `show stat` status shows the admin state asked for."""
    word = status.strip().upper()
    if state == "maint":
        return word.startswith("MAINT")
    if state == "drain":
        return word.startswith("DRAIN")
    return not word.startswith(("MAINT", "DRAIN"))


def _admin_shows(state: State, admin: int) -> bool:
    if state == "maint":
        return bool(admin & _ADMIN_MAINT)
    if state == "drain":
        return bool(admin & _ADMIN_DRAIN) and not admin & _ADMIN_MAINT
    return not admin & (_ADMIN_MAINT | _ADMIN_DRAIN)


class HaproxyWriter:
    """Changes one server's admin state and proves it by reading back."""

    def __init__(self, reader: HaproxyReader) -> None:
        self.reader = reader

    def command_for(self, backend: str, server: str, state: str) -> str:
        """The exact runtime API command (for dry runs and the audit log)."""
        if state not in STATES:
            raise BalancerError(f"state must be one of {', '.join(STATES)}, not {state!r}")
        _check_name("backend", backend)
        _check_name("server", server)
        return f"set server {backend}/{server} state {state}"

    def add_commands(self, backend: str, server: str, address: str) -> list[str]:
        """`add server B/S ADDR:PORT` then `enable server B/S` (a dynamic server starts in
        maintenance; HAProxy 2.4+), for dry runs and the audit log."""
        _check_name("backend", backend)
        _check_name("server", server)
        if not _ADDRESS.match(address):
            raise BalancerError(f"{address!r} is not an address:port such as 10.0.0.4:8080")
        return [f"add server {backend}/{server} {address}", f"enable server {backend}/{server}"]

    def remove_commands(self, backend: str, server: str) -> list[str]:
        """`set server B/S state maint` then `del server B/S` (HAProxy deletes only a server in
        maintenance without connections)."""
        return [self.command_for(backend, server, "maint"), f"del server {backend}/{server}"]

    async def add_server(self, backend: str, server: str, address: str) -> HaproxyRow:
        """Add and enable a server, then read it back."""
        where = self.reader.transport.description
        rows = await self.reader.read()
        if any(row.is_server and row.pxname == backend and row.svname == server for row in rows):
            raise BalancerError(f"backend {backend} at {where} already has a server {server}")
        add, enable = self.add_commands(backend, server, address)
        answer = (await self.reader.transport.send(add)).strip()
        if answer and "registered" not in answer.lower():
            raise BalancerError(f"{where} refused {add!r}: {' '.join(answer.split())}")
        answer = (await self.reader.transport.send(enable)).strip()
        if answer:
            raise BalancerError(f"{where} refused {enable!r}: {' '.join(answer.split())}")
        row = _find(await self.reader.read(), backend, server, where)
        if (row.status or "").upper().startswith("MAINT"):
            raise BalancerChangeNotApplied(f"{where} added {server} but it stays in maintenance")
        return row

    async def remove_server(self, backend: str, server: str) -> None:
        """Put the server in maintenance, delete it, and read back that it is gone."""
        where = self.reader.transport.description
        await self.set_state(backend, server, "maint")
        command = self.remove_commands(backend, server)[1]
        answer = " ".join((await self.reader.transport.send(command)).split())
        if answer and "deleted" not in answer.lower():
            raise BalancerError(f"{where} refused {command!r}: {answer}")
        rows = await self.reader.read()
        if any(row.is_server and row.pxname == backend and row.svname == server for row in rows):
            raise BalancerChangeNotApplied(f"{where} still shows {backend}/{server}: {answer}")

    async def set_state(self, backend: str, server: str, state: State) -> HaproxyRow:
        """`set server B/S state X`, then `show stat`; the server line as HAProxy now shows it."""
        command = self.command_for(backend, server, state)
        where = self.reader.transport.description
        _find(await self.reader.read(), backend, server, where)
        answer = (await self.reader.transport.send(command)).strip()
        if answer:
            raise BalancerError(f"{where} refused {command!r}: {' '.join(answer.split())}")
        row = _find(await self.reader.read(), backend, server, where)
        status = row.status or ""
        if _shows(state, status):
            return row
        # A DOWN server shows DOWN whatever its admin state: ask for the admin bits instead.
        admin = (await self.reader.admin_states(backend)).get(server)
        if admin is not None and status.upper().startswith("DOWN") and _admin_shows(state, admin):
            return row
        raise BalancerChangeNotApplied(
            f"{where} did not apply {command!r}: state asked {state}, "
            f"status seen {status or 'nothing'!r}"
        )
