"""A node's two manager pages on a kept connection are pipelined: both GETs written at once.
A server that holds its first answer until the second request is in still gives every figure;
a server that closes after its first answer, stalls, or answers garbage costs only that page,
and the other page is read on a new connection."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from probes.metrics.tomcat_manager import ManagerReader, ManagerSample
from tests.unit.test_tomcat_manager import JMX, STATUS

Handler = Callable[[int, int, str, asyncio.StreamWriter], Awaitable[bool]]
"""(connection, request number on it, path, writer) -> keep the connection open."""


def _answer(path: str, close: bool = False) -> bytes:
    body = STATUS if path.startswith("/manager/status") else JMX.encode()
    extra = "Connection: close\r\n" if close else ""
    return f"HTTP/1.1 200 OK\r\n{extra}Content-Length: {len(body)}\r\n\r\n".encode() + body


@contextlib.asynccontextmanager
async def server(handle: Handler, seen: list[tuple[int, str]]) -> AsyncIterator[str]:
    connections = [0]

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections[0] += 1
        number, count = connections[0], 0
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                path = head.split(" ")[1]
                count += 1
                seen.append((number, path))
                if not await handle(number, count, path, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    listening = await asyncio.start_server(serve, "127.0.0.1", 0)
    async with listening:
        yield f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}/manager"


async def _two_reads(base: str, deadline: float = 5.0) -> tuple[ManagerSample, ManagerSample]:
    reader = ManagerReader(base)
    try:
        first = await reader.read(("console", "pw"), deadline=deadline)
        second = await reader.read(("console", "pw"), deadline=deadline)
    finally:
        reader.close()
    return first, second


async def test_a_server_that_answers_once_both_requests_are_in_gives_every_figure() -> None:
    """From the second read on, the first answer is held until the second request arrived:
    GETs one after the other would wait for it in vain (no answer within the deadline)."""
    seen: list[tuple[int, str]] = []
    held: list[str] = []

    async def handle(number: int, count: int, path: str, writer: asyncio.StreamWriter) -> bool:
        if count <= 2:
            writer.write(_answer(path))
        elif count == 3:
            held.append(path)
        else:
            writer.write(_answer(held.pop()) + _answer(path))
        await writer.drain()
        return True

    async with server(handle, seen) as base:
        first, second = await asyncio.wait_for(_two_reads(base, deadline=2.0), 30)
    for sample in (first, second):
        assert sample.status_error is None and sample.sessions_error is None, sample
    assert [number for number, _ in seen] == [1, 1, 1, 1]


async def test_a_close_after_the_first_answer_reads_the_other_page_anew() -> None:
    seen: list[tuple[int, str]] = []

    async def handle(number: int, count: int, path: str, writer: asyncio.StreamWriter) -> bool:
        close = number == 1 and count == 3
        writer.write(_answer(path, close=close))
        await writer.drain()
        return not close

    async with server(handle, seen) as base:
        _, second = await asyncio.wait_for(_two_reads(base), 30)
    assert second.status is not None and second.sessions is not None
    assert seen[-1] == (2, "/manager/jmxproxy/?qry=Catalina:type=Manager,*")


async def test_a_stalled_pipelined_page_is_no_answer_and_the_other_page_is_read_anew() -> None:
    seen: list[tuple[int, str]] = []

    async def handle(number: int, count: int, path: str, writer: asyncio.StreamWriter) -> bool:
        if number == 1 and count >= 3:
            return True  # the second read's requests: never answered
        writer.write(_answer(path))
        await writer.drain()
        return True

    async with server(handle, seen) as base:
        first, second = await asyncio.wait_for(_two_reads(base, deadline=0.5), 30)
    assert first.status is not None
    assert second.status is None and second.status_error is not None
    assert "no answer within 0.5 s" in second.status_error
    assert second.sessions is not None
    assert seen[-1][0] == 2


async def test_garbage_to_a_pipelined_page_is_its_reason_alone() -> None:
    seen: list[tuple[int, str]] = []

    async def handle(number: int, count: int, path: str, writer: asyncio.StreamWriter) -> bool:
        if number == 1 and count == 3:
            writer.write(b"\x1b[31mSSH-2.0-OpenSSH\r\n\r\n")
            await writer.drain()
            return False
        writer.write(_answer(path))
        await writer.drain()
        return True

    async with server(handle, seen) as base:
        _, second = await asyncio.wait_for(_two_reads(base), 30)
    assert second.status_error == "the status page: not an HTTP answer"
    assert second.sessions is not None
