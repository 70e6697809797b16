"""A small HTTP/1.1 GET client for the manager pages, one connection per read of a node.

Why not httpx: a node's figures are read every few seconds from hundreds of nodes, and an httpx
request costs about 3 ms of CPU here where a plain asyncio exchange costs 0.2 ms (measured with
the 500-node benchmark, tests/bench/metrics.py: 65 % of a core against the target of 10 %).
What this client needs is narrow: GET with basic credentials, over http or https (certificates
verified), answers with Content-Length, chunked or ended by close, within a size limit. A
node's connection is kept open between reads (connecting costs more than the GETs) while a
budget of file descriptors allows (`keep_budget`), else closed after each read. Nothing here
redirects or decodes; a GET on a kept connection the server closed meanwhile is sent again once.
On a kept connection a read's GETs are pipelined (`Origin.pipeline`): written at once. The
answers are read as they arrive, by the connection's protocol (`probes.metrics.http_answer`): the
read waits once for all of them, not once per header, body and chunk.
"""

from __future__ import annotations

import asyncio
import base64
import resource
import ssl
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from probes.metrics.http_answer import Answer, AnswerReader, HttpLiteError, Stale

__all__ = [
    "Answer",
    "HttpLiteError",
    "Origin",
    "Timed",
    "keep_budget",
    "release_keep",
    "reserve_keep",
]

UNASKED_LIMIT = 4 << 20
"""Bytes a connection may hold unread while no read waits (a server that talks unasked is cut
off; the next read opens a new connection)."""

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


_RECEIVE = 64 << 10
"""Bytes one receive takes at most: into one area per thread (`_area`), shared by every
connection, whose bytes are appended to the connection's own at once."""
_areas = threading.local()


def _area() -> memoryview:
    area: memoryview | None = getattr(_areas, "view", None)
    if area is None:
        area = _areas.view = memoryview(bytearray(_RECEIVE))
    return area


class _Link(asyncio.BufferedProtocol):
    """One connection: the bytes received, read into answers as they arrive; the read waiting
    for them is woken once they are all in, or the connection ends, or the deadline passes.

    A buffered protocol: the transport receives into the thread's receive area (a plain
    protocol gets a new bytes object of the transport's 256 KiB read size per receive, which
    the C allocator may map and unmap each time)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.data = bytearray()
        self.answers = AnswerReader()
        self.ended = False
        """Nothing more will come: the server closed, or the connection was lost."""
        self.stale = False
        """The connection ended before the next answer's first byte, or was reset."""
        self.failure: HttpLiteError | None = None
        self.ready: list[tuple[Answer, bool, float]] = []
        """Answers read for the waiting read: with whether the connection stays open after,
        and the `time.perf_counter` of their last byte."""
        self.wanted = 0
        self.limit = 0
        self.waiter: asyncio.Future[None] | None = None
        self.deadline = 0.0
        self.progress = 0.0
        """The loop's time of the requests' write, then of each answer's end: each answer is
        due within the deadline of it."""
        self.timer: asyncio.TimerHandle | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        return _area()

    def buffer_updated(self, nbytes: int) -> None:
        self.data += _area()[:nbytes]
        if len(self.data) > UNASKED_LIMIT and self.transport is not None:
            self.transport.close()  # a read bounds what it takes (its limit): this is unasked
        self._advance()

    def eof_received(self) -> None:
        self.ended = True
        self._advance()

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = True
        if isinstance(exc, (BrokenPipeError, ConnectionResetError)):
            self.stale = True
        elif isinstance(exc, OSError) and self.failure is None:
            self.failure = HttpLiteError(_reason(exc))
        self._advance()

    def _done(self) -> bool:
        return (
            len(self.ready) >= self.wanted
            or (bool(self.ready) and not self.ready[-1][1])
            or self.failure is not None
            or self.stale
        )

    def _advance(self) -> None:
        """Read every whole answer the waiting read wants; wake it when it has them all or
        can have no more."""
        while not self._done():
            try:
                found = self.answers.take(self.data, self.ended, self.limit)
            except Stale:
                self.stale = True
                break
            except HttpLiteError as exc:
                self.failure = exc
                break
            if found is None:
                break
            self.ready.append((found[0], found[1], time.perf_counter()))
            if self.loop is not None:
                self.progress = self.loop.time()
        waiter = self.waiter
        if waiter is not None and not waiter.done() and (self._done() or self.ended):
            waiter.set_result(None)

    async def take(
        self, count: int, limit: int, deadline: float | None, began: float
    ) -> tuple[list[Timed | HttpLiteError | TimeoutError], bool]:
        """The next `count` answers (each within `deadline` seconds of the previous one, or of
        now), in order, until the first trouble, which ends the list when it is the answer's
        (Stale, the connection's end, ends it without an entry); and whether the connection
        can be kept after."""
        loop = self.loop = asyncio.get_running_loop()
        self.wanted, self.limit, self.ready = count, limit, []
        self.progress = loop.time()
        late: TimeoutError | None = None
        try:
            self._advance()
            while not self._done() and not self.ended:
                try:
                    await self._wait(loop, deadline)
                except TimeoutError as exc:
                    late = exc
                    break
        finally:
            self.wanted, self.loop = 0, None
        done: list[Timed | HttpLiteError | TimeoutError] = [
            Timed(answer, (at - began) * 1000) for answer, _, at in self.ready
        ]
        cut = bool(self.ready) and not self.ready[-1][1]  # the server closes after that one
        keep = len(done) == count and not cut and not self.ended
        if len(done) < count and not cut and not self.stale:
            if self.failure is not None:
                done.append(self.failure)
            elif late is not None:
                done.append(late)
        return done, keep

    async def _wait(self, loop: asyncio.AbstractEventLoop, deadline: float | None) -> None:
        waiter: asyncio.Future[None] = loop.create_future()
        self.waiter = waiter
        if deadline is not None:
            self.deadline = deadline
            self.timer = loop.call_at(self.progress + deadline, self._expire)
        try:
            await waiter
        finally:
            self.waiter = None
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None

    def _expire(self) -> None:
        self.timer = None
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        due = self.progress + self.deadline
        loop = waiter.get_loop()
        if loop.time() < due:  # an answer came meanwhile: the next one has its own deadline
            self.timer = loop.call_at(due, self._expire)
        else:
            waiter.set_exception(TimeoutError())


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
        self._link: _Link | None = None

    async def _open(self) -> _Link:
        context: ssl.SSLContext | None = None
        if self.https:
            context = self.tls or ssl.create_default_context()
        loop = asyncio.get_running_loop()
        try:
            _, link = await loop.create_connection(
                _Link,
                self.host,
                self.port,
                ssl=context,
                server_hostname=self.host if context is not None else None,
            )
        except OSError as exc:
            raise HttpLiteError(_reason(exc)) from None
        return link

    async def get(self, target: str, auth: tuple[str, str] | None, limit: int) -> Answer:
        """GET `target` (path and query); the answer, its body at most `limit` bytes.

        A connection kept from an earlier GET that the server has closed meanwhile (its
        keep-alive timeout) is replaced and the GET sent again, once: a GET changes nothing."""
        if self._link is not None:
            try:
                return await self._exchange(target, auth, limit)
            except Stale:
                self.close()
        try:
            return await self._exchange(target, auth, limit)
        except Stale:
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
        if self._link is None:
            return []
        return await self._send(targets, auth, limit, deadline)

    async def _send(
        self,
        targets: Sequence[str],
        auth: tuple[str, str] | None,
        limit: int,
        deadline: float | None,
    ) -> list[Timed | HttpLiteError | TimeoutError]:
        link = self._link
        assert link is not None and link.transport is not None
        if link.ended or link.transport.is_closing():
            self.close()
            return []
        began = time.perf_counter()
        link.transport.write(b"".join(self._request(target, auth) for target in targets))
        try:
            done, keep = await link.take(len(targets), limit, deadline, began)
        except BaseException:  # cancelled (the caller's own deadline): this connection is done
            self.close()
            raise
        if not keep:
            self.close()
        return done

    async def _exchange(self, target: str, auth: tuple[str, str] | None, limit: int) -> Answer:
        if self._link is None:
            self._link = await self._open()
        done = await self._send([target], auth, limit, None)
        if not done:
            raise Stale()
        first = done[0]
        if isinstance(first, Timed):
            return first.answer
        raise first

    def close(self) -> None:
        if self._link is not None:
            if self._link.transport is not None:
                self._link.transport.close()
            self._link = None
