"""Small helpers shared by the sandbox tests: polling, the app's replies, catalina.out reading."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx

from console.sandbox import tomcat
from console.sandbox.layout import NodeLayout, SandboxLayout

T = TypeVar("T")

HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
_REPLY = re.compile(r"^node=(?P<node>\S+) session=(?P<session>\S+) count=(?P<count>\d+)$")
_MEMBER = re.compile(
    r"SimpleTcpCluster\.(?P<event>memberAdded|memberDisappeared) .*?"
    r"tcp://\{(?P<a>\d+), (?P<b>\d+), (?P<c>\d+), (?P<d>\d+)\}:"
)


def wait_for(probe: Callable[[], T | None], timeout: float, what: str, interval: float = 0.1) -> T:
    """Poll `probe` until it returns something other than None (or False); fail after `timeout`."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = probe()
        except (httpx.HTTPError, OSError, AssertionError) as error:
            value, last_error = None, error
        if value is not None and value is not False:
            return value
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{detail}")
        time.sleep(interval)


async def wait_until_async(predicate: Callable[[], object], timeout: float, what: str) -> None:
    """Poll `predicate` on the event loop until it holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.05)


@dataclass(frozen=True, slots=True)
class AppReply:
    """One answer of the sandbox app: which node served it, the session and its hit count."""

    node: str
    session: str
    count: int


def parse_reply(text: str) -> AppReply:
    match = _REPLY.match(text.strip())
    assert match, f"unexpected answer from /app/: {text!r}"
    return AppReply(match["node"], match["session"], int(match["count"]))


def app_get(client: httpx.Client, url: str) -> AppReply:
    """GET the app; fail on anything but 200."""
    response = client.get(url)
    assert response.status_code == 200, f"{url}: HTTP {response.status_code}: {response.text!r}"
    return parse_reply(response.text)


def new_user() -> httpx.Client:
    """A browser of its own: a cookie jar nobody else shares."""
    return httpx.Client(timeout=HTTP_TIMEOUT)


def log_size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def log_since(path: Path, offset: int = 0) -> str:
    with path.open("rb") as handle:
        handle.seek(offset)
        return handle.read().decode("utf-8", "replace")


def member_events(text: str, event: str) -> set[str]:
    """Dotted addresses named by SimpleTcpCluster `event` lines (memberAdded, ...) in `text`."""
    found = set()
    for match in _MEMBER.finditer(text):
        if match["event"] == event:
            found.add(".".join(match.group("a", "b", "c", "d")))
    return found


def peers(layout: SandboxLayout, node: NodeLayout) -> list[NodeLayout]:
    return [peer for peer in layout.nodes if peer.index != node.index]


def routes_new_sessions_to(layout: SandboxLayout, node: NodeLayout, timeout: float) -> None:
    """Wait until the balancer hands a brand-new session to `node` again."""

    def probe() -> bool:
        with new_user() as client:
            return app_get(client, layout.app_url).node == node.jvm_route

    wait_for(probe, timeout, f"the balancer to send new sessions to {node.name}", 0.2)


def wait_for_member_event(
    peer: NodeLayout, node: NodeLayout, event: str, offset: int, timeout: float
) -> None:
    """Wait until `peer`'s catalina.out, past `offset`, logs `event` naming `node`."""
    wait_for(
        lambda: node.address in member_events(log_since(peer.catalina_out, offset), event),
        timeout,
        f"{peer.name}'s catalina.out to log {event} for {node.name} ({node.address})",
    )


@contextmanager
def node_stopped(layout: SandboxLayout, node: NodeLayout) -> Iterator[None]:
    """Stop `node` gracefully; afterwards start it again and wait until the cluster and the
    balancer have it back, so later tests see the full cluster."""
    others = peers(layout, node)
    offsets = {peer.name: log_size(peer.catalina_out) for peer in others}
    tomcat.stop(node)
    try:
        assert tomcat.running_pid(node) is None, f"{node.name} still runs after stop"
        for peer in others:
            wait_for_member_event(peer, node, "memberDisappeared", offsets[peer.name], 15)
        yield
    finally:
        offsets = {peer.name: log_size(peer.catalina_out) for peer in others}
        tomcat.start(node)
        for peer in others:
            wait_for_member_event(peer, node, "memberAdded", offsets[peer.name], 30)
        routes_new_sessions_to(layout, node, 30)
