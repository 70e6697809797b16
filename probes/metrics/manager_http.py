"""A small HTTP/1.1 GET client for the manager pages, one connection per read of a node.

Why not httpx: a node's figures are read every few seconds from hundreds of nodes, and an httpx
request costs about 3 ms of CPU here where a plain asyncio exchange costs 0.2 ms (measured with
the 500-node benchmark, tests/bench/metrics.py: 65 % of a core against the target of 10 %).
What this client needs is narrow: GET with basic credentials, over http or https (certificates
verified), answers with Content-Length, chunked or ended by close, within a size limit. A
node's connection is kept open between reads (connecting costs more than the GETs) while a
budget of file descriptors allows (`keep_budget`), else closed after each read. Nothing here
redirects or decodes; a GET on a kept connection the server closed meanwhile is sent again once.
On a kept connection a read's GETs are pipelined (`Origin.pipeline`): written at once.
"""

from __future__ import annotations

import asyncio
import base64
import resource
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

HEAD_LIMIT = 64 << 10
"""Bytes of status line and headers accepted."""


class HttpLiteError(Exception):
    """The request failed; the message is a short reason (``connection refused``, ...)."""


class _Stale(Exception):
    """The connection closed before a byte of the answer (a kept one timed out, or the server
    dropped a fresh one)."""


_kept = [0]


def keep_budget() -> int:
    """How many connections may stay open between reads: a quarter of this process's file
    descriptors (1024 gives 256; SSH to every node needs its own)."""
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError):
        return 0
    return 4096 if soft == resource.RLIM_INFINITY else max(0, soft // 4)


def reserve_keep() -> bool:
    """Take one place among the connections kept between reads; False when none is left."""
    if _kept[0] >= keep_budget():
        return False
    _kept[0] += 1
    return True


def release_keep() -> None:
    _kept[0] = max(0, _kept[0] - 1)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes


@dataclass(frozen=True, slots=True)
class Timed:
    """An answer and the milliseconds from the request's write to its last byte."""

    answer: Answer
    ms: float


def _reason(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate not trusted ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or exc})"
    return (exc.strerror or type(exc).__name__).lower()


class Origin:
    """One scheme://host:port, and at most one open connection to it."""

    def __init__(self, url: str, *, tls: ssl.SSLContext | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise HttpLiteError("not an http:// or https:// URL")
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        try:
            port = parts.port
        except ValueError:
            raise HttpLiteError("not a valid port in the URL") from None
        self.port = port or (443 if self.https else 80)
        shown = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.https else 80
        self.host_header = shown if self.port == default else f"{shown}:{self.port}"
        self.tls = tls
        self._stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        context: ssl.SSLContext | None = None
        if self.https:
            context = self.tls or ssl.create_default_context()
        try:
            return await asyncio.open_connection(
                self.host,
                self.port,
                ssl=context,
                server_hostname=self.host if context is not None else None,
                limit=HEAD_LIMIT,
            )
        except OSError as exc:
            raise HttpLiteError(_reason(exc)) from None

    async def get(self, target: str, auth: tuple[str, str] | None, limit: int) -> Answer:
        """GET `target` (path and query); the answer, its body at most `limit` bytes.

        A connection kept from an earlier GET that the server has closed meanwhile (its
        keep-alive timeout) is replaced and the GET sent again, once: a GET changes nothing."""
        if self._stream is not None:
            try:
                return await self._exchange(target, auth, limit)
            except _Stale:
                self.close()
        try:
            return await self._exchange(target, auth, limit)
        except _Stale:
            self.close()
            raise HttpLiteError("the connection closed before an answer") from None

    def _request(self, target: str, auth: tuple[str, str] | None) -> bytes:
        lines = [
            f"GET {target} HTTP/1.1",
            f"Host: {self.host_header}",
            "User-Agent: clusterconsole",
            "Accept: */*",
        ]
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            lines.append(f"Authorization: Basic {token}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def pipeline(
        self, targets: Sequence[str], auth: tuple[str, str] | None, limit: int, deadline: float
    ) -> list[Timed | HttpLiteError | TimeoutError]:
        """GET every target on the connection kept from an earlier read, the requests written at
        once (HTTP/1.1 pipelining: one write and one wake-up for all of them, where a GET after
        a GET costs both again), the answers read in order, each within `deadline` seconds.

        Per target, in order: its answer and how long it took, or why it failed. The list stops
        at the first trouble (the connection is closed then) and is empty when no connection
        was kept or the server had closed it: the targets past its end are for `get`, which
        opens a connection. GETs change nothing, so sending one again is safe."""
        if self._stream is None:
            return []
        reader, writer = self._stream
        began = time.perf_counter()
        writer.write(b"".join(self._request(target, auth) for target in targets))
        done: list[Timed | HttpLiteError | TimeoutError] = []
        for _ in targets:
            try:
                async with asyncio.timeout(deadline):
                    await writer.drain()
                    answer, keep = await _read_answer(reader, limit)
            except (_Stale, BrokenPipeError, ConnectionResetError):
                self.close()
                break
            except (HttpLiteError, TimeoutError) as exc:  # TimeoutError before OSError: its base
                self.close()
                done.append(exc)
                break
            except OSError as exc:
                self.close()
                done.append(HttpLiteError(_reason(exc)))
                break
            done.append(Timed(answer, (time.perf_counter() - began) * 1000))
            if not keep:
                self.close()
                break
        return done

    async def _exchange(self, target: str, auth: tuple[str, str] | None, limit: int) -> Answer:
        if self._stream is None:
            self._stream = await self._open()
        reader, writer = self._stream
        writer.write(self._request(target, auth))
        try:
            await writer.drain()
            answer, keep = await _read_answer(reader, limit)
        except (BrokenPipeError, ConnectionResetError):
            raise _Stale() from None
        except OSError as exc:
            self.close()
            raise HttpLiteError(_reason(exc)) from None
        except HttpLiteError:
            self.close()
            raise
        if not keep:
            self.close()
        return answer

    def close(self) -> None:
        if self._stream is not None:
            self._stream[1].close()
            self._stream = None


async def _read_answer(reader: asyncio.StreamReader, limit: int) -> tuple[Answer, bool]:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            raise _Stale() from None
        raise HttpLiteError("the connection closed in the middle of the answer") from None
    except asyncio.LimitOverrunError:
        raise HttpLiteError("the answer's headers are too long") from None
    lines = head.decode("latin-1").split("\r\n")
    status_line = lines[0].split(" ", 2)
    if (
        len(status_line) < 2
        or not status_line[0].startswith("HTTP/1.")
        or not (status_line[1].isdigit() and len(status_line[1]) == 3)
    ):
        raise HttpLiteError("not an HTTP answer")
    status = int(status_line[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    keep = status_line[0] == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
    encoding = headers.get("transfer-encoding", "").lower()
    try:
        if "chunked" in encoding:
            body = await _chunked(reader, limit)
        elif "content-length" in headers:
            length = headers["content-length"]
            if not length.isdigit():
                raise HttpLiteError("the answer's Content-Length is not a number")
            if int(length) > limit:
                raise HttpLiteError(f"the answer is larger than {limit >> 20} MiB")
            body = await reader.readexactly(int(length))
        else:
            keep = False
            body = await reader.read(limit + 1)
            while body and len(body) <= limit:
                more = await reader.read(limit + 1 - len(body))
                if not more:
                    break
                body += more
            if len(body) > limit:
                raise HttpLiteError(f"the answer is larger than {limit >> 20} MiB")
    except asyncio.IncompleteReadError:
        raise HttpLiteError("the connection closed in the middle of the answer") from None
    return Answer(status, body), keep


async def _chunked(reader: asyncio.StreamReader, limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    while True:
        try:
            line = await reader.readuntil(b"\r\n")
        except asyncio.LimitOverrunError:
            raise HttpLiteError("a chunk header is too long") from None
        text = line.split(b";", 1)[0].strip()
        try:
            length = int(text, 16)
        except ValueError:
            raise HttpLiteError("a garbled chunk in the answer") from None
        if length == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                pass
            return b"".join(parts)
        size += length
        if length < 0 or size > limit:
            raise HttpLiteError(f"the answer is larger than {limit >> 20} MiB")
        parts.append(await reader.readexactly(length))
        await reader.readexactly(2)
