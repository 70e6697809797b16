"""Tomcat's manager application, read-only: the server status and the JMX proxy's session counts.

Two pages of the manager webapp, over the node's direct HTTP URL with HTTP basic credentials:

- ``/manager/status?XML=true`` (role ``manager-status``): the JVM's heap (``<memory free total
  max>``) and, per connector, ``<threadInfo maxThreads currentThreadsBusy>`` and ``<requestInfo
  requestCount errorCount processingTime bytesSent bytesReceived>``. Tomcat counts an error for
  every answer with a status of 400 or more.
- ``/manager/jmxproxy/?qry=Catalina:type=Manager,*`` (role ``manager-jmx``): one block of
  ``Name: ...`` then ``attribute: value`` lines per web application's session manager (active
  sessions, sessions created, expired, rejected; with DeltaManager the replication counters: the
  sessions this node created and sent, and those it received from its peers).

Both pages are read on one connection (`probes.metrics.manager_http`, a small GET client: httpx
costs fifteen times the CPU per request, too much for hundreds of nodes every few seconds) and
parsed by `probes.metrics.manager_pages`. Every
failure becomes a reason (``401``: the credentials, ``403``: the role, ``404``: no manager
application, garbled or missing fields, no answer in time), never an exception; the other page's
figures stay. Nothing here changes a node: only GETs of read-only pages. The password is used for
the request and never kept, shown or logged.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from probes.http import BODY_LIMIT, DEADLINE, no_answer
from probes.metrics.manager_http import (
    HttpLiteError,
    Origin,
    Timed,
    release_keep,
    reserve_keep,
)
from probes.metrics.manager_pages import (
    AppSessions,
    ConnectorStats,
    ManagerPageError,
    ServerStatus,
    parse_jmx_sessions,
    parse_status,
)

__all__ = [
    "JMX_PATH",
    "STATUS_PATH",
    "AppSessions",
    "ConnectorStats",
    "ManagerPageError",
    "ManagerReader",
    "ManagerSample",
    "ServerStatus",
    "http_reason",
    "manager_base",
    "parse_jmx_sessions",
    "parse_status",
    "read_manager",
]

STATUS_PATH = "/status?XML=true"
JMX_PATH = "/jmxproxy/?qry=Catalina:type=Manager,*"


def manager_base(http_url: str) -> str | None:
    """The manager application's URL on the same origin as a node's direct URL:
    ``http://10.0.0.1:8080/jw`` gives ``http://10.0.0.1:8080/manager``; None when not a URL."""
    parts = urlsplit(http_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit((parts.scheme, parts.netloc, "/manager", "", ""))


@dataclass(frozen=True, slots=True)
class ManagerSample:
    """One read of a node's manager application: each page's figures, or why there are none."""

    status: ServerStatus | None
    status_error: str | None
    sessions: tuple[AppSessions, ...] | None
    sessions_error: str | None
    ms: float | None = None
    """How long the status page took to answer (None when it did not)."""


def http_reason(status: int, page: str) -> str:
    """Why a manager page answered `status` instead of its figures, in an operator's words."""
    if status == 401:
        return f"the manager refused the credentials (401) for the {page}"
    if status == 403:
        role = "manager-jmx" if page == "JMX proxy" else "manager-status"
        return f"the manager user lacks the {role} role, or this address is not allowed (403)"
    if status == 404:
        return "no manager application on this node (404)"
    return f"the {page} answered HTTP {status}"


async def _get(
    origin: Origin,
    target: str,
    auth: tuple[str, str] | None,
    page: str,
    deadline: float,
    early: Timed | HttpLiteError | TimeoutError | None = None,
) -> tuple[bytes, float]:
    """The page's body (at most BODY_LIMIT bytes) and how long it took; ManagerPageError.
    `early`: what the read's pipelined GET of the page gave (None: not sent, GET it now)."""
    if early is None:
        began = time.perf_counter()
        try:
            async with asyncio.timeout(deadline):
                answer = await origin.get(target, auth, BODY_LIMIT)
        except TimeoutError:
            origin.close()  # the answer may still be coming: this connection is done
            raise ManagerPageError(f"the {page}: {no_answer(deadline)}") from None
        except HttpLiteError as exc:
            raise ManagerPageError(f"the {page}: {exc}") from None
        early = Timed(answer, (time.perf_counter() - began) * 1000)
    elif isinstance(early, TimeoutError):
        raise ManagerPageError(f"the {page}: {no_answer(deadline)}")
    elif isinstance(early, HttpLiteError):
        raise ManagerPageError(f"the {page}: {early}")
    if early.answer.status != 200:
        raise ManagerPageError(http_reason(early.answer.status, page))
    return early.answer.body, early.ms


class ManagerReader:
    """Reads one node's manager again and again, over one connection kept between reads when
    the budget of kept connections allows (`probes.metrics.manager_http.keep_budget`)."""

    def __init__(self, base: str, *, tls: ssl.SSLContext | None = None, keep: bool = True) -> None:
        self.base = base
        self.prefix = urlsplit(base).path.rstrip("/")
        self.error: str | None = None
        self.origin: Origin | None = None
        try:
            self.origin = Origin(base, tls=tls)
        except HttpLiteError as exc:
            self.error = f"the manager URL {base!r}: {exc}"
        self.keep = self.origin is not None and keep and reserve_keep()

    async def read(
        self, auth: tuple[str, str] | None, *, deadline: float = DEADLINE, sessions: bool = True
    ) -> ManagerSample:
        """Both pages, one after the other on one connection, each within `deadline` seconds;
        never raises for what the node answers or does not."""
        origin = self.origin
        if origin is None:
            return ManagerSample(None, self.error, None, self.error, None)
        server: ServerStatus | None = None
        apps: tuple[AppSessions, ...] | None = None
        status_error: str | None = None
        sessions_error: str | None = "not read" if not sessions else None
        ms: float | None = None
        targets = [self.prefix + STATUS_PATH, self.prefix + JMX_PATH][: 2 if sessions else 1]
        try:
            early: list[Timed | HttpLiteError | TimeoutError | None] = []
            if sessions:
                early += await origin.pipeline(targets, auth, BODY_LIMIT, deadline)
            early += [None] * (len(targets) - len(early))
            try:
                body, ms = await _get(origin, targets[0], auth, "status page", deadline, early[0])
                server = parse_status(body)
            except ManagerPageError as exc:
                status_error, ms = str(exc), None
            if sessions:
                try:
                    body, _ = await _get(origin, targets[1], auth, "JMX proxy", deadline, early[1])
                    apps = parse_jmx_sessions(body.decode("utf-8", "replace"))
                except ManagerPageError as exc:
                    sessions_error = str(exc)
        finally:
            if not self.keep:
                origin.close()
        return ManagerSample(server, status_error, apps, sessions_error, ms)

    def close(self) -> None:
        if self.origin is not None:
            self.origin.close()
        if self.keep:
            release_keep()
            self.keep = False


async def read_manager(
    base: str,
    auth: tuple[str, str] | None,
    *,
    deadline: float = DEADLINE,
    sessions: bool = True,
    tls: ssl.SSLContext | None = None,
) -> ManagerSample:
    """Read both pages of the manager at `base` (``http://host:port/manager``) once, on one
    connection closed after, each within `deadline` seconds; never raises."""
    reader = ManagerReader(base, tls=tls, keep=False)
    try:
        return await reader.read(auth, deadline=deadline, sessions=sessions)
    finally:
        reader.close()
