"""The monitor never gives up on remote trouble: garbage pages are reported and polled again,
and a probe that dies on a bug is started again."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from console.cluster.observations import BalancerObserved, Observation
from console.config import load_inventory_text
from console.monitor import tasks
from console.monitor.polls import balancer_poll
from console.monitor.runner import MonitorOptions

ANSWERS = [
    (200, b"<html><body>\x1b[31m[bold]not a balancer</body></html>"),
    (500, b"Internal Server Error"),
    (200, b"\x00\xff" * 5000),
]


class _Handler(BaseHTTPRequestHandler):
    served = 0

    def do_GET(self) -> None:
        status, body = ANSWERS[_Handler.served % len(ANSWERS)]
        _Handler.served += 1
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def garbage_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/balancer-manager"
    finally:
        server.shutdown()
        server.server_close()


async def test_a_balancer_answering_garbage_is_reported_and_polled_again(
    garbage_server: str, tmp_path: Path
) -> None:
    inventory = load_inventory_text(
        "[cluster]\nname = 't'\n[[nodes]]\nname = 'n1'\nhost = '127.0.0.1'\n"
        "catalina_base = '/x'\n[[balancers]]\nname = 'lb'\nkind = 'apache'\n"
        f"url = '{garbage_server}'\n",
        tmp_path / "cluster.toml",
    )
    seen: list[Observation] = []
    done = asyncio.Event()

    def observe(observation: Observation) -> None:
        seen.append(observation)
        if len(seen) >= 3:
            done.set()

    options = MonitorOptions(balancer_interval=0.01)
    poll = asyncio.create_task(
        balancer_poll(inventory.balancers[0], inventory, [], options, observe)
    )
    try:
        await asyncio.wait_for(done.wait(), 60)
    finally:
        poll.cancel()
        await asyncio.gather(poll, return_exceptions=True)
    assert all(isinstance(o, BalancerObserved) and o.page is None for o in seen)
    reasons = [o.error or "" for o in seen if isinstance(o, BalancerObserved)]
    assert all(garbage_server.split("/balancer")[0] in reason for reason in reasons), reasons
    assert any("500" in reason for reason in reasons), reasons


async def test_a_probe_that_dies_on_a_bug_is_started_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tasks, "PROBE_RESTART", 0.01)
    runs: list[int] = []

    async def flaky() -> None:
        runs.append(len(runs))
        if len(runs) < 3:
            raise ValueError("an answer nobody foresaw")

    await asyncio.wait_for(tasks.keep_running(flaky, "flaky"), 10)
    assert runs == [0, 1, 2]
