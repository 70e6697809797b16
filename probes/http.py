"""A node's own HTTP endpoint, bypassing the balancer: status code and latency."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: the state and the screens need HttpCheck, not httpx
    import httpx


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


async def check(client: httpx.AsyncClient, url: str) -> HttpCheck:
    """GET `url` once with the client's timeouts; never raises for network trouble."""
    import httpx

    began = time.perf_counter()
    try:
        response = await client.get(url)
    except httpx.HTTPError as exc:
        return HttpCheck(url, None, None, network_reason(exc))
    return HttpCheck(url, response.status_code, (time.perf_counter() - began) * 1000)
