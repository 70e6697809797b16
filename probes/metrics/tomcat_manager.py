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
costs
fifteen times the CPU per request, too much for hundreds of nodes every few seconds). Every
failure becomes a reason (``401``: the credentials, ``403``: the role, ``404``: no manager
application, garbled or missing fields, no answer in time), never an exception; the other page's
figures stay. Nothing here changes a node: only GETs of read-only pages. The password is used for
the request and never kept, shown or logged.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
import xml.etree.ElementTree as ET
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

STATUS_PATH = "/status?XML=true"
JMX_PATH = "/jmxproxy/?qry=Catalina:type=Manager,*"
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.IGNORECASE)
_JMX_WANTED = frozenset(
    (
        "className",
        "modelerType",
        "activeSessions",
        "sessionCounter",
        "expiredSessions",
        "rejectedSessions",
        "counterSend_EVT_SESSION_CREATED",
        "counterReceive_EVT_SESSION_CREATED",
    )
)
"""The attributes read from each session manager (the JMX proxy prints about fifty)."""
_NAME_CONTEXT = re.compile(r"(?:^|,)context=([^,]*)")


def manager_base(http_url: str) -> str | None:
    """The manager application's URL on the same origin as a node's direct URL:
    ``http://10.0.0.1:8080/jw`` gives ``http://10.0.0.1:8080/manager``; None when not a URL."""
    parts = urlsplit(http_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit((parts.scheme, parts.netloc, "/manager", "", ""))


@dataclass(frozen=True, slots=True)
class ConnectorStats:
    """One connector of the server status (``"http-nio-8080"``, ``"ajp-nio-8009"``)."""

    name: str
    threads_busy: int | None
    threads_max: int | None
    requests: int | None
    """Requests served since the start (Tomcat's requestCount)."""
    errors: int | None
    """Answers with a status of 400 or more since the start (errorCount)."""
    processing_ms: int | None
    """Milliseconds spent serving them, summed (processingTime)."""
    bytes_sent: int | None
    bytes_received: int | None


@dataclass(frozen=True, slots=True)
class ServerStatus:
    """What the status page told; a figure the page does not give is None."""

    heap_used: int | None
    heap_max: int | None
    connectors: tuple[ConnectorStats, ...]


@dataclass(frozen=True, slots=True)
class AppSessions:
    """One web application's session manager, from the JMX proxy."""

    context: str
    """The context path (``/app``; ``/`` for the root application)."""
    manager: str | None
    """Its class's short name: ``DeltaManager``, ``BackupManager``, ``StandardManager``..."""
    active: int | None
    created: int | None
    """Sessions created since the start (sessionCounter; with DeltaManager replicated copies
    count too)."""
    expired: int | None
    rejected: int | None
    sent_created: int | None
    """DeltaManager: sessions created here and sent to the peers (counterSend_EVT_...)."""
    received_created: int | None
    """DeltaManager: sessions created on a peer and received here (counterReceive_...)."""

    @property
    def replicated(self) -> bool:
        return self.manager in ("DeltaManager", "BackupManager")


@dataclass(frozen=True, slots=True)
class ManagerSample:
    """One read of a node's manager application: each page's figures, or why there are none."""

    status: ServerStatus | None
    status_error: str | None
    sessions: tuple[AppSessions, ...] | None
    sessions_error: str | None
    ms: float | None = None
    """How long the status page took to answer (None when it did not)."""


class ManagerPageError(Exception):
    """A manager page could not be used; the message is the reason shown for the figures."""


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip().strip("'\"")
    digits = text[1:] if text.startswith("-") else text
    if not digits.isascii() or not digits.isdigit() or len(digits) > 20:
        return None
    return int(text)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_status(body: bytes) -> ServerStatus:
    """The manager's ``status?XML=true`` page; ManagerPageError when it is not one."""
    if _DECLARATION.search(body):
        raise ManagerPageError("the status page has a DOCTYPE or ENTITY declaration; refused")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ManagerPageError(f"the status page is not XML ({exc})") from None
    if _local(root.tag) != "status":
        raise ManagerPageError(f"not a Tomcat status page (root element <{_local(root.tag)[:40]}>)")
    heap_used: int | None = None
    heap_max: int | None = None
    connectors: list[ConnectorStats] = []
    for element in root:
        name = _local(element.tag)
        if name == "jvm":
            for child in element:
                if _local(child.tag) != "memory":
                    continue
                free, total = _int(child.get("free")), _int(child.get("total"))
                heap_max = _int(child.get("max"))
                if free is not None and total is not None and 0 <= free <= total:
                    heap_used = total - free
                if heap_max is not None and heap_max <= 0:
                    heap_max = None  # -1: no limit set; a percentage would be meaningless
        elif name == "connector":
            connectors.append(_connector(element))
    return ServerStatus(heap_used, heap_max, tuple(connectors))


def _connector(element: ET.Element) -> ConnectorStats:
    threads: dict[str, str] = {}
    requests: dict[str, str] = {}
    for child in element:
        if _local(child.tag) == "threadInfo":
            threads = dict(child.attrib)
        elif _local(child.tag) == "requestInfo":
            requests = dict(child.attrib)
    busy, most = _int(threads.get("currentThreadsBusy")), _int(threads.get("maxThreads"))
    if most is not None and most <= 0:
        most = None  # an executor's connector says -1: its pool is counted elsewhere
    return ConnectorStats(
        name=(element.get("name") or "").strip().strip("\"'")[:200],
        threads_busy=busy if busy is not None and busy >= 0 else None,
        threads_max=most,
        requests=_int(requests.get("requestCount")),
        errors=_int(requests.get("errorCount")),
        processing_ms=_int(requests.get("processingTime")),
        bytes_sent=_int(requests.get("bytesSent")),
        bytes_received=_int(requests.get("bytesReceived")),
    )


def parse_jmx_sessions(text: str) -> tuple[AppSessions, ...]:
    """The JMX proxy's answer to ``qry=Catalina:type=Manager,*``; ManagerPageError when it is
    not an ``OK`` answer."""
    lines = text.splitlines()
    first = lines[0].strip() if lines else ""
    if not first.startswith("OK"):
        shown = first[:120] or "an empty answer"
        raise ManagerPageError(f"the JMX proxy did not answer OK: {shown!r}")
    blocks: list[dict[str, str]] = []
    for line in lines[1:]:
        key, sep, value = line.partition(":")
        if not sep:
            continue
        if key == "Name":
            blocks.append({"Name": value.strip()})
        elif blocks and key in _JMX_WANTED and key not in blocks[-1]:
            blocks[-1][key] = value.strip()
    apps: list[AppSessions] = []
    for block in blocks:
        found = _NAME_CONTEXT.search(block["Name"])
        if found is None or "type=Manager" not in block["Name"]:
            continue
        model = block.get("className") or block.get("modelerType", "")
        apps.append(
            AppSessions(
                context=found.group(1)[:200] or "/",
                manager=model.rsplit(".", 1)[-1][:80] or None,
                active=_int(block.get("activeSessions")),
                created=_int(block.get("sessionCounter")),
                expired=_int(block.get("expiredSessions")),
                rejected=_int(block.get("rejectedSessions")),
                sent_created=_int(block.get("counterSend_EVT_SESSION_CREATED")),
                received_created=_int(block.get("counterReceive_EVT_SESSION_CREATED")),
            )
        )
    return tuple(sorted(apps, key=lambda app: app.context))


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
