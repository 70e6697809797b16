"""A node's own HTTP endpoint, bypassing the balancer: status code and latency."""

from __future__ import annotations

import time
from dataclasses import dataclass

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


def _reason(exc: httpx.HTTPError) -> str:
    """A short, literal reason for a failed request (no markup, no traceback)."""
    if isinstance(exc, httpx.ConnectError):
        return "connection refused" if "refused" in str(exc).lower() else "cannot connect"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    return type(exc).__name__


async def check(client: httpx.AsyncClient, url: str) -> HttpCheck:
    """GET `url` once with the client's timeouts; never raises for network trouble."""
    began = time.perf_counter()
    try:
        response = await client.get(url)
    except httpx.HTTPError as exc:
        return HttpCheck(url, None, None, _reason(exc))
    return HttpCheck(url, response.status_code, (time.perf_counter() - began) * 1000)
