"""Tomcat's manager application read for the nodes' figures: recorded real pages (Tomcat 10.1 on
the sandbox) parse to the right numbers; a manager that refuses (401/403/404), a garbled or
incomplete page and a slow node give no figure with the reason, and the other page's figures
stay."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from console.config import load_inventory_text
from console.config.model import ConfigError
from probes.metrics import manager_http
from probes.metrics.tomcat_manager import (
    ManagerPageError,
    ManagerReader,
    manager_base,
    parse_jmx_sessions,
    parse_status,
    read_manager,
)
from tests.unit.test_probe_deadlines import trickling_server

DATA = Path(__file__).parent / "data" / "tomcat_manager"
STATUS = (DATA / "status-tomcat10.1.xml").read_bytes()
JMX = (DATA / "jmxproxy-managers-tomcat10.1.txt").read_text()
BASE = "http://127.0.9.11:8080/manager"


def test_recorded_status_page_gives_heap_threads_and_counters() -> None:
    status = parse_status(STATUS)
    assert status.heap_used == 64946176 - 51472080
    assert status.heap_max == 259522560
    http, ajp = status.connectors
    assert http.name == "http-nio-127.0.7.11-8080"
    assert (http.threads_busy, http.threads_max) == (1, 200)
    assert (http.requests, http.errors, http.processing_ms) == (2, 1, 736)
    assert http.bytes_sent == 87
    assert ajp.name == "ajp-nio-127.0.7.11-8009" and ajp.requests == 0


def test_recorded_jmx_proxy_gives_sessions_per_application() -> None:
    apps = {app.context: app for app in parse_jmx_sessions(JMX)}
    assert set(apps) == {"/app", "/license", "/manager"}
    app = apps["/app"]
    assert app.manager == "DeltaManager" and app.replicated
    assert (app.active, app.created, app.expired, app.rejected) == (3, 3, 0, 0)
    # one session created on this node, two replicated from its peers
    assert (app.sent_created, app.received_created) == (1, 2)
    assert apps["/manager"].manager == "StandardManager" and not apps["/manager"].replicated


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"", "not XML"),
        (b"<html><body>Welcome</body></html>", "not a Tomcat status page"),
        (STATUS[: len(STATUS) // 2], "not XML"),
        (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><status/>', "DOCTYPE"),
    ],
)
def test_a_page_that_is_not_a_status_page_is_a_reason(body: bytes, words: str) -> None:
    with pytest.raises(ManagerPageError, match=words):
        parse_status(body)


def test_missing_or_garbled_fields_are_unknown_not_zero() -> None:
    page = (
        b"<status><jvm><memory free='x' total='10' max='-1'/></jvm>"
        b"<connector name='\"http-nio-8080\"'><threadInfo maxThreads='200' />"
        b"<requestInfo requestCount='12' errorCount='[bold]' /></connector></status>"
    )
    status = parse_status(page)
    assert status.heap_used is None and status.heap_max is None
    (connector,) = status.connectors
    assert connector.threads_busy is None and connector.threads_max == 200
    assert connector.requests == 12 and connector.errors is None
    assert connector.processing_ms is None


def test_jmx_proxy_error_and_garbage() -> None:
    with pytest.raises(ManagerPageError, match="did not answer OK"):
        parse_jmx_sessions("Error - java.lang.SecurityException")
    with pytest.raises(ManagerPageError, match="empty answer"):
        parse_jmx_sessions("")
    apps = parse_jmx_sessions(
        "OK - Number of results: 1\n\nName: Catalina:type=Manager,context=/x,host=h\n"
        "activeSessions: lots\nclassName: org.apache.catalina.ha.session.DeltaManager\n"
    )
    assert apps[0].context == "/x" and apps[0].active is None and apps[0].replicated


def test_manager_base_is_the_nodes_origin() -> None:
    assert manager_base("http://10.0.0.1:8080/jw/web") == "http://10.0.0.1:8080/manager"
    assert manager_base("https://[::1]:8443/") == "https://[::1]:8443/manager"
    assert manager_base("not a url") is None


Answer = tuple[int, bytes, str]
"""status, body, and how the body is framed: ``length``, ``chunked`` or ``close``."""


@contextlib.asynccontextmanager
async def manager_server(
    answer: Callable[[str], Answer], requests: list[tuple[int, str, dict[str, str]]]
) -> AsyncIterator[str]:
    """A server on 127.0.0.1 answering `answer(path)`; yields its ``/manager`` URL. Every
    request is recorded as (connection number, path, headers)."""
    connections = [0]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections[0] += 1
        number = connections[0]
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                path = head[0].split(" ")[1]
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in head[1:] if line)
                }
                requests.append((number, path, headers))
                status, body, mode = answer(path)
                top = f"HTTP/1.1 {status} X\r\nContent-Type: text/plain\r\n"
                if mode == "length":
                    writer.write(f"{top}Content-Length: {len(body)}\r\n\r\n".encode() + body)
                elif mode == "chunked":
                    writer.write(f"{top}Transfer-Encoding: chunked\r\n\r\n".encode())
                    for start in range(0, len(body), 1000):
                        part = body[start : start + 1000]
                        writer.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                    writer.write(b"0\r\n\r\n")
                else:
                    writer.write(f"{top}Connection: close\r\n\r\n".encode() + body)
                    await writer.drain()
                    break
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}/manager"


def _pages(mode: str = "length") -> Callable[[str], Answer]:
    def answer(path: str) -> Answer:
        if path.startswith("/manager/status"):
            return 200, STATUS, mode
        if path.startswith("/manager/jmxproxy/"):
            return 200, JMX.encode(), mode
        return 404, b"not here", mode

    return answer


@pytest.mark.parametrize("mode", ["length", "chunked", "close"])
async def test_both_pages_read_with_the_credentials(mode: str) -> None:
    seen: list[tuple[int, str, dict[str, str]]] = []
    async with manager_server(_pages(mode), seen) as base:
        sample = await read_manager(base, ("console", "s3cret"))
    assert sample.status is not None and sample.status.heap_max == 259522560
    assert sample.sessions is not None and len(sample.sessions) == 3
    assert sample.status_error is None and sample.sessions_error is None
    assert [path for _, path, _ in seen] == [
        "/manager/status?XML=true",
        "/manager/jmxproxy/?qry=Catalina:type=Manager,*",
    ]
    expected = "Basic " + base64.b64encode(b"console:s3cret").decode()
    assert all(headers["authorization"] == expected for _, _, headers in seen)
    assert all(headers["host"].startswith("127.0.0.1:") for _, _, headers in seen)
    # one connection for both pages unless the server closes it
    assert len({number for number, _, _ in seen}) == (2 if mode == "close" else 1)


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (401, "refused the credentials (401)"),
        (403, "lacks the manager-status role"),
        (404, "no manager application on this node (404)"),
        (500, "answered HTTP 500"),
    ],
)
async def test_a_refusing_manager_gives_the_reason(code: int, words: str) -> None:
    seen: list[tuple[int, str, dict[str, str]]] = []
    async with manager_server(
        lambda path: (code, b"<html>[bold]denied</html>", "length"), seen
    ) as base:
        sample = await read_manager(base, ("console", "s3cret"))
    assert sample.status is None and sample.sessions is None
    assert sample.status_error is not None and words in sample.status_error
    assert sample.sessions_error is not None and str(code) in sample.sessions_error
    assert "s3cret" not in f"{sample}"


async def test_one_page_refused_keeps_the_others_figures() -> None:
    def answer(path: str) -> Answer:
        if path.startswith("/manager/status"):
            return 200, STATUS, "length"
        return 403, b"", "length"

    async with manager_server(answer, []) as base:
        sample = await read_manager(base, ("console", "pw"))
    assert sample.status is not None and sample.status.heap_used is not None
    assert sample.sessions is None
    assert sample.sessions_error is not None and "manager-jmx" in sample.sessions_error


async def test_a_slow_manager_is_no_answer_within_the_deadline() -> None:
    async with trickling_server() as url:
        sample = await asyncio.wait_for(read_manager(url + "/manager", None, deadline=0.5), 30)
    assert sample.status is None and sample.status_error is not None
    assert "no answer within 0.5 s" in sample.status_error
    assert sample.sessions_error is not None and "no answer" in sample.sessions_error


@pytest.mark.parametrize("mode", ["length", "chunked", "close"])
async def test_an_endless_page_is_cut_at_the_limit(mode: str) -> None:
    huge = b"<status>" + b" " * (2 << 20)
    async with manager_server(lambda path: (200, huge, mode), []) as base:
        sample = await read_manager(base, None)
    assert sample.status_error is not None and "larger than 1 MiB" in sample.status_error


async def test_garbage_instead_of_http_is_a_reason() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"\x1b[31mSSH-2.0-OpenSSH\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        sample = await read_manager(f"http://127.0.0.1:{port}/manager", None)
    assert sample.status_error == "the status page: not an HTTP answer"


async def test_nothing_listening_is_a_reason() -> None:
    sample = await read_manager("http://127.0.0.1:9/manager", None, deadline=2)
    assert sample.status_error is not None and "connection refused" in sample.status_error


INVENTORY = """
[cluster]
name = "c"
[[nodes]]
name = "n1"
host = "10.0.0.1"
catalina_base = "/opt/t"
http = "http://10.0.0.1:8080/app/"
{node_extra}
{metrics}
"""


def _load(tmp_path: Path, metrics: str, node_extra: str = "") -> object:
    text = INVENTORY.format(metrics=metrics, node_extra=node_extra)
    return load_inventory_text(text, tmp_path / "cluster.toml")


def test_metrics_table_defaults_and_fields(tmp_path: Path) -> None:
    inventory = load_inventory_text(
        INVENTORY.format(metrics="", node_extra=""), tmp_path / "cluster.toml"
    )
    assert inventory.metrics.manager_user is None and inventory.metrics.interval == 5.0
    secret = tmp_path / "pw"
    secret.write_text("x\n")
    secret.chmod(0o600)
    inventory = load_inventory_text(
        INVENTORY.format(
            metrics=f'[metrics]\nmanager_user = "console"\npassword_file = "{secret}"\n'
            "interval = 10\nmax_errors_per_s = 0.5",
            node_extra='manager_url = "http://10.0.0.1:8081/manager"',
        ),
        tmp_path / "cluster.toml",
    )
    assert inventory.metrics.manager_user == "console"
    assert inventory.metrics.interval == 10.0 and inventory.metrics.max_errors_per_s == 0.5
    assert inventory.nodes[0].manager_url == "http://10.0.0.1:8081/manager"


@pytest.mark.parametrize(
    ("metrics", "node_extra", "field", "words"),
    [
        ('[metrics]\nmanager_user = "u"\npassword = "x"', "", "metrics.password", "password"),
        ('[metrics]\nmanager_user = "u"\ninterval = 0', "", "metrics.interval", "greater than 0"),
        ('[metrics]\nmanager_user = "u"\ninterval = "5"', "", "metrics.interval", "a number"),
        ('[metrics]\nmanager_usr = "u"', "", "metrics.manager_usr", "unknown field"),
        ('[metrics]\npassword_env = "P"', "", "metrics.manager_user", "no user"),
        ("", 'manager_url = "ftp://x/"', "nodes[0].manager_url", "must start with http"),
        ("", 'manager_url = "http://u:p@x/manager"', "nodes[0].manager_url", "password"),
    ],
)
def test_bad_metrics_fields_are_refused_by_line(
    tmp_path: Path, metrics: str, node_extra: str, field: str, words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, metrics, node_extra)
    assert any(issue.field == field and words in issue.message for issue in caught.value.errors), (
        caught.value.errors
    )


async def test_a_reader_keeps_its_connection_between_reads() -> None:
    seen: list[tuple[int, str, dict[str, str]]] = []
    async with manager_server(_pages(), seen) as base:
        reader = ManagerReader(base)
        try:
            for _ in range(3):
                sample = await reader.read(("console", "pw"))
                assert sample.status is not None and sample.sessions is not None
        finally:
            reader.close()
    assert len(seen) == 6 and {number for number, _, _ in seen} == {1}


async def test_a_kept_connection_the_server_dropped_is_replaced() -> None:
    """Tomcat closes a kept-alive connection after its keepAliveTimeout: the next read opens a
    new one and its figures are there, no error."""
    seen: list[tuple[int, str, dict[str, str]]] = []
    writers: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        answer = _pages()
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                path = head.split(" ")[1]
                seen.append((len(writers), path, {}))
                _, body, _ = answer(path)
                writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode())
                writer.write(body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        reader = ManagerReader(f"http://127.0.0.1:{port}/manager")
        try:
            first = await reader.read(None)
            for writer in writers:  # the server's idle timeout
                writer.close()
            await asyncio.sleep(0)
            second = await reader.read(None)
        finally:
            reader.close()
    assert first.status_error is None and second.status_error is None
    assert second.sessions is not None
    assert {number for number, _, _ in seen} == {1, 2}


async def test_without_budget_each_read_closes_its_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(manager_http, "keep_budget", lambda: 0)
    seen: list[tuple[int, str, dict[str, str]]] = []
    async with manager_server(_pages(), seen) as base:
        reader = ManagerReader(base)
        try:
            await reader.read(None)
            await reader.read(None)
        finally:
            reader.close()
    assert {number for number, _, _ in seen} == {1, 2}
