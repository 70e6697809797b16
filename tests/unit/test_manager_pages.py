"""The manager pages' parsers give what the previous ones gave (kept here as the reference) for
the recorded Tomcat 10.1 pages and variants of them: attributes reordered, single quotes,
namespaces, comments, missing and garbled figures, other line breaks, truncated pages; both
refuse the same pages. The read schedule puts the nodes of one slot on one grid."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from console.monitor.metrics_poll import READ_SLOT, ReadClock
from probes.metrics.manager_pages import (
    AppSessions,
    ConnectorStats,
    ManagerPageError,
    ServerStatus,
    number,
    parse_jmx_sessions,
    parse_status,
)
from tests.unit.test_tomcat_manager import JMX, STATUS

# --- the reference: the parsers as they were before (issue 17, round 5) ---
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.IGNORECASE)
_WANTED = frozenset(
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
_CONTEXT = re.compile(r"(?:^|,)context=([^,]*)")


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


def reference_status(body: bytes) -> ServerStatus:
    if _DECLARATION.search(body):
        raise ManagerPageError("the status page has a DOCTYPE or ENTITY declaration; refused")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ManagerPageError(f"the status page is not XML ({exc})") from None
    if _local(root.tag) != "status":
        raise ManagerPageError(f"not a Tomcat status page (root element <{_local(root.tag)[:40]}>)")
    heap_used = heap_max = None
    connectors = []
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
                    heap_max = None
        elif name == "connector":
            threads: dict[str, str] = {}
            requests: dict[str, str] = {}
            for child in element:
                if _local(child.tag) == "threadInfo":
                    threads = dict(child.attrib)
                elif _local(child.tag) == "requestInfo":
                    requests = dict(child.attrib)
            busy, most = _int(threads.get("currentThreadsBusy")), _int(threads.get("maxThreads"))
            if most is not None and most <= 0:
                most = None
            connectors.append(
                ConnectorStats(
                    name=(element.get("name") or "").strip().strip("\"'")[:200],
                    threads_busy=busy if busy is not None and busy >= 0 else None,
                    threads_max=most,
                    requests=_int(requests.get("requestCount")),
                    errors=_int(requests.get("errorCount")),
                    processing_ms=_int(requests.get("processingTime")),
                    bytes_sent=_int(requests.get("bytesSent")),
                    bytes_received=_int(requests.get("bytesReceived")),
                )
            )
    return ServerStatus(heap_used, heap_max, tuple(connectors))


def reference_jmx(text: str) -> tuple[AppSessions, ...]:
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
        elif blocks and key in _WANTED and key not in blocks[-1]:
            blocks[-1][key] = value.strip()
    apps = []
    for block in blocks:
        found = _CONTEXT.search(block["Name"])
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


def _same(parse: object, reference: object, page: object) -> None:
    """Both give equal figures, or both refuse with the same reason."""
    try:
        expected: object = reference(page)  # type: ignore[operator]
    except ManagerPageError as exc:
        with pytest.raises(ManagerPageError) as caught:
            parse(page)  # type: ignore[operator]
        assert str(caught.value) == str(exc)
        return
    assert parse(page) == expected  # type: ignore[operator]


_S = STATUS.decode()
STATUS_VARIANTS = [
    STATUS,
    _S.replace("'", '"').encode(),
    _S.replace(
        'maxThreads="200" currentThreadCount="10" currentThreadsBusy="1"',
        'currentThreadsBusy="1" maxThreads="200" currentThreadCount="10"',
    ).encode(),
    _S.replace("<status>", '<status xmlns="urn:x">').encode(),
    _S.replace("<status>", '<t:status xmlns:t="urn:t">')
    .replace("</status>", "</t:status>")
    .replace("<jvm>", "<t:jvm>")
    .replace("</jvm>", "</t:jvm>")
    .encode(),
    _S.replace("<jvm>", "<!-- a comment --><jvm>").encode(),
    _S.replace("free='51472080'", "free='x'").encode(),
    _S.replace('requestCount="2"', 'requestCount="&#50;"').encode(),
    _S.replace('errorCount="1"', 'errorCount=" 7 "').encode(),
    _S.replace('maxThreads="200"', 'maxThreads="-1"').encode(),
    _S.replace("<jvm>", "<jvm><jvm2/>").encode(),
    _S.replace('bytesSent="87" ', "").encode(),
    _S.replace('bytesSent="87"', 'bytesSent="87" bytesSent="88"').encode(),
    _S.replace("</status>", "</status><status/>").encode(),
    _S.replace("<status>", "<html>").replace("</status>", "</html>").encode(),
    STATUS[: len(STATUS) // 3],
    STATUS[:-1],
    b"",
    b"<status/>",
    b'<!DOCTYPE x [<!ENTITY a "aaaa">]><status/>',
    _S.replace("\n", "\r\n").encode("utf-16"),
]


@pytest.mark.parametrize("page", STATUS_VARIANTS, ids=range(len(STATUS_VARIANTS)))
def test_the_status_page_reads_as_before(page: bytes) -> None:
    _same(parse_status, reference_status, page)


JMX_VARIANTS = [
    JMX,
    JMX.replace("\n", "\r\n"),
    JMX.replace("\n", "\r"),
    JMX.replace("activeSessions: 3", "activeSessions: 3\x0bx"),
    JMX.replace("activeSessions: 3", "activeSessions:  lots "),
    JMX.replace("activeSessions: 3", "activeSessions: 3\nactiveSessions: 9"),
    JMX.replace("className: org.apache.catalina.ha.session.DeltaManager\n", ""),
    JMX.replace("Name: Catalina:type=Manager,host=localhost,context=/app", "Name: x"),
    "OK - Number of results: 0\n",
    "OK\nName: Catalina:type=Manager,context=/é\nactiveSessions: 1\u2028sessionCounter: 2",
    "Name: Catalina:type=Manager,context=/x\nactiveSessions: 1\n",
    "",
    "\nOK",
    JMX[: len(JMX) // 2],
]


@pytest.mark.parametrize("text", JMX_VARIANTS, ids=range(len(JMX_VARIANTS)))
def test_the_jmx_proxy_reads_as_before(text: str) -> None:
    _same(parse_jmx_sessions, reference_jmx, text)


@pytest.mark.parametrize(
    "value", [None, "12", " 12 ", "'12'", "-3", "1" * 20, "1" * 21, "x", "\uff11\uff12", "", "+1"]
)
def test_numbers_read_as_before(value: str | None) -> None:
    assert number(value) == _int(value)


def test_the_nodes_of_one_slot_read_together_once_an_interval() -> None:
    every = 5.0
    first, second = ReadClock(every, 0.1), ReadClock(every, 0.1 + READ_SLOT / every / 2)
    other = ReadClock(every, 0.5)
    # after their second reads (at different moments), both wait for the same instant
    pause_a = first.pause(started=100.0, now=100.2, woken=False)
    pause_b = second.pause(started=100.3, now=100.31, woken=False)
    assert 100.2 + pause_a == pytest.approx(100.31 + pause_b)
    assert 105.0 <= 100.2 + pause_a < 110.0
    assert other.pause(started=100.0, now=100.2, woken=False) != pause_a
    # then every interval, from the due time, not from when the read ended
    due = first.due
    assert due is not None
    assert first.pause(started=due + 0.01, now=due + 0.04, woken=False) == pytest.approx(
        every - 0.04
    )
    # a read that overran its next slot waits for the one after: never two reads at once
    due = first.due
    assert due is not None
    pause = first.pause(started=due, now=due + 7.0, woken=False)
    assert pause > 0 and (first.due or 0) - due == pytest.approx(2 * every)
    # a re-probe (woken) starts the interval again from that read
    due = first.due or 0
    assert first.pause(started=due - 4.0, now=due - 3.9, woken=True) == pytest.approx(3.9)
