"""What Tomcat's manager pages tell, and the parsers of their text.

- ``/manager/status?XML=true``: the JVM's heap (``<memory free total max>``) and, per connector,
  ``<threadInfo maxThreads currentThreadsBusy>`` and ``<requestInfo requestCount errorCount
  processingTime bytesSent bytesReceived>`` (`parse_status`).
- ``/manager/jmxproxy/?qry=Catalina:type=Manager,*``: one block of ``Name: ...`` then
  ``attribute: value`` lines per web application's session manager (`parse_jmx_sessions`).

Both are parsed for every node every few seconds, so each looks only at what it gives: the
status page's few elements of interest in ElementTree's tree, the JMX proxy's wanted lines found
with `str.find` (the answer is split per ``Name:`` line, not into its hundred-odd lines). A
figure a page does not give, or gives garbled, is None; a page that is not what it should be is
a ManagerPageError whose message is the reason shown for the figures.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.IGNORECASE)
"""A status page with one of these is refused before any parsing (entity expansion)."""
_JMX_WANTED = (
    "className",
    "modelerType",
    "activeSessions",
    "sessionCounter",
    "expiredSessions",
    "rejectedSessions",
    "counterSend_EVT_SESSION_CREATED",
    "counterReceive_EVT_SESSION_CREATED",
)
"""The attributes read from each session manager (the JMX proxy prints about fifty)."""
_JMX_KEYS = frozenset(_JMX_WANTED)
_JMX_NEEDLES = {key: f"\n{key}:" for key in _JMX_WANTED}
"""Each wanted attribute's line in a block: found with `str.find`, not line by line."""
_ODD_BREAK = re.compile("[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
"""Line breaks of `str.splitlines` other than ``\\n`` (and ``\\r\\n``): a page with one is read
line by line."""
_NAME_CONTEXT = re.compile(r"(?:^|,)context=([^,]*)")
_NONE: dict[str, str] = {}
"""The attributes of an element a connector lacks (never changed)."""


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


class ManagerPageError(Exception):
    """A manager page could not be used; the message is the reason shown for the figures."""


def number(value: str | None) -> int | None:
    """A whole number as the pages write it (quotes and spaces around allowed); None otherwise."""
    if value is None:
        return None
    if value.isascii() and value.isdigit() and len(value) <= 20:
        return int(value)  # what the pages write: the rest below gives the same for it
    text = value.strip().strip("'\"")
    digits = text[1:] if text.startswith("-") else text
    if not digits.isascii() or not digits.isdigit() or len(digits) > 20:
        return None
    return int(text)


def heap(attributes: dict[str, str], used: int | None) -> tuple[int | None, int | None]:
    """Heap used and max from a ``<memory>`` element's attributes; `used`: the figure so far
    (kept when this element's free or total is unusable)."""
    free, total = number(attributes.get("free")), number(attributes.get("total"))
    most = number(attributes.get("max"))
    if free is not None and total is not None and 0 <= free <= total:
        used = total - free
    if most is not None and most <= 0:
        most = None  # -1: no limit set; a percentage would be meaningless
    return used, most


def connector(
    name: str | None, threads: dict[str, str], requests: dict[str, str]
) -> ConnectorStats:
    """One ``<connector>`` from its name and its ``<threadInfo>`` and ``<requestInfo>``."""
    busy, most = number(threads.get("currentThreadsBusy")), number(threads.get("maxThreads"))
    if most is not None and most <= 0:
        most = None  # an executor's connector says -1: its pool is counted elsewhere
    return ConnectorStats(
        name=(name or "").strip().strip("\"'")[:200],
        threads_busy=busy if busy is not None and busy >= 0 else None,
        threads_max=most,
        requests=number(requests.get("requestCount")),
        errors=number(requests.get("errorCount")),
        processing_ms=number(requests.get("processingTime")),
        bytes_sent=number(requests.get("bytesSent")),
        bytes_received=number(requests.get("bytesReceived")),
    )


def _local(tag: str) -> str:
    return tag if tag[0] != "{" else tag.rsplit("}", 1)[-1]


def parse_status(body: bytes) -> ServerStatus:
    """The manager's ``status?XML=true`` page; ManagerPageError when it is not one.

    ElementTree (expat) reads it; only the root's ``<jvm>`` and ``<connector>`` children and
    their ``<memory>``, ``<threadInfo>`` and ``<requestInfo>`` children are looked at, their
    attributes read where ElementTree keeps them (no copy)."""
    if DECLARATION.search(body):
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
                if _local(child.tag) == "memory":
                    heap_used, heap_max = heap(child.attrib, heap_used)
        elif name == "connector":
            threads: dict[str, str] = _NONE
            requests: dict[str, str] = _NONE
            for child in element:
                kind = _local(child.tag)
                if kind == "threadInfo":
                    threads = child.attrib
                elif kind == "requestInfo":
                    requests = child.attrib
            connectors.append(connector(element.get("name"), threads, requests))
    return ServerStatus(heap_used, heap_max, tuple(connectors))


def _odd_breaks(text: str) -> bool:
    if text.isascii():  # the answers Tomcat writes: a look for each (a pattern is slower)
        return (
            "\r" in text
            or "\x0b" in text
            or "\x0c" in text
            or "\x1c" in text
            or ("\x1d" in text or "\x1e" in text)
        )
    return _ODD_BREAK.search(text) is not None


def _blocks(text: str) -> list[dict[str, str]]:
    """Each ``Name:`` line's block of wanted attributes (the first of each), after the first
    line (the ``OK`` line)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    if _odd_breaks(text):
        return _blocks_by_line(text)
    blocks: list[dict[str, str]] = []
    for part in text.split("\nName:")[1:]:  # a line of its own, as each wanted key below
        end = part.find("\n")
        block = {"Name": (part if end < 0 else part[:end]).strip()}
        for key in _JMX_WANTED:
            at = part.find(_JMX_NEEDLES[key])
            if at >= 0:
                at += len(key) + 2
                end = part.find("\n", at)
                block[key] = (part[at:] if end < 0 else part[at:end]).strip()
        blocks.append(block)
    return blocks


def _blocks_by_line(text: str) -> list[dict[str, str]]:
    """`_blocks` for an answer with line breaks other than ``\n`` (`str.splitlines`' own)."""
    blocks: list[dict[str, str]] = []
    for line in text.splitlines()[1:]:
        key, sep, value = line.partition(":")
        if not sep:
            continue
        if key == "Name":
            blocks.append({"Name": value.strip()})
        elif blocks and key in _JMX_KEYS and key not in blocks[-1]:
            blocks[-1][key] = value.strip()
    return blocks


def parse_jmx_sessions(text: str) -> tuple[AppSessions, ...]:
    """The JMX proxy's answer to ``qry=Catalina:type=Manager,*``; ManagerPageError when it is
    not an ``OK`` answer."""
    end = text.find("\n")
    lines = text[: end if end >= 0 else len(text)].splitlines()
    first = lines[0].strip() if lines else ""
    if not first.startswith("OK"):
        shown = first[:120] or "an empty answer"
        raise ManagerPageError(f"the JMX proxy did not answer OK: {shown!r}")
    apps: list[AppSessions] = []
    for block in _blocks(text):
        found = _NAME_CONTEXT.search(block["Name"])
        if found is None or "type=Manager" not in block["Name"]:
            continue
        model = block.get("className") or block.get("modelerType", "")
        apps.append(
            AppSessions(
                context=found.group(1)[:200] or "/",
                manager=model.rsplit(".", 1)[-1][:80] or None,
                active=number(block.get("activeSessions")),
                created=number(block.get("sessionCounter")),
                expired=number(block.get("expiredSessions")),
                rejected=number(block.get("rejectedSessions")),
                sent_created=number(block.get("counterSend_EVT_SESSION_CREATED")),
                received_created=number(block.get("counterReceive_EVT_SESSION_CREATED")),
            )
        )
    return tuple(sorted(apps, key=lambda app: app.context))
