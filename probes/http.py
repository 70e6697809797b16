"""A node's own HTTP endpoint, bypassing the balancer: status code and latency."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: the state and the screens need HttpCheck, not httpx
    import httpx


DEADLINE = 5.0
"""Seconds a whole probe may take, headers and body: a server that trickles a byte now and then
never trips a per-read timeout, so every probe also has this wall-clock bound."""


BODY_LIMIT = 1 << 20
"""Bytes of a node's answer read at most: a page that never ends must not fill the memory."""


def no_answer(seconds: float) -> str:
    """The reason given for a probe that hit its overall deadline."""
    return f"no answer within {seconds:g} s"


@dataclass(frozen=True, slots=True)
class HttpCheck:
    """One GET of a node's direct URL: the status (None when no answer) and how long it took."""

    url: str
    status: int | None
    ms: float | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and self.status < 500


def _os_error(exc: BaseException) -> OSError | None:
    """The deepest OS error behind an httpx error (httpx words most of them vaguely)."""
    found: OSError | None = None
    seen: BaseException | None = exc
    depth = 0
    while seen is not None and depth < 20:
        if isinstance(seen, OSError) and (found is None or seen.errno is not None):
            found = seen
        seen, depth = seen.__cause__ or seen.__context__, depth + 1
    return found


def network_reason(exc: httpx.HTTPError) -> str:
    """A short literal reason for a failed request: `connection refused`, `timed out`, ..."""
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    cause = _os_error(exc)
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if cause is not None and cause.strerror:
        return cause.strerror.lower()
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return "not an http:// or https:// URL"
    return type(exc).__name__


async def check(client: httpx.AsyncClient, url: str, *, deadline: float = DEADLINE) -> HttpCheck:
    """GET `url` once, all of it within `deadline` seconds; never raises for network trouble.

    `ms` is the request itself: from its headers being sent to the whole answer read (at most
    BODY_LIMIT bytes of it).

    A server that does not finish its answer in time is a failed check ("no answer within N s"),
    never a check still pending."""
    import httpx

    began = [time.perf_counter()]

    async def trace(name: str, info: Mapping[str, Any]) -> None:
        # The request itself starts when its headers go out on an open connection: opening
        # the connection, httpx's first-use imports and waiting for the event loop before that
        # are not the server's latency (they made `status` show 80-160 ms for a 4 ms answer).
        if name.endswith("send_request_headers.started"):
            began[0] = time.perf_counter()

    try:
        async with (
            asyncio.timeout(deadline),
            client.stream("GET", url, extensions={"trace": trace}) as response,
        ):
            size = 0
            async for chunk in response.aiter_raw():
                size += len(chunk)
                if size >= BODY_LIMIT:  # the answer is there; the rest of an endless one is not
                    break
            status = response.status_code
    except TimeoutError:
        return HttpCheck(url, None, None, no_answer(deadline))
    except httpx.HTTPError as exc:
        return HttpCheck(url, None, None, network_reason(exc))
    return HttpCheck(url, status, (time.perf_counter() - began[0]) * 1000)
